/**
 * The ingest stage: dump → pages, articles (clean text), redirects and links in DuckDB.
 *
 * main thread:  decompress → cut into runs of whole pages (bytes) ─────────────┐
 * workers:      run → UTF-8 → saxes → classify each page → wtf_wikipedia ───────┤ ordered (by run)
 * main thread:                          batch (Appenders + checkpoint, one transaction) ←┘
 *
 * The main thread never parses page text: it only finds </page> in bytes and appends rows.
 */
import { createHash } from 'node:crypto';
import { listValue } from '@duckdb/node-api';
import { availableParallelism } from 'node:os';
import { createReadStream, existsSync, readdirSync, statSync } from 'node:fs';
import { open, readFile, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { applySchema, memoryLimit, moveDb, openDb, removeDb, rows, type Db } from '../db/duckdb.js';
import { finishRun, getRun, startRun } from '../db/runs.js';
import { openDump, type DamagedBlock, type DamagedStream, type DumpSource } from '../dump/source.js';
import { DecompressError } from '../dump/bz2.js';
import { Titles } from '../wiki/title.js';
import { jsonlRows } from '../corpus/jsonl.js';
import { bookFiles, booksBytes, booksSha256, isBooks } from '../corpus/books.js';
import { isPubmed, PubmedReader } from '../corpus/pubmed.js';
import { isJats, JatsReader } from '../corpus/pmc.js';
import { defaultSiteInfo } from '../dump/siteinfo.js';
import type { PageRows } from './rows.js';
import { indexBeside, readIndex, streamPages, type StreamIndex } from '../dump/multistream.js';
import { PageSplitter, type PageRun } from '../dump/split.js';
import { DumpSyntaxError, PageReader, readTrailer } from '../dump/xml.js';
import type { SiteInfo } from '../dump/siteinfo.js';
import { PagePool, type RunResult } from './pool.js';
import { BatchWriter } from './writer.js';
import { sha256Of } from '../util/hash.js';

export interface IngestOptions {
  /** the input, or several: read in order into one database (their documents one corpus) */
  dump: string | string[];
  db: string;
  /** multistream index; undefined: look beside the dump; null: read the dump whole */
  index?: string | null;
  workers?: number;
  /** replace what the DB holds even if it came from another dump */
  force?: boolean;
  batchPages?: number;
  /** keep list items in the clean text (default: text passages only, as BERT's and WikiExtractor's) */
  keepLists?: boolean;
  /** longest a worker may spend on one page before it is skipped as a parse timeout (default 30 s) */
  pageTimeout?: number;
  /** size of the runs of pages sent to the workers (about 1 MB by default; tests make it small) */
  runBytes?: number;
  /** DuckDB's memory limit, bytes */
  memory?: number;
  /** log each committed batch */
  verbose?: boolean;
  /**
   * What a damaged bz2 stream or block does: `stop` the ingest there (default; the pages before it
   * are kept), or `skip` it and go on: a multistream dump's stream through its index (its pages
   * counted in `skipped`), or a block of a dump read block by block (bz2blocks.ts).
   */
  onDamage?: 'stop' | 'skip';
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
  dump: string; // as given
  /** the dump file's size and SHA-256 (of the whole file, taken once its pages are all read) */
  dump_bytes: number;
  dump_sha256: string | null;
  /** each input (the one, or several) as it was read, and where its pages are (the page_inputs view) */
  inputs?: InputRange[];
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
  if (isBooks(file) && statSync(file).isDirectory()) {
    const h = createHash('sha256');
    for (const f of bookFiles(file)) h.update(`${basename(f)}\0${await fingerprint(f)}\n`);
    return `books:${h.digest('hex').slice(0, 32)}`;
  }
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
  if (opts.onDamage !== undefined && opts.onDamage !== 'stop' && opts.onDamage !== 'skip') throw new Error(`--on-damage must be stop or skip, not '${opts.onDamage}'`);
  if (opts.pageTimeout !== undefined && !(opts.pageTimeout > 0)) throw new Error(`--page-timeout must be a number of seconds > 0, not ${opts.pageTimeout}`);
  const inputs = (Array.isArray(opts.dump) ? opts.dump : [opts.dump]).flatMap(folderInputs);
  if (!inputs.length) throw new Error('--dump FILE is required');
  if (inputs.length > 1 && opts.index) throw new Error('--index names the index of one dump; with several --dump, each multistream dump\'s index is found beside it');
  const dump = inputs.join(' + '); // how the input is named in messages, the run and the summary
  for (const f of inputs) await checkMd5(f);
  const fp = inputs.length === 1 ? await fingerprint(inputs[0]!) : `inputs:${createHash('sha256').update((await Promise.all(inputs.map(fingerprint))).join('\n')).digest('hex').slice(0, 32)}`;
  const indexFile = inputs.length > 1 ? null : opts.index === undefined ? indexBeside(inputs[0]!) : opts.index;
  const existed = existsSync(opts.db);
  let db = await openDb(opts.db, { memory: opts.memory });
  let pool: Promise<PagePool> | null = null; // one for all inputs
  let building: string | null = null; // a new database is built here (beside opts.db when that holds something), kept once the dump has proved to be one
  let proved = false;
  try {
    // What the DB holds now: this dump (complete or to resume), another dump, someone else's tables, or nothing.
    const prev = await getRun(db, 'ingest');
    if (prev && prev.fingerprint !== fp && !opts.force) {
      throw new Error(`${opts.db} already holds ${prev.source} (another dump); pass --force to replace it, or choose another --db`);
    }
    const foreign = prev ? [] : await foreignTables(db);
    if (foreign.length && !opts.force) {
      throw new Error(`${opts.db} is not a linkbert-pipeline database (it holds ${foreign.slice(0, 5).join(', ')}${foreign.length > 5 ? ', …' : ''}); choose another --db, or pass --force to replace it`);
    }
    const same = prev && prev.fingerprint === fp && !opts.force;
    const keepLists = opts.keepLists ?? false;
    const before = prev?.settings ? (JSON.parse(prev.settings) as { keep_lists?: boolean }).keep_lists : undefined;
    if (same && before !== undefined && before !== keepLists) {
      throw new Error(`${opts.db} holds ${basename(dump)} ingested ${before ? 'with' : 'without'} --keep-lists; rerun ${before ? 'with' : 'without'} it, or pass --force to ingest it again ${keepLists ? 'with' : 'without'} lists`);
    }
    if (same && prev.status === 'done' && prev.summary) {
      log(`${dump} is already ingested into ${opts.db}; nothing to do (--force re-ingests)`);
      return { ...(JSON.parse(prev.summary) as IngestSummary), already_done: true, seconds: secs(t0) };
    }
    // the workers load while the database is made ready and the dump's header is read (an input
    // that is no wiki dump, PubMed or JSON Lines, never uses them: a fifth of a CPU-second each)
    pool = PagePool.open(workers, { keepLists: opts.keepLists ?? false }, opts.pageTimeout ?? 30);
    pool.catch(() => {}); // a failure to start is met where the pool is first used
    let nextSeq = 0;
    if (same) {
      await applySchema(db);
      nextSeq = prev.next_seq ?? 0;
      // Uncommitted rows cannot exist (batches are transactions), but make the resume point exact.
      for (const t of INGEST_TABLES) await db.conn.run(`DELETE FROM ${t} WHERE ${t === 'links' ? 'src' : 'seq'} >= ${nextSeq}`);
      if (nextSeq > 0) log(`resuming ${basename(dump)} at page ${nextSeq}`);
    } else {
      // A new dump, or --force: a new file (deleted rows would keep the old one's size), and
      // everything derived from the old dump goes with it. What the old file holds stays until
      // the new dump has proved to be one: the new file is built beside it.
      db.close();
      const keep = existed && (prev !== undefined || foreign.length > 0);
      building = keep ? `${opts.db}.replacement` : opts.db; // a new file is ours to remove if nothing comes of it
      removeDb(building);
      db = await openDb(building, { memory: opts.memory });
      await applySchema(db);
    }
    // inputs completed by an earlier run of the same inputs (several --dump): where each one's pages are
    const done: InputRange[] = same && prev.settings ? ((JSON.parse(prev.settings) as { inputs?: InputRange[] }).inputs ?? []) : [];
    const settings = { index: indexFile, keep_lists: keepLists };
    await startRun(db, 'ingest', { source: dump, fingerprint: fp, settings: JSON.stringify(inputs.length > 1 ? { ...settings, inputs: done } : settings), nextSeq });

    // DuckDB only appends and commits while pages are read: one thread of its own, not one per
    // core beside the parsers (measured on 2 cores: about 2 CPU-s and 1 s less for the 6k bench).
    await db.conn.run('SET threads = 1');
    let failure: Error | null = null;
    let run: IngestRun | null = null;
    let decompressor: string | null = null;
    let wikitextBytes = 0;
    // one input after the other, page numbers (seq) going on from one to the next
    for (let k = done.length, base = done.at(-1)?.end_seq ?? 0; k < inputs.length; k++) {
      const file = inputs[k]!;
      const idxFile = inputs.length === 1 ? indexFile : indexBeside(file);
      const index = idxFile ? await readIndex(idxFile) : null;
      const source = await openDump(file, { index, fromSeq: Math.max(0, nextSeq - base), concurrency: Math.max(2, workers), skipDamaged: opts.onDamage === 'skip' });
      decompressor ??= source.decompressor;
      run = new IngestRun(db, source, index, pool, Math.max(nextSeq, base), workers, opts, base);
      try {
        await run.read();
      } catch (e) {
        failure = e as Error;
      }
      await run.finish(failure);
      wikitextBytes += run.wikitextBytes;
      if (failure) break;
      const range = { file, kind: run.kind, first_seq: base, end_seq: run.endSeq };
      if (inputs.length > 1) {
        done.push(range);
        log(`${file}: pages ${base}–${run.endSeq - 1} of the database`);
        await db.conn.run(`UPDATE runs SET settings = $s, next_seq = ${run.endSeq} WHERE stage = 'ingest'`, { s: JSON.stringify({ ...settings, inputs: done }) });
      }
      else done.push(range);
      base = run.endSeq;
    }
    await db.conn.run('RESET threads');
    const summary = await summarize(db, opts, {
      multistream_index: indexFile,
      decompressor,
      workers,
      resumed_at: nextSeq > 0 ? nextSeq : null,
      wikitext_mb: wikitextBytes / 1e6,
      peak_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024),
      seconds: secs(t0),
      dump_bytes: (await Promise.all(inputs.map(async (f) => (isBooks(f) ? booksBytes(f) : (await stat(f)).size)))).reduce((a, b) => a + b, 0),
      // what exactly was ingested, for the shards' manifest (a few seconds for English Wikipedia's 20 GB)
      dump_sha256: failure ? null : await inputsSha256(inputs),
      inputs: done,
    });
    if (run?.site && inputs.length === 1) await db.conn.run(`UPDATE runs SET siteinfo = $site WHERE stage = 'ingest'`, { site: JSON.stringify(run.site) });
    await finishRun(db, 'ingest', summary, failure ? failure.message : null);
    // A dump that failed before its first page replaces nothing.
    proved = !failure || summary.pages > 0;
    if (failure && !proved && failure instanceof DumpSyntaxError && !failure.message.includes('not a MediaWiki XML dump')) {
      failure = new DumpSyntaxError(`${dump} is not a MediaWiki XML dump: ${failure.message.replace(`${dump}: `, '')}`);
    }
    if (failure) throw new IngestError(!proved ? `${failure.message} (${building === opts.db && !existed ? 'no database was made' : `${opts.db} is left as it was`})` : failure.message, summary);
    return summary;
  } finally {
    await pool?.then((p) => p.close(), () => {});
    db.close();
    if (building) {
      if (!proved) {
        if (building !== opts.db || !existed) removeDb(building);
      }
      else if (building !== opts.db) moveDb(building, opts.db);
    }
  }
}

/** Tables and views of a DuckDB file that the pipeline did not make (it has no `runs` table). */
async function foreignTables(db: Db): Promise<string[]> {
  const names = (await rows<{ name: string }>(db.conn, `SELECT table_name AS name FROM information_schema.tables WHERE table_catalog = current_database() AND table_schema = 'main' ORDER BY 1`)).map((r) => r.name);
  return names.includes('runs') ? [] : names;
}

function secs(t0: number): number {
  return Math.round((performance.now() - t0) / 10) / 100;
}

class IngestRun {
  private pool: PagePool | null = null;
  site: SiteInfo | null = null;
  private readonly header: PageReader;
  private readonly split: PageSplitter;
  private readonly ordered: Promise<RunResult>[] = [];
  private readonly writer: BatchWriter;
  private readonly maxBuffered: number;
  private checkedIndex = false;
  private damagedEnd = false;
  private headerChunks: Buffer[] | null = [];
  private headerBytes = 0;
  wikitextBytes = 0;
  private lastProgress = 0;
  private readonly t0 = performance.now();

  constructor(
    private readonly db: Db,
    private readonly source: DumpSource,
    private readonly index: StreamIndex | null,
    /** started by ingest() before the input is read, announced the input at its first page */
    private readonly pages: Promise<PagePool>,
    private readonly resumeAt: number,
    workers: number,
    private readonly opts: IngestOptions,
    /** seq of this input's first page (inputs before it in the same database hold the ones below) */
    private readonly base = 0,
  ) {
    this.writer = new BatchWriter(db, resumeAt, opts.batchPages, opts.verbose ? (n) => opts.log?.(`committed pages below ${n}`) : undefined);
    this.maxBuffered = workers * 4; // runs (about 1 MB of XML each) parsed or in the workers, not yet written
    this.header = new PageReader(source.file, base + source.firstSeq);
    this.split = new PageSplitter(base + source.firstSeq, opts.runBytes);
  }

  get pagesRead(): number {
    return this.jsonl ? this.jsonl.seq : this.pubmed ? this.pubmedDocs : this.split.seq - this.source.firstSeq;
  }
  private pubmedDocs = 0;
  private pubmedEnd = 0;

  /** what this input was read as */
  get kind(): string {
    if (this.source.format === 'text') return 'books';
    return this.jsonl ? 'jsonl' : this.pubmed ? 'pubmed' : this.jats ? 'pmc' : 'wiki';
  }

  /** seq after this input's last page */
  get endSeq(): number {
    return this.jsonl ? this.jsonl.seq : this.pubmed || this.jats ? this.pubmedEnd : this.split.seq;
  }

  /**
   * A later PubMed file (an update file) replaces what earlier inputs hold of its PMIDs: a record
   * again (a newer version) or deleted (DeleteCitation).
   */
  private async replaceEarlier(pmids: string[]): Promise<void> {
    if (!pmids.length) return;
    const { conn } = this.db;
    const list = listValue(pmids);
    const earlier = `SELECT seq FROM pages WHERE seq < ${this.base} AND norm_title IN (SELECT unnest($ids))`;
    await conn.run('BEGIN TRANSACTION');
    try {
      await conn.run(`DELETE FROM links WHERE src IN (${earlier})`, { ids: list });
      await conn.run(`DELETE FROM articles WHERE seq IN (${earlier})`, { ids: list });
      await conn.run(`DELETE FROM skipped WHERE seq < ${this.base} AND page_id IN (SELECT unnest($ids)::BIGINT)`, { ids: list });
      await conn.run(`DELETE FROM pages WHERE seq IN (${earlier})`, { ids: list });
      await conn.run('COMMIT');
    } catch (e) {
      await conn.run('ROLLBACK').catch(() => {});
      throw e;
    }
  }

  /** A JSON Lines corpus (its first byte is `{`): one document per line, written in order here. */
  private jsonl: { seq: number; line: number; decoder: TextDecoder; rest: string } | null = null;
  private mode: 'xml' | 'jsonl' | 'pubmed' | 'jats' | null = null;
  /** A PMC full text (JATS): one document. */
  private jats: { reader: JatsReader; decoder: TextDecoder } | null = null;
  /** A PubMed/MEDLINE XML file: read whole (versions and deletes are resolved within it), then written. */
  private pubmed: { reader: PubmedReader; decoder: TextDecoder } | null = null;

  private async takeJsonl(b: Buffer | null): Promise<void> {
    const j = this.jsonl!;
    let text: string;
    try {
      text = j.rest + (b ? j.decoder.decode(b, { stream: true }) : j.decoder.decode());
    } catch {
      throw new DumpSyntaxError(`${this.source.file}: not UTF-8 text after line ${j.line}`);
    }
    const lines = text.split('\n');
    j.rest = b ? lines.pop()! : '';
    for (const line of lines) {
      j.line++;
      const rows = jsonlRows(this.source.file, line.endsWith('\r') ? line.slice(0, -1) : line, j.line, j.seq);
      if (!rows) continue;
      j.seq++;
      if (rows.seq < this.resumeAt) continue;
      this.wikitextBytes += rows.wikitextBytes;
      await this.writer.add(rows);
    }
    this.progress();
  }

  async read(): Promise<void> {
    let damage: Error | null = null;
    const bytes = this.source.bytes[Symbol.asyncIterator]();
    try {
      for (;;) {
        let next: IteratorResult<Buffer | DamagedStream | DamagedBlock>;
        try {
          next = await bytes.next();
        } catch (e) {
          damage = e as Error; // the decompressor's: the pages completed before it still go in
          break;
        }
        if (next.done) break;
        const b = next.value;
        if (Buffer.isBuffer(b) && this.mode === null && b.some((c) => c > 0x20)) {
          const head = b.subarray(0, 4096).toString('latin1');
          this.mode = b[b.findIndex((c) => c > 0x20)] === 0x7b ? 'jsonl' : isPubmed(head) ? 'pubmed' : isJats(head) ? 'jats' : 'xml';
          if (this.mode === 'jats') {
            this.jats = { reader: new JatsReader(this.source.file), decoder: new TextDecoder() };
            this.site = defaultSiteInfo();
            await this.db.conn.run(`UPDATE runs SET siteinfo = $s WHERE stage = 'ingest' AND siteinfo IS NULL`, { s: JSON.stringify(this.site) });
          }
          if (this.mode === 'pubmed') {
            this.pubmed = { reader: new PubmedReader(this.source.file), decoder: new TextDecoder() };
            this.site = defaultSiteInfo();
            // not a wiki: its defaults do not replace a wiki's siteinfo read from an earlier input
            await this.db.conn.run(`UPDATE runs SET siteinfo = $s WHERE stage = 'ingest' AND siteinfo IS NULL`, { s: JSON.stringify(this.site) });
          }
          if (this.mode === 'jsonl') {
            this.jsonl = { seq: this.base, line: 0, decoder: new TextDecoder('utf-8', { fatal: true }), rest: '' };
            this.site = defaultSiteInfo();
            // not a wiki: its defaults do not replace a wiki's siteinfo read from an earlier input
            await this.db.conn.run(`UPDATE runs SET siteinfo = $s WHERE stage = 'ingest' AND siteinfo IS NULL`, { s: JSON.stringify(this.site) });
          }
        }
        if (this.jats && Buffer.isBuffer(b)) this.jats.reader.write(this.jats.decoder.decode(b, { stream: true }));
        else if (this.pubmed && Buffer.isBuffer(b)) this.pubmed.reader.write(this.pubmed.decoder.decode(b, { stream: true }));
        else if (this.jsonl && Buffer.isBuffer(b)) await this.takeJsonl(b);
        else if (Buffer.isBuffer(b)) await this.take(this.split.push(b));
        else if ('damagedBlock' in b) await this.skipBlock(b);
        else await this.skipStream(b);
      }
    } finally {
      await bytes.return?.();
    }
    if (this.jsonl) {
      if (!damage) await this.takeJsonl(null);
      if (damage) throw damage;
      return;
    }
    if (this.jats) {
      if (damage) throw damage;
      this.jats.reader.write(this.jats.decoder.decode());
      const r = this.jats.reader.end(this.base);
      if (r.seq >= this.resumeAt) {
        this.wikitextBytes += r.wikitextBytes;
        await this.writer.add(r);
      }
      this.pubmedEnd = this.base + 1;
      return;
    }
    if (this.pubmed) {
      if (damage) throw damage; // a file is read whole before any record is written
      this.pubmed.reader.write(this.pubmed.decoder.decode());
      const { rows, deleted, versions, pmids } = this.pubmed.reader.end(this.base);
      if (this.base > 0) await this.replaceEarlier(pmids);
      if (deleted) this.opts.log?.(`${this.source.file}: ${deleted} record(s) removed by its DeleteCitation`);
      if (versions) this.opts.log?.(`${this.source.file}: ${versions} older version(s) of records left out (the highest Version of a PMID wins)`);
      for (const r of rows) {
        if (r.seq < this.resumeAt) continue;
        this.wikitextBytes += r.wikitextBytes;
        await this.writer.add(r);
      }
      this.pubmedDocs = rows.length;
      this.pubmedEnd = this.base + rows.length;
      return;
    }
    const last = this.split.end();
    await this.take(last);
    await this.drain(); // damage inside a run before the decompressor's comes first, as it does in the dump
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
    if (!this.damagedEnd && !this.split.resyncing) readTrailer(this.source.file, trailer, { seq: this.split.seq, line: this.split.line, column: this.split.column, site: this.site });
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
    const title = /<title>([^<]*)<\/title>/.exec(text)?.[1];
    const id = /<id>(\d+)<\/id>/.exec(text)?.[1];
    const seq = this.split.seq++;
    if (seq < this.resumeAt) return;
    const unescaped = title === undefined ? null : title.replace(/&quot;/g, '"').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&#039;/g, "'").replace(/&amp;/g, '&');
    const ns = unescaped && this.site ? new Titles(this.site).normalize(unescaped).ns : null;
    const reason = `damaged bz2 block (bytes ${d.start}–${d.end}): this page and any wholly inside the block are lost`;
    this.ordered.push(Promise.resolve({ id: -1, first: null, rows: [{ seq, wikitextBytes: 0, skipped: { seq, page_id: id ? Number(id) : null, ns, title: unescaped, reason, line: null } }], error: null }));
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
      this.ordered.push(
        pool.parse(run, this.resumeAt).then((r) => {
          this.split.done(run);
          return r;
        }),
      );
      while (this.ordered.length > this.maxBuffered) await this.write(await this.ordered.shift()!);
    }
    this.progress();
  }

  /** At the first page: the header is complete, the workers can start. */
  private async begin(): Promise<PagePool> {
    this.flushHeader();
    this.header.finishHeader();
    this.site = this.header.siteinfo!;
    this.pool = await this.pages;
    this.pool.begin({ file: this.source.file, site: this.site });
    await this.db.conn.run(`UPDATE runs SET siteinfo = $s WHERE stage = 'ingest'`, { s: JSON.stringify(this.site) });
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
    this.opts.onProgress?.({ pages: this.pagesRead, bytesRead: this.source.bytesRead(), totalBytes: this.source.totalBytes, wikitextBytes: this.wikitextBytes, seconds: (performance.now() - this.t0) / 1000 });
  }
}

/** A `.md5` file beside the input (as PubMed's baseline has, `MD5(name)= hex`, or md5sum's `hex  name`) must match it. */
async function checkMd5(file: string): Promise<void> {
  const side = `${file}.md5`;
  if (!existsSync(side)) return;
  const text = await readFile(side, 'utf8');
  const want = /\b([0-9a-f]{32})\b/i.exec(text)?.[1]?.toLowerCase();
  if (!want) throw new Error(`${side}: no MD5 checksum in it`);
  const h = createHash('md5');
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) h.update(chunk as Buffer);
  const got = h.digest('hex');
  if (got !== want) throw new Error(`${file}: MD5 is ${got}, but ${side} says ${want}: the file is damaged or not the one the checksum was made for`);
}

/**
 * A folder of dumps (PubMed baseline files, PMC articles…) is its files, in name order, each read
 * as what its content says; checksum and index files beside them are not inputs. A folder of .txt
 * files is one input of books.
 */
function folderInputs(path: string): string[] {
  if (!existsSync(path) || !statSync(path).isDirectory()) return [path];
  const names = readdirSync(path).sort();
  if (names.some((f) => /\.txt$/i.test(f))) return [path];
  const files = names.filter((f) => !f.startsWith('.') && !/\.md5$|-index\.txt\.bz2$/i.test(f) && statSync(join(path, f)).isFile()).map((f) => join(path, f));
  if (!files.length) throw new Error(`${path}: an empty folder`);
  return files;
}

/** Where one of several inputs' pages are in the database: seq first_seq … end_seq - 1. */
export interface InputRange {
  file: string;
  /** what it was read as: wiki (a MediaWiki dump), pubmed, pmc, jsonl or books */
  kind: string;
  first_seq: number;
  end_seq: number;
}

/** SHA-256 of the input; of several, of their `sha256  name` lines (as sha256sum prints them). */
async function inputsSha256(inputs: string[]): Promise<string> {
  const one = (f: string) => (isBooks(f) ? booksSha256(f) : sha256Of(f));
  if (inputs.length === 1) return one(inputs[0]!);
  const lines = [];
  for (const f of inputs) lines.push(`${await one(f)}  ${f}\n`);
  return createHash('sha256').update(lines.join('')).digest('hex');
}

async function summarize(db: Db, opts: IngestOptions, extra: Pick<IngestSummary, 'multistream_index' | 'decompressor' | 'workers' | 'resumed_at' | 'wikitext_mb' | 'peak_rss_mb' | 'seconds' | 'dump_bytes' | 'dump_sha256' | 'inputs'>): Promise<IngestSummary> {
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
    dump: Array.isArray(opts.dump) ? opts.dump.join(' + ') : opts.dump,
    db: opts.db,
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
