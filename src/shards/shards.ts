/**
 * The shards stage: every pair (× dupe factor) becomes a training row, in one seeded shuffle of the
 * whole dataset, written as Parquet shards of equal row counts (±1) that Hugging Face `datasets`
 * loads, plus manifest.json. DuckDB does the join of pairs to segment ids and the shuffle (it spills
 * to disk, so memory stays bounded); each row's truncation and masks are drawn here from its own
 * seeded generator (a few numbers per row: the token ids need not cross into JS); DuckDB cuts, lays
 * out and masks the ids as planned while it writes the files.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { BIGINT, INTEGER, LIST, SMALLINT, TINYINT } from '@duckdb/node-api';
import { ChunkAppender, list } from '../db/chunks.js';
import { memoryLimit, rows, sideBySide } from '../db/duckdb.js';
import { siteDbname } from '../db/runs.js';
import { sortedInHalves } from '../db/spill.js';
import { layout, planMasks, truncateLengths, type MaskingOptions, type MaskPlan } from '../mlm/instance.js';
import type { ShardsSummary } from '../stage/contracts.js';
import { runStage } from '../stage/kernel.js';
import { loadTokenizer } from '../tokenize/tokenizer.js';
import { collectGarbage } from '../util/gc.js';
import { sha256Of } from '../util/hash.js';
import { rng } from '../util/rng.js';
import { EXTENSION, FORMAT_COLUMNS, hdf5Writer, loadHdf5, SHARD_FORMATS, tfrecordWriter, type ShardFormat, type TrainerRow } from './formats.js';
import { ownFiles, shardsIntact, type Manifest, type Masking, type PartialManifest, type ShardFile } from './manifest.js';

export { sortedInHalves } from '../db/spill.js';
export type { Manifest, Masking, ShardFile };

/** Rows of the shuffled dataset read and built at a time. */
const READ_ROWS = 8192;
/** The in-memory database attached for the run's intermediate tables. */
const SCRATCH = 'shards_scratch';
/**
 * Bytes of token ids one sort puts in row order, per byte of --memory. DuckDB's sort of id lists
 * spills, but not reliably: in shards at 600k pages (~2.3 GB of A-side ids) it ran out of 128MB even
 * on one thread; alone, 0.4 to 2.3 GB of them sorted in 128MB on one thread in some runs and not in
 * others. So the ids go in by ranges past this size (none at 512MB up to ~4 GB of ids), and a range
 * that still runs out is sorted in halves.
 */
const SORT_BYTES_PER_BUDGET = 8;
/**
 * DuckDB's rows per row group (its default), set on the run's scratch database. Ranges of the id
 * tables start at multiples of it, so the tables are laid out as after one sort (whole row groups),
 * and the Parquet row groups a COPY cuts from them are the same bytes.
 */
const ROW_GROUP_ROWS = 122_880;
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
/**
 * Rows per row group of the Parquet shards (two of DuckDB's 2,048-row vectors, so each group is
 * exactly this long). The COPY holds several row groups per thread in memory it does not count
 * against --memory: at 60k pages and 128MB the stage peaked at 566–723 MB with 10,000-row groups
 * (which DuckDB made 10,240) and at 509–596 MB with 4,096 in 7 runs (2,048: 505–516 MB, but
 * slower); on the 6k bench at 512MB 4,096 is faster too (6.9–7.2 s against 9.0–9.7, 3 interleaved
 * runs) and peaks at 418–455 MB against 556–585. The files are 2% larger.
 */
const PARQUET_ROW_GROUP = 4096;


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

export async function shards(opts: ShardOptions): Promise<ShardsSummary> {
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
  const maxPredictionsOf = (maxSeqLen: number) => opts.maxPredictions ?? Math.max(1, Math.round(maxSeqLen * maskedLmProb));
  const settingsOf = (maxSeqLen: number): Manifest['settings'] => ({ format, seed, max_seq_len: maxSeqLen, masking, dupe_factor: dupe, masked_lm_prob: maskedLmProb, max_predictions_per_seq: maxPredictionsOf(maxSeqLen), whole_word_masking: wholeWord, shard_rows: shardRows });
  return runStage<ShardsSummary, 'segment' | 'pairs'>({
    stage: 'shards',
    db: opts.db,
    memory: opts.memory,
    force: opts.force,
    reads: ['segment', 'pairs'],
    settings: (prior) => ({ settings: settingsOf(prior.segment.summary.settings.max_seq_len), out: opts.out }),
    intact: () => shardsIntact(opts.out),
    // refuses an --out holding what this stage did not write, before anything is recorded
    prepare: async ({ ingest }) => void ownFiles(opts.out, ingest.fingerprint),
    async work({ db, ingest, prior, t0 }) {
      const segSummary = prior.segment.summary;
      const maxSeqLen = segSummary.settings.max_seq_len;
      const maxPredictions = maxPredictionsOf(maxSeqLen);
      const settings = settingsOf(maxSeqLen);
      const tok = await loadTokenizer(segSummary.tokenizer.file);
      if (tok.identity.sha256 !== segSummary.tokenizer.sha256) throw new Error(`${segSummary.tokenizer.file} changed since the segment stage used it (sha256 differs): rerun \`linkbert segment\``);
      const vocab = tok.tokenizer.getVocab(true);
      const specials = new Set([tok.special.cls, tok.special.sep, tok.special.mask, tok.special.pad, tok.special.unk].filter((i) => i >= 0));
      const continuation = new Set(Object.entries(vocab).filter(([t]) => t.startsWith('##')).map(([, i]) => i));
      const replacement = Int32Array.from(Object.values(vocab).filter((i) => !specials.has(i) && !/^\[unused\d+\]$/.test(tok.tokenizer.idToToken(i) ?? '')).sort((a, b) => a - b));
      if (masking === 'static' && tok.special.mask < 0) throw new Error(`${segSummary.tokenizer.file} has no [MASK] token: static masking needs one`);
      const idType = tok.identity.vocab_size <= 32767 ? 'SMALLINT' : 'INTEGER';

      // 1. rows in their final order: one seeded shuffle of every (pair, copy) of the whole dataset,
      //    sorted on keys alone, then each side's token ids joined to it and stored in that order.
      //    (Both are tables, not a streamed result: DuckDB spills them past --memory, and an error
      //    while it does is an error here, where a stream would just end early.)
      const [{ total }] = (await rows<{ total: number }>(db.conn, `SELECT count(*) * ${dupe} AS total FROM pairs`)) as [{ total: number }];
      await db.conn.run(`SET VARIABLE seed = ${seed}`);
      // The shuffled order and each side's ids go in an in-memory database attached for this run
      // (spilled to the temp directory past --memory, as temporary tables are), which every connection
      // of the process sees: a second connection builds the id tables while this one plans the rows.
      const rowGroup = opts.rowGroupRows ?? ROW_GROUP_ROWS;
      await db.conn.run(`ATTACH OR REPLACE ':memory:' AS ${SCRATCH} (ROW_GROUP_SIZE ${rowGroup})`);
      // (the joins and the numbering as two statements: as one, they ran out of 128MB at 600k pages)
      await db.conn.run(`CREATE TABLE ${SCRATCH}.shard_rows AS
        SELECT p.id, d.range::INTEGER AS copy, p.label, p.a_article, p.a_idx, p.b_article, p.b_idx, sa.n_tokens AS a_n, sb.n_tokens AS b_n
        FROM pairs p CROSS JOIN range(${dupe}) d
        JOIN segments sa ON sa.article = p.a_article AND sa.idx = p.a_idx
        JOIN segments sb ON sb.article = p.b_article AND sb.idx = p.b_idx`);
      await db.conn.run(`CREATE TABLE ${SCRATCH}.shard_order AS
        SELECT (row_number() OVER (ORDER BY hash(getvariable('seed'), 'order', id, copy), id, copy) - 1)::BIGINT AS row, *
        FROM ${SCRATCH}.shard_rows;
        DROP TABLE ${SCRATCH}.shard_rows`);
      // each side's ids on their own: the join holds only the keys (shard_order) while the segments
      // stream past, so no hash table holds token ids. Built on a second connection beside the plan.
      const side = await db.instance.connect();
      const budget = db.memory;
      const [sideTokens] = await rows<{ a: number; b: number }>(db.conn, `SELECT sum(a_n)::DOUBLE AS a, sum(b_n)::DOUBLE AS b FROM ${SCRATCH}.shard_order`);
      const buildIds = async () => {
        for (const which of ['a', 'b'] as const) {
          // a range of rows at a time when the ids outgrow the budget (each range scans the segments again)
          const ranges = Math.max(1, Math.ceil((sideTokens![which] * (idType === 'SMALLINT' ? 2 : 4)) / (opts.sortBytes ?? budget * SORT_BYTES_PER_BUDGET)));
          await side.run(`CREATE OR REPLACE TABLE ${SCRATCH}.shard_${which} (row BIGINT, ids ${idType}[])`);
          const insert = (from: number, to: number) => `INSERT INTO ${SCRATCH}.shard_${which}
            SELECT o.row, s.ids::${idType}[] AS ids FROM segments s JOIN (SELECT * FROM ${SCRATCH}.shard_order WHERE row >= ${from} AND row < ${to}) o ON o.${which}_article = s.article AND o.${which}_idx = s.idx
            ORDER BY o.row`;
          const step = Math.ceil(total / ranges / rowGroup) * rowGroup;
          for (let from = 0; from < total; from += step) await sortedInHalves(side, insert, from, Math.min(total, from + step), rowGroup);
        }
      };
      // shard_plan: what JS decides for each row (its truncation and masks), a few numbers; the
      // token ids stay in DuckDB, which cuts, lays out and masks them while it writes the shards.
      const maskOpts: MaskingOptions = { maskedLmProb, maxPredictions, wholeWord, isContinuation: (id) => continuation.has(id), maskId: tok.special.mask, replacementIds: replacement };
      const maxTokens = maxSeqLen - 3;
      // 2. each row's truncation and masks from its own generator: (seed, pair, copy); a range of rows
      //    at a time (the tables are in row order, so a range reads its own row groups only). Only
      //    whole-word masking reads the ids (to find words); otherwise the lengths decide.
      const idsCols = wholeWord && masking === 'static' ? ', a.ids AS a, b.ids AS b' : '';
      const idsJoin = idsCols ? (range: string) => `JOIN (SELECT * FROM ${SCRATCH}.shard_a WHERE ${range}) a USING (row) JOIN (SELECT * FROM ${SCRATCH}.shard_b WHERE ${range}) b USING (row)` : () => '';
      const planRows = async () => {
        const labels = { '0': 0, '1': 0, '2': 0 };
        let n = 0;
        let tokens = 0;
        let masked = 0;
        let truncated = 0;
        await db.conn.run(`CREATE OR REPLACE TABLE shard_plan (row BIGINT, pair_id BIGINT, label TINYINT, a_off SMALLINT, a_len SMALLINT, b_off SMALLINT, b_len SMALLINT, positions SMALLINT[], replacements ${idType}[])`);
        // positions and replacements go in as numbers (as '[…]' text DuckDB would parse them again)
        const appender = new ChunkAppender(await db.conn.createAppender('shard_plan'), [BIGINT, BIGINT, TINYINT, SMALLINT, SMALLINT, SMALLINT, SMALLINT, LIST(SMALLINT), LIST(idType === 'SMALLINT' ? SMALLINT : INTEGER)]);
        try {
          for (let from = 0; from < total; from += READ_ROWS) {
            const range = `row >= ${from} AND row < ${from + READ_ROWS}`;
            const got = await db.conn.runAndReadAll(`SELECT o.row, o.id, o.copy, o.label, o.a_n, o.b_n${idsCols}
              FROM (SELECT * FROM ${SCRATCH}.shard_order WHERE ${range}) o ${idsJoin(range)}
              ORDER BY row`);
            const planned = got.getRowObjectsJS() as unknown as { row: bigint; id: bigint; copy: number; label: number; a_n: number; b_n: number; a?: number[]; b?: number[] }[];
            if (planned.length !== Math.min(READ_ROWS, total - from)) throw new Error(`internal error: rows ${from}… of the shuffled dataset are missing`);
            for (const r of planned) {
              const id = Number(r.id);
              const random = rng(seed, 'row', id, r.copy);
              const t = truncateLengths(r.a_n, r.b_n, maxTokens, random);
              if (t.aLen !== r.a_n || t.bLen !== r.b_n) truncated++;
              const length = t.aLen + t.bLen + 3;
              let plan: MaskPlan = { positions: [], replacements: [] };
              if (masking === 'static') {
                const sepAt = t.aLen + 1;
                const ids = r.a && r.b ? layout(r.a.slice(t.aOff, t.aOff + t.aLen), r.b.slice(t.bOff, t.bOff + t.bLen), tok.special.cls, tok.special.sep).input_ids : undefined;
                plan = planMasks(length, (p) => p === 0 || p === sepAt || p === length - 1, maskOpts, random, ids);
              }
              if (Number(r.row) !== n) throw new Error(`internal error: row ${n} of the shuffled dataset is missing`);
              appender.row([BigInt(n), BigInt(id), r.label, t.aOff, t.aLen, t.bOff, t.bLen, list(plan.positions), list(plan.replacements)]);
              n++;
              tokens += length;
              masked += plan.positions.length;
              labels[String(r.label) as '0' | '1' | '2']++;
            }
            if (from % (READ_ROWS * 4) === 0) collectGarbage(); // query results hold native memory until collected
            opts.onProgress?.({ rows: n, total, seconds: (performance.now() - t0) / 1000 });
          }
        } catch (e) {
          try {
            appender.closeSync();
          } catch {
            // the append that failed has already said why
          }
          throw e;
        }
        appender.closeSync();
        return { n, tokens, masked, truncated, labels };
      };
      let totals;
      try {
        if (idsCols) {
          await buildIds(); // whole-word masking reads the ids to find the words
          totals = await planRows();
        } else [totals] = await sideBySide(planRows, buildIds);
      } finally {
        side.closeSync();
      }
      const { n, tokens, masked, truncated, labels } = totals;
      await db.conn.run(`DROP TABLE ${SCRATCH}.shard_order`);
      if (n !== total) throw new Error(`internal error: ${n} rows built, ${total} expected`);

      // 3. typed, compact columns (ids as 16-bit integers when the vocabulary allows), built by DuckDB
      //    as layout() and maskTokens() in src/mlm/instance.ts would: [CLS] A [SEP] B [SEP] cut to the
      //    planned lengths, each planned position replaced (-1: kept), the original ids there kept as
      //    masked_lm_ids; token types and the attention mask follow from the lengths of A and B.
      //    The three tables hold the rows in their order (inserted so), so each shard's range of
      //    `row` is read from its own row groups only (min/max pruning), not by a scan of a table.
      const inRange = (t: string, from: number, to: number) => `(SELECT * FROM ${t} WHERE row >= ${from} AND row < ${to})`;
      const lmCols = masking === 'static' ? `, positions::SMALLINT[] AS masked_lm_positions, list_transform(positions, lambda q: base[q + 1])::${idType}[] AS masked_lm_ids` : '';
      // the ids between masked positions, spliced with what each masked position becomes (a lookup
      // of each token's position among the masked ones would cost length × predictions)
      const inputIds = masking === 'static'
        ? `flatten(list_transform(range(1, len(positions) + 2), lambda k: list_concat(
             base[CASE WHEN k = 1 THEN 1 ELSE positions[k - 1] + 2 END : CASE WHEN k > len(positions) THEN len(base) ELSE positions[k] END],
             CASE WHEN k <= len(positions) THEN [coalesce(nullif(replacements[k], -1), base[positions[k] + 1])] ELSE [] END)))`
        : 'base';
      const shardQuery = (from: number, to: number) => `
        SELECT ${inputIds}::${idType}[] AS input_ids,
               list_concat(list_resize([]::TINYINT[], a_len + 2, 0), list_resize([]::TINYINT[], b_len + 1, 1)) AS token_type_ids,
               list_resize([]::TINYINT[], a_len + b_len + 3, 1) AS attention_mask,
               (a_len + b_len + 3)::SMALLINT AS length${lmCols},
               label AS next_sentence_label,
               -- the three tables are read side by side (no join, no sort): a row out of step is an error
               CASE WHEN a_row = row AND b_row = row THEN pair_id ELSE error('internal error: the shard tables are out of step at row ' || row) END AS pair_id
        FROM (SELECT p.row, a.row AS a_row, b.row AS b_row, p.pair_id, p.label, p.a_len, p.b_len, p.positions::INTEGER[] AS positions, p.replacements,
                     list_concat([${tok.special.cls}::${idType}], a.ids[p.a_off + 1 : p.a_off + p.a_len], [${tok.special.sep}::${idType}], b.ids[p.b_off + 1 : p.b_off + p.b_len], [${tok.special.sep}::${idType}]) AS base
              FROM ${inRange('shard_plan', from, to)} p POSITIONAL JOIN ${inRange(`${SCRATCH}.shard_a`, from, to)} a POSITIONAL JOIN ${inRange(`${SCRATCH}.shard_b`, from, to)} b)`;

      // 4. Parquet shards of equal size (±1), written on all of DuckDB's threads: its order-preserving
      //    COPY cuts row groups of exactly PARQUET_ROW_GROUP rows in row order, so the bytes are those of
      //    a one-thread write (checked on the 60k bench: 5 shards, 480k rows, identical on 1 and 2 threads)
      const flush = budget <= FLUSH_UP_TO;
      if (flush) await db.conn.run(`SET allocator_flush_threshold = '${FLUSH_AT}'; SET allocator_bulk_deallocation_flush_threshold = '${FLUSH_AT}'`);
      mkdirSync(opts.out, { recursive: true });
      const count = Math.max(1, Math.ceil(n / shardRows));
      const names = Array.from({ length: count }, (_, s) => `train-${String(s).padStart(5, '0')}-of-${String(count).padStart(5, '0')}.${EXTENSION[format]}`);
      // The manifest says first which files this run will write (and which of its last run's are
      // there), so a run killed while writing leaves only files a rerun knows to be its own.
      const old = ownFiles(opts.out, ingest.fingerprint);
      const writing: PartialManifest = { format: 'linkbert-shards/1', writing: true, source: { dump: ingest.source, fingerprint: ingest.fingerprint }, shards: [...new Set([...names, ...old.filter((f) => f !== 'manifest.json')])].map((file) => ({ file })) };
      writeFileSync(join(opts.out, 'manifest.json'), JSON.stringify(writing, null, 2) + '\n');
      for (const f of old) if (f !== 'manifest.json' && !names.includes(f)) rmSync(join(opts.out, f));
      const files: ShardFile[] = [];
      for (let s = 0; s < count; s++) {
        const from = Math.floor((s * n) / count);
        const to = Math.floor(((s + 1) * n) / count);
        const file = join(opts.out, names[s]!);
        if (format === 'parquet') await db.conn.run(`COPY (${shardQuery(from, to)}) TO '${file.replace(/'/g, "''")}' (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE ${PARQUET_ROW_GROUP})`);
        else {
          // the same query, read a range of rows at a time and written by the format's own library
          if (format === 'hdf5') await loadHdf5();
          const w = format === 'tfrecord' ? tfrecordWriter(file, maxSeqLen, maxPredictions) : hdf5Writer(file, to - from, maxSeqLen, maxPredictions);
          try {
            for (let at = from; at < to; at += READ_ROWS) {
              const got = await db.conn.runAndReadAll(shardQuery(at, Math.min(to, at + READ_ROWS)));
              w.write(got.getRowObjectsJS() as unknown as TrainerRow[]);
            }
          } finally {
            w.close();
          }
        }
        const [l] = await rows<Record<string, number>>(db.conn, `SELECT count(*) FILTER (label = 0) AS "0", count(*) FILTER (label = 1) AS "1", count(*) FILTER (label = 2) AS "2" FROM shard_plan WHERE row >= ${from} AND row < ${to}`);
        files.push({ file: basename(file), rows: to - from, labels: { '0': l!['0']!, '1': l!['1']!, '2': l!['2']! }, sha256: await sha256Of(file) });
      }
      await db.conn.run(`DROP TABLE shard_plan; DETACH ${SCRATCH}`);
      if (flush) await db.conn.run('RESET allocator_flush_threshold; RESET allocator_bulk_deallocation_flush_threshold');

      const dbname = await siteDbname(db);
      const columns: Record<string, string> = format === 'parquet' ? { ...COLUMN_DOCS } : { ...FORMAT_COLUMNS[format] };
      if (format === 'parquet' && masking === 'dynamic') {
        delete columns.masked_lm_positions;
        delete columns.masked_lm_ids;
        columns.input_ids = '[CLS] A [SEP] B [SEP] token ids, unmasked (the collator masks); no padding';
      }
      const manifest: Manifest = {
        format: 'linkbert-shards/1',
        settings,
        tokenizer: { ...segSummary.tokenizer, special_ids: { ...tok.special } },
        source: { dump: ingest.source, dump_bytes: ingest.summary.dump_bytes ?? null, dump_sha256: ingest.summary.dump_sha256 ?? null, fingerprint: ingest.fingerprint, dbname, db: db.path },
        pairs: { ...prior.pairs.settings, labels_by_anchor: prior.pairs.summary.labels_by_anchor, ...(prior.pairs.summary.labels_by_input ? { labels_by_input: prior.pairs.summary.labels_by_input } : {}) },
        rows: n,
        tokens,
        labels,
        label_names: { '0': 'contiguous', '1': 'random', '2': 'linked' },
        shards: files,
        columns,
      };
      writeFileSync(join(opts.out, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');
      const summary: Omit<ShardsSummary, 'already_done' | 'seconds'> = {
        stage: 'shards',
        out: opts.out,
        rows: n,
        shards: files.length,
        files: files.map((f) => join(opts.out, f.file)),
        labels,
        tokens,
        masked,
        truncated,
        memory_limit: await memoryLimit(db),
      };
      return summary;
    },
  });
}

