/** Opening the project's DuckDB file, and the schema every stage shares. */
import { mkdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';

export const SQL_DIR = new URL('../../sql/', import.meta.url);

export interface Db {
  instance: DuckDBInstance;
  conn: DuckDBConnection;
  path: string;
  close(): void;
}

export class DbLockedError extends Error {}

export async function openDb(path: string, opts: { readOnly?: boolean } = {}): Promise<Db> {
  if (!opts.readOnly) mkdirSync(dirname(path), { recursive: true });
  let instance: DuckDBInstance;
  try {
    instance = await DuckDBInstance.create(path, opts.readOnly ? { access_mode: 'READ_ONLY' } : {});
  } catch (e) {
    const msg = (e as Error).message;
    if (/lock/i.test(msg)) throw new DbLockedError(`${path} is in use by another process (${msg.split('\n')[0]})`);
    throw new Error(`${path}: cannot open database: ${msg.split('\n')[0]}`);
  }
  const conn = await instance.connect();
  return {
    instance,
    conn,
    path,
    close() {
      conn.closeSync();
      instance.closeSync();
    },
  };
}

export async function sqlFile(name: string): Promise<string> {
  return readFile(new URL(name, SQL_DIR), 'utf8');
}

export async function applySchema(db: Db): Promise<void> {
  await db.conn.run(await sqlFile('schema.sql'));
}

/** Rows of a query as plain objects (BIGINT → number where safe). */
export async function rows<T = Record<string, unknown>>(conn: DuckDBConnection, sql: string, params?: Record<string, string | number | boolean | null>): Promise<T[]> {
  const r = await conn.runAndReadAll(sql, params as never);
  return r.getRowObjectsJson() as T[];
}
