/**
 * The shards' plan, steps 1 and 2 of the stage: every (pair, copy) in its place in one seeded
 * shuffle of the whole dataset, each side's token ids in that order, and what each row's own seeded
 * generator decides for it (truncation, masks). Three tables in row order, which step 3 (write.ts)
 * reads side by side to write any range of rows as a shard: in the same process (`linkbert shards`),
 * or in the tasks of a planned run, one per shard, from a scratch database file.
 */
import { BIGINT, INTEGER, LIST, SMALLINT, TINYINT } from '@duckdb/node-api';
import { ChunkAppender, list } from '../db/chunks.js';
import type { DuckDBConnection } from '@duckdb/node-api';
import { rows, sideBySide, type Db } from '../db/duckdb.js';
import { sortedInHalves } from '../db/spill.js';
import { layout, planMasks, truncateLengths, type MaskingOptions, type MaskPlan } from '../mlm/instance.js';
import { collectGarbage } from '../util/gc.js';
import { rng } from '../util/rng.js';
import type { Masking } from './manifest.js';

/** Rows of the shuffled dataset read and built at a time. */
export const READ_ROWS = 8192;
/** The database attached for the run's intermediate tables (in memory, or a scratch file). */
export const SCRATCH = 'shards_scratch';
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
export const ROW_GROUP_ROWS = 122_880;

/** What the rows are made with: the settings that decide them and the tokenizer's ids. */
export interface RowSettings {
  seed: number;
  dupe: number;
  masking: Masking;
  wholeWord: boolean;
  maskedLmProb: number;
  maxPredictions: number;
  maxSeqLen: number;
  idType: 'SMALLINT' | 'INTEGER';
  special: { cls: number; sep: number; mask: number };
  /** ids of `##` continuations (whole-word masking) and the ids a random replacement draws from */
  continuation: Set<number>;
  replacement: Int32Array;
}

export interface Totals {
  n: number;
  /** rows of the train split: rows [0, train) are train's, [train, n) validation's */
  train: number;
  /** tokens and masked positions of the train split's rows */
  trainTokens: number;
  trainMasked: number;
  tokens: number;
  masked: number;
  truncated: number;
  labels: { '0': number; '1': number; '2': number };
}

/**
 * Builds shard_order → shard_a, shard_b (in SCRATCH) and the plan table `where.plan` from the
 * pairs and segments of `db`. `where.file`: the scratch database's file (default: in memory).
 * `where.planRows: false` (a planned run's order step): no plan table; shard_order stays for the
 * shards' tasks, each of which plans its own rows, and the totals are the counts alone.
 */
export async function buildShardTables(db: Db, cfg: RowSettings, where: { plan: string; file?: string; rowGroup: number; sortBytes?: number; t0: number; onProgress?: (p: { rows: number; total: number; seconds: number }) => void; planRows?: boolean }): Promise<Totals> {
  const { seed, dupe, masking, wholeWord, idType } = cfg;
  // 1. rows in their final order: one seeded shuffle of every (pair, copy) of the whole dataset,
  //    sorted on keys alone, then each side's token ids joined to it and stored in that order.
  //    (Both are tables, not a streamed result: DuckDB spills them past --memory, and an error
  //    while it does is an error here, where a stream would just end early.)
  // pairs drawn before splits existed are all train's
  const [{ n: hasSplit }] = (await rows<{ n: number }>(db.conn, `SELECT count(*)::INTEGER AS n FROM information_schema.columns WHERE table_name = 'pairs' AND column_name = 'split'`)) as [{ n: number }];
  const pairsTable = hasSplit ? 'pairs' : `(SELECT *, 'train' AS split FROM pairs)`;
  // validation pairs are written once: a copy with other masks adds nothing to a validation loss
  const [{ total, train }] = (await rows<{ total: number; train: number }>(db.conn, `SELECT (count(*) FILTER (split = 'train') * ${dupe} + count(*) FILTER (split <> 'train'))::BIGINT AS total, (count(*) FILTER (split = 'train') * ${dupe})::BIGINT AS train FROM ${pairsTable}`)) as [{ total: number; train: number }];
  await db.conn.run(`SET VARIABLE seed = ${seed}`);
  // The shuffled order and each side's ids go in an in-memory database attached for this run
  // (spilled to the temp directory past --memory, as temporary tables are), which every connection
  // of the process sees: a second connection builds the id tables while this one plans the rows.
  const { rowGroup } = where;
  await db.conn.run(`ATTACH OR REPLACE ${where.file ? `'${where.file.replace(/'/g, "''")}'` : "':memory:'"} AS ${SCRATCH} (ROW_GROUP_SIZE ${rowGroup})`);
  // (the joins and the numbering as two statements: as one, they ran out of 128MB at 600k pages)
  await db.conn.run(`CREATE TABLE ${SCRATCH}.shard_rows AS
    SELECT p.id, d.range::INTEGER AS copy, p.label, p.split, p.a_article, p.a_idx, p.b_article, p.b_idx, sa.n_tokens AS a_n, sb.n_tokens AS b_n
    FROM ${pairsTable} p JOIN range(${dupe}) d ON p.split = 'train' OR d.range = 0
    JOIN segments sa ON sa.article = p.a_article AND sa.idx = p.a_idx
    JOIN segments sb ON sb.article = p.b_article AND sb.idx = p.b_idx`);
  await db.conn.run(`CREATE TABLE ${SCRATCH}.shard_order AS
    SELECT (row_number() OVER (ORDER BY split <> 'train', hash(getvariable('seed'), 'order', id, copy), id, copy) - 1)::BIGINT AS row, *
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
      const ranges = Math.max(1, Math.ceil((sideTokens![which] * (idType === 'SMALLINT' ? 2 : 4)) / (where.sortBytes ?? budget * SORT_BYTES_PER_BUDGET)));
      await side.run(`CREATE OR REPLACE TABLE ${SCRATCH}.shard_${which} (row BIGINT, ids ${idType}[])`);
      const insert = (from: number, to: number) => `INSERT INTO ${SCRATCH}.shard_${which}
        SELECT o.row, s.ids::${idType}[] AS ids FROM segments s JOIN (SELECT * FROM ${SCRATCH}.shard_order WHERE row >= ${from} AND row < ${to}) o ON o.${which}_article = s.article AND o.${which}_idx = s.idx
        ORDER BY o.row`;
      const step = Math.ceil(total / ranges / rowGroup) * rowGroup;
      for (let from = 0; from < total; from += step) await sortedInHalves(side, insert, from, Math.min(total, from + step), rowGroup);
    }
  };
  const planRows = () => planRowRange(db.conn, cfg, where.plan, 0, total, Number(train), where);
  let totals: Totals;
  try {
    if (where.planRows === false) {
      // each shard's task plans its own rows (planRowRange) from shard_order, which stays
      await buildIds();
      return { ...noTotals(), n: Number(total), train: Number(train) };
    }
    if (wholeWord && masking === 'static') {
      await buildIds(); // whole-word masking reads the ids to find the words
      totals = await planRows();
    } else [totals] = await sideBySide(planRows, buildIds);
  } finally {
    side.closeSync();
  }
  await db.conn.run(`DROP TABLE ${SCRATCH}.shard_order`);
  if (totals.n !== total) throw new Error(`internal error: ${totals.n} rows built, ${total} expected`);
  return totals;
}

export function noTotals(): Totals {
  return { n: 0, train: 0, trainTokens: 0, trainMasked: 0, tokens: 0, masked: 0, truncated: 0, labels: { '0': 0, '1': 0, '2': 0 } };
}

/** The sum of the totals of parts of the rows (the shards of a planned run). */
export function addTotals(a: Totals, b: Totals): Totals {
  return {
    n: a.n + b.n, train: a.train + b.train, trainTokens: a.trainTokens + b.trainTokens, trainMasked: a.trainMasked + b.trainMasked,
    tokens: a.tokens + b.tokens, masked: a.masked + b.masked, truncated: a.truncated + b.truncated,
    labels: { '0': a.labels['0'] + b.labels['0'], '1': a.labels['1'] + b.labels['1'], '2': a.labels['2'] + b.labels['2'] },
  };
}

/**
 * Rows [from, to) of the shuffled dataset (SCRATCH.shard_order, and with whole-word masking each
 * side's ids) planned into the table `plan` (made anew): what JS decides for each row, its truncation
 * and masks, from its own generator (seed, pair, copy), so any range gives the rows a whole run
 * gives. The token ids stay in DuckDB, which cuts, lays out and masks them while it writes the
 * shards. Returns the range's totals (`train`: its rows of the train split, the first `train` rows).
 */
export async function planRowRange(conn: DuckDBConnection, cfg: RowSettings, plan: string, from: number, to: number, train: number, progress: { t0: number; onProgress?: (p: { rows: number; total: number; seconds: number }) => void } = { t0: performance.now() }, padFrom = from): Promise<Totals> {
  const { seed, masking, wholeWord, maskedLmProb, maxPredictions, maxSeqLen, idType } = cfg;
  const tok = { special: cfg.special };
  const maskOpts: MaskingOptions = { maskedLmProb, maxPredictions, wholeWord, isContinuation: (id) => cfg.continuation.has(id), maskId: tok.special.mask, replacementIds: cfg.replacement };
  const maxTokens = maxSeqLen - 3;
  // Only whole-word masking reads the ids (to find words); otherwise the lengths decide. A range of
  // rows at a time: the tables are in row order, so a range reads its own row groups only.
  const idsCols = wholeWord && masking === 'static' ? ', a.ids AS a, b.ids AS b' : '';
  const idsJoin = idsCols ? (range: string) => `JOIN (SELECT * FROM ${SCRATCH}.shard_a WHERE ${range}) a USING (row) JOIN (SELECT * FROM ${SCRATCH}.shard_b WHERE ${range}) b USING (row)` : () => '';
  const t = noTotals();
  let n = from;
  await conn.run(`CREATE OR REPLACE TABLE ${plan} (row BIGINT, pair_id BIGINT, label TINYINT, a_off SMALLINT, a_len SMALLINT, b_off SMALLINT, b_len SMALLINT, positions SMALLINT[], replacements ${idType}[])`);
  // positions and replacements go in as numbers (as '[…]' text DuckDB would parse them again)
  const [table, catalog] = plan.includes('.') ? [plan.split('.').at(-1)!, plan.split('.')[0]!] : [plan, undefined];
  const appender = new ChunkAppender(await conn.createAppender(table, catalog ? 'main' : undefined, catalog), [BIGINT, BIGINT, TINYINT, SMALLINT, SMALLINT, SMALLINT, SMALLINT, LIST(SMALLINT), LIST(idType === 'SMALLINT' ? SMALLINT : INTEGER)]);
  try {
    // rows [padFrom, from) as placeholders: the table then holds the range where a whole run's plan
    // holds it, in the same row groups and vectors, and a COPY of it writes the same Parquet bytes
    for (let r = padFrom; r < from; r++) appender.row([BigInt(r), 0n, 0, 0, 0, 0, 0, list([]), list([])]);
    for (let at = from; at < to; at += READ_ROWS) {
      const range = `row >= ${at} AND row < ${Math.min(to, at + READ_ROWS)}`;
      const got = await conn.runAndReadAll(`SELECT o.row, o.id, o.copy, o.label, o.a_n, o.b_n${idsCols}
        FROM (SELECT * FROM ${SCRATCH}.shard_order WHERE ${range}) o ${idsJoin(range)}
        ORDER BY row`);
      const planned = got.getRowObjectsJS() as unknown as { row: bigint; id: bigint; copy: number; label: number; a_n: number; b_n: number; a?: number[]; b?: number[] }[];
      if (planned.length !== Math.min(READ_ROWS, to - at)) throw new Error(`internal error: rows ${at}… of the shuffled dataset are missing`);
      for (const r of planned) {
        const id = Number(r.id);
        const random = rng(seed, 'row', id, r.copy);
        const tr = truncateLengths(r.a_n, r.b_n, maxTokens, random);
        if (tr.aLen !== r.a_n || tr.bLen !== r.b_n) t.truncated++;
        const length = tr.aLen + tr.bLen + 3;
        let masks: MaskPlan = { positions: [], replacements: [] };
        if (masking === 'static') {
          const sepAt = tr.aLen + 1;
          const ids = r.a && r.b ? layout(r.a.slice(tr.aOff, tr.aOff + tr.aLen), r.b.slice(tr.bOff, tr.bOff + tr.bLen), tok.special.cls, tok.special.sep).input_ids : undefined;
          masks = planMasks(length, (p) => p === 0 || p === sepAt || p === length - 1, maskOpts, random, ids);
        }
        if (Number(r.row) !== n) throw new Error(`internal error: row ${n} of the shuffled dataset is missing`);
        appender.row([BigInt(n), BigInt(id), r.label, tr.aOff, tr.aLen, tr.bOff, tr.bLen, list(masks.positions), list(masks.replacements)]);
        if (n < train) {
          t.train++;
          t.trainTokens += length;
          t.trainMasked += masks.positions.length;
        }
        n++;
        t.n++;
        t.tokens += length;
        t.masked += masks.positions.length;
        t.labels[String(r.label) as '0' | '1' | '2']++;
      }
      if ((at - from) % (READ_ROWS * 4) === 0) collectGarbage(); // query results hold native memory until collected
      progress.onProgress?.({ rows: n, total: to, seconds: (performance.now() - progress.t0) / 1000 });
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
  return t;
}
