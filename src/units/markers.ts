/**
 * Where a planned run keeps its units' outputs and their state:
 *   DIR/<stage>/<table>/u00003.parquet  a unit's rows, written under a temporary name, renamed when complete
 *   DIR/tasks/<stage>/done/u00003.json  the completion marker, written (atomically) after the outputs:
 *                                       the plan's settings hash, row counts, each file's SHA-256, the
 *                                       task's CPU and peak RSS, what the unit reports
 *   DIR/tasks/<stage>/running/…         the task at work on it (host and pid), while it runs
 *   DIR/tasks/<stage>/failed/…          the error of its last failed try
 * (the state apart from the outputs: DIR/shards holds the shards alone, as `linkbert run` writes them)
 * A unit is done exactly when its marker names this plan and its files are there; a task killed at
 * any moment leaves at most a temporary file (removed when the unit runs again) and no marker.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, join, relative } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { sha256Of } from '../util/hash.js';
import { processUsage, type Usage } from '../util/usage.js';
import type { Plan, PlanStage } from './plan.js';

export const unitName = (u: number) => `u${String(u).padStart(5, '0')}`;

export interface Marker {
  plan: string;
  stage: PlanStage;
  unit: number;
  /** rows written, by table */
  rows: Record<string, number>;
  /** the unit's files (relative to DIR) and their SHA-256 */
  files: Record<string, string>;
  seconds: number;
  /** the task's CPU seconds and peak RSS when the unit was done (one unit per task: the unit's) */
  usage: Usage;
  /** what the unit reports (a stage's summary, its siteinfo…) */
  report: Record<string, unknown>;
}

/** What a unit's work hands to its marker: its rows, its files (paths), what it reports. */
export type UnitOutcome = Omit<Marker, 'plan' | 'stage' | 'unit' | 'seconds' | 'files' | 'usage'> & { files: string[] };

const stateFile = (dir: string, stage: string, state: 'done' | 'running' | 'failed', unit: number) => join(dir, 'tasks', stage, state, `${unitName(unit)}.json`);

/** The folder of a stage's completion markers. */
export const doneDir = (dir: string, stage: string) => join(dir, 'tasks', stage, 'done');

/** A unit's output file of `table`. */
export function unitFile(dir: string, stage: string, table: string, unit: number): string {
  return join(dir, stage, table, `${unitName(unit)}.parquet`);
}

function writeAtomic(file: string, text: string): void {
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${hostname()}-${process.pid}`;
  writeFileSync(tmp, text);
  renameSync(tmp, file);
}

/** The unit's marker when it is done for this plan (its files there), else null. */
export function doneMarker(dir: string, plan: Plan, stage: PlanStage, unit: number): Marker | null {
  const file = stateFile(dir, stage, 'done', unit);
  if (!existsSync(file)) return null;
  let m: Marker;
  try {
    m = JSON.parse(readFileSync(file, 'utf8')) as Marker;
  } catch {
    return null; // a marker is written whole (renamed into place); anything else is not one
  }
  if (m.plan !== plan.settings_hash) throw new Error(`${file} was made for another plan (settings hash ${String(m.plan).slice(0, 12)}…): this folder holds the work of another run`);
  return Object.keys(m.files).every((f) => existsSync(join(dir, f))) ? m : null;
}

/**
 * Writes the rows a query selects as a unit's Parquet file: under a temporary name, renamed when the
 * COPY is complete. Returns the row count. `crash` (tests) kills the process at a point of its life.
 */
export async function writeUnitParquet(conn: DuckDBConnection, sql: string, file: string, rowGroup = 122_880): Promise<number> {
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${hostname()}-${process.pid}`;
  const r = await conn.runAndReadAll(`COPY (${sql}) TO '${tmp.replace(/'/g, "''")}' (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE ${rowGroup})`);
  const rows = Number((r.getRows()[0] as unknown[] | undefined)?.[0] ?? 0);
  crashPoint('before-rename');
  renameSync(tmp, file);
  return rows;
}

/** Marks a unit done: its files' SHA-256 and counts, after every file is in place. */
export async function markDone(dir: string, plan: Plan, stage: PlanStage, unit: number, outcome: { rows: Record<string, number>; files: string[]; seconds: number; report: Record<string, unknown> }): Promise<Marker> {
  crashPoint('before-marker');
  const files: Record<string, string> = {};
  for (const f of outcome.files) files[relative(dir, f)] = await sha256Of(f);
  const m: Marker = { plan: plan.settings_hash, stage, unit, rows: outcome.rows, files, seconds: outcome.seconds, usage: processUsage(), report: outcome.report };
  writeAtomic(stateFile(dir, stage, 'done', unit), JSON.stringify(m, null, 2) + '\n');
  rmSync(stateFile(dir, stage, 'running', unit), { force: true });
  rmSync(stateFile(dir, stage, 'failed', unit), { force: true });
  return m;
}

/** When a unit's marker was written (ms since the epoch), or null when there is none. */
export function doneAt(dir: string, stage: PlanStage, unit: number): number | null {
  const file = stateFile(dir, stage, 'done', unit);
  return existsSync(file) ? statSync(file).mtimeMs : null;
}

export function markRunning(dir: string, stage: PlanStage, unit: number): void {
  writeAtomic(stateFile(dir, stage, 'running', unit), JSON.stringify({ host: hostname(), pid: process.pid, started: new Date().toISOString() }) + '\n');
}

export function markFailed(dir: string, stage: PlanStage, unit: number, error: string): void {
  writeAtomic(stateFile(dir, stage, 'failed', unit), JSON.stringify({ host: hostname(), pid: process.pid, at: new Date().toISOString(), error }) + '\n');
  rmSync(stateFile(dir, stage, 'running', unit), { force: true });
}

export type UnitState = { state: 'done' | 'running' | 'failed' | 'missing'; error?: string; host?: string; pid?: number };

/** Whether a process of this host is alive (a task of another host is taken to be). */
function alive(host: string, pid: number): boolean {
  if (host !== hostname()) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function unitState(dir: string, plan: Plan, stage: PlanStage, unit: number): UnitState {
  if (doneMarker(dir, plan, stage, unit)) return { state: 'done' };
  const read = (f: string) => (existsSync(f) ? (JSON.parse(readFileSync(f, 'utf8')) as { host: string; pid: number; error?: string }) : null);
  const running = read(stateFile(dir, stage, 'running', unit));
  if (running && alive(running.host, running.pid)) return { state: 'running', host: running.host, pid: running.pid };
  const failed = read(stateFile(dir, stage, 'failed', unit));
  if (failed) return { state: 'failed', error: failed.error, host: failed.host, pid: failed.pid };
  return { state: 'missing' };
}

/**
 * Removes what earlier tries of this unit left: temporary files of its outputs and scratch
 * databases of tasks that were killed. Only files this project names so (u00003.parquet.tmp-HOST-PID,
 * u00003.tmp-HOST-PID.duckdb…) are touched, and only those of tasks no longer alive on this host.
 */
export function clearTemporaries(dir: string, stage: PlanStage, unit: number): void {
  const base = join(dir, stage);
  if (!existsSync(base)) return;
  for (const sub of readdirSync(base)) if (statSync(join(base, sub)).isDirectory()) clearStale(join(base, sub), `${unitName(unit)}.`);
}

/** Removes the temporary files in `folder` that start with `prefix` and belong to tasks no longer alive. */
export function clearStale(folder: string, prefix: string): void {
  if (!existsSync(folder)) return;
  const mine = /\.tmp-(.+)-(\d+)(?:\.duckdb(?:\.wal|\.tmp)?)?$/;
  for (const f of readdirSync(folder)) {
    const m = f.startsWith(prefix) ? mine.exec(f) : null;
    if (m && !alive(m[1]!, Number(m[2]))) rmSync(join(folder, f), { recursive: true, force: true });
  }
}


/**
 * For the fault tests: LINKBERT_CRASH=POINT:FLAG kills this process with SIGKILL at POINT
 * (before-rename, before-marker) once, creating FLAG so that the retry goes through.
 */
function crashPoint(point: string): void {
  const spec = process.env.LINKBERT_CRASH;
  if (!spec) return;
  const [at, flag] = spec.split(':', 2) as [string, string | undefined];
  if (at !== point || !flag || existsSync(flag)) return;
  writeFileSync(flag, `${process.pid}\n`);
  process.kill(process.pid, 'SIGKILL');
}
