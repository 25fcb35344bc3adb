/**
 * One unit of one stage of a planned run: an idempotent task. A unit whose marker names this plan is
 * skipped; otherwise its outputs are written under temporary names, renamed, and then its marker.
 * Page stages (ingest, segment) work in a scratch database of their own under DIR/<stage>/_work and
 * leave Parquet; the whole-corpus steps run the stages themselves over DIR/linkbert.duckdb.
 */
import { hostname } from 'node:os';
import { join } from 'node:path';
import { applySchema, openDb, removeDb, rows, type Db } from '../db/duckdb.js';
import { getRun, putRunRow, runRow, siteInfoText, type RunRow } from '../db/runs.js';
import { graph } from '../graph/graph.js';
import { ingest, type IngestOptions } from '../ingest/ingest.js';
import { INGEST_TABLES } from '../ingest/target.js';
import { pairs } from '../pairs/pairs.js';
import { report } from '../report/report.js';
import { segment, type SegmentOptions } from '../segment/segment.js';
import type { ShardOptions } from '../shards/shards.js';
import { catalogFile, catalogIngest, catalogSegments, openCatalog, unitRows } from './catalog.js';
import { manifestStep, orderStep, shardUnit } from './shard-tasks.js';
import { clearTemporaries, doneMarker, markDone, markFailed, markRunning, unitFile, unitName, writeUnitParquet, type UnitOutcome } from './markers.js';
import { PLAN_STAGES, stageUnits, type Plan, type PlanStage } from './plan.js';

/** What each stage is run with: the plan's settings as the stages' options, and this task's resources. */
export interface TaskOptions {
  ingest: Omit<IngestOptions, 'dump' | 'db'>;
  segment: Omit<SegmentOptions, 'db' | 'tokenizer'> & { tokenizer?: string };
  pairs: Omit<Parameters<typeof pairs>[0], 'db'>;
  shards: Omit<ShardOptions, 'db' | 'out'>;
  report: { examplesPerLabel?: number };
  /** makes the demo vocabulary when the plan names no tokenizer (as `linkbert run` does) */
  vocab: (db: string, dir: string, memory: number) => Promise<unknown>;
  memory: number;
  log?: (line: string) => void;
}

const ORDER: Record<(typeof INGEST_TABLES)[number] | 'segments' | 'replaces', string> = { pages: 'seq', articles: 'seq', redirects: 'seq', links: 'src, idx', skipped: 'seq', segments: 'article, idx', replaces: 'id' };

/** Where the tokenizer is: the plan's, or the demo vocabulary its vocab step makes. */
export function tokenizerOf(dir: string, opts: TaskOptions): string {
  return opts.segment.tokenizer ?? join(dir, 'demo-tokenizer');
}

/** Runs one unit of `stage`; 'skipped' when its marker says it is done for this plan. */
export async function runUnit(dir: string, plan: Plan, stage: PlanStage, unit: number, opts: TaskOptions): Promise<'done' | 'skipped'> {
  if (doneMarker(dir, plan, stage, unit)) return 'skipped';
  // the stages run in order: every unit of every stage before this one must be done
  for (const before of PLAN_STAGES.slice(0, PLAN_STAGES.findIndex((s) => s.name === stage))) {
    const missing = stageUnits(plan, before.name, dir).filter((u) => !doneMarker(dir, plan, before.name, u));
    if (missing.length) throw new Error(`${stage} needs ${before.name} complete, and ${missing.length} of its units are not (${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ', …' : ''}): run \`linkbert resume --out ${dir}\``);
  }
  if (!stageUnits(plan, stage, dir).includes(unit)) throw new Error(`${stage} has no unit ${unit} in this plan (units ${stageUnits(plan, stage, dir).join(', ')})`);
  const t0 = performance.now();
  clearTemporaries(dir, stage, unit);
  markRunning(dir, stage, unit);
  try {
    const outcome = await work(dir, plan, stage, unit, opts);
    await markDone(dir, plan, stage, unit, { ...outcome, seconds: Math.round(performance.now() - t0) / 1000 });
    return 'done';
  } catch (e) {
    markFailed(dir, stage, unit, (e as Error).message ?? String(e));
    throw e;
  }
}



async function work(dir: string, plan: Plan, stage: PlanStage, unit: number, opts: TaskOptions): Promise<UnitOutcome> {
  if (stage === 'ingest' || stage === 'segment') return pageUnit(dir, plan, stage, unit, opts);
  // shard files are written side by side: their tasks do not open the catalog
  if (stage === 'shards') return shardUnit(dir, plan, unit, opts.memory);
  // the whole-corpus steps, one at a time: the catalog is theirs
  const catalog = catalogFile(dir);
  const withCatalog = async (f: (db: Db) => Promise<void>) => {
    const db = await openCatalog(dir, opts.memory);
    try {
      await f(db);
    } finally {
      db.close();
    }
  };
  switch (stage) {
    case 'graph': {
      let files: string[] = [];
      await withCatalog(async (db) => void ({ files } = await catalogIngest(db, dir, plan)));
      return { rows: {}, files, report: { summary: await graph({ db: catalog, memory: opts.memory }) } };
    }
    case 'vocab': {
      const tokenizer = tokenizerOf(dir, opts);
      if (opts.segment.tokenizer) return { rows: {}, files: [], report: { tokenizer } };
      await opts.vocab(catalog, tokenizer, opts.memory);
      return { rows: {}, files: [join(tokenizer, 'vocab.txt')], report: { tokenizer } };
    }
    case 'pairs':
      await withCatalog((db) => catalogSegments(db, dir, plan));
      return { rows: {}, files: [], report: { summary: await pairs({ ...opts.pairs, db: catalog, memory: opts.memory }) } };
    case 'order':
      return orderStep(dir, catalog, opts.shards, opts.memory);
    case 'manifest':
      return manifestStep(dir, plan, catalog, opts.shards, opts.memory);
    case 'report': {
      const out = join(dir, 'report.html');
      const r = await report({ db: catalog, out, examplesPerLabel: opts.report.examplesPerLabel, memory: opts.memory, overwrite: true }); // the plan's folder is its own
      return { rows: {}, files: [out], report: { summary: r } };
    }
  }
}

/** An ingest or segment unit: the stage run in a scratch database, its tables written as the unit's Parquet. */
async function pageUnit(dir: string, plan: Plan, stage: 'ingest' | 'segment', unit: number, opts: TaskOptions): Promise<UnitOutcome> {
  const u = plan.units[unit]!;
  // a scratch file of this task's own (another task may be at work on the same unit: a resume
  // while a killed launcher's task still runs); those of dead tasks are cleared with the temporaries
  const scratch = join(dir, stage, '_work', `${unitName(unit)}.tmp-${hostname()}-${process.pid}.duckdb`);
  const tables: string[] = stage === 'ingest' ? [...INGEST_TABLES] : ['segments'];
  let report: Record<string, unknown>;
  if (stage === 'ingest') {
    const input = plan.inputs[u.input]!;
    const summary = await ingest({ ...opts.ingest, dump: input.file, db: scratch, index: input.index, force: false, memory: opts.memory, unit: { fromSeq: u.from_seq, toSeq: u.to_seq } });
    // end_seq: where the unit's pages end, counted from its input's start
    report = { summary, kind: summary.inputs?.[0]?.kind ?? 'wiki', end_seq: summary.inputs?.[0]?.end_seq ?? u.to_seq };
  } else {
    await segmentScratch(scratch, dir, plan, unit, opts);
    const summary = await segment({ ...opts.segment, db: scratch, tokenizer: tokenizerOf(dir, opts), memory: opts.memory, force: false });
    report = { summary };
  }
  const db = await openDb(scratch, { mustExist: true, memory: opts.memory });
  try {
    if (stage === 'ingest') report.siteinfo = JSON.parse((await siteInfoText(db)) ?? 'null');
    else report.key = (await getRun(db, 'segment'))!.settings;
    const counts: Record<string, number> = {};
    const files: string[] = [];
    // a PubMed file's PMIDs, which replace what the inputs before it hold of them
    if (stage === 'ingest' && (await rows<{ n: number }>(db.conn, `SELECT count(*)::INTEGER AS n FROM information_schema.tables WHERE table_name = 'replaces'`))[0]!.n) tables.push('replaces');
    for (const t of tables) {
      const file = unitFile(dir, stage, t, unit);
      counts[t] = await writeTable(db, t, file);
      files.push(file);
    }
    return { rows: counts, files, report };
  } finally {
    db.close();
    removeDb(scratch);
  }
}

/**
 * Rows per Parquet row group of the tables whose rows are large (an article's text, a segment's ids):
 * a reader holds a row group's column at once, and the stages read them a range of seq at a time
 * within --memory (with DuckDB's default of 122,880 rows, segment ran out of 128MB on a unit of the
 * 60k bench: its articles' text is one row group).
 */
const WIDE_ROW_GROUP = 1024;

async function writeTable(db: Db, table: string, file: string): Promise<number> {
  return writeUnitParquet(db.conn, `SELECT * FROM "${table}" ORDER BY ${ORDER[table as keyof typeof ORDER]}`, file, table === 'articles' || table === 'segments' ? WIDE_ROW_GROUP : undefined);
}

/**
 * The scratch database a segment unit works in: the schema, the unit's articles (its ingest
 * Parquet, numbered as in the catalog) as the articles table, and the ingest run as the catalog records it.
 */
async function segmentScratch(scratch: string, dir: string, plan: Plan, unit: number, opts: TaskOptions): Promise<void> {
  const catalog = await openDb(join(dir, 'linkbert.duckdb'), { readOnly: true, memory: opts.memory });
  let ingestRow: RunRow | undefined;
  try {
    ingestRow = await runRow(catalog, 'ingest');
  } finally {
    catalog.close();
  }
  if (ingestRow?.status !== 'done') throw new Error(`${dir}: the graph step has not recorded the ingest run yet: run \`linkbert resume --out ${dir}\``);
  const db = await openDb(scratch, { memory: opts.memory });
  try {
    await applySchema(db);
    await db.conn.run(`DROP TABLE articles; CREATE VIEW articles AS ${unitRows(dir, plan, 'articles', unit)}`);
    await putRunRow(db, ingestRow);
  } finally {
    db.close();
  }
}
