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
import { DEFAULT_MAX_RECORD } from '../ingest/options.js';
import { doneMarker, unitFile, writeUnitParquet, type Marker } from './markers.js';
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

/** The column of a table that holds a page's seq. */
const SEQ_COLUMN: Record<string, string> = { pages: 'seq', articles: 'seq', redirects: 'seq', links: 'src', skipped: 'seq', replaces: '' };

/**
 * Where the ingest units' pages stand in the whole run: each unit numbers its pages from its
 * input's start, and an input starts where the inputs before it end (their last units' markers
 * say). `superseded`: the pages (and skipped records) of earlier inputs that a later PubMed file
 * replaces, as the graph step found them, when there are any to look for.
 */
export interface IngestLayout {
  offsets: number[];
  /** each input's first and end seq in the run, and its kind */
  inputs: { first_seq: number; end_seq: number; kind: string }[];
  superseded: string | null;
}

export const supersededFile = (dir: string) => join(dir, 'graph', 'superseded.parquet');

export function ingestLayout(dir: string, plan: Plan): IngestLayout {
  const markers = allMarkers(dir, plan, 'ingest');
  const inputs: IngestLayout['inputs'] = [];
  let base = 0;
  for (const [k] of plan.inputs.entries()) {
    const mine = plan.units.filter((u) => u.input === k);
    const first = markers[mine[0]!.unit]!.report as { kind: string };
    const end = (markers[mine.at(-1)!.unit]!.report as { end_seq: number }).end_seq;
    inputs.push({ first_seq: base, end_seq: base + end, kind: first.kind });
    base += end;
  }
  const offsets = plan.units.map((u) => inputs[u.input]!.first_seq);
  const replacing = plan.units.some((u) => offsets[u.unit]! > 0 && (markers[u.unit]!.rows.replaces ?? 0) > 0);
  return { offsets, inputs, superseded: replacing ? supersededFile(dir) : null };
}

/**
 * The rows of `table` over the units' Parquet (all, or one unit's), numbered as in the whole run:
 * the units of an input that starts further on have its start added; what a later input replaced
 * is left out, as `linkbert run` deletes it (its redirects stay, as there).
 */
function unitsSql(dir: string, layout: IngestLayout, table: string, units: number[], filter = true): string {
  const col = SEQ_COLUMN[table]!;
  const parts: string[] = [];
  for (let i = 0; i < units.length; ) {
    let j = i;
    while (j + 1 < units.length && layout.offsets[units[j + 1]!] === layout.offsets[units[i]!]) j++;
    const off = layout.offsets[units[i]!]!;
    const files = sqlList(units.slice(i, j + 1).map((u) => unitFile(dir, 'ingest', table, u)));
    parts.push(off && col ? `SELECT * REPLACE ((${col} + ${off})::INTEGER AS ${col}) FROM read_parquet(${files})` : `SELECT * FROM read_parquet(${files})`);
    i = j + 1;
  }
  const all = parts.length === 1 ? parts[0]! : parts.map((p) => `(${p})`).join(' UNION ALL ');
  if (!filter || !layout.superseded || table === 'redirects' || table === 'replaces') return all;
  const of = table === 'skipped' ? 'skipped' : 'pages';
  return `SELECT * FROM (${all}) WHERE ${col} NOT IN (SELECT seq FROM read_parquet('${layout.superseded.replace(/'/g, "''")}') WHERE tbl = '${of}')`;
}

/** One ingest unit's rows of `table`, numbered as in the catalog (a segment unit reads its articles so). */
export function unitRows(dir: string, plan: Plan, table: string, unit: number): string {
  return unitsSql(dir, ingestLayout(dir, plan), table, [unit]);
}

/** Views named `table` over the units' Parquet, in place of the schema's tables. */
async function views(db: Db, tables: string[], sql: (table: string) => string): Promise<void> {
  for (const t of tables) {
    const [kind] = await rows<{ type: string }>(db.conn, `SELECT table_type AS type FROM information_schema.tables WHERE table_schema = 'main' AND table_name = $t`, { t });
    if (kind?.type === 'BASE TABLE') await db.conn.run(`DROP TABLE "${t}"`);
    await db.conn.run(`CREATE OR REPLACE VIEW "${t}" AS ${sql(t)}`);
  }
}

/**
 * Finds what later PubMed files replace in earlier inputs: the pages whose PMID (norm_title) one
 * of them names, and the skipped records whose page_id it names (the rows `linkbert run` deletes).
 */
async function writeSuperseded(db: Db, dir: string, plan: Plan, layout: IngestLayout): Promise<void> {
  const all = plan.units.map((u) => u.unit);
  const replacing = plan.units.filter((u) => layout.offsets[u.unit]! > 0 && existsSync(unitFile(dir, 'ingest', 'replaces', u.unit)));
  const r = replacing.map((u) => `SELECT id, ${layout.offsets[u.unit]} AS base FROM read_parquet('${unitFile(dir, 'ingest', 'replaces', u.unit).replace(/'/g, "''")}')`).join(' UNION ALL ');
  const sql = `WITH r AS (${r})
    SELECT DISTINCT p.seq, 'pages' AS tbl FROM (${unitsSql(dir, layout, 'pages', all, false)}) p JOIN r ON p.norm_title = r.id AND p.seq < r.base
    UNION SELECT DISTINCT s.seq, 'skipped' AS tbl FROM (${unitsSql(dir, layout, 'skipped', all, false)}) s JOIN r ON s.page_id = TRY_CAST(r.id AS BIGINT) AND s.seq < r.base
    ORDER BY tbl, seq`;
  await writeUnitParquet(db.conn, sql, supersededFile(dir));
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
export async function catalogIngest(db: Db, dir: string, plan: Plan): Promise<{ files: string[] }> {
  const markers = allMarkers(dir, plan, 'ingest');
  const layout = ingestLayout(dir, plan);
  if (layout.superseded) await writeSuperseded(db, dir, plan, layout);
  const all = plan.units.map((u) => u.unit);
  await views(db, INGEST_TABLES, (t) => unitsSql(dir, layout, t, all));
  const units = markers.map((m) => m.report as { summary: IngestSummary; siteinfo: unknown; end_seq: number; kind: string });
  const one = plan.inputs.length === 1;
  const lang = plan.settings.lang as string | undefined;
  const maxRecord = plan.settings['max-record'] as number | undefined;
  // the settings, the inputs and the siteinfo as ingest.ts records them for these inputs
  const settings = { index: one ? plan.inputs[0]!.index : null, keep_lists: Boolean(plan.settings['keep-lists']), ...(lang ? { lang } : {}), ...(maxRecord !== undefined && maxRecord !== DEFAULT_MAX_RECORD ? { max_record: maxRecord } : {}) };
  // the last wiki's siteinfo (each wiki input records its own), else the first input's defaults
  const site = (units.filter((u) => u.kind === 'wiki').at(-1) ?? units[0]!).siteinfo;
  const done: InputRange[] = plan.inputs.map((inp, k) => ({ file: inp.file, ...layout.inputs[k]! }));
  const row: RunRow = { stage: 'ingest', source: plan.source.dump, fingerprint: plan.source.fingerprint, settings: JSON.stringify(one ? settings : { ...settings, inputs: done }), siteinfo: site ? JSON.stringify(site) : null, status: 'running', next_seq: null, summary: null };
  // recorded first with its siteinfo (the summary reads the wiki's name from it), then done with the summary
  await putRunRow(db, row);
  const inputs: InputRange[] = done.map((d, k) => ({ file: d.file, kind: d.kind, first_seq: d.first_seq, end_seq: d.end_seq, bytes: plan.inputs[k]!.bytes, sha256: plan.inputs[k]!.sha256 }));
  const sum = (f: (s: IngestSummary) => number) => units.reduce((n, u) => n + f(u.summary), 0);
  const summary = await summarize(db, { dump: plan.source.dump, db: db.path }, {
    multistream_index: settings.index,
    decompressor: units[0]!.summary.decompressor,
    workers: Math.max(...units.map((u) => u.summary.workers)),
    resumed_at: null,
    wikitext_mb: sum((s) => s.wikitext_mb),
    peak_rss_mb: Math.max(...units.map((u) => u.summary.peak_rss_mb)),
    seconds: Math.round(sum((s) => s.seconds) * 100) / 100,
    dump_bytes: plan.source.bytes,
    dump_sha256: plan.source.sha256,
    inputs,
  });
  await putRunRow(db, { ...row, status: 'done', next_seq: done.at(-1)!.end_seq, summary: JSON.stringify(summary) });
  return { files: layout.superseded ? [layout.superseded] : [] };
}

/** The segment units as the segments table, and the segment run as one process would have recorded it. */
export async function catalogSegments(db: Db, dir: string, plan: Plan): Promise<void> {
  const markers = allMarkers(dir, plan, 'segment');
  await views(db, ['segments'], () => `SELECT * FROM read_parquet(${sqlList(plan.units.map((u) => unitFile(dir, 'segment', 'segments', u.unit)))})`);
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
  const files = [...INGEST_TABLES.map((t) => ['ingest', t] as const), ['segment', 'segments'] as const].flatMap(([stage, t]) => plan.units.map((u) => resolve(unitFile(dir, stage, t, u.unit))));
  return existsSync(supersededFile(dir)) ? [...files, resolve(supersededFile(dir))] : files;
}
