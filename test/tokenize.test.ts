import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { ingest } from '../src/ingest/ingest.ts';
import { buildDemoVocab } from '../src/tokenize/demo-vocab.ts';
import { loadTokenizer } from '../src/tokenize/tokenizer.ts';
import { writeDemoTokenizer } from '../pipeline/vocab.ts';
import { cli, NO_SHARED, query, SAMPLE, SHARED, tmp } from './helpers.ts';

const dir = tmp();
const db = join(dir, 't.duckdb');
const demo = join(dir, 'demo');
let sentences: string[] = [];
before(async () => {
  await ingest({ dump: SAMPLE, db });
  await writeDemoTokenizer(db, demo, 4000);
  sentences = (await query<{ text: string }>(db, 'SELECT text FROM sentences ORDER BY article, idx')).map((r) => r.text);
});

const ids = async (spec: string, texts: string[], opts = {}) => (await (await loadTokenizer(spec, opts)).tokenizer.encodeBatch(texts)).map((e) => e.getIds());

test('the demo vocabulary: deterministic, BERT special tokens, no [UNK] on the corpus it came from', async () => {
  const v = readFileSync(join(demo, 'vocab.txt'), 'utf8').trimEnd().split('\n');
  assert.deepEqual(v.slice(0, 5), ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]']);
  assert.equal(new Set(v).size, v.length);
  assert.deepEqual(buildDemoVocab(sentences, 4000), v);
  const t = await loadTokenizer(demo);
  assert.deepEqual(t.special, { cls: 2, sep: 3, mask: 4, pad: 0, unk: 1 });
  const enc = await t.tokenizer.encodeBatch(sentences, { addSpecialTokens: false });
  assert.equal(enc.flatMap((e) => e.getIds()).filter((id) => id === 1).length, 0);
  // a smaller vocabulary still covers every character: words split into more pieces, never [UNK]
  const small = join(dir, 'small');
  mkdirSync(small, { recursive: true });
  writeFileSync(join(small, 'vocab.txt'), buildDemoVocab(sentences, 400).join('\n') + '\n');
  const s = (await (await loadTokenizer(small)).tokenizer.encodeBatch(sentences, { addSpecialTokens: false })).flatMap((e) => e.getIds());
  assert.equal(s.filter((id) => id === 1).length, 0);
  assert.ok(s.length > enc.flatMap((e) => e.getIds()).length * 1.5);
});

test('vocab.txt and the same tokenizer saved as tokenizer.json give identical ids', async () => {
  const t = await loadTokenizer(demo);
  const json = join(dir, 'demo-tokenizer.json');
  t.tokenizer.save(json);
  assert.deepEqual(await ids(json, sentences), await ids(demo, sentences));
  const first = (await ids(demo, ['Port Wren']))[0]!;
  assert.equal(first[0], 2);
  assert.equal(first[first.length - 1], 3);
});

test('casing comes from tokenizer_config.json beside a vocab.txt, or --lowercase', async () => {
  const d = join(dir, 'uncased');
  mkdirSync(d, { recursive: true });
  writeFileSync(join(d, 'vocab.txt'), ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', 'port', 'wren', 'cafe', 'Port'].join('\n') + '\n');
  assert.deepEqual((await ids(join(d, 'vocab.txt'), ['Port Wren']))[0], [2, 8, 1, 3]);
  assert.deepEqual((await ids(join(d, 'vocab.txt'), ['Port Wren Café'], { lowercase: true }))[0], [2, 5, 6, 7, 3]);
  writeFileSync(join(d, 'tokenizer_config.json'), JSON.stringify({ do_lower_case: true }));
  const t = await loadTokenizer(d);
  assert.equal(t.identity.lowercase, true);
  assert.deepEqual((await t.tokenizer.encode('Port Wren Café')).getIds(), [2, 5, 6, 7, 3]); // accents stripped with lowercase, as BertTokenizerFast
});

test('a hub model id is read from the Hugging Face cache offline; a missing file names what to fetch and where', async () => {
  const cache = join(dir, 'hf');
  const snap = join(cache, 'models--someorg--tiny-bert', 'snapshots', 'abc123');
  mkdirSync(snap, { recursive: true });
  mkdirSync(join(cache, 'models--someorg--tiny-bert', 'refs'), { recursive: true });
  writeFileSync(join(cache, 'models--someorg--tiny-bert', 'refs', 'main'), 'abc123');
  copyFileSync(join(demo, 'vocab.txt'), join(snap, 'vocab.txt'));
  const env = { HF_HUB_CACHE: cache, HF_HUB_OFFLINE: '1' };
  const r = await cli(['tokenize', '--tokenizer', 'someorg/tiny-bert', 'Port Wren'], env);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout).ids, (await ids(demo, ['Port Wren']))[0]);
  const m = await cli(['tokenize', '--tokenizer', 'michiyasunaga/LinkBERT-large', 'x'], env);
  assert.equal(m.code, 1);
  assert.match(m.stderr, /https:\/\/huggingface\.co\/michiyasunaga\/LinkBERT-large\/resolve\/main\/vocab\.txt/);
  assert.ok(m.stderr.includes(join(cache, 'models--michiyasunaga--LinkBERT-large', 'snapshots')), m.stderr);
});

test('linkbert tokenize: one JSON object per argument, or per stdin line', async () => {
  const r = await cli(['tokenize', '--tokenizer', demo, 'Port Wren', 'Kestrel Islands']);
  const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(lines.length, 2);
  assert.deepEqual(lines[0].tokens, ['[CLS]', 'Port', 'Wren', '[SEP]']);
  assert.equal(lines[0].text, 'Port Wren');
  const { spawn } = await import('node:child_process');
  const p = spawn(process.execPath, ['bin/linkbert.js', 'tokenize', '--tokenizer', demo]);
  let out = '';
  p.stdout.on('data', (b) => (out += b));
  p.stdin.end('Oatcake\nTidal mill\n');
  await new Promise((res) => p.on('close', res));
  assert.deepEqual(out.trim().split('\n').map((l) => JSON.parse(l).text), ['Oatcake', 'Tidal mill']);
});

const TOK = join(SHARED, 'tokenizer');

test('parity: bert-base-cased vocab.txt and tokenizer.json reproduce every reference encoding', { skip: NO_SHARED }, async () => {
  const cases = JSON.parse(readFileSync(join(TOK, 'bert-base-cased-vectors.json'), 'utf8')).cases as { text: string; ids: number[]; tokens: string[] }[];
  assert.ok(cases.length >= 20);
  for (const f of ['bert-base-cased-vocab.txt', 'bert-base-cased-tokenizer.json']) {
    const t = await loadTokenizer(join(TOK, f));
    assert.equal(t.identity.vocab_size, 28996);
    for (const c of cases) {
      const e = await t.tokenizer.encode(c.text);
      assert.deepEqual(e.getIds(), c.ids, `${f}: ${JSON.stringify(c.text)}`);
      assert.deepEqual(e.getTokens().slice(1, -1), c.tokens, `${f}: ${JSON.stringify(c.text)}`);
    }
  }
});

test('parity: vocab.txt and tokenizer.json give identical ids over the clean text of every shared dump', { skip: NO_SHARED }, async () => {
  const a = await loadTokenizer(join(TOK, 'bert-base-cased-vocab.txt'));
  const b = await loadTokenizer(join(TOK, 'bert-base-cased-tokenizer.json'));
  let n = 0;
  for (const name of readdirSync(join(SHARED, 'dumps')).filter((f) => !f.includes('-index.'))) {
    const d = join(tmp(), 'p.duckdb');
    await ingest({ dump: join(SHARED, 'dumps', name), db: d, index: null });
    const texts = (await query<{ text: string }>(d, 'SELECT text FROM sentences ORDER BY article, idx')).map((r) => r.text);
    for (let i = 0; i < texts.length; i += 2000) {
      const batch = texts.slice(i, i + 2000);
      const [x, y] = await Promise.all([a.tokenizer.encodeBatch(batch), b.tokenizer.encodeBatch(batch)]);
      x.forEach((e, k) => assert.deepEqual(e.getIds(), y[k]!.getIds(), `${name}: ${batch[k]}`));
      n += batch.length;
    }
  }
  assert.ok(n > 10000, `${n} sentences compared`);
});

test('parity: bert-base-uncased vocab.txt with --lowercase reproduces every reference encoding (accents stripped as BertTokenizerFast)', { skip: NO_SHARED }, async () => {
  const cases = JSON.parse(readFileSync(join(TOK, 'bert-base-uncased-vectors.json'), 'utf8')).cases as { text: string; text_pair?: string; ids: number[] }[];
  assert.ok(cases.length >= 20);
  const t = await loadTokenizer(join(TOK, 'bert-base-uncased-vocab.txt'), { lowercase: true });
  assert.equal(t.identity.vocab_size, 30522);
  assert.equal(t.identity.lowercase, true);
  for (const c of cases) {
    const e = c.text_pair === undefined ? await t.tokenizer.encode(c.text) : await t.tokenizer.encode(c.text, c.text_pair);
    assert.deepEqual(e.getIds(), c.ids, JSON.stringify(c.text));
  }
});
