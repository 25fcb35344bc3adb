/**
 * The model's exact tokenizer, through Hugging Face's own library (npm `tokenizers`, the Rust
 * implementation). `--tokenizer` takes a tokenizer.json, a BERT vocab.txt (built into the same
 * pipeline as BertTokenizerFast), a folder holding either, or a hub model id.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { bertNormalizer, bertPreTokenizer, bertProcessing, Tokenizer, WordPiece, wordPieceDecoder } from 'tokenizers';
import { hubFile, isModelId } from './hub.js';

export interface TokenizerIdentity {
  source: string; // what --tokenizer named
  file: string; // the file the tokenizer was built from
  kind: 'tokenizer.json' | 'vocab.txt';
  sha256: string; // of that file (and of tokenizer_config.json, if one set the casing)
  vocab_size: number;
  lowercase: boolean;
}

export interface SpecialIds {
  cls: number;
  sep: number;
  mask: number;
  pad: number;
  unk: number;
}

export interface LoadedTokenizer {
  tokenizer: Tokenizer;
  identity: TokenizerIdentity;
  special: SpecialIds;
}

export interface TokenizerOptions {
  /** casing for a vocab.txt; default: tokenizer_config.json beside it, else false (cased) */
  lowercase?: boolean;
  revision?: string;
}

interface TokenizerConfig {
  do_lower_case?: boolean;
  strip_accents?: boolean | null;
  tokenize_chinese_chars?: boolean;
}

function sha256(...files: string[]): string {
  const h = createHash('sha256');
  for (const f of files) h.update(readFileSync(f));
  return h.digest('hex');
}

function readConfig(file: string | null): TokenizerConfig | null {
  return file && existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as TokenizerConfig) : null;
}

/** tokenizer_config.json beside a file, also in the `X-tokenizer_config.json` form of `X-vocab.txt`. */
function configBeside(file: string): string | null {
  const dir = dirname(file);
  const base = file.slice(dir.length + 1);
  const m = /^(.*?)[-_]?(vocab\.txt|tokenizer\.json)$/.exec(base);
  for (const name of ['tokenizer_config.json', m?.[1] ? `${m[1]}-tokenizer_config.json` : '']) {
    if (name && existsSync(join(dir, name))) return join(dir, name);
  }
  return null;
}

/** BertTokenizerFast's pipeline over a WordPiece vocab.txt. */
export async function bertFromVocab(vocabFile: string, cfg: TokenizerConfig, lowercase: boolean): Promise<Tokenizer> {
  const lines = readFileSync(vocabFile, 'utf8').split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  const vocab: Record<string, number> = {};
  lines.forEach((t, i) => {
    const tok = t.replace(/\r$/, '');
    if (!(tok in vocab)) vocab[tok] = i;
  });
  for (const t of ['[UNK]', '[CLS]', '[SEP]']) if (!(t in vocab)) throw new Error(`${vocabFile}: no ${t} token: not a BERT vocabulary`);
  const tok = new Tokenizer(WordPiece.init(vocab, { unkToken: '[UNK]', continuingSubwordPrefix: '##', maxInputCharsPerWord: 100 }));
  tok.setNormalizer(
    bertNormalizer({
      cleanText: true,
      handleChineseChars: cfg.tokenize_chinese_chars ?? true,
      // null/absent: follow lowercase, as BertTokenizerFast does
      ...(cfg.strip_accents === true || cfg.strip_accents === false ? { stripAccents: cfg.strip_accents } : {}),
      lowercase,
    }),
  );
  tok.setPreTokenizer(bertPreTokenizer());
  tok.setPostProcessor(bertProcessing(['[SEP]', vocab['[SEP]']!], ['[CLS]', vocab['[CLS]']!]));
  tok.setDecoder(wordPieceDecoder('##', true));
  const specials = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'].filter((t) => t in vocab);
  tok.addSpecialTokens(specials);
  return tok;
}

function specialIds(tok: Tokenizer, where: string): SpecialIds {
  const id = (t: string, required: boolean) => {
    const v = tok.tokenToId(t);
    if ((v === null || v === undefined) && required) throw new Error(`${where}: the tokenizer has no ${t} token`);
    return v ?? -1;
  };
  return { cls: id('[CLS]', true), sep: id('[SEP]', true), mask: id('[MASK]', false), pad: id('[PAD]', false), unk: id('[UNK]', true) };
}

/** Resolves --tokenizer to files: a file, a folder, or a hub model id. */
async function resolveFiles(spec: string, opts: TokenizerOptions): Promise<{ json: string | null; vocab: string | null; config: string | null }> {
  if (existsSync(spec)) {
    if (statSync(spec).isDirectory()) {
      const f = (n: string) => (existsSync(join(spec, n)) ? join(spec, n) : null);
      const json = f('tokenizer.json');
      const vocab = f('vocab.txt');
      if (!json && !vocab) throw new Error(`${spec}: holds neither tokenizer.json nor vocab.txt`);
      return { json, vocab, config: f('tokenizer_config.json') };
    }
    if (spec.endsWith('.json')) return { json: spec, vocab: null, config: configBeside(spec) };
    return { json: null, vocab: spec, config: configBeside(spec) };
  }
  if (!isModelId(spec)) throw new Error(`--tokenizer ${spec}: no such file or folder, and not a hub model id`);
  try {
    const config = await hubFile(spec, 'tokenizer_config.json', { revision: opts.revision, optional: true });
    const json = await hubFile(spec, 'tokenizer.json', { revision: opts.revision, optional: true });
    if (json) return { json, vocab: null, config };
    // LinkBERT's repositories publish vocab.txt only
    const vocab = await hubFile(spec, 'vocab.txt', { revision: opts.revision });
    return { json: null, vocab, config };
  } catch (e) {
    throw new Error(`--tokenizer ${spec}: no such file or folder here; as a hub model id: ${(e as Error).message}`);
  }
}

export async function loadTokenizer(spec: string, opts: TokenizerOptions = {}): Promise<LoadedTokenizer> {
  const files = await resolveFiles(spec, opts);
  const cfg = readConfig(files.config) ?? {};
  if (files.json) {
    let tok: Tokenizer;
    try {
      tok = Tokenizer.fromFile(files.json);
    } catch (e) {
      throw new Error(`${files.json}: not a tokenizer.json the tokenizers library can read (${(e as Error).message})`);
    }
    const norm = (JSON.parse(readFileSync(files.json, 'utf8')) as { normalizer?: { lowercase?: boolean } | null }).normalizer;
    return {
      tokenizer: tok,
      identity: { source: spec, file: files.json, kind: 'tokenizer.json', sha256: sha256(files.json), vocab_size: tok.getVocabSize(true), lowercase: Boolean(norm?.lowercase) },
      special: specialIds(tok, files.json),
    };
  }
  const vocab = files.vocab!;
  const lowercase = opts.lowercase ?? cfg.do_lower_case ?? false;
  const tok = await bertFromVocab(vocab, cfg, lowercase);
  return {
    tokenizer: tok,
    identity: { source: spec, file: vocab, kind: 'vocab.txt', sha256: files.config ? sha256(vocab, files.config) : sha256(vocab), vocab_size: tok.getVocabSize(true), lowercase },
    special: specialIds(tok, vocab),
  };
}
