/**
 * The shards of a planned run: the order step puts every row in its place (the shuffle, each side's
 * ids) in a scratch database under DIR/tasks/order, as `linkbert shards` does in memory; each shard
 * file is then a unit of its own, written by a task that attaches the scratch database read-only and
 * plans its own rows (truncation, masks: the per-row work, from each row's own generator); the
 * manifest step writes manifest.json from the shards' markers (their rows' totals summed) and removes
 * the scratch database. The files and the manifest are those `linkbert shards` writes.
 */
import { mkdirSync, renameSync } from 'node:fs';
import { hostname } from 'node:os';
import { basename, join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { removeDb } from '../db/duckdb.js';
import { addTotals, buildShardTables, noTotals, planRowRange, ROW_GROUP_ROWS, SCRATCH, type RowSettings, type Totals } from '../shards/build.js';
import type { ShardFile } from '../shards/manifest.js';
import { CARD } from '../shards/card.js';
import { announceShards, maskingIds, shardSetup, shardsManifest, writeManifest, type ShardOptions } from '../shards/shards.js';
import { loadTokenizer } from '../tokenize/tokenizer.js';
import { shardSlots, writeShard, type Layout, type ShardSlot } from '../shards/write.js';
import { runStage } from '../stage/kernel.js';
import { clearStale, doneMarker, type UnitOutcome } from './markers.js';
import type { Plan } from './plan.js';


type Opts = Omit<ShardOptions, 'db' | 'out'>;

interface OrderReport {
  count: number;
  /** the shard files, each a unit: unit s writes slots[s] */
  slots: ShardSlot[];
  /** the rows' counts (n, train); the rest is summed from the shards' markers */
  totals: Totals;
  layout: Layout;
  /** what a shard's task plans its rows with: the settings, and the tokenizer its masks draw from */
  rows: Omit<RowSettings, 'continuation' | 'replacement'> & { tokenizer: { file: string; sha256: string } };
}

const scratchOf = (dir: string) => join(dir, 'tasks', 'order', 'scratch.duckdb');

/** The order step: the rows' plan in the scratch database, the files announced in DIR/shards. */
export async function orderStep(dir: string, catalog: string, opts: Opts, memory: number): Promise<UnitOutcome> {
  const out = join(dir, 'shards');
  const r = await runStage<{ report: OrderReport; already_done: boolean; seconds: number }, 'segment' | 'pairs'>({
    stage: 'shards',
    db: catalog,
    memory,
    reads: ['segment', 'pairs'],
    record: false,
    settings: () => ({}),
    async work({ db, ingest, prior, t0 }) {
      const setup = await shardSetup(opts, prior);
      const scratch = scratchOf(dir);
      removeDb(scratch); // ours: left by an order step that was killed
      const totals = await buildShardTables(db, setup.cfg, { plan: `${SCRATCH}.shard_plan`, file: scratch, rowGroup: ROW_GROUP_ROWS, t0, planRows: false });
      await db.conn.run(`DETACH ${SCRATCH}`);
      const slots = shardSlots(totals.train, totals.n, setup.shardRows, setup.cfg.format);
      mkdirSync(out, { recursive: true });
      announceShards(out, ingest, slots.map((f) => f.file));
      const { format, masking, maxSeqLen, maxPredictions, idType, special, seed, dupe, wholeWord, maskedLmProb } = setup.cfg;
      const rows = { seed, dupe, masking, wholeWord, maskedLmProb, maxPredictions, maxSeqLen, idType, special: { ...special }, tokenizer: { file: setup.tokenizer.file, sha256: setup.tokenizer.sha256 } };
      return { report: { count: slots.length, slots, totals, layout: { format, masking, maxSeqLen, maxPredictions, idType, special: { cls: special.cls, sep: special.sep } }, rows } };
    },
  });
  // (the scratch database is not among the unit's files: the manifest step removes it once every shard is written)
  return { rows: { rows: r.report.totals.n }, files: [], report: { ...r.report } };
}

function orderReport(dir: string, plan: Plan): OrderReport {
  const m = doneMarker(dir, plan, 'order', 0);
  if (!m) throw new Error(`${dir}: the order step is not done: run \`linkbert resume --out ${dir}\``);
  return m.report as unknown as OrderReport;
}

/** The settings a shard's rows are planned with, the tokenizer's ids among them. */
async function rowSettings(order: OrderReport): Promise<RowSettings> {
  const { tokenizer, ...rest } = order.rows;
  const tok = await loadTokenizer(tokenizer.file);
  if (tok.identity.sha256 !== tokenizer.sha256) throw new Error(`${tokenizer.file} changed since the order step read it (sha256 differs): run the plan again in a new folder`);
  return { ...rest, ...maskingIds(tok) };
}

/** One shard file: its rows planned from the scratch database, written under a temporary name, renamed. */
export async function shardUnit(dir: string, plan: Plan, s: number, memory: number): Promise<UnitOutcome> {
  const order = orderReport(dir, plan);
  const { file: name, from, to } = order.slots[s]!;
  const cfg = await rowSettings(order);
  const file = join(dir, 'shards', name);
  const tmp = `${file}.tmp-${hostname()}-${process.pid}`;
  clearStale(join(dir, 'shards'), `${name}.`); // what a killed try of this shard left
  // this task's share of the cores, as openDb gives every other database of a task
  const inst = await DuckDBInstance.create(':memory:', { memory_limit: `${Math.floor(memory)}B`, ...(process.env.LINKBERT_THREADS ? { threads: process.env.LINKBERT_THREADS } : {}) });
  const conn = await inst.connect();
  let labels;
  let totals: Totals;
  try {
    await conn.run(`ATTACH '${scratchOf(dir).replace(/'/g, "''")}' AS ${SCRATCH} (READ_ONLY)`);
    // (placeholders from the row group the range starts in: the plan's table laid out as a whole run's)
    totals = await planRowRange(conn, cfg, 'shard_plan', from, to, order.totals.train, undefined, Math.floor(from / ROW_GROUP_ROWS) * ROW_GROUP_ROWS);
    labels = await writeShard(conn, order.layout, 'shard_plan', tmp, from, to);
  } finally {
    conn.closeSync();
    inst.closeSync();
  }
  renameSync(tmp, file);
  return { rows: { rows: to - from }, files: [file], report: { labels, totals } };
}

/** The manifest, from the order step's counts and each shard's marker; the scratch database removed. */
export async function manifestStep(dir: string, plan: Plan, catalog: string, opts: Opts, memory: number): Promise<UnitOutcome> {
  const order = orderReport(dir, plan);
  let totals = noTotals();
  const files: ShardFile[] = order.slots.map(({ file: name, split }, s) => {
    const m = doneMarker(dir, plan, 'shards', s);
    if (!m) throw new Error(`${dir}: shard ${s} is not written: run \`linkbert resume --out ${dir}\``);
    totals = addTotals(totals, (m.report as { totals: Totals }).totals);
    const rel = Object.keys(m.files).find((f) => basename(f) === name)!;
    return { file: name, split, rows: m.rows.rows!, labels: (m.report as { labels: ShardFile['labels'] }).labels, sha256: m.files[rel]! };
  });
  const out = join(dir, 'shards', 'manifest.json');
  await runStage<{ already_done: boolean; seconds: number }, 'segment' | 'pairs'>({
    stage: 'shards',
    db: catalog,
    memory,
    readOnly: true,
    reads: ['segment', 'pairs'],
    settings: () => ({}),
    async work({ db, ingest, prior }) {
      const setup = await shardSetup(opts, prior);
      if (totals.n !== order.totals.n || totals.train !== order.totals.train) throw new Error(`internal error: the shards hold ${totals.n} rows (${totals.train} train), the order step put ${order.totals.n} (${order.totals.train})`);
      writeManifest(join(dir, 'shards'), await shardsManifest(db, ingest, prior, setup, totals, files));
      return {};
    },
  });
  removeDb(scratchOf(dir));
  return { rows: { shards: files.length }, files: [join(dir, 'shards', CARD), out], report: {} };
}
