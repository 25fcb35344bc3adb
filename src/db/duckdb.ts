/** Opening the project's DuckDB file, and the schema every stage shares. */
import { existsSync, renameSync, mkdirSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';

export const SQL_DIR = new URL('../../sql/', import.meta.url);

export interface Db {
  instance: DuckDBInstance;
  conn: DuckDBConnection;
  path: string;
  /** DuckDB's memory limit, bytes */
  memory: number;
  close(): void;
}

export class DbLockedError extends Error {}

/**
 * DuckDB's memory budget when a stage is given none. DuckDB's own default is 80% of the machine's
 * memory, which its sorts and joins then fill; with an explicit limit they spill to disk instead
 * (temp_directory, beside the database), so a stage's memory does not grow with the corpus. DuckDB
 * fills what it is given: with 512MB each stage's peak RSS still grew by 1.6–2.5× from the 6k to the
 * 60k bench (its working set reaching the budget); with 128MB within 1.25× + 100 MB (shards since
 * its Parquet writes hold less beside the budget), no slower, and every stage runs the 600k bench in it.
 */
export const DEFAULT_MEMORY = '128MB';
export const DEFAULT_MEMORY_BYTES = 128e6;
/** The least --memory a stage works in. */
export const MIN_MEMORY_BYTES = 64e6;

const MEMORY = /^\s*(\d+(?:\.\d+)?)\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)\s*$/i;
const UNITS: Record<string, number> = { b: 1, kb: 1e3, mb: 1e6, gb: 1e9, tb: 1e12, kib: 2 ** 10, mib: 2 ** 20, gib: 2 ** 30, tib: 2 ** 40 };

/** Bytes of a size such as `1GB`, `512MiB` or DuckDB's own `286.1 MiB`; an error for anything else. */
export function sizeBytes(size: string, flag = 'memory'): number {
  const m = MEMORY.exec(size);
  if (!m) throw new Error(`--${flag} ${size}: not a size (e.g. 1GB, 512MB, 4GiB)`);
  return Number(m[1]) * UNITS[m[2]!.toLowerCase()]!;
}

/** A --memory the user gave, in bytes: a size of at least 64MB. */
export function memoryBytes(size: string): number {
  const bytes = sizeBytes(size);
  if (bytes < MIN_MEMORY_BYTES) throw new Error(`--memory ${size}: at least 64MB`);
  return bytes;
}

export interface OpenOptions {
  readOnly?: boolean;
  mustExist?: boolean;
  /** DuckDB's memory_limit in bytes, as parsed from --memory (default DEFAULT_MEMORY_BYTES) */
  memory?: number;
  /**
   * For queries a user writes: nothing outside the database file can be read or written (COPY TO,
   * ATTACH, EXPORT, read_csv…), no extension installed or loaded, no setting changed afterwards.
   */
  locked?: boolean;
  /** with `locked`: files that may be read all the same (the units' Parquet a planned run's catalog reads) */
  readable?: string[];
}

/** Opens (or, for ingest, creates) a DuckDB file; `mustExist` for the stages that read what ingest made. */
export async function openDb(path: string, opts: OpenOptions = {}): Promise<Db> {
  if ((opts.readOnly || opts.mustExist) && !existsSync(path)) throw new Error(`${path}: no such database (run \`linkbert ingest --dump FILE --db ${path}\` first, or pass --db)`);
  if (!opts.readOnly) mkdirSync(dirname(path), { recursive: true });
  const memory = opts.memory ?? DEFAULT_MEMORY_BYTES;
  if (!(memory >= MIN_MEMORY_BYTES)) throw new Error(`memory limit of ${memory} bytes: at least 64MB`);
  const config: Record<string, string> = { memory_limit: `${Math.floor(memory)}B` };
  // a task of a planned run given its share of the cores (linkbert task --workers N)
  if (process.env.LINKBERT_THREADS) config.threads = process.env.LINKBERT_THREADS;
  if (opts.readOnly) config.access_mode = 'READ_ONLY';
  else config.temp_directory = `${path}.tmp`;
  if (opts.locked) {
    Object.assign(config, {
      autoinstall_known_extensions: 'false',
      autoload_known_extensions: 'false',
      allow_community_extensions: 'false',
    });
  }
  let instance: DuckDBInstance;
  try {
    instance = await DuckDBInstance.create(path, config);
  } catch (e) {
    const msg = (e as Error).message;
    if (/lock/i.test(msg)) throw new DbLockedError(`${path} is in use by another process (${msg.split('\n')[0]})`);
    throw new Error(`${path}: cannot open database: ${msg.split('\n')[0]}`);
  }
  const conn = await instance.connect();
  if (opts.locked) {
    // the files it may read first, then no file system access, then no setting changed by a query
    const paths = (opts.readable ?? []).map((f) => `'${f.replace(/'/g, "''")}'`);
    await conn.run(`${paths.length ? `SET allowed_paths = [${paths.join(', ')}]; ` : ''}SET enable_external_access = false; SET lock_configuration = true`);
  }
  return {
    instance,
    conn,
    path,
    memory,
    close() {
      conn.closeSync();
      instance.closeSync();
    },
  };
}

/** DuckDB ran out of its --memory (an appender words it without the "Out of Memory" prefix). */
export function outOfMemory(e: unknown): boolean {
  return /Out of Memory|failed to pin block|failed to allocate|could not allocate block/i.test((e as Error | undefined)?.message ?? '');
}

/**
 * Two jobs run side by side under one --memory (each on its own connection). A job that runs out of
 * it is run again once both have settled, alone (the other's memory freed); when both did, one after
 * the other. So a small budget makes them slower, not an error. Both settle before this returns or
 * throws, so their connections can be closed. Each job must be able to start over (its statements
 * replace what it made).
 */
export async function sideBySide<A, B>(first: () => Promise<A>, second: () => Promise<B>): Promise<[A, B]> {
  const settle = <T>(p: Promise<T>) => p.then((value) => ({ ok: true as const, value }), (error: unknown) => ({ ok: false as const, error }));
  const [a, b] = await Promise.all([settle(first()), settle(second())]);
  for (const r of [a, b]) if (!r.ok && !outOfMemory(r.error)) throw r.error;
  return [a.ok ? a.value : await first(), b.ok ? b.value : await second()];
}

/** DuckDB's memory_limit as it reads it (e.g. `953.6 MiB`). */
export async function memoryLimit(db: Db): Promise<string> {
  const [r] = await rows<{ m: string }>(db.conn, `SELECT current_setting('memory_limit') AS m`);
  return r!.m;
}

/** Deletes a database file and its write-ahead log. */
export function removeDb(path: string): void {
  rmSync(path, { force: true });
  rmSync(`${path}.wal`, { force: true });
  rmSync(`${path}.tmp`, { recursive: true, force: true });
}

/** Puts a closed database file in the place of another (whose write-ahead log must not meet it). */
export function moveDb(from: string, to: string): void {
  rmSync(`${to}.wal`, { force: true });
  rmSync(`${to}.tmp`, { recursive: true, force: true });
  renameSync(from, to);
  if (existsSync(`${from}.wal`)) renameSync(`${from}.wal`, `${to}.wal`);
  rmSync(`${from}.tmp`, { recursive: true, force: true });
}

export async function sqlFile(name: string): Promise<string> {
  return readFile(new URL(name, SQL_DIR), 'utf8');
}

/** Bumped whenever sql/schema.sql changes incompatibly. */
export const SCHEMA_VERSION = 3;

async function tablesOf(db: Db): Promise<{ name: string; type: string }[]> {
  return rows(db.conn, `SELECT table_name AS name, table_type AS type FROM information_schema.tables WHERE table_schema = 'main'`);
}

/** The schema version a DB was made with: null for an empty DB, 0 when it has none. */
async function schemaVersionOf(db: Db, tables: { name: string }[]): Promise<number | null> {
  if (!tables.length) return null;
  if (!tables.some((t) => t.name === 'schema_version')) return 0;
  const [v] = await rows<{ version: number | null }>(db.conn, 'SELECT max(version) AS version FROM schema_version');
  return v?.version ?? 0;
}

function versionError(db: Db, v: number | null): Error {
  return new Error(`${db.path} was made by another version of linkbert (schema ${v || 'unknown'}, this one is ${SCHEMA_VERSION}): ingest again with --force, or use another --db`);
}

/** An error unless the DB was made with this schema version (read-only check). */
export async function checkSchema(db: Db): Promise<void> {
  const v = await schemaVersionOf(db, await tablesOf(db));
  if (v !== null && v !== SCHEMA_VERSION) throw versionError(db, v);
}

/**
 * Creates the tables (sql/schema.sql) if needed. A DB made with another schema version is an error,
 * unless `recreate`: then everything in it is dropped first.
 */
export async function applySchema(db: Db, opts: { recreate?: boolean } = {}): Promise<void> {
  const tables = await tablesOf(db);
  const v = await schemaVersionOf(db, tables);
  if (v !== null && v !== SCHEMA_VERSION) {
    if (!opts.recreate) throw versionError(db, v);
    for (const t of tables) await db.conn.run(`DROP ${t.type === 'VIEW' ? 'VIEW' : 'TABLE'} IF EXISTS "${t.name}" CASCADE`);
  }
  await db.conn.run(await sqlFile('schema.sql'));
  await db.conn.run(`DELETE FROM schema_version; INSERT INTO schema_version VALUES (${SCHEMA_VERSION})`);
}

export interface Table {
  columns: string[];
  types: string[];
  rows: Record<string, Json>[];
}
export type Json = string | number | boolean | null | Json[] | { [k: string]: Json };

const WIDE_INT = /^(BIGINT|HUGEINT|UBIGINT|UHUGEINT)$/;

/** A query's result as JSON-ready rows; 64-bit integers become numbers when they fit exactly. */
export async function table(conn: DuckDBConnection, sql: string, params?: Record<string, string | number | boolean | null>): Promise<Table> {
  const r = await conn.runAndReadAll(sql, params as never);
  const columns = r.columnNames();
  const types = r.columnTypes().map((t) => t.toString());
  const rows = r.getRowObjectsJson() as Record<string, Json>[];
  columns.forEach((c, i) => {
    if (!WIDE_INT.test(types[i]!)) return;
    for (const row of rows) {
      const v = row[c];
      if (typeof v === 'string' && Number.isSafeInteger(Number(v))) row[c] = Number(v);
    }
  });
  return { columns, types, rows };
}

/** Rows of a query as plain objects (BIGINT → number where safe). */
export async function rows<T = Record<string, unknown>>(conn: DuckDBConnection, sql: string, params?: Record<string, string | number | boolean | null>): Promise<T[]> {
  return (await table(conn, sql, params)).rows as T[];
}
