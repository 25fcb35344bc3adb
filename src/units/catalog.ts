/**
 * DIR/linkbert.duckdb of a planned run: the units' Parquet as the tables of a pipeline database
 * (views, in unit order), and the runs of ingest and segment recorded as a single process would
 * record them, so that `linkbert sql`, the named queries, `report`, `verify`, any DuckDB client and
 * the whole-corpus steps (graph, pairs, shards) read a planned run exactly as a local one.
 * Only whole-corpus tasks write it, one at a time.
 */
import { existsSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { applySchema, openDb, rows, type Db } from '../db/duckdb.js';
import { putRunRow, runRow, type RunRow } from '../db/runs.js';
import { summarize } from '../ingest/summary.js';
import { INGEST_TABLES } from '../ingest/target.js';
import { unkWarning } from '../segment/segment.js';
import type { IngestSummary, InputRange, SegmentSummary } from '../stage/contracts.js';
import { doneMarker, unitFile, type Marker } from './markers.js';
import { readPlan, type Plan, type PlanStage } from './plan.js';

export const catalogFile = (dir: string) => join(dir, 'linkbert.duckdb');

/** Every unit's marker of a page stage; an error naming the stage when one is missing. */
export function allMarkers(dir: string, plan: Plan, stage: PlanStage): Marker[] {
  return plan.units.map((u) => {
    const m = doneMarker(dir, plan, stage, u.unit);
    if (!m) throw new Error(`${dir}: unit ${u.unit} of ${stage} is not done: run \`linkbert resume --out ${dir}\``);
    return m;
  });
}

const sqlList = (files: string[]) => `[${files.map((f) => `'${f.replace(/'/g, "''")}'`).join(', ')}]`;

/** Views named `table` over each unit's Parquet, in place of the schema's tables. */
async function unitViews(db: Db, dir: string, plan: Plan, stage: PlanStage, tables: string[]): Promise<void> {
  for (const t of tables) {
    const [kind] = await rows<{ type: string }>(db.conn, `SELECT table_type AS type FROM information_schema.tables WHERE table_schema = 'main' AND table_name = $t`, { t });
    if (kind?.type === 'BASE TABLE') await db.conn.run(`DROP TABLE "${t}"`);
    await db.conn.run(`CREATE OR REPLACE VIEW "${t}" AS SELECT * FROM read_parquet(${sqlList(plan.units.map((u) => unitFile(dir, stage, t, u.unit)))})`);
  }
}

/** Opens the catalog (made with the schema the first time). */
export async function openCatalog(dir: string, memory?: number): Promise<Db> {
  const file = catalogFile(dir);
  const made = !existsSync(file);
  const db = await openDb(file, { memory });
  if (made) await applySchema(db);
  return db;
}

/** The ingest units as the ingest tables, and the ingest run as one process would have recorded it. */
export async function catalogIngest(db: Db, dir: string, plan: Plan): Promise<void> {
  const markers = allMarkers(dir, plan, 'ingest');
  await unitViews(db, dir, plan, 'ingest', INGEST_TABLES);
  const units = markers.map((m) => m.report as { summary: IngestSummary; siteinfo: unknown; end_seq: number; kind: string });
  const lang = plan.settings.lang as string | undefined;
  const settings = { index: plan.input.index, keep_lists: Boolean(plan.settings['keep-lists']), ...(lang ? { lang } : {}) };
  const row: RunRow = { stage: 'ingest', source: plan.input.file, fingerprint: plan.input.fingerprint, settings: JSON.stringify(settings), siteinfo: units[0]!.siteinfo ? JSON.stringify(units[0]!.siteinfo) : null, status: 'running', next_seq: null, summary: null };
  // recorded first with its siteinfo (the summary reads the wiki's name from it), then done with the summary
  await putRunRow(db, row);
  const inputs: InputRange[] = [{ file: plan.input.file, kind: units[0]!.kind, first_seq: 0, end_seq: units.at(-1)!.end_seq }];
  const sum = (f: (s: IngestSummary) => number) => units.reduce((n, u) => n + f(u.summary), 0);
  const summary = await summarize(db, { dump: plan.input.file, db: db.path }, {
    multistream_index: plan.input.index,
    decompressor: units[0]!.summary.decompressor,
    workers: Math.max(...units.map((u) => u.summary.workers)),
    resumed_at: null,
    wikitext_mb: sum((s) => s.wikitext_mb),
    peak_rss_mb: Math.max(...units.map((u) => u.summary.peak_rss_mb)),
    seconds: Math.round(sum((s) => s.seconds) * 100) / 100,
    dump_bytes: plan.input.bytes,
    dump_sha256: plan.input.sha256,
    inputs,
  });
  await putRunRow(db, { ...row, status: 'done', next_seq: inputs[0]!.end_seq, summary: JSON.stringify(summary) });
}

/** The segment units as the segments table, and the segment run as one process would have recorded it. */
export async function catalogSegments(db: Db, dir: string, plan: Plan): Promise<void> {
  const markers = allMarkers(dir, plan, 'segment');
  await unitViews(db, dir, plan, 'segment', ['segments']);
  const units = markers.map((m) => m.report as { key: string; summary: SegmentSummary });
  const first = units[0]!.summary;
  const sum = (f: (s: SegmentSummary) => number) => units.reduce((n, u) => n + f(u.summary), 0);
  const tokens = sum((s) => s.tokens);
  const unk = sum((s) => Math.round(s.unk_rate * s.tokens));
  const hist: Record<string, number> = {};
  for (const u of units) for (const [k, v] of Object.entries(u.summary.length_histogram)) hist[k] = (hist[k] ?? 0) + v;
  const seconds = Math.round(sum((s) => s.seconds) * 1000) / 1000;
  const summary: SegmentSummary = {
    ...first,
    db: db.path,
    articles: sum((s) => s.articles),
    articles_without_segments: sum((s) => s.articles_without_segments),
    disambiguation_left_out: sum((s) => s.disambiguation_left_out),
    segments: sum((s) => s.segments),
    tokens,
    unk_rate: tokens ? unk / tokens : 0,
    warnings: unkWarning(tokens ? unk / tokens : 0, first.tokenizer.file),
    length_histogram: Object.fromEntries(Object.entries(hist).sort((a, b) => Number(a[0]) - Number(b[0]))),
    already_done: false,
    tokens_per_s: Math.round(tokens / Math.max(seconds, 1e-3)),
    seconds,
  };
  const ingest = (await runRow(db, 'ingest'))!;
  await putRunRow(db, { stage: 'segment', source: ingest.source, fingerprint: ingest.fingerprint, settings: units[0]!.key, siteinfo: null, status: 'done', next_seq: null, summary: JSON.stringify(summary) });
}

/** The units' Parquet files a planned run's catalog reads (its views), when `db` is a plan's catalog. */
export function catalogReads(db: string): string[] {
  const dir = dirname(db);
  if (basename(db) !== 'linkbert.duckdb' || !existsSync(join(dir, 'plan.json'))) return [];
  const plan = readPlan(dir);
  return [...INGEST_TABLES.map((t) => ['ingest', t] as const), ['segment', 'segments'] as const].flatMap(([stage, t]) => plan.units.map((u) => resolve(unitFile(dir, stage, t, u.unit))));
}
