/**
 * The shards stage: every pair (× dupe factor) becomes a training row, in one seeded shuffle of the
 * whole dataset, written as Parquet shards of equal row counts (±1) that Hugging Face `datasets`
 * loads, plus manifest.json. DuckDB does the join of pairs to segment ids and the shuffle (it spills
 * to disk, so memory stays bounded); each row's truncation and masks are drawn here from its own
 * seeded generator (a few numbers per row: the token ids need not cross into JS); DuckDB cuts, lays
 * out and masks the ids as planned while it writes the files.
 */
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { CARD, datasetCard } from './card.js';
import { memoryLimit, type Db } from '../db/duckdb.js';
import { siteDbname } from '../db/runs.js';
import type { IngestSummary, ShardsSummary } from '../stage/contracts.js';
import { runStage, type StageContext } from '../stage/kernel.js';
import { loadTokenizer } from '../tokenize/tokenizer.js';
import { sha256Of } from '../util/hash.js';
import { buildShardTables, ROW_GROUP_ROWS, SCRATCH, type RowSettings, type Totals } from './build.js';
import { FORMAT_COLUMNS, SHARD_FORMATS, type ShardFormat } from './formats.js';
import { ownFiles, shardsIntact, type InputFile, type Manifest, type Masking, type PartialManifest, type ShardFile } from './manifest.js';
import { shardSlots, writeShard, type Layout } from './write.js';

export { sortedInHalves } from '../db/spill.js';
export type { Manifest, Masking, ShardFile };

/**
 * Up to this --memory (256MB), DuckDB's allocator hands freed memory back to the system while the
 * shards are written (flush thresholds of FLUSH_AT instead of its 128 MiB and 512 MiB). The Parquet
 * COPYs take memory beyond the budget, which the allocator kept: at 60k pages and 128MB the stage
 * peaked at 594–689 MB with the flush against 675–820 MB without (3 interleaved runs; 607–901 MB over
 * more), for about 15% more CPU. At larger budgets the memory is there and speed comes first (at
 * 512MB the flush made shards 8–10% slower on the 6k bench).
 */
const FLUSH_UP_TO = 256e6;
const FLUSH_AT = '16MB';


export interface ShardOptions {
  db: string;
  out: string;
  masking?: Masking;
  /** parquet (default), tfrecord (Google BERT) or hdf5 (NVIDIA BERT): the same rows in each */
  format?: ShardFormat;
  dupeFactor?: number;
  shardRows?: number;
  seed?: number;
  maskedLmProb?: number;
  maxPredictions?: number;
  wholeWord?: boolean;
  force?: boolean;
  /** DuckDB's memory limit, bytes */
  memory?: number;
  /** bytes of token ids each sort puts in row order (default: SORT_BYTES_PER_BUDGET × the memory limit) */
  sortBytes?: number;
  /** rows per row group of the scratch tables (default ROW_GROUP_ROWS; smaller in tests of the ranges) */
  rowGroupRows?: number;
  onProgress?: (p: { rows: number; total: number; seconds: number }) => void;
}

export type { ShardsSummary };

const COLUMN_DOCS: Record<string, string> = {
  input_ids: '[CLS] A [SEP] B [SEP] token ids, masked when masking is static; no padding',
  token_type_ids: '0 for [CLS] A [SEP], 1 for B [SEP]',
  attention_mask: 'all ones (no padding is stored; collators pad)',
  length: 'number of tokens',
  masked_lm_positions: 'positions of the masked tokens, ascending (static masking only)',
  masked_lm_ids: 'original ids at those positions (static masking only)',
  next_sentence_label: 'document relation: 0 contiguous, 1 random, 2 linked',
  pair_id: 'pairs.id in the DuckDB file (to trace a row back to its articles)',
};

/** The settings of a shards run, checked: what the manifest records and the rows are made with. */
export function shardSettings(opts: Omit<ShardOptions, 'db' | 'out'>) {
  const masking = opts.masking ?? 'static';
  const dupe = opts.dupeFactor ?? 1;
  const seed = opts.seed ?? 12345;
  const shardRows = opts.shardRows ?? 100_000;
  const maskedLmProb = opts.maskedLmProb ?? 0.15;
  if (masking !== 'static' && masking !== 'dynamic') throw new Error(`--masking must be static or dynamic, not '${masking}'`);
  const format = opts.format ?? 'parquet';
  if (!SHARD_FORMATS.includes(format)) throw new Error(`--format must be ${SHARD_FORMATS.join(', ')}, not '${format}'`);
  // TFRecord and HDF5 trainers read pre-masked instances (masked_lm_positions and _ids): nothing to hold unmasked rows in
  if (format !== 'parquet' && masking === 'dynamic') throw new Error(`--format ${format} holds masked instances, as its trainers read them (masked_lm_positions, masked_lm_ids): use --masking static, or --format parquet for dynamic masking`);
  if (!Number.isInteger(dupe) || dupe < 1) throw new Error('--dupe-factor must be a whole number ≥ 1');
  if (masking === 'dynamic' && dupe > 1) throw new Error('--dupe-factor needs static masking (with dynamic masking the collator draws new masks each epoch)');
  if (!Number.isInteger(shardRows) || shardRows < 1) throw new Error('--shard-rows must be a whole number ≥ 1');
  if (!(maskedLmProb > 0 && maskedLmProb < 1)) throw new Error(`--masked-lm-prob must be between 0 and 1 (BERT: 0.15), not ${maskedLmProb}`);
  if (opts.maxPredictions !== undefined && (!Number.isInteger(opts.maxPredictions) || opts.maxPredictions < 1)) throw new Error(`--max-predictions must be a whole number ≥ 1, not ${opts.maxPredictions}`);
  if (!Number.isInteger(seed) || seed < 0) throw new Error(`--seed must be a whole number ≥ 0, not ${seed}`);
  const wholeWord = Boolean(opts.wholeWord);
  const maxPredictionsOf = (maxSeqLen: number) => {
    // a row holds max_seq_len - 3 tokens of A and B besides [CLS] and the two [SEP]: no more can be masked
    if (opts.maxPredictions !== undefined && opts.maxPredictions > maxSeqLen - 3) throw new Error(`--max-predictions ${opts.maxPredictions} is more than a row can hold: the segments were made with max_seq_len ${maxSeqLen}, ${maxSeqLen - 3} tokens of A and B (BERT: about max_seq_len × --masked-lm-prob, ${Math.round(maxSeqLen * maskedLmProb)} here)`);
    return opts.maxPredictions ?? Math.max(1, Math.round(maxSeqLen * maskedLmProb));
  };
  return {
    masking, dupe, seed, shardRows, maskedLmProb, format, wholeWord,
    of: (maxSeqLen: number): Manifest['settings'] => ({ format, seed, max_seq_len: maxSeqLen, masking, dupe_factor: dupe, masked_lm_prob: maskedLmProb, max_predictions_per_seq: maxPredictionsOf(maxSeqLen), whole_word_masking: wholeWord, shard_rows: shardRows }),
  };
}

type Prior = StageContext<'segment' | 'pairs'>['prior'];

/** Everything the rows and files are made with: the settings, the tokenizer's ids, the layout. */
/** The ids of `##` continuations (whole-word masking) and those a random replacement draws from. */
export function maskingIds(tok: Awaited<ReturnType<typeof loadTokenizer>>): { continuation: Set<number>; replacement: Int32Array } {
  const vocab = tok.tokenizer.getVocab(true);
  const specials = new Set([tok.special.cls, tok.special.sep, tok.special.mask, tok.special.pad, tok.special.unk].filter((i) => i >= 0));
  const continuation = new Set(Object.entries(vocab).filter(([t]) => t.startsWith('##')).map(([, i]) => i));
  const replacement = Int32Array.from(Object.values(vocab).filter((i) => !specials.has(i) && !/^\[unused\d+\]$/.test(tok.tokenizer.idToToken(i) ?? '')).sort((a, b) => a - b));
  return { continuation, replacement };
}

export async function shardSetup(opts: Omit<ShardOptions, 'db' | 'out'>, prior: Prior) {
  const set = shardSettings(opts);
  const segSummary = prior.segment.summary;
  const maxSeqLen = segSummary.settings.max_seq_len;
  const settings = set.of(maxSeqLen);
  const tok = await loadTokenizer(segSummary.tokenizer.file);
  if (tok.identity.sha256 !== segSummary.tokenizer.sha256) throw new Error(`${segSummary.tokenizer.file} changed since the segment stage used it (sha256 differs): rerun \`linkbert segment\``);
  const { continuation, replacement } = maskingIds(tok);
  if (set.masking === 'static' && tok.special.mask < 0) throw new Error(`${segSummary.tokenizer.file} has no [MASK] token: static masking needs one`);
  const idType = tok.identity.vocab_size <= 32767 ? 'SMALLINT' : 'INTEGER';
  const cfg: RowSettings & Layout = { seed: set.seed, dupe: set.dupe, masking: set.masking, wholeWord: set.wholeWord, maskedLmProb: set.maskedLmProb, maxPredictions: settings.max_predictions_per_seq, maxSeqLen, format: set.format, idType, special: tok.special, continuation, replacement };
  return { settings, cfg, tokenizer: { ...segSummary.tokenizer, special_ids: { ...tok.special } }, shardRows: set.shardRows };
}

/** Each input as ingest recorded it (one input's size and SHA-256 are the dump's). */
function inputFiles(s: IngestSummary): InputFile[] {
  const list = s.inputs ?? [{ file: s.dump, kind: 'wiki', first_seq: 0, end_seq: 0 }];
  const one = list.length === 1;
  return list.map((i) => ({ file: i.file, kind: i.kind, bytes: i.bytes ?? (one ? s.dump_bytes : null), sha256: i.sha256 ?? (one ? s.dump_sha256 : null) }));
}

/** Each split's rows, labels and files. */
function splitTotals(files: ShardFile[], totals: Totals): Manifest['splits'] {
  const out: Partial<Manifest['splits']> = {};
  for (const f of files) {
    const train = f.split === 'train';
    const t = (out[f.split] ??= { rows: 0, tokens: train ? totals.trainTokens : totals.tokens - totals.trainTokens, masked: train ? totals.trainMasked : totals.masked - totals.trainMasked, labels: { '0': 0, '1': 0, '2': 0 }, shards: 0 });
    t.rows += f.rows;
    t.shards++;
    for (const k of ['0', '1', '2'] as const) t.labels[k] += f.labels[k];
  }
  return out as Manifest['splits'];
}

/** The manifest of a complete set of shards (the same object, whoever wrote the files). */
export async function shardsManifest(db: Db, ingest: StageContext<never>['ingest'], prior: Prior, setup: Awaited<ReturnType<typeof shardSetup>>, totals: Totals, files: ShardFile[]): Promise<Manifest> {
  const { format, masking } = setup.cfg;
  const columns: Record<string, string> = format === 'parquet' ? { ...COLUMN_DOCS } : { ...FORMAT_COLUMNS[format] };
  if (format === 'parquet' && masking === 'dynamic') {
    delete columns.masked_lm_positions;
    delete columns.masked_lm_ids;
    columns.input_ids = '[CLS] A [SEP] B [SEP] token ids, unmasked (the collator masks); no padding';
  }
  return {
    format: 'linkbert-shards/1',
    settings: setup.settings,
    tokenizer: setup.tokenizer,
    source: { dump: ingest.source, dump_bytes: ingest.summary.dump_bytes ?? null, dump_sha256: ingest.summary.dump_sha256 ?? null, fingerprint: ingest.fingerprint, dbname: await siteDbname(db), db: db.path, inputs: inputFiles(ingest.summary) },
    pairs: { ...prior.pairs.settings, labels_by_anchor: prior.pairs.summary.labels_by_anchor, ...(prior.pairs.summary.labels_by_input ? { labels_by_input: prior.pairs.summary.labels_by_input } : {}) },
    rows: totals.n,
    tokens: totals.tokens,
    labels: totals.labels,
    label_names: { '0': 'contiguous', '1': 'random', '2': 'linked' },
    shards: files,
    splits: splitTotals(files, totals),
    card: CARD,
    columns,
  };
}

export async function shards(opts: ShardOptions): Promise<ShardsSummary> {
  const set = shardSettings(opts);
  return runStage<ShardsSummary, 'segment' | 'pairs'>({
    stage: 'shards',
    db: opts.db,
    memory: opts.memory,
    force: opts.force,
    reads: ['segment', 'pairs'],
    settings: (prior) => ({ settings: set.of(prior.segment.summary.settings.max_seq_len), out: opts.out }),
    intact: () => shardsIntact(opts.out),
    // refuses an --out holding what this stage did not write, before anything is recorded
    prepare: async ({ ingest }) => void ownFiles(opts.out, ingest.fingerprint),
    async work({ db, ingest, prior, t0 }) {
      const setup = await shardSetup(opts, prior);
      const { cfg } = setup;
      // 1–2. the rows in their final order, each side's ids, what each row's generator decides
      const rowGroup = opts.rowGroupRows ?? ROW_GROUP_ROWS;
      const totals = await buildShardTables(db, cfg, { plan: 'shard_plan', rowGroup, sortBytes: opts.sortBytes, t0, onProgress: opts.onProgress });

      // 3–4. shards of equal size (±1); Parquet written on all of DuckDB's threads: its
      //    order-preserving COPY cuts row groups of a fixed size in row order, so the bytes are those
      //    of a one-thread write (checked on the 60k bench: 5 shards, 480k rows, identical on 1 and 2 threads)
      const flush = db.memory <= FLUSH_UP_TO;
      if (flush) await db.conn.run(`SET allocator_flush_threshold = '${FLUSH_AT}'; SET allocator_bulk_deallocation_flush_threshold = '${FLUSH_AT}'`);
      mkdirSync(opts.out, { recursive: true });
      const slots = shardSlots(totals.train, totals.n, setup.shardRows, cfg.format);
      announceShards(opts.out, ingest, slots.map((f) => f.file));
      const files: ShardFile[] = [];
      for (const { file: name, split, from, to } of slots) {
        const file = join(opts.out, name);
        const labels = await writeShard(db.conn, cfg, 'shard_plan', file, from, to);
        files.push({ file: name, split, rows: to - from, labels, sha256: await sha256Of(file) });
      }
      await db.conn.run(`DROP TABLE shard_plan; DETACH ${SCRATCH}`);
      if (flush) await db.conn.run('RESET allocator_flush_threshold; RESET allocator_bulk_deallocation_flush_threshold');
      const manifest = await shardsManifest(db, ingest, prior, setup, totals, files);
      writeManifest(opts.out, manifest);
      return {
        stage: 'shards' as const,
        out: opts.out,
        rows: totals.n,
        shards: files.length,
        ...(totals.train < totals.n ? { splits: manifest.splits } : {}),
        files: files.map((f) => join(opts.out, f.file)),
        labels: totals.labels,
        tokens: totals.tokens,
        masked: totals.masked,
        truncated: totals.truncated,
        memory_limit: await memoryLimit(db),
      };
    },
  });
}

/**
 * Says in manifest.json, before any shard is written, which files this run will write (and which of
 * an earlier run's are there), so that a run killed while writing leaves only files a rerun knows to
 * be its own; files of an earlier run that this one will not write are removed (they are ours).
 */
export function announceShards(out: string, ingest: StageContext<never>['ingest'], names: string[]): void {
  const old = ownFiles(out, ingest.fingerprint);
  const writing: PartialManifest = { format: 'linkbert-shards/1', writing: true, source: { dump: ingest.source, fingerprint: ingest.fingerprint }, card: CARD, shards: [...new Set([...names, ...old.filter((f) => f !== 'manifest.json' && f !== CARD)])].map((file) => ({ file })) };
  writeFileSync(join(out, 'manifest.json'), JSON.stringify(writing, null, 2) + '\n');
  for (const f of old) if (f !== 'manifest.json' && f !== CARD && !names.includes(f)) rmSync(join(out, f));
}

/**
 * The dataset card (README.md), then manifest.json, each through a temporary name: the card first, so
 * that a complete manifest means a complete folder.
 */
export function writeManifest(out: string, manifest: Manifest): void {
  for (const [name, text] of [[CARD, datasetCard(manifest, out)], ['manifest.json', JSON.stringify(manifest, null, 2) + '\n']] as const) {
    const tmp = join(out, `${name}.tmp-${hostname()}-${process.pid}`);
    writeFileSync(tmp, text);
    renameSync(tmp, join(out, name));
  }
}
