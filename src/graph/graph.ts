/**
 * The graph stage: resolve every link of every article to the article it reaches (through redirect
 * chains), and build the edge and degree tables (sql/graph.sql, graph-edges.sql a range of src at a
 * time, graph-degrees.sql). The reconciliation accounts for every link: links = direct +
 * via_redirect + dangling + self + non_article.
 */
import { memoryLimit, openDb, rows, sizeBytes, sqlFile } from '../db/duckdb.js';
import { completedIngest, completedRun, finishRun, startRun } from '../db/runs.js';

export interface GraphSummary {
  stage: 'graph';
  db: string;
  links: number;
  direct: number;
  via_redirect: number;
  dangling: number;
  self: number;
  non_article: number;
  edges: number;
  articles: number;
  redirects: number;
  redirects_to_articles: number;
  redirect_chains: number; // redirects that take more than one hop
  redirect_cycles: number;
  redirect_too_long: number;
  redirects_dangling: number;
  redirects_non_article: number;
  duplicate_titles: number;
  orphans: number;
  dead_ends: number;
  memory_limit: string;
  already_done: boolean;
  seconds: number;
}

/**
 * Bytes of --memory per link of a range of src aggregated at once. Measured: one GROUP BY of the
 * 600k bench's 57.8M links runs out of 128MB (2.2 bytes a link) and fits in 512MB (8.8); ranges of
 * 15M links fit in 128MB (600k), 5.8M in 64MB (60k).
 */
const BYTES_PER_LINK = 8;

export async function graph(opts: { db: string; force?: boolean; memory?: string; linksPerRange?: number }): Promise<GraphSummary> {
  const t0 = performance.now();
  const db = await openDb(opts.db, { mustExist: true, memory: opts.memory });
  try {
    const ingest = await completedIngest(db);
    const settings = '{}';
    const done = opts.force ? null : await completedRun<GraphSummary>(db, 'graph', ingest.fingerprint, settings);
    if (done) return { ...done, already_done: true, seconds: Math.round(performance.now() - t0) / 1000 };
    await startRun(db, 'graph', { source: ingest.source, fingerprint: ingest.fingerprint, settings });
    await db.conn.run(await sqlFile('graph.sql'));
    // edges a range of src at a time (ranges of equal width: links follow the dump's page order)
    const [{ links, end }] = (await rows<{ links: number; end: number }>(db.conn, 'SELECT count(*)::BIGINT AS links, coalesce(max(src), -1)::BIGINT + 1 AS "end" FROM links')) as [{ links: number; end: number }];
    const perRange = opts.linksPerRange ?? Math.floor(sizeBytes(await memoryLimit(db)) / BYTES_PER_LINK);
    const ranges = Math.max(1, Math.ceil(links / perRange));
    const edges = await sqlFile('graph-edges.sql');
    for (let k = 0; k < ranges; k++) await db.conn.run(edges, { from: Math.floor((k * end) / ranges), to: Math.floor(((k + 1) * end) / ranges) });
    await db.conn.run(await sqlFile('graph-degrees.sql'));
    const [c] = await rows<Omit<GraphSummary, 'stage' | 'db' | 'already_done' | 'seconds' | 'memory_limit'>>(db.conn, await sqlFile('graph-summary.sql'));
    const s: GraphSummary = { stage: 'graph', db: db.path, ...c!, memory_limit: await memoryLimit(db), already_done: false, seconds: Math.round(performance.now() - t0) / 1000 };
    const sum = s.direct + s.via_redirect + s.dangling + s.self + s.non_article;
    if (sum !== s.links) throw new Error(`internal error: ${s.links} links but ${sum} resolved`);
    await finishRun(db, 'graph', s);
    return s;
  } finally {
    db.close();
  }
}
