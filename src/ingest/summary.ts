/** Ingest's summary: what the database holds after the run, counted there, and how the run went. */
import { memoryLimit, rows, type Db } from '../db/duckdb.js';
import { siteDbname } from '../db/runs.js';
import type { IngestSummary } from '../stage/contracts.js';
import type { IngestOptions } from './options.js';

export async function summarize(db: Db, opts: IngestOptions, extra: Pick<IngestSummary, 'multistream_index' | 'decompressor' | 'workers' | 'resumed_at' | 'wikitext_mb' | 'peak_rss_mb' | 'seconds' | 'dump_bytes' | 'dump_sha256' | 'inputs' | 'warnings'>): Promise<IngestSummary> {
  const memory_limit = await memoryLimit(db);
  const q = <T>(sql: string) => rows<T>(db.conn, sql);
  const nsRows = await q<{ ns: string; n: number }>(`SELECT coalesce(ns::VARCHAR, 'unknown') AS ns, count(*)::INTEGER AS n FROM (SELECT ns FROM pages UNION ALL SELECT ns FROM skipped WHERE seq NOT IN (SELECT seq FROM pages)) GROUP BY 1 ORDER BY min(coalesce(ns, 1e9))`);
  const [c] = await q<Record<string, number>>(`SELECT
      (SELECT count(*) FROM (SELECT seq FROM pages UNION SELECT seq FROM skipped))::INTEGER AS pages,
      (SELECT count(*) FROM articles)::INTEGER AS articles,
      (SELECT count(*) FROM redirects)::INTEGER AS redirects,
      (SELECT count(*) FILTER (disambiguation) FROM articles)::INTEGER AS disambiguations,
      (SELECT count(*) FROM links)::INTEGER AS links,
      (SELECT count("offset") FROM links)::INTEGER AS links_in_text,
      (SELECT count(*) FROM skipped)::INTEGER AS skipped`);
  const elsewhere = await q<{ origin: string; n: number }>(`SELECT origin, count(*)::INTEGER AS n FROM links WHERE "offset" IS NULL GROUP BY 1 ORDER BY 2 DESC, 1`);
  const reasons = await q<{ reason: string; n: number }>(`SELECT reason, count(*)::INTEGER AS n FROM skipped GROUP BY 1 ORDER BY 2 DESC, 1`);
  return {
    stage: 'ingest',
    dump: Array.isArray(opts.dump) ? opts.dump.join(' + ') : opts.dump,
    db: opts.db,
    dbname: await siteDbname(db),
    pages: c!.pages!,
    namespaces: Object.fromEntries(nsRows.map((r) => [r.ns, r.n])),
    articles: c!.articles!,
    redirects: c!.redirects!,
    disambiguations: c!.disambiguations!,
    links: c!.links!,
    links_in_text: c!.links_in_text!,
    links_elsewhere: Object.fromEntries(elsewhere.map((r) => [r.origin, r.n])),
    skipped: c!.skipped!,
    skipped_reasons: Object.fromEntries(reasons.map((r) => [r.reason, r.n])),
    already_done: false,
    memory_limit,
    ...extra,
  };
}
