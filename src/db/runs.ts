/**
 * The `runs` table: one row per stage with its input (the ingested dump's fingerprint), settings,
 * status and summary. A derived stage is skipped when a complete run of it has the same input and
 * settings; it needs the stages before it complete for the same dump.
 */
import { checkSchema, rows, type Db } from './duckdb.js';

export interface RunRecord {
  stage: string;
  source: string;
  fingerprint: string;
  settings: string | null; // JSON text
  status: 'running' | 'failed' | 'done' | 'interrupted';
  next_seq: number | null;
  summary: string | null; // JSON text
}

export async function getRun(db: Db, stage: string): Promise<RunRecord | undefined> {
  const hasRuns = (await rows(db.conn, `SELECT 1 FROM information_schema.tables WHERE table_schema = 'main' AND table_name = 'runs'`)).length > 0;
  if (!hasRuns) return undefined;
  const [run] = await rows<RunRecord>(db.conn, `SELECT stage, source, fingerprint, settings::VARCHAR AS settings, status, next_seq, summary::VARCHAR AS summary FROM runs WHERE stage = $s`, { s: stage });
  return run;
}

/** The summary of a complete run of `stage` on the same dump with the same settings, if there is one. */
export async function completedRun<T>(db: Db, stage: string, fingerprint: string, settings: string): Promise<T | null> {
  const run = await getRun(db, stage);
  return run?.status === 'done' && run.fingerprint === fingerprint && run.settings === settings && run.summary ? (JSON.parse(run.summary) as T) : null;
}

/** The run in progress in this process, so that Ctrl-C can record it as interrupted. */
let active: { db: Db; stage: string } | null = null;
/** Ctrl-C came: nothing more is written (a batch committed after the interruption was recorded could
 * move the resume point past rows that never went in). */
let interrupted = false;

/** Whether Ctrl-C has stopped this process's run: writers must not commit any more. */
export function isInterrupted(): boolean {
  return interrupted;
}

/**
 * Ctrl-C (SIGINT/SIGTERM): stops DuckDB's current query, drops the open transaction (as a killed
 * process would: every committed batch is a consistent checkpoint) and records the run as
 * `interrupted`. Resolves whether there was a run to stop.
 */
export async function interruptRun(): Promise<boolean> {
  const run = active;
  if (!run) return false;
  active = null;
  interrupted = true;
  try {
    run.db.conn.interrupt();
    await run.db.conn.run('ROLLBACK').catch(() => {});
    // committed (and so in the write-ahead log) before the process exits; the file is not closed
    // here: appenders of the stage may still be open on it, and exiting leaves it as a kill would
    await run.db.conn.run(`UPDATE runs SET status = 'interrupted', error = 'interrupted', finished_at = now()::TIMESTAMP WHERE stage = $stage AND status = 'running'`, { stage: run.stage });
  } catch {
    // the database is closing already: the next stage to open it sees the run as it was left
  }
  return true;
}

export async function startRun(db: Db, stage: string, input: { source: string; fingerprint: string; settings?: string | null; nextSeq?: number }): Promise<void> {
  active = { db, stage };
  await db.conn.run(
    `INSERT OR REPLACE INTO runs (stage, source, fingerprint, settings, status, next_seq, started_at) VALUES ($stage, $source, $fp, $settings, 'running', $next, now()::TIMESTAMP)`,
    { stage, source: input.source, fp: input.fingerprint, settings: input.settings ?? null, next: input.nextSeq ?? null },
  );
}

export async function finishRun(db: Db, stage: string, summary: unknown, error: string | null = null): Promise<void> {
  if (interrupted) return; // recorded as interrupted already
  if (active?.db === db) active = null;
  await db.conn.run(`UPDATE runs SET status = $status, error = $error, summary = $summary, finished_at = now()::TIMESTAMP WHERE stage = $stage`, {
    stage,
    status: error ? 'failed' : 'done',
    error,
    summary: summary === null ? null : JSON.stringify(summary),
  });
}

/** Where the kernel records runs: the runs table here; per-unit completion markers can take its place. */
export interface RunStore {
  get(stage: string): Promise<RunRecord | undefined>;
  start(stage: string, input: { source: string; fingerprint: string; settings: string; nextSeq?: number }): Promise<void>;
  /** done with its summary, or failed with the error (summary null) */
  finish(stage: string, summary: unknown, error?: string | null): Promise<void>;
}

export function runsTable(db: Db): RunStore {
  return {
    get: (stage) => getRun(db, stage),
    start: (stage, input) => startRun(db, stage, input),
    finish: (stage, summary, error = null) => finishRun(db, stage, summary, error),
  };
}

/** Ingest's settings (with several inputs, those complete so far) and the page to resume at. */
export async function recordIngestProgress(db: Db, settings: unknown, nextSeq?: number): Promise<void> {
  await db.conn.run(`UPDATE runs SET settings = $s${nextSeq === undefined ? '' : `, next_seq = ${nextSeq}`} WHERE stage = 'ingest'`, { s: JSON.stringify(settings) });
}

/** Pages below `nextSeq` are committed (the ingest writer's checkpoint, in its transaction). */
export async function recordNextSeq(db: Db, nextSeq: number): Promise<void> {
  await db.conn.run(`UPDATE runs SET next_seq = ${nextSeq} WHERE stage = 'ingest'`);
}

/**
 * The siteinfo of the ingested wiki. `ifUnset`: only where none is recorded yet (a corpus that is
 * no wiki records the defaults, which must not replace a wiki's read from an earlier input).
 */
export async function recordSiteInfo(db: Db, site: unknown, opts: { ifUnset?: boolean } = {}): Promise<void> {
  await db.conn.run(`UPDATE runs SET siteinfo = $s WHERE stage = 'ingest'${opts.ifUnset ? ' AND siteinfo IS NULL' : ''}`, { s: JSON.stringify(site) });
}

/** The ingested wiki's siteinfo as recorded (JSON text), or null. */
export async function siteInfoText(db: Db): Promise<string | null> {
  const [site] = await rows<{ siteinfo: string | null }>(db.conn, `SELECT siteinfo::VARCHAR AS siteinfo FROM runs WHERE stage = 'ingest'`);
  return site?.siteinfo ?? null;
}

/** The ingested wiki's database name (e.g. enwiki) from its siteinfo, or null. */
export async function siteDbname(db: Db): Promise<string | null> {
  const [site] = await rows<{ dbname: string | null }>(db.conn, `SELECT json_extract_string(siteinfo, '$.dbname') AS dbname FROM runs WHERE stage = 'ingest'`);
  return site?.dbname ?? null;
}

/** The ingest run a derived stage builds on; an error when there is none or it did not finish. */
export async function completedIngest(db: Db): Promise<RunRecord> {
  await checkSchema(db);
  const run = await getRun(db, 'ingest');
  if (!run) throw new Error(`${db.path} holds no ingested dump: run \`linkbert ingest --dump FILE --db ${db.path}\` first`);
  if (run.status !== 'done') throw new Error(`the ingest of ${run.source} into ${db.path} is ${run.status === 'failed' ? 'failed' : 'unfinished'}: rerun \`linkbert ingest\` to complete it`);
  return run;
}

/** A stage before this one, complete for the same dump; else an error saying what to run. */
export async function requireStage(db: Db, stage: string, fingerprint: string, hint: string): Promise<RunRecord & { settings: string; summary: string }> {
  const run = await getRun(db, stage);
  if (!run || run.status !== 'done' || run.fingerprint !== fingerprint || !run.summary) throw new Error(`${db.path}: the ${stage} stage is not complete for this dump: run \`${hint}\` first`);
  return run as RunRecord & { settings: string; summary: string };
}

/** A run as a whole row, written as recorded elsewhere (a planned run's catalog records its units' runs). */
export interface RunRow {
  stage: string;
  source: string;
  fingerprint: string;
  settings: string | null;
  siteinfo: string | null;
  status: RunRecord['status'];
  next_seq: number | null;
  summary: string | null;
}

export async function runRow(db: Db, stage: string): Promise<RunRow | undefined> {
  const [r] = await rows<RunRow>(db.conn, `SELECT stage, source, fingerprint, settings::VARCHAR AS settings, siteinfo::VARCHAR AS siteinfo, status, next_seq, summary::VARCHAR AS summary FROM runs WHERE stage = $s`, { s: stage });
  return r;
}

export async function putRunRow(db: Db, r: RunRow): Promise<void> {
  await db.conn.run(`INSERT OR REPLACE INTO runs (stage, source, fingerprint, settings, siteinfo, status, next_seq, summary, started_at, finished_at) VALUES ($stage, $source, $fp, $settings, $site, $status, $next, $summary, now()::TIMESTAMP, now()::TIMESTAMP)`, {
    stage: r.stage,
    source: r.source,
    fp: r.fingerprint,
    settings: r.settings,
    site: r.siteinfo,
    status: r.status,
    next: r.next_seq === null ? null : Number(r.next_seq),
    summary: r.summary,
  });
}
