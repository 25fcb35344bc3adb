/**
 * The verify stage: a BERT ONNX model over a sample of the shards. Checks that the rows are what the
 * model expects (conformance, and tokenizer round trips), then reports what the model's outputs
 * allow: masked-token accuracy and loss per relation beside a unigram baseline (vocabulary logits),
 * and a document-relation probe on [CLS] vectors (hidden states).
 */
import { DEFAULT_MEMORY_BYTES } from '../db/duckdb.js';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import type ort from 'onnxruntime-node';
import { maskTokens } from '../mlm/instance.js';
import { OnnxModel, type ModelInfo } from '../onnx/session.js';
import type { Manifest } from '../shards/shards.js';
import { loadTokenizer, type SpecialIds } from '../tokenize/tokenizer.js';
import { randInt, rng } from '../util/rng.js';
import { relationProbe, type ProbeResult } from './probe.js';

export interface VerifyOptions {
  model: string;
  /** DuckDB's memory limit for reading the shards, bytes */
  memory?: number;
  shards: string;
  tokenizer?: string;
  samples?: number;
  batch?: number;
  seed?: number;
  /** score the masked LM at this many of each row's masked positions at most (a seeded subset) */
  mlmPositions?: number;
  onProgress?: (p: { done: number; total: number; seconds: number }) => void;
}

interface ShardRow {
  input_ids: number[];
  token_type_ids: number[];
  attention_mask?: number[];
  length?: number;
  masked_lm_positions?: number[];
  masked_lm_ids?: number[];
  next_sentence_label: number;
}

export interface MlmResult {
  masked_tokens: number;
  top1: number;
  top5: number;
  loss: number;
  per_label: Record<string, { masked_tokens: number; top1: number; top5: number; loss: number }>;
  unigram_baseline: { top1: number; top5: number; loss: number };
  better_than_baseline: boolean;
  masking: 'from the shards' | 'drawn here (dynamic shards)';
  /** at most this many masked positions of each row were scored (--mlm-positions); null: all */
  positions_per_row: number | null;
}

export interface VerifyReport {
  stage: 'verify';
  model: ModelInfo;
  shards: string;
  samples: number;
  conformance: {
    ok: boolean;
    rows_checked: number;
    failures: Record<string, number>;
    examples: string[];
    unk_rate: number;
    max_length: number;
    max_id: number;
    roundtrip: { checked: number; matched: number } | null;
  };
  mlm: MlmResult | null;
  probe: ProbeResult | null;
  /** why the relation probe did not run (null: it ran) */
  probe_not_run: string | null;
  warnings: string[];
  /** rows per inference batch (smaller than asked when vocabulary logits would be too large) */
  batch: number;
  seq_per_s: number;
  seconds: number;
}

function shardFiles(path: string): string[] {
  if (!existsSync(path)) throw new Error(`${path}: no such shard file or folder`);
  if (statSync(path).isFile()) return [path];
  const files = readdirSync(path).filter((f) => f.endsWith('.parquet')).sort().map((f) => join(path, f));
  if (!files.length) throw new Error(`${path}: holds no .parquet shards`);
  return files;
}

async function readSample(files: string[], n: number, memory: number): Promise<ShardRow[]> {
  const inst = await DuckDBInstance.create(':memory:', { memory_limit: `${Math.floor(memory)}B` });
  const conn = await inst.connect();
  try {
    const list = files.map((f) => `'${f.replace(/'/g, "''")}'`).join(', ');
    // the shards are shuffled already: their first rows are a random sample
    const r = await conn.runAndReadAll(`SELECT * FROM read_parquet([${list}]) LIMIT ${n}`);
    return r.getRowObjectsJS() as unknown as ShardRow[];
  } finally {
    conn.closeSync();
    inst.closeSync();
  }
}

/**
 * The target's rank among the top 5 (-1 when below them) and its log-probability, from one
 * position's vocabulary scores: one pass for the maximum and the top 5, one for the normaliser.
 */
export function scoreAt(scores: Float32Array, offset: number, v: number, target: number): { rank: number; logProb: number } {
  const top = [-Infinity, -Infinity, -Infinity, -Infinity, -Infinity];
  const ids = [-1, -1, -1, -1, -1];
  for (let i = 0; i < v; i++) {
    const x = scores[offset + i]!;
    if (x <= top[4]!) continue;
    let k = 4;
    while (k > 0 && x > top[k - 1]!) {
      top[k] = top[k - 1]!;
      ids[k] = ids[k - 1]!;
      k--;
    }
    top[k] = x;
    ids[k] = i;
  }
  const m = top[0]!;
  let z = 0;
  for (let i = 0; i < v; i++) z += Math.exp(scores[offset + i]! - m);
  return { rank: ids.indexOf(target), logProb: scores[offset + target]! - m - Math.log(z) };
}

/** The row with `n` of its masked positions (a uniform subset, ascending) as the ones scored. */
function scoreSubset(r: ShardRow, n: number, random: () => number): ShardRow {
  const pos = r.masked_lm_positions ?? [];
  if (pos.length <= n) return r;
  const k = pos.map((_, i) => i);
  for (let i = k.length - 1; i > 0; i--) {
    const j = randInt(random, 0, i);
    [k[i], k[j]] = [k[j]!, k[i]!];
  }
  const keep = k.slice(0, n).sort((a, b) => a - b);
  return { ...r, masked_lm_positions: keep.map((i) => pos[i]!), masked_lm_ids: keep.map((i) => r.masked_lm_ids![i]!) };
}

export async function verify(opts: VerifyOptions): Promise<VerifyReport> {
  const t0 = performance.now();
  const files = shardFiles(opts.shards);
  const dir = statSync(opts.shards).isFile() ? join(opts.shards, '..') : opts.shards;
  const manifest: Manifest | null = existsSync(join(dir, 'manifest.json')) ? (JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as Manifest) : null;
  if (manifest && 'writing' in manifest) throw new Error(`${dir}: these shards are incomplete (a shards run stopped while writing them); rerun \`linkbert shards\``);
  // special ids from the manifest; BERT's when the shards came without one
  const ids: SpecialIds = manifest?.tokenizer.special_ids ?? { cls: 101, sep: 102, mask: 103, pad: 0, unk: 100 };
  const vocab = manifest?.tokenizer.vocab_size ?? null;
  const maxSeqLen = manifest?.settings.max_seq_len ?? null;
  if (opts.mlmPositions !== undefined && !(Number.isInteger(opts.mlmPositions) && opts.mlmPositions >= 1)) throw new Error('--mlm-positions must be a whole number ≥ 1');
  const rows = await readSample(files, opts.samples ?? 512, opts.memory ?? DEFAULT_MEMORY_BYTES);
  if (!rows.length) throw new Error(`${opts.shards}: the shards hold no rows`);
  const warnings: string[] = [];

  // conformance of each row to [CLS] A [SEP] B [SEP]
  const failures: Record<string, number> = {};
  const examples: string[] = [];
  const fail = (what: string, i: number) => {
    failures[what] = (failures[what] ?? 0) + 1;
    if (examples.length < 10) examples.push(`row ${i}: ${what}`);
  };
  let tokens = 0;
  let unk = 0;
  let maxId = 0;
  let maxLen = 0;
  rows.forEach((r, i) => {
    const x = r.input_ids;
    const n = x.length;
    maxLen = Math.max(maxLen, n);
    for (const v of x) {
      maxId = Math.max(maxId, v);
      if (v < 0 || (vocab !== null && v >= vocab)) fail('id out of the vocabulary', i);
      if (v === ids.unk) unk++;
    }
    tokens += n;
    if (x[0] !== ids.cls) fail('first token is not [CLS]', i);
    if (x[n - 1] !== ids.sep) fail('last token is not [SEP]', i);
    const seps = x.map((v, j) => (v === ids.sep ? j : -1)).filter((j) => j >= 0);
    if (seps.length !== 2) fail(`${seps.length} [SEP] tokens, not 2`, i);
    const mid = seps[0] ?? n - 1;
    if (r.token_type_ids.length !== n || r.token_type_ids.some((t, j) => t !== (j <= mid ? 0 : 1))) fail('token_type_ids are not 0 up to the first [SEP] and 1 after', i);
    if (r.length !== undefined && r.length !== n) fail('length differs from input_ids', i);
    if (r.attention_mask && (r.attention_mask.length !== n || r.attention_mask.some((m) => m !== 1))) fail('attention_mask is not all ones', i);
    if (maxSeqLen !== null && n > maxSeqLen) fail(`longer than max_seq_len ${maxSeqLen}`, i);
    if (![0, 1, 2].includes(r.next_sentence_label)) fail('next_sentence_label is not 0, 1 or 2', i);
    const pos = r.masked_lm_positions ?? [];
    if (pos.some((p, k) => p <= 0 || p >= n - 1 || p === mid || (k > 0 && p <= pos[k - 1]!))) fail('masked_lm_positions not ascending inside A or B', i);
    if ((r.masked_lm_ids ?? []).length !== pos.length) fail('masked_lm_ids and masked_lm_positions differ in length', i);
  });

  // the tokenizer reproduces each row's ids from its text
  let roundtrip: VerifyReport['conformance']['roundtrip'] = null;
  if (opts.tokenizer) {
    const tok = await loadTokenizer(opts.tokenizer);
    if (manifest && tok.identity.sha256 !== manifest.tokenizer.sha256) warnings.push(`--tokenizer ${opts.tokenizer} is not the tokenizer the shards were made with (sha256 differs)`);
    let matched = 0;
    for (const [i, r] of rows.entries()) {
      const x = r.input_ids.slice();
      (r.masked_lm_positions ?? []).forEach((p, k) => (x[p] = r.masked_lm_ids![k]!));
      const mid = x.indexOf(ids.sep);
      const a = await tok.tokenizer.decode(x.slice(1, mid), false);
      const b = await tok.tokenizer.decode(x.slice(mid + 1, -1), false);
      const again = (await tok.tokenizer.encode(a, b)).getIds();
      if (again.length === x.length && again.every((v, j) => v === x[j])) matched++;
      else if (examples.length < 10) examples.push(`row ${i}: decoding and re-encoding changes the ids ("${a.slice(0, 60)}…")`);
    }
    roundtrip = { checked: rows.length, matched };
    if (matched < rows.length) warnings.push(`${rows.length - matched} of ${rows.length} rows do not survive decode → encode with ${opts.tokenizer} (texts the tokenizer cannot reproduce exactly, e.g. [UNK] or stripped characters)`);
  }
  const conformanceOk = Object.keys(failures).length === 0;

  // the model: can it take these ids and lengths at all?
  const model = await OnnxModel.load(opts.model);
  await model.checkFits(maxId, maxLen, ids.pad);

  // vocabulary logits are batch × length × vocab floats (batch × predictions × vocab for a model
  // that gathers the masked positions): keep a batch's under 64M (256 MB)
  const maxPredictions = Math.min(opts.mlmPositions ?? Infinity, Math.max(1, ...rows.map((r) => r.masked_lm_positions?.length ?? Math.round(r.input_ids.length * 0.15))));
  const logitsPerRow = model.info.logits ? (model.info.gathers ? maxPredictions : maxLen) * (model.info.vocab_size ?? 30000) : 0;
  const batch = Math.max(1, Math.min(opts.batch ?? 16, logitsPerRow ? Math.floor(2 ** 26 / logitsPerRow) : Infinity));
  const seed = opts.seed ?? 1;
  const wanted = [model.info.logits, model.info.hidden].filter((x): x is string => x !== null);
  if (!wanted.length) warnings.push(`${opts.model} outputs neither vocabulary logits nor per-token hidden states (${model.info.outputs.map((o) => `${o.name} [${o.shape.join(', ')}]`).join(', ')}): only conformance is checked`);
  const dynamic = rows.every((r) => r.masked_lm_positions === undefined);
  const features: Float64Array[] = [];
  const labels: number[] = [];
  const mlmAcc = new Map<number, { n: number; top1: number; top5: number; loss: number }>();
  const labelCounts = new Map<number, number>();
  const maskedLabels: number[] = [];
  const tInfer = performance.now();
  for (let s = 0; s < rows.length && wanted.length; s += batch) {
    const chunk = rows.slice(s, s + batch).map((r, k) => {
      if (!dynamic || !model.info.logits) return { row: r, input: r };
      // dynamic shards: draw masks here, as a collator would
      const x = r.input_ids.slice();
      const mid = x.indexOf(ids.sep);
      const { positions, labels: lm } = maskTokens(x, (p) => p === 0 || p === mid || p === x.length - 1, { maskedLmProb: 0.15, maxPredictions: Math.max(1, Math.round(x.length * 0.15)), wholeWord: false, isContinuation: () => false, maskId: ids.mask, replacementIds: Int32Array.of(ids.mask) }, rng(seed, 'verify-mask', s + k));
      return { row: { ...r, masked_lm_positions: positions, masked_lm_ids: lm }, input: { ...r, input_ids: x } };
    });
    if (opts.mlmPositions !== undefined) chunk.forEach((c, k) => (c.row = scoreSubset(c.row, opts.mlmPositions!, rng(seed, 'verify-subset', s + k))));
    const out: Record<string, ort.Tensor> = await model.run(chunk.map((c) => ({ ...c.input, positions: c.row.masked_lm_positions ?? [] })), ids.pad, wanted);
    const width = Math.max(...chunk.map((c) => c.input.input_ids.length));
    if (model.info.hidden) {
      const h = out[model.info.hidden]!;
      const d = h.dims[2]!;
      const data = h.data as Float32Array;
      chunk.forEach((c, k) => {
        features.push(Float64Array.from(data.subarray(k * width * d, k * width * d + d)));
        labels.push(c.row.next_sentence_label);
      });
    }
    if (model.info.logits) {
      const l = out[model.info.logits]!;
      const v = l.dims[2]!;
      const per = l.dims[1]!; // positions per row: the sequence, or the gathered predictions
      const data = l.data as Float32Array;
      chunk.forEach((c, k) => {
        const acc = mlmAcc.get(c.row.next_sentence_label) ?? { n: 0, top1: 0, top5: 0, loss: 0 };
        (c.row.masked_lm_positions ?? []).forEach((p, m) => {
          const target = c.row.masked_lm_ids![m]!;
          const off = (k * per + (model.info.gathers ? m : p)) * v;
          const { rank, logProb } = scoreAt(data, off, v, target);
          acc.n++;
          if (rank === 0) acc.top1++;
          if (rank >= 0) acc.top5++;
          acc.loss -= logProb;
          maskedLabels.push(target);
        });
        mlmAcc.set(c.row.next_sentence_label, acc);
        for (const t of c.row.input_ids) labelCounts.set(t, (labelCounts.get(t) ?? 0) + 1);
      });
    }
    opts.onProgress?.({ done: Math.min(rows.length, s + batch), total: rows.length, seconds: (performance.now() - t0) / 1000 });
  }
  const inferSeconds = (performance.now() - tInfer) / 1000;

  let mlm: MlmResult | null = null;
  if (model.info.logits && maskedLabels.length) {
    // unigram baseline: token frequencies of the sample (specials and [MASK] left out), add-one smoothed
    for (const id of [ids.cls, ids.sep, ids.mask, ids.pad]) labelCounts.delete(id);
    const v = model.info.vocab_size ?? Math.max(...labelCounts.keys()) + 1;
    const total = [...labelCounts.values()].reduce((a, b) => a + b, 0) + v;
    const ranked = [...labelCounts.entries()].sort((a, b) => b[1] - a[1] || a[0] - b[0]).map(([id]) => id);
    const base = { top1: 0, top5: 0, loss: 0 };
    for (const t of maskedLabels) {
      if (t === ranked[0]) base.top1++;
      if (ranked.slice(0, 5).includes(t)) base.top5++;
      base.loss -= Math.log(((labelCounts.get(t) ?? 0) + 1) / total);
    }
    const all = [...mlmAcc.values()].reduce((a, b) => ({ n: a.n + b.n, top1: a.top1 + b.top1, top5: a.top5 + b.top5, loss: a.loss + b.loss }), { n: 0, top1: 0, top5: 0, loss: 0 });
    const nm = maskedLabels.length;
    mlm = {
      masked_tokens: all.n,
      top1: all.top1 / all.n,
      top5: all.top5 / all.n,
      loss: all.loss / all.n,
      per_label: Object.fromEntries([...mlmAcc.entries()].sort((a, b) => a[0] - b[0]).map(([l, a]) => [String(l), { masked_tokens: a.n, top1: a.n ? a.top1 / a.n : 0, top5: a.n ? a.top5 / a.n : 0, loss: a.n ? a.loss / a.n : 0 }])),
      unigram_baseline: { top1: base.top1 / nm, top5: base.top5 / nm, loss: base.loss / nm },
      better_than_baseline: all.loss / all.n < base.loss / nm && all.top1 / all.n > base.top1 / nm,
      masking: dynamic ? 'drawn here (dynamic shards)' : 'from the shards',
      positions_per_row: opts.mlmPositions ?? null,
    };
    if (!mlm.better_than_baseline) warnings.push('the MLM head predicts masked tokens no better than token frequencies alone: an untrained or missing head (a fill-mask export of the released LinkBERT has no trained MLM head)');
  }
  let probe: ProbeResult | null = null;
  const probeNotRun = !model.info.hidden ? 'the model outputs no per-token hidden states' : features.length < 30 ? `too few samples (${features.length}; it needs 30 or more: --samples)` : null;
  if (!probeNotRun) {
    probe = relationProbe(features, labels, { seed });
    if (!probe.beats_control) warnings.push('the [CLS] vectors do not predict the document relation better than the shuffled-label control');
  } else if (model.info.hidden) warnings.push(`the relation probe did not run: ${probeNotRun}`);

  return {
    stage: 'verify',
    model: model.info,
    shards: opts.shards,
    samples: rows.length,
    conformance: { ok: conformanceOk, rows_checked: rows.length, failures, examples, unk_rate: tokens ? unk / tokens : 0, max_length: maxLen, max_id: maxId, roundtrip },
    mlm,
    probe,
    probe_not_run: probeNotRun,
    warnings,
    batch,
    seq_per_s: wanted.length ? Math.round(rows.length / Math.max(inferSeconds, 1e-6)) : 0,
    seconds: Math.round(performance.now() - t0) / 1000,
  };
}

