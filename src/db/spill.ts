/**
 * Statements whose sorts may need more than --memory: rerun on one thread, or in halves, when
 * DuckDB runs out of memory, instead of failing.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { outOfMemory, rows } from './duckdb.js';

/**
 * Inserts the rows `sql(from, to)` selects in their order: when even one thread runs out of memory
 * (see spilling), the failed statement has inserted nothing, and each half of the range (cut at a
 * multiple of `rowGroup` rows) goes in on its own, in order.
 */
export async function sortedInHalves(conn: DuckDBConnection, sql: (from: number, to: number) => string, from: number, to: number, rowGroup: number): Promise<void> {
  try {
    await spilling(conn, sql(from, to));
  } catch (e) {
    if (!outOfMemory(e) || to - from <= rowGroup) throw e;
    const mid = from + Math.ceil((to - from) / 2 / rowGroup) * rowGroup;
    await sortedInHalves(conn, sql, from, mid, rowGroup);
    await sortedInHalves(conn, sql, mid, to, rowGroup);
  }
}

/**
 * Runs a statement whose sort may need more memory per thread than --memory leaves: DuckDB's sort
 * of wide rows (token id lists) keeps a working set per thread, so when it runs out of memory the
 * statement is run again on one thread, which spills the rest (at 60k pages, 256MB: fails on two
 * threads, 6 s on one).
 */
async function spilling(conn: DuckDBConnection, sql: string): Promise<void> {
  try {
    await conn.run(sql);
  } catch (e) {
    if (!outOfMemory(e)) throw e;
    const [{ t }] = (await rows<{ t: number }>(conn, `SELECT current_setting('threads') AS t`)) as [{ t: number }];
    await conn.run('SET threads = 1');
    try {
      await conn.run(sql);
    } finally {
      await conn.run(`SET threads = ${t}`);
    }
  }
}
