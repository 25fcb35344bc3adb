/**
 * The reader of MediaWiki XML dumps. The main thread only cuts the decompressed bytes into runs of
 * whole pages (at `</page>`); each run goes to a worker thread (pool.ts), which parses and cleans
 * its pages, and the rows come back in run order to be written. The dump's header (its siteinfo)
 * is read here before the first page; damaged bz2 blocks and streams (--on-damage skip) are
 * written as skipped pages in their place.
 */
import type { Db } from '../../db/duckdb.js';
import type { PageRows } from '../../db/rows.js';
import { recordSiteInfo } from '../../db/runs.js';
import { DecompressError } from '../../dump/bz2.js';
import { streamPages, type StreamIndex } from '../../dump/multistream.js';
import { withLanguage, type SiteInfo } from '../../dump/siteinfo.js';
import type { DamagedBlock, DamagedStream, DumpSource } from '../../dump/source.js';
import { PageSplitter, type PageRun } from '../../dump/split.js';
import { DumpSyntaxError, PageReader, readTrailer } from '../../dump/xml.js';
import { Titles } from '../../wiki/title.js';
import { DEFAULT_MAX_RECORD, sizeText, type IngestOptions } from '../options.js';
import type { PagePool, RunResult } from '../pool.js';
import type { BatchWriter } from '../writer.js';
import type { InputReader, ReaderContext } from './reader.js';

/** The dump's closing tag, which a file cut short lacks. */
const CLOSING = /<\/mediawiki\s*>/;

/** A title as the XML escapes it, unescaped (the entities a dump writes). */
function unescapeXml(s: string): string {
  return s.replace(/&quot;/g, '"').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&#039;/g, "'").replace(/&amp;/g, '&');
}

function countLines(s: string): number {
  let n = 0;
  for (let i = s.indexOf('\n'); i >= 0; i = s.indexOf('\n', i + 1)) n++;
  return n;
}

export class WikiInput implements InputReader {
  private pool: PagePool | null = null;
  site: SiteInfo | null = null;
  private readonly header: PageReader;
  private readonly split: PageSplitter;
  private readonly ordered: Promise<RunResult>[] = [];
  private readonly writer: BatchWriter;
  private readonly maxBuffered: number;
  private checkedIndex = false;
  private damagedEnd = false;
  /** what the user should know about this input though the ingest completed (a truncated file) */
  readonly warnings: string[] = [];
  private headerChunks: Buffer[] | null = [];
  private headerBytes = 0;
  wikitextBytes = 0;

  private readonly db: Db;
  private readonly opts: IngestOptions;
  private readonly resumeAt: number;
  private readonly base: number;

  constructor(
    ctx: ReaderContext,
    private readonly source: DumpSource,
    private readonly index: StreamIndex | null,
    /** started by ingest() before the input is read, told the input at its first page */
    private readonly pages: Promise<PagePool>,
    workers: number,
  ) {
    ({ db: this.db, opts: this.opts, resumeAt: this.resumeAt, base: this.base, writer: this.writer } = ctx);
    this.maxBuffered = workers * 4; // runs (about 1 MB of XML each) parsed or in the workers, not yet written
    this.header = new PageReader(source.file, this.base + source.firstSeq);
    this.split = new PageSplitter(this.base + source.firstSeq, this.opts.runBytes, this.opts.maxRecord);
  }

  readonly kind = 'wiki';

  get pagesRead(): number {
    return this.split.seq - this.source.firstSeq;
  }

  /** seq after this input's last page */
  get endSeq(): number {
    return this.split.seq;
  }

  async push(b: Buffer | DamagedStream | DamagedBlock): Promise<void> {
    if (Buffer.isBuffer(b)) await this.take(this.split.push(b));
    else if ('damagedBlock' in b) await this.skipBlock(b);
    else await this.skipStream(b);
  }

  async end(damage: Error | null): Promise<void> {
    const last = this.split.end();
    await this.take(last);
    await this.drain(); // damage inside a run before the decompressor's comes first, as it does in the dump
    if (damage instanceof DecompressError && damage.truncated && this.site && this.header.root === 'mediawiki' && this.opts.unit?.toSeq == null) {
      // a compressed file cut short is an XML file cut short: its complete pages are in
      return this.truncated(last.trailer.toString('utf8'), true);
    }
    if (damage) {
      if (this.opts.onDamage === 'skip' && damage instanceof DecompressError && this.source.format === 'gzip') {
        damage.message += ' (--on-damage skip goes on after a damaged bz2 block or stream; gzip cannot be read past damage)';
      }
      throw damage;
    }
    if (!this.site) {
      // no page at all: the header is the whole file
      this.flushHeader();
      this.header.end();
      if (this.header.root !== 'mediawiki') throw new DumpSyntaxError(`${this.source.file}: not a MediaWiki XML dump (its root element is <${this.header.root ?? 'none'}>)`);
      return;
    }
    const trailer = last.trailer.toString('utf8');
    if (this.header.root === undefined && !trailer.trim()) {
      // pages with no <mediawiki> around them: a fragment cut out of a dump
      if (this.opts.onDamage !== 'skip') throw new DumpSyntaxError(`${this.source.file}: its pages stand in no <mediawiki> element (a fragment cut out of a dump?); every page is kept, and --on-damage skip accepts such a file`);
      this.opts.log?.(`${this.source.file}: no <mediawiki> element around the pages (a fragment); accepted (--on-damage skip)`);
      return;
    }
    // a damaged last stream or block takes the dump's closing tag with it
    // a unit that ends before the dump does has no trailer (the next unit's pages follow)
    if (this.opts.unit?.toSeq != null) return;
    if (this.damagedEnd || this.split.resyncing) return;
    if (!CLOSING.test(trailer)) return this.truncated(trailer);
    readTrailer(this.source.file, trailer, { seq: this.split.seq, line: this.split.line, column: this.split.column, site: this.site });
  }

  /**
   * The file ends without closing </mediawiki>, as a cut download does: after its last complete
   * page, or inside a page. Every complete page is in the database already. With --on-damage skip
   * the cut page (if any) is written as skipped and the ingest completes; without it, an error that
   * says so and names the flag.
   */
  private async truncated(trailer: string, compressed = false): Promise<void> {
    const complete = this.split.seq - this.base;
    const at = trailer.search(/<page[\s>]/);
    const line = this.split.line + (at < 0 ? countLines(trailer) : countLines(trailer.slice(0, at)));
    const title = at < 0 ? undefined : /<title>([^<]*)<\/title>/.exec(trailer.slice(at, at + 4096))?.[1];
    const ends = compressed ? `the file ends inside its ${this.source.format} data, ` : 'the file ends ';
    const where = at < 0 ? `${ends}${compressed ? 'after' : 'at'} line ${line} without closing </mediawiki>` : `${ends}inside a page (the <page> at line ${line}${title ? `, ${JSON.stringify(unescapeXml(title))}` : ''})`;
    if (this.opts.onDamage !== 'skip') {
      throw new DumpSyntaxError(`${this.source.file}: ${where}: a truncated file? Its ${complete.toLocaleString('en')} complete pages are in the database; --on-damage skip keeps them${at < 0 ? '' : ', records the cut page as skipped'} and completes the ingest`);
    }
    const warning = `${this.source.file}: ${where}: a truncated file; its ${complete.toLocaleString('en')} complete pages are kept${at < 0 ? '' : ' and the cut page is in skipped'} (--on-damage skip); pages after the cut, if there were any, are not in the file`;
    this.warnings.push(warning);
    this.opts.log?.(warning);
    if (at < 0) return;
    const seq = this.split.seq++;
    if (seq >= this.resumeAt) this.skipPage(seq, trailer.slice(at, at + 4096), 'truncated: the file ends inside this page', line);
    await this.drain();
  }

  /**
   * A damaged bz2 block (--on-damage skip, a dump read block by block): the whole pages before it go
   * to the workers; the page it cuts into is written as skipped (with the title and id its first
   * bytes hold), in its place; what the block held is lost, and reading resumes at the next <page>.
   */
  private async skipBlock(d: DamagedBlock): Promise<void> {
    let lost: { runs: PageRun[]; partial: Buffer };
    try {
      lost = this.split.lose();
    } catch {
      throw new DecompressError(`${d.error} (inside the dump's header: nothing can be read without it)`);
    }
    await this.take({ header: null, runs: lost.runs });
    this.opts.log?.(`leaving out a damaged bz2 block (${d.error}) and the pages in it`);
    const text = lost.partial.toString('utf8');
    if (!/<page[\s>]/.test(text)) return; // the block began between two pages
    const seq = this.split.seq++;
    if (seq >= this.resumeAt) this.skipPage(seq, text, `damaged bz2 block (bytes ${d.start}–${d.end}): this page and any wholly inside the block are lost`, null);
  }

  /** A page written as skipped in its place, named by what its first bytes hold (title, id). */
  private skipPage(seq: number, head: string, reason: string, line: number | null): void {
    const title = /<title>([^<]*)<\/title>/.exec(head)?.[1];
    const id = /<id>(\d+)<\/id>/.exec(head)?.[1];
    const unescaped = title === undefined ? null : unescapeXml(title);
    const ns = unescaped && this.site ? new Titles(this.site).normalize(unescaped).ns : null;
    this.ordered.push(Promise.resolve({ id: -1, first: null, rows: [{ seq, wikitextBytes: 0, skipped: { seq, page_id: id ? Number(id) : null, ns, title: unescaped, reason, line } }], error: null }));
  }

  /** Header bytes are held until the first page, so that a dump starting inside a page can be told apart. */
  private addHeader(b: Buffer): void {
    if (!this.headerChunks) return this.header.write(b.toString('utf8'));
    this.headerChunks.push(b);
    this.headerBytes += b.length;
    if (this.headerBytes > 64 << 20) this.flushHeader(); // no dump has such a header: let the XML reader judge it as it comes
  }

  /**
   * The header is complete (or too long to be one). A `</page>` in it is the end of a page whose
   * start is not in the file (a fragment cut out of a dump): an error, or with --on-damage skip
   * that partial page is passed over and the whole pages after it are read.
   */
  private flushHeader(): void {
    if (!this.headerChunks) return;
    let text = Buffer.concat(this.headerChunks).toString('utf8');
    this.headerChunks = null;
    const cut = text.lastIndexOf('</page>');
    // only white space between that </page> and the first <page>: the tail of a page, not some other text
    if (cut >= 0 && !text.slice(cut + '</page>'.length).trim()) {
      const line = text.slice(0, cut).split('\n').length;
      if (this.opts.onDamage !== 'skip') throw new DumpSyntaxError(`${this.source.file}: the file starts inside a page (a </page> at line ${line} comes before any <page>): a fragment cut out of a dump? --on-damage skip passes over that partial page and reads the whole pages after it`);
      this.opts.log?.(`${this.source.file}: passing over lines 1–${line}, the end of a page cut at its start (--on-damage skip)`);
      text = text.slice(cut + '</page>'.length);
    }
    this.header.write(text);
  }

  /**
   * A damaged page stream (--on-damage skip): the pages read before it go to the workers, then each
   * page the index lists in it is written as skipped, in its place in the page order.
   */
  private async skipStream(d: DamagedStream): Promise<void> {
    d = { ...d, firstSeq: this.base + d.firstSeq, nextSeq: this.base + d.nextSeq };
    await this.take({ header: null, runs: this.split.skipTo(d.nextSeq) });
    this.opts.log?.(`skipping ${d.nextSeq - d.firstSeq} pages of a damaged bz2 stream (${d.error})`);
    if (!this.pool) await this.begin(); // the first page stream was the damaged one
    const titles = new Titles(this.site!);
    const listed = await streamPages(this.index!, d.stream);
    const reason = `damaged bz2 stream (bytes ${d.start}–${d.end})`;
    const rows: PageRows[] = [];
    for (let seq = Math.max(d.firstSeq, this.resumeAt); seq < d.nextSeq; seq++) {
      const p = listed[seq - d.firstSeq];
      const title = p?.title ?? null;
      rows.push({ seq, wikitextBytes: 0, skipped: { seq, page_id: p?.id ?? null, ns: title ? titles.normalize(title).ns : null, title, reason, line: null } });
    }
    this.ordered.push(Promise.resolve({ id: -1, first: null, rows, error: null }));
    this.damagedEnd = d.nextSeq >= this.base + this.index!.pages;
  }

  private async take({ header, runs }: { header: Buffer | null; runs: PageRun[] }): Promise<void> {
    if (header?.length) this.addHeader(header);
    if (!runs.length) return;
    const pool = this.pool ?? (await this.begin());
    for (const run of runs) {
      if (run.oversized) {
        // one reason for all such pages (the summary counts by reason): the cap, not each size
        if (run.seq >= this.resumeAt) this.skipPage(run.seq, run.oversized.head, `too large: its XML is over --max-record (${sizeText(this.opts.maxRecord ?? DEFAULT_MAX_RECORD)})`, run.line);
        continue;
      }
      this.ordered.push(
        pool.parse(run, this.resumeAt).then((r) => {
          this.split.done(run);
          return r;
        }),
      );
      while (this.ordered.length > this.maxBuffered) await this.write(await this.ordered.shift()!);
    }
  }

  /** At the first page: the header is complete, the workers can start. */
  private async begin(): Promise<PagePool> {
    this.flushHeader();
    this.header.finishHeader();
    this.site = withLanguage(this.header.siteinfo!, this.opts.lang);
    this.pool = await this.pages;
    this.pool.begin({ file: this.source.file, site: this.site });
    await recordSiteInfo(this.db, this.site);
    return this.pool;
  }

  /** Writes a run's rows; its damage, if any, ends the ingest once the pages before it are in. */
  private async write(r: RunResult): Promise<void> {
    if (!this.checkedIndex && r.first) {
      this.checkedIndex = true;
      const first = r.first;
      if (this.index && this.resumeAt > 0) {
        const k = this.index.firstSeq.indexOf(first.seq - this.base);
        if (k < 0 || this.index.firstId[k] !== first.id) {
          throw new Error(`${this.index.file} does not match ${this.source.file}: page ${first.seq} has id ${first.id}, the index says ${this.index.firstId[k] ?? 'nothing'}`);
        }
      }
    }
    for (const rows of r.rows) {
      this.wikitextBytes += rows.wikitextBytes;
      await this.writer.add(rows);
    }
    if (r.error) throw new DumpSyntaxError(r.error); // the runs after it are not written
  }

  private async drain(): Promise<void> {
    while (this.ordered.length) await this.write(await this.ordered.shift()!);
  }

  /**
   * Commits the last batch. After a failure, the runs not yet written are dropped: read() has
   * already written every page before the dump's damage, and a failure of our own (a worker's,
   * the index check) ends the ingest where it happened.
   */
  async finish(failure: Error | null): Promise<void> {
    try {
      if (!failure) await this.drain();
      for (const dropped of this.ordered.splice(0)) dropped.catch(() => {}); // their workers are stopped below
      await this.writer.commit();
    } finally {
      // after a failure the runs still in the workers are not wanted; else the pool serves the next input
      if (failure) await this.pool?.close();
    }
  }
}

