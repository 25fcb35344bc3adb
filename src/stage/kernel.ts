/**
 * The stage kernel: the one skeleton every derived stage runs through. It opens the database,
 * checks that the stages it reads are complete for the same ingested input (a clear error naming
 * the command to run otherwise), makes the skip key from the stage's own settings chained with the
 * keys of the stages it reads (so a changed segment run makes pairs and shards stale), returns the
 * recorded summary when a complete run has that key, else records the start, runs the work, and
 * records the finish (or the failure). Ingest, which makes the database, runs through `runIngest`.
 *
 * Where a run is recorded is a `RunStore`: the `runs` table of the database for a whole-corpus run;
 * a store of per-unit completion markers can stand in its place without changing a stage.
 */
import { openDb, type Db } from '../db/duckdb.js';
import { completedIngest, runsTable, type RunRecord, type RunStore } from '../db/runs.js';
import { readRecord, type Settings, type StageName, type Summaries } from './contracts.js';

export interface Done {
  already_done: boolean;
  seconds: number;
}

/** The stages a derived stage reads, as recorded: checked settings and summaries, and their keys. */
export type Prior<R extends StageName> = { [S in R]: { settings: Settings[S]; summary: Summaries[S]; key: string } };

export interface StageContext<R extends StageName> {
  db: Db;
  ingest: Omit<RunRecord, 'settings' | 'summary'> & { settings: Settings['ingest']; summary: Summaries['ingest'] };
  prior: Prior<R>;
  /** the run's key: what a later run must match to be skipped */
  key: string;
  t0: number;
}

export interface StageDef<S extends Done, R extends StageName = never> {
  stage: Exclude<StageName, 'ingest'> | 'report' | 'vocab';
  db: string;
  /** DuckDB's memory limit, bytes */
  memory?: number;
  /** redo even when a complete run has the same key */
  force?: boolean;
  /** the stages this one reads besides ingest; each must be complete for the same input */
  reads: readonly R[];
  /** this stage's own settings (with the keys of `reads`, the skip key) */
  settings: (prior: Prior<R>, ingest: StageContext<R>['ingest']) => unknown;
  /** reads only and records nothing (report): opened read-only, never skipped */
  readOnly?: boolean;
  /** records nothing and is never skipped, though it writes (a planned run's steps, recorded by their markers) */
  record?: boolean;
  /** a complete run is reused only while its outputs are intact (shards' files) */
  intact?: (done: S) => Promise<boolean>;
  /** checks before the run is recorded as started: nothing is written when they fail */
  prepare?: (ctx: StageContext<R>) => Promise<void>;
  work: (ctx: StageContext<R>) => Promise<Omit<S, keyof Done>>;
  /** where runs are recorded (default: the database's runs table) */
  store?: (db: Db) => RunStore;
}

export const elapsed = (t0: number) => Math.round(performance.now() - t0) / 1000;

const HINT: Record<StageName, string> = {
  ingest: 'linkbert ingest --dump FILE',
  graph: 'linkbert graph',
  segment: 'linkbert segment --tokenizer X',
  pairs: 'linkbert pairs',
  shards: 'linkbert shards',
};

/** A run that failed after doing part of its work: its summary is recorded with the error, then `failure` is thrown. */
export class Failed<T> {
  constructor(
    readonly summary: T,
    readonly failure: Error,
    /** the error as recorded in the run */
    readonly error: string,
  ) {}
}

/**
 * The skeleton every stage's run goes through, ingest's too: a complete run recorded with the same
 * input and key is reused (its summary, marked already_done) unless `force` or its outputs are no
 * longer intact; otherwise the start is recorded, the work done, and its finish recorded — done with
 * its summary, or failed with the error (and the summary of what it did, when it has one).
 */
export async function recordedRun<S extends Done>(run: {
  store: RunStore;
  stage: StageName;
  source: string;
  fingerprint: string;
  key: string;
  force?: boolean;
  t0: number;
  /** a complete run with this key is reused only while this holds (shards' files intact) */
  intact?: (done: S) => Promise<boolean>;
  /** whether a complete run of the same input can be reused (default: it has the same key) */
  reusable?: (before: RunRecord) => boolean;
  /** checks before the start is recorded: nothing is written when they fail */
  prepare?: () => Promise<void>;
  /** the page to resume at, recorded with the start (ingest) */
  nextSeq?: number;
  /** the stage's work: its summary, or its summary and what made it fail (recorded, then thrown) */
  work: () => Promise<Omit<S, keyof Done> | Failed<Omit<S, keyof Done>>>;
}): Promise<S> {
  const before = run.force ? undefined : await run.store.get(run.stage);
  if (before?.status === 'done' && before.fingerprint === run.fingerprint && (run.reusable ? run.reusable(before) : before.settings === run.key) && before.summary) {
    const done = JSON.parse(before.summary) as S;
    if (!run.intact || (await run.intact(done))) return { ...done, already_done: true, seconds: elapsed(run.t0) };
  }
  await run.prepare?.();
  await run.store.start(run.stage, { source: run.source, fingerprint: run.fingerprint, settings: run.key, nextSeq: run.nextSeq });
  let out: Omit<S, keyof Done> | Failed<Omit<S, keyof Done>>;
  try {
    out = await run.work();
  } catch (e) {
    await run.store.finish(run.stage, null, (e as Error).message ?? String(e)).catch(() => {});
    throw e;
  }
  if (out instanceof Failed) {
    await run.store.finish(run.stage, { ...out.summary, already_done: false, seconds: elapsed(run.t0) }, out.error);
    throw out.failure;
  }
  const result = { ...(out as Omit<S, keyof Done>), already_done: false, seconds: elapsed(run.t0) } as S;
  await run.store.finish(run.stage, result);
  return result;
}

export async function runStage<S extends Done, R extends StageName = never>(def: StageDef<S, R>): Promise<S> {
  const t0 = performance.now();
  const db = await openDb(def.db, { mustExist: true, memory: def.memory, readOnly: def.readOnly });
  try {
    const store = (def.store ?? runsTable)(db);
    const ingestRun = await completedIngest(db);
    const ingest = { ...ingestRun, ...readRecord('ingest', ingestRun, db.path) };
    const prior = {} as Prior<R>;
    for (const r of def.reads) {
      const run = await store.get(r);
      if (!run || run.status !== 'done' || run.fingerprint !== ingestRun.fingerprint || !run.summary) throw new Error(`${db.path}: the ${r} stage is not complete for this dump: run \`${HINT[r]}\` first`);
      (prior as Record<string, unknown>)[r] = { ...readRecord(r, run, db.path), key: run.settings ?? '' };
    }
    const own = def.settings(prior, ingest);
    const key = JSON.stringify(def.reads.length ? { own, reads: Object.fromEntries(def.reads.map((r) => [r, prior[r].key])) } : own);
    const ctx: StageContext<R> = { db, ingest, prior, key, t0 };
    if (def.readOnly || def.record === false) return { ...(await def.work(ctx)), already_done: false, seconds: elapsed(t0) } as S;
    return await recordedRun<S>({
      store,
      stage: def.stage as StageName,
      source: ingestRun.source,
      fingerprint: ingestRun.fingerprint,
      key,
      force: def.force,
      t0,
      intact: def.intact,
      prepare: def.prepare && (() => def.prepare!(ctx)),
      work: () => def.work(ctx),
    });
  } finally {
    db.close();
  }
}
