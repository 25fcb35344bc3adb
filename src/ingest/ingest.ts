/**
 * The ingest stage: dump → pages, articles (clean text), redirects and links in DuckDB.
 *
 * main thread:  decompress → SAX → classify page ──────────────┐
 * workers:                         article → wtf_wikipedia ─────┤ ordered buffer (by seq)
 * main thread:                                                  └→ batch (Appenders + checkpoint, one transaction)
 */
import { createHash } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { open, stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { applySchema, memoryLimit, openDb, removeDb, rows, type Db } from '../db/duckdb.js';
import { finishRun, getRun, startRun } from '../db/runs.js';
import { openDump, type DumpSource } from '../dump/source.js';
import { indexBeside, readIndex, type StreamIndex } from '../dump/multistream.js';
import { PageReader, type DumpPage } from '../dump/xml.js';
import type { SiteInfo } from '../dump/siteinfo.js';
import { CleanPool } from '../wiki/pool.js';
import { redirectTarget } from '../wiki/redirect.js';
import { Titles } from '../wiki/title.js';
import type { PageRows } from './rows.js';
import { BatchWriter } from './writer.js';

export interface IngestOptions {
  dump: string;
  db: string;
  /** multistream index; undefined: look beside the dump; null: read the dump whole */
  index?: string | null;
  workers?: number;
  /** replace what the DB holds even if it came from another dump */
  force?: boolean;
  batchPages?: number;
  /** DuckDB's memory limit */
  memory?: string;
  /** log each committed batch */
  verbose?: boolean;
  onProgress?: (p: IngestProgress) => void;
  log?: (line: string) => void;
}

export interface IngestProgress {
  pages: number;
  bytesRead: number;
  totalBytes: number;
  wikitextBytes: number;
  seconds: number;
}

export interface IngestSummary {
  stage: 'ingest';
  dump: string;
  db: string;
  dbname: string | null;
  pages: number;
  namespaces: Record<string, number>;
  articles: number;
  redirects: number;
  disambiguations: number;
  links: number;
  links_in_text: number;
  links_elsewhere: Record<string, number>;
  skipped: number;
  skipped_reasons: Record<string, number>;
  multistream_index: string | null;
  decompressor: string | null;
  workers: number;
  resumed_at: number | null;
  already_done: boolean;
  wikitext_mb: number;
  /** peak resident memory of this process, worker threads included */
  peak_rss_mb: number;
  memory_limit: string;
  seconds: number;
}

export class IngestError extends Error {
  constructor(message: string, readonly summary: IngestSummary) {
    super(message);
  }
}

/** Size plus a hash of the first and last MiB: cheap, and changes whenever the dump does. */
export async function fingerprint(file: string): Promise<string> {
  const { size } = await stat(file);
  const fh = await open(file, 'r');
  try {
    const h = createHash('sha256');
    const n = Math.min(size, 1 << 20);
    const a = Buffer.alloc(n);
    await fh.read(a, 0, n, 0);
    const b = Buffer.alloc(n);
    await fh.read(b, 0, n, size - n);
    h.update(a).update(b);
    return `${size}:${h.digest('hex').slice(0, 32)}`;
  } finally {
    await fh.close();
  }
}

const INGEST_TABLES = ['pages', 'articles', 'redirects', 'links', 'skipped'];

export async function ingest(opts: IngestOptions): Promise<IngestSummary> {
  const t0 = performance.now();
  const log = opts.log ?? (() => {});
  const workers = Math.max(1, opts.workers ?? availableParallelism());
  const fp = await fingerprint(opts.dump);
  const indexFile = opts.index === undefined ? indexBeside(opts.dump) : opts.index;
  let db = await openDb(opts.db, { memory: opts.memory });
  try {
    // What the DB holds now: this dump (complete or to resume), another dump, or nothing.
    const prev = await getRun(db, 'ingest');
    if (prev && prev.fingerprint !== fp && !opts.force) {
      throw new Error(`${db.path} already holds ${prev.source} (another dump); pass --force to replace it, or choose another --db`);
    }
    const same = prev && prev.fingerprint === fp && !opts.force;
    if (same && prev.status === 'done' && prev.summary) {
      log(`${opts.dump} is already ingested into ${db.path}; nothing to do (--force re-ingests)`);
      return { ...(JSON.parse(prev.summary) as IngestSummary), already_done: true, seconds: secs(t0) };
    }
    let nextSeq = 0;
    if (same) {
      await applySchema(db);
      nextSeq = prev.next_seq ?? 0;
      // Uncommitted rows cannot exist (batches are transactions), but make the resume point exact.
      for (const t of INGEST_TABLES) await db.conn.run(`DELETE FROM ${t} WHERE ${t === 'links' ? 'src' : 'seq'} >= ${nextSeq}`);
      if (nextSeq > 0) log(`resuming ${basename(opts.dump)} at page ${nextSeq}`);
    } else {
      // A new dump, or --force: start from an empty file (deleted rows would keep its size), and
      // everything derived from the old dump goes with it.
      db.close();
      removeDb(opts.db);
      db = await openDb(opts.db, { memory: opts.memory });
      await applySchema(db);
    }
    await startRun(db, 'ingest', { source: opts.dump, fingerprint: fp, settings: JSON.stringify({ index: indexFile }), nextSeq });

    const index = indexFile ? await readIndex(indexFile) : null;
    const source = await openDump(opts.dump, { index, fromSeq: nextSeq, concurrency: Math.max(2, workers) });
    const run = new IngestRun(db, source, index, nextSeq, workers, opts);
    let failure: Error | null = null;
    try {
      await run.read();
    } catch (e) {
      failure = e as Error;
    }
    await run.finish(failure);
    const summary = await summarize(db, opts, {
      multistream_index: indexFile,
      decompressor: source.decompressor,
      workers,
      resumed_at: nextSeq > 0 ? nextSeq : null,
      wikitext_mb: run.wikitextBytes / 1e6,
      peak_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024),
      seconds: secs(t0),
    });
    await db.conn.run(`UPDATE runs SET siteinfo = $site WHERE stage = 'ingest'`, { site: JSON.stringify(run.site) });
    await finishRun(db, 'ingest', summary, failure ? failure.message : null);
    if (failure) throw new IngestError(failure.message, summary);
    return summary;
  } finally {
    db.close();
  }
}

function secs(t0: number): number {
  return Math.round((performance.now() - t0) / 10) / 100;
}

class IngestRun {
  private pool: CleanPool | null = null;
  private titles: Titles | null = null;
  site: SiteInfo | null = null;
  private readonly ordered: Promise<PageRows>[] = [];
  private readonly writer: BatchWriter;
  private readonly maxBuffered: number;
  wikitextBytes = 0;
  private pagesRead = 0;
  private lastProgress = 0;
  private readonly t0 = performance.now();

  constructor(
    private readonly db: Db,
    private readonly source: DumpSource,
    private readonly index: StreamIndex | null,
    private readonly resumeAt: number,
    private readonly workers: number,
    private readonly opts: IngestOptions,
  ) {
    this.writer = new BatchWriter(db, resumeAt, opts.batchPages, opts.verbose ? (n) => opts.log?.(`committed pages below ${n}`) : undefined);
    this.maxBuffered = workers * 96; // > what the pool keeps in flight (workers × depth)
  }

  async read(): Promise<void> {
    const reader = new PageReader(this.source.file, this.source.firstSeq);
    try {
      for await (const chunk of this.source.text) {
        reader.write(chunk);
        await this.handle(reader);
      }
      reader.end();
    } finally {
      await this.handle(reader); // the pages completed before any damage
    }
  }

  private async handle(reader: PageReader): Promise<void> {
    const pages = reader.take();
    if (!pages.length) return;
    if (!this.titles) {
      this.site = reader.siteinfo!;
      this.titles = new Titles(this.site);
      this.pool = new CleanPool(this.site, this.workers);
      await this.db.conn.run(`UPDATE runs SET siteinfo = $s WHERE stage = 'ingest'`, { s: JSON.stringify(this.site) });
      const first = pages[0]!;
      if (this.index && this.resumeAt > 0) {
        const k = this.index.firstSeq.indexOf(first.seq);
        if (k < 0 || this.index.firstId[k] !== first.id) {
          throw new Error(`${this.index.file} does not match ${this.source.file}: page ${first.seq} has id ${first.id}, the index says ${this.index.firstId[k] ?? 'nothing'}`);
        }
      }
    }
    for (const p of pages) {
      this.pagesRead++;
      if (p.seq < this.resumeAt) continue;
      this.ordered.push(this.rowsOf(p));
      while (this.ordered.length > this.maxBuffered) await this.writer.add(await this.ordered.shift()!);
    }
    this.progress();
  }

  private progress(): void {
    const now = performance.now();
    if (!this.opts.onProgress || now - this.lastProgress < 200) return;
    this.lastProgress = now;
    this.opts.onProgress({
      pages: this.pagesRead,
      bytesRead: this.source.bytesRead(),
      totalBytes: this.source.totalBytes,
      wikitextBytes: this.wikitextBytes,
      seconds: (now - this.t0) / 1000,
    });
  }

  /** What one page becomes: immediately, or once a worker has cleaned the article. */
  private rowsOf(p: DumpPage): Promise<PageRows> {
    const titles = this.titles!;
    const bytes = p.text === null ? 0 : Buffer.byteLength(p.text);
    this.wikitextBytes += bytes;
    const skip = (reason: string): Promise<PageRows> =>
      Promise.resolve({ seq: p.seq, wikitextBytes: bytes, skipped: { seq: p.seq, page_id: p.id, ns: p.ns, title: p.title, reason, line: p.line } });
    if (!p.title?.trim()) return skip('no title');
    const norm = titles.normalize(p.title);
    const ns = p.ns ?? norm.ns;
    const page = { seq: p.seq, page_id: p.id, ns, title: p.title, norm_title: norm.title, rev_id: p.revId, timestamp: p.timestamp, text_bytes: p.text === null ? null : bytes };
    const textTarget = p.redirect === null || !p.redirect.trim() ? redirectTarget(p.text) : null;
    const target = p.redirect?.trim() ? p.redirect : textTarget;
    if (target !== null) {
      const to = titles.normalize(target);
      if (!to.title) return skip('redirect without target');
      return Promise.resolve({
        seq: p.seq,
        wikitextBytes: bytes,
        page: { ...page, kind: 'redirect' },
        redirect: { seq: p.seq, ns, title: p.title, target: to.title, target_ns: to.ns, fragment: to.fragment, source: textTarget !== null ? 'text' : 'element' },
      });
    }
    if (p.text === null) return skip('no text');
    if (ns !== 0) return Promise.resolve({ seq: p.seq, wikitextBytes: bytes, page: { ...page, kind: 'other' } });
    return this.pool!.clean(p.title, p.text).then((r): PageRows | Promise<PageRows> => {
      if (r.error !== undefined) return skip(`wikitext parse error: ${r.error}`);
      const a = r.article;
      return {
        seq: p.seq,
        wikitextBytes: bytes,
        page: { ...page, kind: 'article' },
        article: { seq: p.seq, title: p.title!, disambiguation: a.disambiguation, text: a.text, sent_start: a.sentStart, sent_len: a.sentLen, para_first: a.paraFirst },
        links: r.links,
      };
    });
  }

  /** Writes every page read before a failure, then the last batch. */
  async finish(failure: Error | null): Promise<void> {
    try {
      for (const pending of this.ordered) {
        try {
          await this.writer.add(await pending);
        } catch (e) {
          if (!failure) throw e;
          break; // the workers are gone; what was written stays
        }
      }
      await this.writer.commit();
    } finally {
      await this.pool?.close();
    }
    this.opts.onProgress?.({ pages: this.pagesRead, bytesRead: this.source.bytesRead(), totalBytes: this.source.totalBytes, wikitextBytes: this.wikitextBytes, seconds: (performance.now() - this.t0) / 1000 });
  }
}

async function summarize(db: Db, opts: IngestOptions, extra: Pick<IngestSummary, 'multistream_index' | 'decompressor' | 'workers' | 'resumed_at' | 'wikitext_mb' | 'peak_rss_mb' | 'seconds'>): Promise<IngestSummary> {
  const memory_limit = await memoryLimit(db);
  const q = <T>(sql: string) => rows<T>(db.conn, sql);
  const nsRows = await q<{ ns: string; n: number }>(`SELECT coalesce(ns::VARCHAR, 'unknown') AS ns, count(*)::INTEGER AS n FROM (SELECT ns FROM pages UNION ALL SELECT ns FROM skipped) GROUP BY 1 ORDER BY min(coalesce(ns, 1e9))`);
  const [c] = await q<Record<string, number>>(`SELECT
      (SELECT count(*) FROM pages)::INTEGER + (SELECT count(*) FROM skipped)::INTEGER AS pages,
      (SELECT count(*) FROM articles)::INTEGER AS articles,
      (SELECT count(*) FROM redirects)::INTEGER AS redirects,
      (SELECT count(*) FILTER (disambiguation) FROM articles)::INTEGER AS disambiguations,
      (SELECT count(*) FROM links)::INTEGER AS links,
      (SELECT count("offset") FROM links)::INTEGER AS links_in_text,
      (SELECT count(*) FROM skipped)::INTEGER AS skipped`);
  const elsewhere = await q<{ origin: string; n: number }>(`SELECT origin, count(*)::INTEGER AS n FROM links WHERE "offset" IS NULL GROUP BY 1 ORDER BY 2 DESC, 1`);
  const reasons = await q<{ reason: string; n: number }>(`SELECT reason, count(*)::INTEGER AS n FROM skipped GROUP BY 1 ORDER BY 2 DESC, 1`);
  const [site] = await q<{ dbname: string | null }>(`SELECT json_extract_string(siteinfo, '$.dbname') AS dbname FROM runs WHERE stage = 'ingest'`);
  return {
    stage: 'ingest',
    dump: opts.dump,
    db: db.path,
    dbname: site?.dbname ?? null,
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
