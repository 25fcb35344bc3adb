/**
 * Rows of the ingest tables, and the batch writer that puts them in through DuckDB Appenders.
 * A batch is one transaction together with the run's checkpoint (next_seq): a killed run loses at
 * most the batch in progress and resumes exactly after the last committed page.
 */
import { BOOLEAN, DuckDBTimestampValue, INTEGER, LIST, VARCHAR, type DuckDBAppender } from '@duckdb/node-api';
import { ChunkAppender, list } from '../db/chunks.js';
import type { Db } from '../db/duckdb.js';
import { LINK_ORIGINS, type PageRows } from '../db/rows.js';
import { isInterrupted, recordNextSeq } from '../db/runs.js';

function int(a: DuckDBAppender, v: number | null): void {
  if (v === null) a.appendNull();
  else a.appendInteger(v);
}
function big(a: DuckDBAppender, v: number | null): void {
  if (v === null) a.appendNull();
  else a.appendBigInt(BigInt(v));
}
function str(a: DuckDBAppender, v: string | null): void {
  if (v === null) a.appendNull();
  else a.appendVarchar(v);
}

// articles and links, the bulk of the rows, go in a DataChunk at a time (their lists as numbers)
interface Appenders { pages: DuckDBAppender; articles: ChunkAppender; redirects: DuckDBAppender; links: ChunkAppender; skipped: DuckDBAppender }
const ARTICLE_TYPES = [INTEGER, VARCHAR, BOOLEAN, VARCHAR, LIST(INTEGER), LIST(INTEGER), LIST(INTEGER)];
const LINK_TYPES = [INTEGER, INTEGER, VARCHAR, INTEGER, VARCHAR, VARCHAR, INTEGER, VARCHAR];

/**
 * Rows are appended as they come (the JS objects die young instead of waiting for the commit in
 * the heap); a batch is the transaction they go in, committed with the checkpoint once it holds
 * `maxPages` pages or `maxBytes` of wikitext.
 */
export class BatchWriter {
  private open: Appenders | null = null;
  private pages = 0;
  private bytes = 0;
  private nextSeq: number;
  committedSeq: number;

  constructor(
    private readonly db: Db,
    nextSeq: number,
    private readonly maxPages = 5000,
    private readonly onCommit?: (nextSeq: number) => void,
    private readonly maxBytes = 16 << 20,
  ) {
    this.committedSeq = this.nextSeq = nextSeq;
  }

  /** Appends one page's rows (in seq order); commits when the batch is full. */
  async add(r: PageRows): Promise<void> {
    const a = this.open ?? (await this.begin());
    try {
      append(a, r);
    } catch (e) {
      await this.rollback();
      throw e;
    }
    this.nextSeq = r.seq + 1;
    this.pages++;
    this.bytes += r.wikitextBytes;
    if (this.pages >= this.maxPages || this.bytes >= this.maxBytes) await this.commit();
  }

  async commit(): Promise<void> {
    const a = this.open;
    if (!a) return;
    // after Ctrl-C the open transaction was rolled back and the run recorded as interrupted: this batch is not written
    if (isInterrupted()) throw new Error('interrupted');
    const { conn } = this.db;
    try {
      for (const x of Object.values(a)) x.closeSync();
      this.open = null;
      await recordNextSeq(this.db, this.nextSeq);
      await conn.run('COMMIT');
    } catch (e) {
      await this.rollback();
      throw e;
    }
    this.pages = 0;
    this.bytes = 0;
    this.committedSeq = this.nextSeq;
    this.onCommit?.(this.nextSeq);
  }

  private async begin(): Promise<Appenders> {
    const { conn } = this.db;
    await conn.run('BEGIN TRANSACTION');
    this.open = {
      pages: await conn.createAppender('pages'),
      articles: new ChunkAppender(await conn.createAppender('articles'), ARTICLE_TYPES),
      redirects: await conn.createAppender('redirects'),
      links: new ChunkAppender(await conn.createAppender('links'), LINK_TYPES),
      skipped: await conn.createAppender('skipped'),
    };
    return this.open;
  }

  private async rollback(): Promise<void> {
    this.open = null;
    this.pages = 0;
    this.bytes = 0;
    this.nextSeq = this.committedSeq;
    await this.db.conn.run('ROLLBACK').catch(() => {});
  }
}

function append(a: Appenders, r: PageRows): void {
  const { pages, articles, redirects, links, skipped } = a;
    if (r.page) {
      const p = r.page;
      pages.appendInteger(p.seq);
      big(pages, p.page_id);
      pages.appendInteger(p.ns);
      pages.appendVarchar(p.title);
      pages.appendVarchar(p.norm_title);
      big(pages, p.rev_id);
      const ms = p.timestamp ? Date.parse(p.timestamp) : NaN;
      if (Number.isNaN(ms)) pages.appendNull();
      else pages.appendTimestamp(new DuckDBTimestampValue(BigInt(ms) * 1000n));
      pages.appendVarchar(p.kind);
      int(pages, p.text_bytes);
      pages.endRow();
    }
    if (r.article) {
      const a = r.article;
      articles.row([a.seq, a.title, a.disambiguation, a.text, list(a.sent_start), list(a.sent_len), list(a.para_first)]);
    }
    if (r.redirect) {
      const d = r.redirect;
      redirects.appendInteger(d.seq);
      redirects.appendInteger(d.ns);
      redirects.appendVarchar(d.title);
      redirects.appendVarchar(d.target);
      redirects.appendInteger(d.target_ns);
      str(redirects, d.fragment);
      redirects.appendVarchar(d.source);
      redirects.endRow();
    }
    const l = r.links;
    for (let k = 0; l && k < l.idx.length; k++) {
      const offset = l.offset[k]!;
      links.row([r.seq, l.idx[k]!, l.target[k]!, l.target_ns[k]!, l.fragment[k]!, l.anchor[k]!, offset < 0 ? null : offset, LINK_ORIGINS[l.origin[k]!]!]);
    }
    if (r.skipped) {
      const s = r.skipped;
      skipped.appendInteger(s.seq);
      big(skipped, s.page_id);
      int(skipped, s.ns);
      str(skipped, s.title);
      skipped.appendVarchar(s.reason);
      int(skipped, s.line);
      skipped.endRow();
    }
}
