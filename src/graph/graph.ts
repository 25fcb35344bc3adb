/**
 * The graph stage: resolve every link of every article to the article it reaches (through redirect
 * chains), and build the edge and degree tables (sql/graph.sql). The reconciliation accounts for
 * every link: links = direct + via_redirect + dangling + self + non_article.
 */
import { checkSchema, openDb, rows, sqlFile, type Db } from '../db/duckdb.js';

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
  already_done: boolean;
  seconds: number;
}

export interface IngestState {
  source: string;
  fingerprint: string;
  status: string;
}

/** The ingest run a derived stage builds on; an error when there is none or it did not finish. */
export async function completedIngest(db: Db): Promise<IngestState> {
  await checkSchema(db);
  const hasRuns = (await rows(db.conn, `SELECT 1 FROM information_schema.tables WHERE table_schema = 'main' AND table_name = 'runs'`)).length > 0;
  const [run] = hasRuns ? await rows<IngestState>(db.conn, `SELECT source, fingerprint, status FROM runs WHERE stage = 'ingest'`) : [];
  if (!run) throw new Error(`${db.path} holds no ingested dump: run \`linkbert ingest --dump FILE --db ${db.path}\` first`);
  if (run.status !== 'done') throw new Error(`the ingest of ${run.source} into ${db.path} is ${run.status === 'failed' ? 'failed' : 'unfinished'}: rerun \`linkbert ingest\` to complete it`);
  return run;
}

export async function graph(opts: { db: string; force?: boolean }): Promise<GraphSummary> {
  const t0 = performance.now();
  const db = await openDb(opts.db);
  try {
    const ingest = await completedIngest(db);
    const [prev] = await rows<{ fingerprint: string; status: string; summary: string }>(db.conn, `SELECT fingerprint, status, summary::VARCHAR AS summary FROM runs WHERE stage = 'graph'`);
    if (!opts.force && prev?.status === 'done' && prev.fingerprint === ingest.fingerprint) {
      return { ...(JSON.parse(prev.summary) as GraphSummary), already_done: true, seconds: Math.round(performance.now() - t0) / 1000 };
    }
    await db.conn.run(
      `INSERT OR REPLACE INTO runs (stage, source, fingerprint, status, started_at) VALUES ('graph', $s, $f, 'running', now()::TIMESTAMP)`,
      { s: ingest.source, f: ingest.fingerprint },
    );
    await db.conn.run(await sqlFile('graph.sql'));
    const [c] = await rows<Omit<GraphSummary, 'stage' | 'db' | 'already_done' | 'seconds'>>(db.conn, await sqlFile('graph-summary.sql'));
    const s: GraphSummary = { stage: 'graph', db: db.path, ...c!, already_done: false, seconds: Math.round(performance.now() - t0) / 1000 };
    const sum = s.direct + s.via_redirect + s.dangling + s.self + s.non_article;
    if (sum !== s.links) throw new Error(`internal error: ${s.links} links but ${sum} resolved`);
    await db.conn.run(`UPDATE runs SET status = 'done', summary = $s, finished_at = now()::TIMESTAMP WHERE stage = 'graph'`, { s: JSON.stringify(s) });
    return s;
  } finally {
    db.close();
  }
}
