/**
 * What one page of the dump becomes in the ingest tables: a redirect, an article cleaned by
 * wtf_wikipedia (with its links), a page of another namespace (counted), or a skipped page with
 * its reason. Runs in the ingest workers.
 */
import type { DumpPage } from '../dump/xml.js';
import { articleLinks, cleanArticle, writesOrdinalDot, type CleanLink } from '../wiki/clean.js';
import { redirectTarget } from '../wiki/redirect.js';
import type { Titles } from '../wiki/title.js';
import type { SiteInfo } from '../dump/siteinfo.js';
import { linkTrail, siteLanguage } from '../wiki/interwiki.js';
import { scanLinks, type ScanOptions } from '../wiki/wikilinks.js';
import { LINK_ORIGINS, type LinkColumns, type PageRows } from '../db/rows.js';

/**
 * Articles longer than this are skipped, not cleaned: MediaWiki itself refuses pages over 2 MiB
 * ($wgMaxArticleSize), and wtf_wikipedia needs about 30 times a page's size in memory.
 */
export const MAX_ARTICLE_BYTES = 8 * 2 ** 20;

/**
 * An ingest worker's heap (V8's old generation), in MB: an 8 MiB article (the largest cleaned) needs
 * about 250 MB in wtf_wikipedia; a limit also makes V8 collect before it grows far past what is live.
 */
export const WORKER_HEAP_MB = 512;

/** A page that gives no rows but its line in `skipped`, with the reason. */
export function skipped(p: DumpPage, bytes: number, reason: string): PageRows {
  return { seq: p.seq, wikitextBytes: bytes, skipped: { seq: p.seq, page_id: p.id, ns: p.ns, title: p.title, reason, line: p.line } };
}

/** What the user chose about the clean text (recorded in the ingest run's settings). */
export interface CleanSettings {
  keepLists: boolean;
}

/** How articles of this wiki are read: the user's settings and the wiki language's link trail. */
export function scanOptions(site: SiteInfo, clean: CleanSettings): ScanOptions {
  const language = siteLanguage(site);
  return { keepLists: clean.keepLists, trail: linkTrail(language), ordinalDot: writesOrdinalDot(language) };
}

/**
 * `uncleaned`: the reason this article's text is not to be cleaned (it ran over the page timeout in
 * an earlier worker). Its page row and its links are kept (found by the linear link scan alone,
 * offset NULL, origin where they stand), and a `skipped` row gives the reason.
 */
export function pageRows(p: DumpPage, titles: Titles, scan: ScanOptions = {}, uncleaned?: string): PageRows {
  const bytes = p.text === null ? 0 : Buffer.byteLength(p.text);
  const skip = (reason: string) => skipped(p, bytes, reason);
  if (!p.title?.trim()) return skip('no title');
  const norm = titles.normalize(p.title);
  const ns = p.ns ?? norm.ns;
  const page = { seq: p.seq, page_id: p.id, ns, title: p.title, norm_title: norm.title, rev_id: p.revId, timestamp: p.timestamp, text_bytes: p.text === null ? null : bytes };
  // a <redirect> element naming the page itself, over a text that is no redirect (seen on disambiguation
  // pages), says nothing: the text decides
  const named = p.redirect?.trim() ? titles.normalize(p.redirect) : null;
  const element = named && !(named.title === norm.title && named.ns === norm.ns && redirectTarget(p.text) === null) ? p.redirect : null;
  const textTarget = element === null ? redirectTarget(p.text) : null;
  const target = element ?? textTarget;
  if (target !== null) {
    const to = titles.normalize(target);
    if (!to.title) return skip('redirect without target');
    return {
      seq: p.seq,
      wikitextBytes: bytes,
      page: { ...page, kind: 'redirect' },
      redirect: { seq: p.seq, ns, title: p.title, target: to.title, target_ns: to.ns, fragment: to.fragment, source: textTarget !== null ? 'text' : 'element' },
    };
  }
  if (p.text === null) return skip('no text');
  if (ns !== 0) return { seq: p.seq, wikitextBytes: bytes, page: { ...page, kind: 'other' } };
  if (!p.text.trim()) return skip('empty text'); // an article with no text gives no row to train on
  if (bytes > MAX_ARTICLE_BYTES) return skip(`too large (${(bytes / 2 ** 20).toFixed(1)} MiB of wikitext; at most ${MAX_ARTICLE_BYTES / 2 ** 20} MiB are cleaned)`);
  if (uncleaned !== undefined) {
    const links = linkColumns(articleLinks(p.title, scanLinks(p.text, titles, scan).links, titles));
    return { seq: p.seq, wikitextBytes: bytes, page: { ...page, kind: 'article' }, links, skipped: skipped(p, bytes, `${uncleaned}: text left out, links kept`).skipped };
  }
  let a;
  try {
    a = cleanArticle(p.title, p.text, titles, scan);
  } catch (e) {
    return skip(`wikitext parse error: ${e instanceof Error ? e.message : String(e)}`);
  }
  return {
    seq: p.seq,
    wikitextBytes: bytes,
    page: { ...page, kind: 'article' },
    article: { seq: p.seq, title: p.title, disambiguation: a.disambiguation, text: a.text, sent_start: Int32Array.from(a.sentStart), sent_len: Int32Array.from(a.sentLen), para_first: Int32Array.from(a.paraFirst) },
    links: linkColumns(a.links),
  };
}

/** Links by column: far cheaper to pass between threads than an object per link. */
function linkColumns(all: CleanLink[]): LinkColumns {
  const n = all.length;
  const links: LinkColumns = { idx: new Int32Array(n), target: new Array(n), target_ns: new Int32Array(n), fragment: new Array(n), anchor: new Array(n), offset: new Int32Array(n), origin: new Uint8Array(n) };
  for (let k = 0; k < n; k++) {
    const l = all[k]!;
    links.idx[k] = l.idx;
    links.target[k] = l.target;
    links.target_ns[k] = l.targetNs;
    links.fragment[k] = l.fragment;
    links.anchor[k] = l.anchor;
    links.offset[k] = l.offset ?? -1;
    links.origin[k] = LINK_ORIGINS.indexOf(l.origin);
  }
  return links;
}

/**
 * The time a page's cleaning may take: 2 s plus 20 ms per KiB of wikitext, at most --page-timeout.
 * Real articles clean at 0.4–2 ms per KiB (English Wikipedia's largest, 180 kB, in 76 ms), so this
 * is ten times the slowest real rate; ten small pages built to be slow (nested templates) then cost
 * seconds, not ten times the timeout.
 */
export function pageBudgetMs(bytes: number, timeoutSeconds: number): number {
  return Math.min(timeoutSeconds * 1000, 2000 + (20 * bytes) / 1024);
}

/** Why a page whose cleaning took longer than its budget (deeply nested templates can) is skipped. */
export function timeoutReason(bytes: number, timeoutSeconds: number): string {
  return pageBudgetMs(bytes, timeoutSeconds) < timeoutSeconds * 1000 ? 'parse timeout (over 2 s + 20 ms per KiB of its wikitext)' : `parse timeout (over ${timeoutSeconds} s)`;
}
