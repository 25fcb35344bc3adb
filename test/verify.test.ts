import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { DuckDBInstance } from '@duckdb/node-api';
import { buildModel, initTinyModel } from '../pipeline/model.ts';
import { pairs } from '../src/pairs/pairs.ts';
import { shards } from '../src/shards/shards.ts';
import { scoreAt, verify } from '../src/verify/verify.ts';
import { randInt, rng } from '../src/util/rng.ts';
import { cli, NO_SHARED, prepare, SAMPLE, SHARED, tmp } from './helpers.ts';

const dir = tmp();
let shardDir: string;
const tok = join(dir, 'tok');
before(async () => {
  const db = await prepare(SAMPLE, dir);
  await pairs({ db, instancesPerSegment: 3 });
  shardDir = join(dir, 'shards');
  await shards({ db, out: shardDir, shardRows: 1000 });
});

async function tinyModel(name: string, o: Parameters<typeof initTinyModel>[2] & { head: 'mlm' | 'none' }, tokenizer = tok): Promise<string> {
  const folder = join(dir, name);
  await initTinyModel(folder, tokenizer, o);
  await buildModel(folder, join(folder, 'model.onnx'), o.head);
  return join(folder, 'model.onnx');
}

/** A BERT-style vocab.txt of n ids: specials, then w0, w1, … */
function vocabOf(n: number): string {
  const d = join(dir, `vocab-${n}`);
  mkdirSync(d, { recursive: true });
  writeFileSync(join(d, 'vocab.txt'), ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', ...Array.from({ length: n - 5 }, (_, i) => `w${i}`)].join('\n') + '\n');
  return d;
}

/**
 * Shards written directly: rows of [CLS] A [SEP] B [SEP] whose B tokens come from a set that
 * depends on the label when `learnable`, so a relation is visible to any encoder; labels drawn
 * independently of the content otherwise.
 */
async function syntheticShards(name: string, learnable: boolean, vocab: number, n = 180): Promise<string> {
  const out = join(dir, name);
  mkdirSync(out, { recursive: true });
  const r = rng(name);
  const span = Math.floor((vocab - 10) / 4);
  const rows = Array.from({ length: n }, (_, i) => {
    const label = i % 3;
    const content = learnable ? label : randInt(r, 0, 2);
    const a = Array.from({ length: 6 }, () => randInt(r, 5, 5 + span - 1));
    const b = Array.from({ length: 6 }, () => 5 + span * (content + 1) + randInt(r, 0, span - 1));
    const input_ids = [2, ...a, 3, ...b, 3];
    return { input_ids, token_type_ids: [...new Array(8).fill(0), ...new Array(7).fill(1)], length: 15, next_sentence_label: label };
  });
  writeFileSync(join(out, 'rows.json'), JSON.stringify(rows));
  const inst = await DuckDBInstance.create(':memory:');
  const conn = await inst.connect();
  await conn.run(`COPY (SELECT input_ids::SMALLINT[] AS input_ids, token_type_ids::TINYINT[] AS token_type_ids, length::SMALLINT AS length, next_sentence_label::TINYINT AS next_sentence_label FROM read_json('${join(out, 'rows.json')}')) TO '${join(out, 'train-00000-of-00001.parquet')}' (FORMAT parquet)`);
  conn.closeSync();
  inst.closeSync();
  writeFileSync(join(out, 'manifest.json'), JSON.stringify({ settings: { max_seq_len: 32 }, tokenizer: { vocab_size: vocab, special_ids: { pad: 0, unk: 1, cls: 2, sep: 3, mask: 4 } } }));
  return out;
}

test('a tiny project-built model with an MLM head: conformance, round trip, masked-LM figures beside the baseline, probe', async () => {
  const model = await tinyModel('mlm', { head: 'mlm', seed: 3 });
  const r = await verify({ model, shards: shardDir, tokenizer: tok, samples: 200 });
  assert.equal(r.conformance.ok, true, JSON.stringify(r.conformance.failures));
  assert.equal(r.samples, 147); // every row of the sample's shards (48 × 3 with a linked B, 3 without)
  assert.deepEqual(r.conformance.roundtrip, { checked: 147, matched: 147 });
  assert.equal(r.model.logits, 'logits');
  assert.equal(r.model.vocab_size, 2522); // the demo vocabulary of the sample's text
  assert.ok(r.mlm && r.mlm.masked_tokens > 1000);
  assert.deepEqual(Object.keys(r.mlm.per_label), ['0', '1', '2']);
  // random weights: no better than token frequencies, and the report says so
  assert.equal(r.mlm.better_than_baseline, false);
  assert.ok(r.warnings.some((w) => /no better than token frequencies/.test(w)));
  assert.ok(r.probe && r.probe.samples === 147);
  assert.equal(r.probe.confusion.flat().reduce((a, b) => a + b, 0), 147);
  assert.ok(r.seq_per_s > 0);
});

test('a model without an MLM head: the probe, no masked-LM figures; the CLI prints the JSON report', async () => {
  const model = await tinyModel('plain', { head: 'none', seed: 4 });
  const c = await cli(['verify', '--model', model, '--shards', shardDir, '--json']);
  assert.equal(c.code, 0, c.stderr);
  const r = JSON.parse(c.stdout);
  for (const k of ['stage', 'samples', 'conformance', 'mlm', 'probe', 'seq_per_s']) assert.ok(k in r, k);
  assert.equal(r.mlm, null);
  assert.equal(r.conformance.ok, true);
  assert.ok(r.probe.majority_baseline > 0.3 && r.probe.majority_baseline < 0.36);
});

test('the probe beats its shuffled control where the relation is learnable, and not on a control', async () => {
  const model = await tinyModel('probe', { head: 'none', seed: 5, hidden: 32 }, vocabOf(700));
  const learnable = await verify({ model, shards: await syntheticShards('learnable', true, 700) });
  assert.ok(learnable.probe!.beats_control, JSON.stringify(learnable.probe));
  assert.ok(learnable.probe!.accuracy > learnable.probe!.majority_baseline + 0.1, `${learnable.probe!.accuracy}`);
  const control = await verify({ model, shards: await syntheticShards('control', false, 700) });
  assert.equal(control.probe!.beats_control, false, JSON.stringify(control.probe));
  // the summary says what the figures mean
  assert.match(learnable.probe!.reading, /carry the document relation/);
  assert.match(control.probe!.reading, /^no signal: .* shuffled-label control/);
});

test('an accuracy under the majority baseline is explained, not left to look like a bug', async () => {
  const { readProbe } = await import('../src/verify/probe.ts');
  assert.match(readProbe(0.125, 0.3, 0.333, 0.05), /no signal.*under the majority baseline \(33\.3%\) is expected/);
  assert.doesNotMatch(readProbe(0.34, 0.33, 0.333, 0.05), /majority baseline/);
  assert.match(readProbe(0.6, 0.33, 0.34, 0.05), /^the \[CLS\] vectors carry/);
});

test('models that cannot take the shards are refused with a clear message', async () => {
  const small = await tinyModel('small-vocab', { head: 'none' }, vocabOf(50));
  await assert.rejects(verify({ model: small, shards: shardDir }), /cannot take id \d+, the largest in the shards \(its vocabulary is smaller/);
  const short = await tinyModel('short-positions', { head: 'none', maxPositions: 16 });
  await assert.rejects(verify({ model: short, shards: shardDir }), /cannot take \d+ tokens, the longest sequence in the shards \(its position limit is shorter/);
  const c = await cli(['verify', '--model', short, '--shards', shardDir]);
  assert.equal(c.code, 1);
  assert.doesNotMatch(c.stderr, /\n\s+at /);
  assert.doesNotMatch(c.stderr, /\[E:onnxruntime/, 'onnxruntime does not repeat the error in its own log lines');
});

test('rows that break the input conventions fail conformance, counted by kind, with a non-zero exit', async () => {
  const bad = await syntheticShards('broken', true, 700, 40);
  // rewrite the rows: token types all zero, and no [CLS] on every fourth row
  const inst = await DuckDBInstance.create(':memory:');
  const conn = await inst.connect();
  const f = join(bad, 'train-00000-of-00001.parquet');
  await conn.run(`CREATE TABLE t AS SELECT row_number() OVER () AS i, * FROM '${f}'`);
  await conn.run(`COPY (SELECT CASE WHEN i % 4 = 0 THEN list_concat([7::SMALLINT], input_ids[2:]) ELSE input_ids END AS input_ids, list_transform(token_type_ids, x -> 0::TINYINT) AS token_type_ids, length, next_sentence_label FROM t ORDER BY i) TO '${f}' (FORMAT parquet)`);
  conn.closeSync();
  inst.closeSync();
  const model = await tinyModel('conformance', { head: 'none', seed: 6 }, vocabOf(700));
  const r = await verify({ model, shards: bad });
  assert.equal(r.conformance.ok, false);
  assert.equal(r.conformance.failures['token_type_ids are not 0 up to the first [SEP] and 1 after'], 40);
  assert.equal(r.conformance.failures['first token is not [CLS]'], 10);
  assert.ok(r.conformance.examples.length > 0);
  const c = await cli(['verify', '--model', model, '--shards', bad]);
  assert.equal(c.code, 1);
  assert.match(c.stdout, /conformance\s+FAILED/);
});

test('conformance: one broken row per kind of failure, each counted where it is and nowhere else', async () => {
  const out = join(dir, 'kinds');
  mkdirSync(out, { recursive: true });
  // [CLS] A [SEP] B [SEP] with every column a trainer reads; the manifest says 600 ids, the model takes 700
  const row = (b = 6) => {
    const input_ids = [2, 10, 11, 12, 13, 14, 15, 3, ...Array.from({ length: b }, (_, k) => 20 + k), 3];
    const n = input_ids.length;
    return { input_ids, token_type_ids: input_ids.map((_, j) => (j <= 7 ? 0 : 1)), attention_mask: new Array(n).fill(1), length: n, next_sentence_label: 0, masked_lm_positions: [2, 9], masked_lm_ids: [11, 21] };
  };
  type Row = ReturnType<typeof row>;
  const broken: [string, (r: Row) => Row][] = [
    ['id out of the vocabulary', (r) => ({ ...r, input_ids: r.input_ids.map((v, j) => (j === 3 ? 650 : v)) })],
    ['first token is not [CLS]', (r) => ({ ...r, input_ids: [7, ...r.input_ids.slice(1)] })],
    ['3 [SEP] tokens, not 2', (r) => ({ ...r, input_ids: r.input_ids.map((v, j) => (j === 10 ? 3 : v)) })],
    ['token_type_ids are not 0 up to the first [SEP] and 1 after', (r) => ({ ...r, token_type_ids: r.token_type_ids.map(() => 0) })],
    ['length differs from input_ids', (r) => ({ ...r, length: r.length - 1 })],
    ['attention_mask is not all ones', (r) => ({ ...r, attention_mask: r.attention_mask.map((m, j) => (j === 4 ? 0 : m)) })],
    ['longer than max_seq_len 32', () => row(25)],
    ['next_sentence_label is not 0, 1 or 2', (r) => ({ ...r, next_sentence_label: 3 })],
    ['masked_lm_positions not ascending inside A or B', (r) => ({ ...r, masked_lm_positions: [9, 2] })],
    ['masked_lm_ids and masked_lm_positions differ in length', (r) => ({ ...r, masked_lm_ids: [11] })],
  ];
  // the last token not [SEP] is also one [SEP] short: both are said
  const lastNotSep = (r: Row) => ({ ...r, input_ids: [...r.input_ids.slice(0, -1), 7] });
  const rows = [...broken.map(([, f]) => f(row())), lastNotSep(row()), ...Array.from({ length: 9 }, () => row())];
  writeFileSync(join(out, 'rows.json'), JSON.stringify(rows));
  const inst = await DuckDBInstance.create(':memory:');
  const conn = await inst.connect();
  await conn.run(`COPY (SELECT input_ids::SMALLINT[] AS input_ids, token_type_ids::TINYINT[] AS token_type_ids, attention_mask::TINYINT[] AS attention_mask, length::SMALLINT AS length, next_sentence_label::TINYINT AS next_sentence_label, masked_lm_positions::SMALLINT[] AS masked_lm_positions, masked_lm_ids::SMALLINT[] AS masked_lm_ids FROM read_json('${join(out, 'rows.json')}')) TO '${join(out, 'train-00000-of-00001.parquet')}' (FORMAT parquet)`);
  conn.closeSync();
  inst.closeSync();
  writeFileSync(join(out, 'manifest.json'), JSON.stringify({ settings: { max_seq_len: 32 }, tokenizer: { vocab_size: 600, special_ids: { pad: 0, unk: 1, cls: 2, sep: 3, mask: 4 } } }));
  const model = await tinyModel('kinds', { head: 'none', seed: 6 }, vocabOf(700));
  const r = await verify({ model, shards: out, samples: rows.length });
  assert.equal(r.conformance.ok, false);
  assert.deepEqual(r.conformance.failures, { ...Object.fromEntries(broken.map(([kind]) => [kind, 1])), 'last token is not [SEP]': 1, '1 [SEP] tokens, not 2': 1 });
});

const ONNX = join(SHARED, 'onnx');

test('third-party ONNX models (../shared): MLM logits, no token_type_ids, a classifier, and one that must be refused', { skip: NO_SHARED }, async () => {
  // 30522-id MLM head, inputs with token_type_ids: masked-LM figures on the sample's shards
  const mlm = await verify({ model: join(ONNX, 'dummy_transformer_mlm.onnx'), shards: shardDir, samples: 40 });
  assert.equal(mlm.model.vocab_size, 30522);
  assert.ok(mlm.mlm && mlm.mlm.masked_tokens > 0);
  // a 20-id model is refused on shards whose ids go far beyond
  await assert.rejects(verify({ model: join(ONNX, 'dummy_transformer.onnx'), shards: shardDir }), /its vocabulary is smaller/);
  // on shards within its 20 ids it runs, hidden states under another name (output_0)
  const tiny = await syntheticShards('ids-under-20', true, 20, 60);
  const d = await verify({ model: join(ONNX, 'dummy_transformer.onnx'), shards: tiny });
  assert.equal(d.model.hidden, 'output_0');
  assert.ok(d.probe);
  // no token_type_ids input: the rows go in without them
  const n = await verify({ model: join(ONNX, 'dummy_transformer_without_type_ids.onnx'), shards: tiny });
  assert.deepEqual(n.model.inputs, ['input_ids', 'attention_mask']);
  assert.ok(n.probe && n.probe.samples === 60);
  // a sequence classifier (logits [batch, 2]): conformance only, and a warning that says why
  const cls = await verify({ model: join(ONNX, 'tiny-distilbert-classifier.onnx'), shards: shardDir, samples: 20 });
  assert.equal(cls.mlm, null);
  assert.equal(cls.probe, null);
  assert.ok(cls.warnings.some((w) => /neither vocabulary logits nor per-token hidden states/.test(w)));
});

test('masked-LM scoring: the target rank among the top 5 and its log-probability, as a sort and a softmax give them', () => {
  const r = rng(4, 'scores');
  const v = 300;
  for (let trial = 0; trial < 50; trial++) {
    // coarse values, so that ties occur (the earlier id ranks first, as a stable sort puts it)
    const scores = Float32Array.from({ length: 2 * v }, () => Math.round((r() - 0.5) * 40) / 4);
    const off = trial % 2 ? v : 0;
    const target = randInt(r, 0, v - 1);
    const row = Array.from(scores.subarray(off, off + v));
    const order = row.map((x, i) => [x, i] as const).sort((a, b) => b[0] - a[0] || a[1] - b[1]).map(([, i]) => i);
    const max = Math.max(...row);
    const logZ = Math.log(row.reduce((z, x) => z + Math.exp(x - max), 0)) + max;
    const got = scoreAt(scores, off, v, target);
    const rank = order.indexOf(target);
    assert.equal(got.rank, rank < 5 ? rank : -1);
    assert.ok(Math.abs(got.logProb - (row[target]! - logZ)) < 1e-9);
  }
});
