/**
 * Step 3 of the shards stage: any range of rows of the plan (build.ts) as one shard file. The three
 * tables are read side by side, and DuckDB cuts, lays out and masks the ids as planned while it
 * writes the file (Parquet by its own COPY; TFRecord and HDF5 by their libraries, a range at a time).
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { rows } from '../db/duckdb.js';
import { READ_ROWS, SCRATCH } from './build.js';
import { EXTENSION, hdf5Writer, loadHdf5, tfrecordWriter, type ShardFormat, type TrainerRow } from './formats.js';
import type { Masking } from './manifest.js';

/**
 * Rows per row group of the Parquet shards (two of DuckDB's 2,048-row vectors, so each group is
 * exactly this long). The COPY holds several row groups per thread in memory it does not count
 * against --memory: at 60k pages and 128MB the stage peaked at 566–723 MB with 10,000-row groups
 * (which DuckDB made 10,240) and at 509–596 MB with 4,096 in 7 runs (2,048: 505–516 MB, but
 * slower); on the 6k bench at 512MB 4,096 is faster too (6.9–7.2 s against 9.0–9.7, 3 interleaved
 * runs) and peaks at 418–455 MB against 556–585. The files are 2% larger.
 */
const PARQUET_ROW_GROUP = 4096;

/** How the rows are laid out in the files: what step 3 needs of the settings and the tokenizer. */
export interface Layout {
  format: ShardFormat;
  masking: Masking;
  maxSeqLen: number;
  maxPredictions: number;
  idType: 'SMALLINT' | 'INTEGER';
  special: { cls: number; sep: number };
}

export type Split = 'train' | 'validation';

/** One shard file: its name, its split and its rows [from, to) of the shuffled dataset. */
export interface ShardSlot {
  file: string;
  split: Split;
  from: number;
  to: number;
}

/**
 * The shard files of n rows whose first `train` are the train split's: each split in files of at most
 * `shardRows` rows (equal counts ±1), named as the Hugging Face Hub names a split's files
 * (train-00000-of-00004.parquet …, validation-00000-of-00001.parquet); no validation file without rows.
 */
export function shardSlots(train: number, n: number, shardRows: number, format: ShardFormat): ShardSlot[] {
  const slots: ShardSlot[] = [];
  const pad = (x: number) => String(x).padStart(5, '0');
  for (const [split, first, end] of [['train', 0, train], ['validation', train, n]] as const) {
    const rows = end - first;
    if (split === 'validation' && !rows) continue;
    const count = Math.max(1, Math.ceil(rows / shardRows));
    for (let s = 0; s < count; s++) {
      slots.push({ file: `${split}-${pad(s)}-of-${pad(count)}.${EXTENSION[format]}`, split, from: first + Math.floor((s * rows) / count), to: first + Math.floor(((s + 1) * rows) / count) });
    }
  }
  return slots;
}

/** The query of rows [from, to) as the columns trainers read. */
export function shardQuery(cfg: Layout, planTable: string): (from: number, to: number) => string {
  const { masking, idType } = cfg;
  const tok = { special: cfg.special };
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
            FROM ${inRange(planTable, from, to)} p POSITIONAL JOIN ${inRange(`${SCRATCH}.shard_a`, from, to)} a POSITIONAL JOIN ${inRange(`${SCRATCH}.shard_b`, from, to)} b)`;
  return shardQuery;
}

/** Writes rows [from, to) as `file`; returns their label counts. */
export async function writeShard(conn: DuckDBConnection, cfg: Layout, planTable: string, file: string, from: number, to: number): Promise<{ '0': number; '1': number; '2': number }> {
  const query = shardQuery(cfg, planTable);
  if (cfg.format === 'parquet') await conn.run(`COPY (${query(from, to)}) TO '${file.replace(/'/g, "''")}' (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE ${PARQUET_ROW_GROUP})`);
  else {
    // the same query, read a range of rows at a time and written by the format's own library
    if (cfg.format === 'hdf5') await loadHdf5();
    const w = cfg.format === 'tfrecord' ? tfrecordWriter(file, cfg.maxSeqLen, cfg.maxPredictions) : hdf5Writer(file, to - from, cfg.maxSeqLen, cfg.maxPredictions);
    try {
      for (let at = from; at < to; at += READ_ROWS) {
        const got = await conn.runAndReadAll(query(at, Math.min(to, at + READ_ROWS)));
        w.write(got.getRowObjectsJS() as unknown as TrainerRow[]);
      }
    } finally {
      w.close();
    }
  }
  const [l] = await rows<Record<string, number>>(conn, `SELECT count(*) FILTER (label = 0) AS "0", count(*) FILTER (label = 1) AS "1", count(*) FILTER (label = 2) AS "2" FROM ${planTable} WHERE row >= ${from} AND row < ${to}`);
  return { '0': l!['0']!, '1': l!['1']!, '2': l!['2']! };
}
