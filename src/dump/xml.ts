/**
 * Streaming parse of a MediaWiki XML export (schemas 0.3–0.11) with saxes: siteinfo, then one
 * DumpPage per <page>. Push-based: write() decoded text, take() the pages completed so far.
 * Memory is bounded by one page's text plus the pages not yet taken. A run of whole <page>
 * elements cut out of a dump (readPages) parses the same way, with lines counted from where it
 * stood in the dump.
 */
import { SaxesParser, type SaxesTagPlain } from 'saxes';
import { defaultSiteInfo, type CaseSetting, type Namespace, type SiteInfo } from './siteinfo.js';

export interface DumpPage {
  seq: number; // position among all <page> elements of the dump, 0-based
  title: string | null;
  ns: number | null; // null when the page had no <ns> (old schemas, damaged pages)
  id: number | null;
  redirect: string | null; // <redirect title="…"/>
  revId: number | null;
  timestamp: string | null;
  text: string | null; // null when the page had no <text> or it was marked deleted
  line: number; // line of the <page> tag in the decompressed XML
}

export class DumpSyntaxError extends Error {
  override name = 'DumpSyntaxError';
}

const SITE_FIELDS = new Set(['sitename', 'dbname', 'base', 'generator', 'case']);

export class PageReader {
  private readonly parser: SaxesParser;
  private readonly stack: string[] = [];
  private pages: DumpPage[] = [];
  private page: DumpPage | null = null;
  private buf: string[] | null = null;
  private textDeleted = false;
  private site: SiteInfo | null = null;
  private siteDone = false;
  private nsAttrs: { key: number; case: CaseSetting } | null = null;
  private error: Error | null = null;
  private rev: Pick<DumpPage, 'revId' | 'timestamp' | 'text'> | null = null;
  private revSeen = false;
  /** name of the document's root element, once seen */
  root: string | undefined;
  seq: number;
  private readonly line0: number;
  private readonly column0: number;

  /** `at`: where the text starts in the dump (1-based line, 0-based column), and its siteinfo when it starts past it */
  constructor(
    private readonly fileName: string,
    firstSeq = 0,
    at: { line?: number; column?: number; site?: SiteInfo } = {},
  ) {
    this.seq = firstSeq;
    this.line0 = (at.line ?? 1) - 1;
    this.column0 = at.column ?? 0;
    if (at.site) {
      this.site = at.site;
      this.siteDone = true;
    }
    this.parser = new SaxesParser({ position: true });
    this.parser.on('opentag', (t) => this.open(t));
    this.parser.on('closetag', (t) => this.close(t.name));
    this.parser.on('text', (s) => this.buf?.push(s));
    this.parser.on('error', (e) => {
      this.error ??= new DumpSyntaxError(`${this.fileName}: malformed XML at line ${this.line}, column ${this.column}: ${e.message.replace(/^(?:.*?:)?\d+:\d+: /, '')}`);
    });
  }

  /** line in the dump */
  get line(): number {
    return this.line0 + this.parser.line;
  }

  private get column(): number {
    return this.parser.line === 1 ? this.column0 + this.parser.column : this.parser.column;
  }

  /** siteinfo once it has been read (or English defaults if the first page came without one) */
  get siteinfo(): SiteInfo | null {
    return this.siteDone ? this.site : null;
  }

  /** Throws at the first damage; pages completed before it can still be taken. */
  write(chunk: string): void {
    if (this.error) throw this.error;
    this.parser.write(chunk);
    if (this.error) throw this.error;
  }

  end(): void {
    this.parser.close();
    if (this.error) throw this.error;
    if (this.page) throw new DumpSyntaxError(`${this.fileName}: dump ends inside a <page> (line ${this.page.line})`);
  }

  /** Throws unless only the root element is open (a run of pages cut out of a dump ends complete). */
  checkClosed(): void {
    if (this.stack.length > 1) throw new DumpSyntaxError(`${this.fileName}: malformed XML at line ${this.page?.line ?? this.line}: <${this.stack[this.stack.length - 1]}> is not closed before the next page`);
  }

  /** Sets siteinfo from what was read so far (English defaults for what is missing), as the first <page> would. */
  finishHeader(): void {
    this.finishSite();
  }

  /** Pages completed since the last take(). */
  take(): DumpPage[] {
    const out = this.pages;
    this.pages = [];
    return out;
  }

  private open(t: SaxesTagPlain): void {
    if (this.error) return; // nothing after the damage counts
    const name = t.name;
    const parent = this.stack[this.stack.length - 1];
    if (!this.stack.length) this.root ??= name;
    this.stack.push(name);
    if (name === 'siteinfo') {
      this.site = { ...defaultSiteInfo(), namespaces: [], fromDump: true };
    } else if (this.site && !this.siteDone && parent === 'siteinfo' && SITE_FIELDS.has(name)) {
      this.buf = [];
    } else if (name === 'namespace' && this.site && !this.siteDone) {
      this.nsAttrs = { key: Number(t.attributes.key), case: (t.attributes.case as CaseSetting) || this.site.case };
      this.buf = [];
    } else if (name === 'page') {
      if (!this.siteDone) this.finishSite();
      this.page = { seq: this.seq++, title: null, ns: null, id: null, redirect: null, revId: null, timestamp: null, text: null, line: this.line };
      this.revSeen = false;
    } else if (this.page) {
      if (name === 'redirect' && parent === 'page') this.page.redirect = t.attributes.title ?? '';
      else if (name === 'revision' && parent === 'page') this.rev = { revId: null, timestamp: null, text: null };
      else if (name === 'text' && parent === 'revision') {
        this.textDeleted = 'deleted' in t.attributes;
        this.buf = [];
      } else if (
        (parent === 'page' && (name === 'title' || name === 'ns' || name === 'id')) ||
        (parent === 'revision' && (name === 'id' || name === 'timestamp'))
      ) {
        this.buf = [];
      }
    }
  }

  private close(name: string): void {
    if (this.error) return;
    this.stack.pop();
    const parent = this.stack[this.stack.length - 1];
    const value = this.buf?.join('') ?? '';
    if (this.buf) this.buf = null;
    if (name === 'siteinfo') return this.finishSite();
    if (this.site && !this.siteDone) {
      if (name === 'namespace' && this.nsAttrs) {
        this.site.namespaces.push({ key: this.nsAttrs.key, name: value.trim(), case: this.nsAttrs.case } as Namespace);
        this.nsAttrs = null;
      } else if (parent === 'siteinfo' && SITE_FIELDS.has(name)) {
        if (name === 'case') this.site.case = value.trim() as CaseSetting;
        else (this.site as unknown as Record<string, string>)[name] = value.trim();
      }
      return;
    }
    const p = this.page;
    if (!p) return;
    if (name === 'page') {
      this.pages.push(p);
      this.page = null;
    } else if (name === 'revision' && parent === 'page' && this.rev) {
      // Full-history dumps carry several revisions, not always in date order: the newest wins
      // (by timestamp; the later in the file when they tie or one has none).
      const r = this.rev;
      this.rev = null;
      if (!this.revSeen || r.timestamp === null || p.timestamp === null || r.timestamp >= p.timestamp) {
        p.revId = r.revId;
        p.timestamp = r.timestamp;
        p.text = r.text;
      }
      this.revSeen = true;
    } else if (parent === 'page') {
      if (name === 'title') p.title = value;
      else if (name === 'ns') p.ns = toInt(value);
      else if (name === 'id') p.id = toInt(value);
    } else if (parent === 'revision') {
      const r = this.rev;
      if (!r) return;
      if (name === 'id') r.revId = toInt(value);
      else if (name === 'timestamp') r.timestamp = value.trim() || null;
      else if (name === 'text') r.text = this.textDeleted ? null : value;
    }
  }

  private finishSite(): void {
    if (this.siteDone) return;
    const site = this.site && this.site.namespaces.length ? this.site : this.site ? { ...defaultSiteInfo(), ...this.site, namespaces: defaultSiteInfo().namespaces } : defaultSiteInfo();
    this.site = site;
    this.siteDone = true;
  }
}

function toInt(s: string): number | null {
  const n = Number.parseInt(s.trim(), 10);
  return Number.isFinite(n) ? n : null;
}

/** The root element's opening tag, written before a cut-out run of pages so that it parses as in the dump. */
const ROOT = '<mediawiki>';

export interface DumpPosition {
  seq: number; // of the first page
  line: number; // 1-based
  column: number; // 0-based, on that line
  site: SiteInfo;
}

/** A reader for text cut out of a dump at `at`, the root element's tag already written. */
function fragmentReader(fileName: string, at: DumpPosition): PageReader {
  const reader = new PageReader(fileName, at.seq, { line: at.line, column: at.column - ROOT.length, site: at.site });
  reader.write(ROOT);
  return reader;
}

/**
 * UTF-8 is decoded in pieces of this many bytes: V8 decodes a megabyte of non-ASCII text into one
 * string about 15 times slower than into pieces that fit its young generation (fresh memory,
 * page faults), and saxes takes its input in pieces anyway.
 */
const DECODE_PIECE = 64 * 1024;

/**
 * Parses a run of whole <page> elements (and the whitespace around them) cut out of a dump at
 * `at`, as UTF-8 bytes, handing each page to `each` as soon as it is complete (so that a page's
 * text is not kept waiting for the rest of the run). Returns the damage that ended the run, as
 * an error naming the file, line and column in the dump; the pages before it have been handed on.
 */
export function readPages(fileName: string, bytes: Uint8Array, at: DumpPosition, each: (page: DumpPage) => void): Error | null {
  const reader = fragmentReader(fileName, at);
  const decoder = new TextDecoder();
  let error: Error | null = null;
  try {
    for (let i = 0; i < bytes.length; i += DECODE_PIECE) {
      reader.write(decoder.decode(bytes.subarray(i, i + DECODE_PIECE), { stream: true }));
      for (const p of reader.take()) each(p);
    }
    reader.write(decoder.decode());
    reader.checkClosed();
  } catch (e) {
    error = e as Error;
  }
  for (const p of reader.take()) each(p);
  return error;
}

/** Parses what follows a dump's last </page> (its closing tag, or the damage that ends it). */
export function readTrailer(fileName: string, text: string, at: DumpPosition): void {
  const reader = fragmentReader(fileName, at);
  reader.write(text);
  reader.end();
}
