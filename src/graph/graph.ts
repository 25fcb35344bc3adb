/**
 * The graph stage: resolve every link of every article to the article it reaches (through redirect
 * chains), and build the edge and degree tables (sql/graph.sql, graph-edges.sql a range of src at a
 * time, graph-degrees.sql). graph-summary.sql puts every link in one class: links = direct +
 * via_redirect + dangling + self + non_article.
 */
import { memoryLimit, rows, sqlFile } from '../db/duckdb.js';
import type { GraphSummary } from '../stage/contracts.js';
import { runStage } from '../stage/kernel.js';

export type { GraphSummary };

/**
 * Bytes of --memory per link of a range of src aggregated at once. Measured: one GROUP BY of the
 * 600k bench's 57.8M links runs out of 128MB (2.2 bytes a link) and fits in 512MB (8.8); ranges of
 * 15M links fit in 128MB (600k), 5.8M in 64MB (60k).
 */
const BYTES_PER_LINK = 8;

export async function graph(opts: { db: string; force?: boolean; memory?: number; linksPerRange?: number }): Promise<GraphSummary> {
  return runStage<GraphSummary>({
    stage: 'graph',
    db: opts.db,
    memory: opts.memory,
    force: opts.force,
    reads: [],
    settings: () => ({}),
    async work({ db }) {
      await db.conn.run(await sqlFile('graph.sql'));
      // edges a range of src at a time (ranges of equal width: links follow the dump's page order)
      const [{ links, end }] = (await rows<{ links: number; end: number }>(db.conn, 'SELECT count(*)::BIGINT AS links, coalesce(max(src), -1)::BIGINT + 1 AS "end" FROM links')) as [{ links: number; end: number }];
      const perRange = opts.linksPerRange ?? Math.floor(db.memory / BYTES_PER_LINK);
      const ranges = Math.max(1, Math.ceil(links / perRange));
      const edges = await sqlFile('graph-edges.sql');
      for (let k = 0; k < ranges; k++) await db.conn.run(edges, { from: Math.floor((k * end) / ranges), to: Math.floor(((k + 1) * end) / ranges) });
      await db.conn.run(await sqlFile('graph-degrees.sql'));
      const [c] = await rows<Omit<GraphSummary, 'stage' | 'db' | 'already_done' | 'seconds' | 'memory_limit'>>(db.conn, await sqlFile('graph-summary.sql'));
      return { stage: 'graph' as const, db: db.path, ...c!, memory_limit: await memoryLimit(db) };
    },
  });
}
