/**
 * The database an ingest writes: the same input again (done, or resumed where it stopped), or a new
 * input (or --force), which is built in a new file beside what the old one holds and moved into its
 * place only once the inputs have been read to their end (a new file keeps what an input gave before
 * it failed, to resume). A file the pipeline did not make is never replaced without --force.
 */
import { existsSync } from 'node:fs';
import { basename } from 'node:path';
import { applySchema, moveDb, openDb, removeDb, rows, type Db } from '../db/duckdb.js';
import { getRun, type RunRecord } from '../db/runs.js';
import { readSettings, type IngestSettings } from '../stage/contracts.js';

export const INGEST_TABLES = ['pages', 'articles', 'redirects', 'links', 'skipped'];

export interface Target {
  db: Db;
  /** the run of the same input that this one completes or resumes (undefined: a new database) */
  same: RunRecord | undefined;
  /** settings recorded by that run */
  before: IngestSettings | null;
  /** page to resume at */
  nextSeq: number;
  /** no file was at --db: this run makes it (and removes it again if the input fails first) */
  createdFile: boolean;
  /** a database is there and is being replaced: it stays unless the new inputs are read to their end */
  replacing: boolean;
  /** keeps or discards the work: `proved` once the input has given a page (or the run completed) */
  close(proved: boolean): void;
}

/** Tables and views of a DuckDB file that the pipeline did not make (it has no `runs` table). */
async function foreignTables(db: Db): Promise<string[]> {
  const names = (await rows<{ name: string }>(db.conn, `SELECT table_name AS name FROM information_schema.tables WHERE table_catalog = current_database() AND table_schema = 'main' ORDER BY 1`)).map((r) => r.name);
  return names.includes('runs') ? [] : names;
}

export async function openTarget(opts: { db: string; memory?: number; force?: boolean; keepLists: boolean; lang?: string }, input: { name: string; fingerprint: string }, log: (line: string) => void): Promise<Target> {
  const existed = existsSync(opts.db);
  let db = await openDb(opts.db, { memory: opts.memory });
  try {
    // What the DB holds now: this input (complete or to resume), another input, someone else's tables, or nothing.
    const prev = await getRun(db, 'ingest');
    if (prev && prev.fingerprint !== input.fingerprint && !opts.force) {
      throw new Error(`${opts.db} already holds ${prev.source} (another dump); pass --force to replace it, or choose another --db`);
    }
    const foreign = prev ? [] : await foreignTables(db);
    if (foreign.length && !opts.force) {
      throw new Error(`${opts.db} is not a linkbert-pipeline database (it holds ${foreign.slice(0, 5).join(', ')}${foreign.length > 5 ? ', …' : ''}); choose another --db, or pass --force to replace it`);
    }
    const same = prev && prev.fingerprint === input.fingerprint && !opts.force ? prev : undefined;
    const before = same?.settings ? readSettings('ingest', same.settings, opts.db) : null;
    if (same && before && before.keep_lists !== opts.keepLists) {
      throw new Error(`${opts.db} holds ${basename(input.name)} ingested ${before.keep_lists ? 'with' : 'without'} --keep-lists; rerun ${before.keep_lists ? 'with' : 'without'} it, or pass --force to ingest it again ${opts.keepLists ? 'with' : 'without'} lists`);
    }
    if (same && before && (before.lang ?? null) !== (opts.lang ?? null)) {
      const was = before.lang ? `--lang ${before.lang}` : 'no --lang';
      throw new Error(`${opts.db} holds ${basename(input.name)} ingested with ${was}; rerun with ${was.replace('no --lang', 'no --lang flag')}, or pass --force to ingest it again ${opts.lang ? `with --lang ${opts.lang}` : 'without it'}`);
    }
    if (same?.status === 'done') return { db, same, before, nextSeq: 0, createdFile: false, replacing: false, close: () => db.close() };
    if (same) {
      await applySchema(db);
      const nextSeq = same.next_seq ?? 0;
      // Uncommitted rows cannot exist (batches are transactions), but make the resume point exact.
      for (const t of INGEST_TABLES) await db.conn.run(`DELETE FROM ${t} WHERE ${t === 'links' ? 'src' : 'seq'} >= ${nextSeq}`);
      if (nextSeq > 0) log(`resuming ${basename(input.name)} at page ${nextSeq}`);
      return { db, same, before, nextSeq, createdFile: false, replacing: false, close: () => db.close() };
    }
    // A new input, or --force: a new file (deleted rows would keep the old one's size), and
    // everything derived from the old input goes with it. What the old file holds stays until the
    // new input has proved to be one: the new file is built beside it.
    db.close();
    const keep = existed && (prev !== undefined || foreign.length > 0);
    const building = keep ? `${opts.db}.replacement` : opts.db; // a new file is ours to remove if nothing comes of it
    removeDb(building);
    db = await openDb(building, { memory: opts.memory });
    await applySchema(db);
    const made = db;
    return {
      db: made,
      same: undefined,
      before: null,
      nextSeq: 0,
      createdFile: building === opts.db && !existed,
      replacing: building !== opts.db,
      close(proved) {
        made.close();
        if (!proved) {
          if (building !== opts.db || !existed) removeDb(building);
        } else if (building !== opts.db) moveDb(building, opts.db);
      },
    };
  } catch (e) {
    db.close();
    throw e;
  }
}
