/**
 * manifest.json, the shards' description (what a trainer and `verify` read), and the rules about
 * which files in a shards folder this stage may replace.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { PairsSettings, PairsSummary } from '../stage/contracts.js';
import type { SpecialIds, TokenizerIdentity } from '../tokenize/tokenizer.js';
import { sha256Of } from '../util/hash.js';
import type { ShardFormat } from './formats.js';

export type Masking = 'static' | 'dynamic';

export interface ShardFile {
  file: string;
  split: 'train' | 'validation';
  rows: number;
  labels: { '0': number; '1': number; '2': number };
  sha256: string;
}

export interface Manifest {
  format: 'linkbert-shards/1';
  settings: { format: ShardFormat; seed: number; max_seq_len: number; masking: Masking; dupe_factor: number; masked_lm_prob: number; max_predictions_per_seq: number; whole_word_masking: boolean; shard_rows: number };
  tokenizer: TokenizerIdentity & { special_ids: SpecialIds };
  /** the dump as given to ingest, its size and SHA-256 (null when ingest did not record them) */
  source: { dump: string; dump_bytes: number | null; dump_sha256: string | null; fingerprint: string; dbname: string | null; db: string; inputs: InputFile[] };
  /** how the pairs were drawn, and their labels by kind of anchor (the mix of LinkBERT and NSP-style instances) */
  pairs: Partial<PairsSettings> & { labels_by_anchor?: PairsSummary['labels_by_anchor']; labels_by_input?: PairsSummary['labels_by_input'] };
  rows: number;
  tokens: number;
  labels: { '0': number; '1': number; '2': number };
  /** each split's rows and labels (validation only with pairs --validation; no article is in both) */
  splits: { train: SplitTotals; validation?: SplitTotals };
  /** the dataset card beside the shards (Hugging Face Hub YAML header and a description) */
  card: string;
  label_names: { '0': 'contiguous'; '1': 'random'; '2': 'linked' };
  shards: ShardFile[];
  columns: Record<string, string>;
}

/** One input as ingest read it: its file, what it was read as, its size and SHA-256 (null: not recorded). */
export interface InputFile {
  file: string;
  kind: string;
  bytes: number | null;
  sha256: string | null;
}

export interface SplitTotals {
  rows: number;
  tokens: number;
  /** masked positions (static masking) */
  masked: number;
  labels: { '0': number; '1': number; '2': number };
  shards: number;
}

/** A manifest as written before the shards are: the files the run is about to write. */
export interface PartialManifest { format: 'linkbert-shards/1'; writing: true; source: { dump: string; fingerprint: string }; card?: string; shards: { file: string }[] }

/**
 * The files in `out` that this stage wrote for this dataset (its manifest lists them), which it may
 * replace. Anything else there, or another dataset's shards, is refused: a stage never deletes or
 * overwrites what it did not make.
 */
export function ownFiles(out: string, fingerprint: string): string[] {
  if (!existsSync(out)) return [];
  const entries = readdirSync(out);
  if (!entries.length) return [];
  let mine = new Set<string>();
  if (entries.includes('manifest.json')) {
    let m: Partial<Manifest | PartialManifest> | null = null;
    try {
      m = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')) as Manifest | PartialManifest;
    } catch {
      // not ours: refused below
    }
    if (m?.format === 'linkbert-shards/1' && m.source && Array.isArray(m.shards)) {
      if (m.source.fingerprint !== fingerprint) throw new Error(`${out} holds the shards of another dataset (from ${m.source.dump}); choose another --out, or remove them yourself`);
      mine = new Set(['manifest.json', ...m.shards.map((f) => f.file), ...(m.card ? [m.card] : [])]);
    }
  }
  const foreign = entries.filter((f) => !mine.has(f));
  if (foreign.length) throw new Error(`${out} holds files that linkbert shards did not write (${foreign.slice(0, 5).join(', ')}${foreign.length > 5 ? ', …' : ''}); choose an empty or new --out`);
  return entries;
}

/** The shards of a manifest are all there, with the bytes it recorded. */
export async function shardsIntact(out: string): Promise<boolean> {
  try {
    const m = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')) as Manifest;
    for (const s of m.shards) if ((await sha256Of(join(out, s.file))) !== s.sha256) return false;
    return true;
  } catch {
    return false;
  }
}
