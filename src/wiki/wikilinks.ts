/**
 * Finds every internal link of a page's wikitext, with the context it stands in, and rewrites each
 * one to `[[Lk<i>|anchor]]` before wtf_wikipedia sees the text. wtf then reports, per sentence, which
 * numbered links survived into the clean text, so links are matched to their wikitext exactly and
 * wtf's own link parsing quirks (one-letter piped targets, namespaces read as interwiki, links inside
 * templates/refs/captions not returned) no longer matter.
 */
import { LINK_ORIGINS, type LinkOrigin } from '../db/rows.js';
import { isInterwiki, isLanguage } from './interwiki.js';
import { isCategoryNameInAnyLanguage, isFileNameInAnyLanguage, isImageOption } from './namespaces.js';
import { joinProseLines, regionsOf, UNSPACED } from './regions.js';
import type { Titles } from './title.js';

/** Where in the wikitext a link stands (links.origin). */
export { LINK_ORIGINS, type LinkOrigin };

export interface WikiLink {
  target: string; // as written, before '|'
  anchor: string; // the text a reader sees, link trail included
  origin: LinkOrigin;
}

export interface LinkScan {
  rewritten: string;
  links: WikiLink[];
}

export const MARKER = /^Lk(\d+)$/;

// Tags whose content is not wikitext links: copied verbatim.
const OPAQUE = new Set(['nowiki', 'pre', 'math', 'source', 'syntaxhighlight', 'score', 'timeline', 'chem', 'ce', 'graph', 'templatedata', 'mapframe', 'maplink']);
const TAG = /<(\/?)([a-zA-Z][a-zA-Z0-9]*)\b[^>]{0,200}?(\/?)>/y; // a tag of at most 200 characters, at lastIndex
const HEADING = /^h[1-6]$/;

/** The last character of what has been written, as a reader sees it (a link's anchor, not its brackets). */
function lastShown(out: string[]): string {
  for (let k = out.length - 1; k >= 0; k--) {
    const piece = out[k]!.replace(/\]\]$/, '');
    if (piece) return piece.at(-1)!;
  }
  return '';
}
const CLOSERS = new Map<string, RegExp>();
/** `</name`, any case (tag names are case-insensitive), searched from lastIndex. */
function closer(name: string): RegExp {
  let re = CLOSERS.get(name);
  if (!re) CLOSERS.set(name, (re = new RegExp(`</${name}`, 'gi')));
  return re;
}
const SPECIAL = /<|\{\{|\}\}|\[\[|\{\||\|\}/g;
const BAD_TARGET = /[{}[\]<>\n]/;
const ENGLISH_TRAIL = /^[a-z]+/;

/** Whether only spaces (or the colons of an indented table, `:{|`) stand before i on its line. */
function atLineStart(s: string, i: number): boolean {
  for (let j = i - 1; j >= 0; j--) {
    const c = s[j];
    if (c === '\n') return true;
    if (c !== ' ' && c !== '\t' && c !== ':') return false;
  }
  return true;
}

export interface ScanOptions {
  /**
   * Leave out of the rewritten text what never becomes prose (refs, tables, galleries, infoboxes,
   * files, categories, comments), once its links are recorded: wtf then parses only what it must,
   * and its clean text is the same (test/clean.test.ts checks this on real articles).
   */
  strip?: boolean;
  /** Keep list items (`*`, `#`, `:`, `;` lines) in the text; by default they are left out, as BERT's
   * and WikiExtractor's Wikipedia text leaves them out (their links are kept, origin 'list'). */
  keepLists?: boolean;
  /** The wiki language's link trail (interwiki.ts linkTrail); English's a–z by default. */
  trail?: RegExp;
  /** The language writes ordinals with a full stop (clean.ts writesOrdinalDot): sentence bounds take it into account. */
  ordinalDot?: boolean;
}

// Contexts whose text never reaches wtf's sentences.
const DROPPED: ReadonlySet<LinkOrigin> = new Set(['ref', 'gallery', 'table', 'infobox', 'caption']);
// Templates that never render as prose (citations, maintenance tags, navigation).
const SILENT_TEMPLATE = /^(?:cite\b|citation\b|reflist|refbegin|refend|sfn|harvnb|efn|notelist|authority control|portal|commons|use (?:dmy|mdy) dates|use (?:british|american|australian|canadian|indian) english|short description|defaultsort|pp-|dead link|citation needed|clarify|good article|featured article|navbox|coord missing)/i;

interface Scan {
  titles: Titles;
  links: WikiLink[];
  strip: boolean;
  keepLists: boolean;
  trail: RegExp;
  /** the line of the last link looked at, and whether an external link opens on it */
  line: { s: string; start: number; end: number; external: boolean };
}

export function scanLinks(wikitext: string, titles: Titles, opts: ScanOptions = {}): LinkScan {
  const scan: Scan = { titles, links: [], strip: opts.strip ?? true, keepLists: opts.keepLists ?? false, trail: opts.trail ?? ENGLISH_TRAIL, line: { s: '', start: 0, end: -1, external: false } };
  const rewritten = rewrite(joinProseLines(wikitext), scan, []);
  return { rewritten, links: scan.links };
}

/** The innermost context that is not a plain template; a template only when that is all there is. */
function originOf(stack: LinkOrigin[]): LinkOrigin {
  for (let k = stack.length - 1; k >= 0; k--) if (stack[k] !== 'template') return stack[k]!;
  return stack.length ? 'template' : 'text';
}

function rewrite(s: string, scan: Scan, stack: LinkOrigin[]): string {
  const { strip, links } = scan;
  const out: string[] = [];
  const re = new RegExp(SPECIAL.source, 'g');
  const closeTag = (name: string, from: number) => {
    const c = closer(name);
    c.lastIndex = from;
    return c.exec(s)?.index ?? -1;
  };
  let copied = 0; // s[copied, i) is still to be copied
  let dropLevel = -1; // stack depth where the region being left out began; -1: none
  let dropFrom = 0;
  // apparatus sections and lists are left out whole (their links are still recorded)
  const regions = stack.length === 0 ? regionsOf(s, scan) : [];
  let region = 0;
  let cutUntil = 0;
  let listUntil = 0; // s[…, listUntil) is a list left out: its prose links' origin is 'list'
  const base = stack.length;
  // Where a region is left out: refs become a space, as wtf renders them; a file, table, gallery
  // or infobox that filled its line takes the line break with it, so paragraphs join as they would
  // around it (a template's empty line stays: wtf breaks the paragraph there).
  const resume = (to: number, origin: LinkOrigin | 'other', from: number): number => {
    // (no space where the text on either side is of a script written without spaces: 数量、结构)
    if (origin === 'ref' && !UNSPACED.test(lastShown(out)) && !UNSPACED.test(s[to] ?? '')) out.push(' ');
    else if (origin !== 'template' && s[to] === '\n' && (from === 0 || s[from - 1] === '\n')) return to + 1;
    return to;
  };
  const cut = (from: number, to: number, origin: LinkOrigin | 'other') => {
    // leave s[from, to) out of the output
    if (!strip || dropLevel >= 0 || from < cutUntil) return;
    out.push(s.slice(copied, from));
    copied = resume(to, origin, from);
  };
  const push = (o: LinkOrigin, at: number, silent = false) => {
    if (strip && dropLevel < 0 && at >= cutUntil && (silent || DROPPED.has(o))) {
      out.push(s.slice(copied, at));
      dropLevel = stack.length;
      dropFrom = at;
    }
    stack.push(o);
  };
  const pop = (end: number) => {
    if (stack.length <= base) return;
    const o = stack.pop()!;
    if (dropLevel >= 0 && stack.length <= dropLevel) {
      dropLevel = -1;
      copied = Math.max(copied, resume(end, o, dropFrom));
    }
  };
  let i = 0;
  while (i < s.length) {
    re.lastIndex = i;
    const m = re.exec(s);
    if (!m) break;
    i = m.index;
    while (region < regions.length && regions[region]![0] <= i) {
      const [start, end, kind] = regions[region++]!;
      if (dropLevel < 0 && stack.length === base && start >= copied) {
        out.push(s.slice(copied, start));
        copied = cutUntil = end;
        if (kind === 'list') listUntil = end;
      }
    }
    const tok = m[0];
    const top = stack.length > base ? stack[stack.length - 1] : undefined;
    if (tok === '<') {
      if (s.startsWith('<!--', i)) {
        const end = s.indexOf('-->', i + 4);
        const to = end < 0 ? s.length : end + 3;
        cut(i, to, 'other');
        i = to;
        continue;
      }
      TAG.lastIndex = i;
      const t = TAG.exec(s);
      if (!t || t[0].length > 200) {
        i++;
        continue;
      }
      const [whole, closing, rawName, selfClosing] = t;
      const name = rawName!.toLowerCase();
      const after = i + whole.length;
      if (!closing && !selfClosing && OPAQUE.has(name)) {
        const end = closeTag(name, after);
        i = end < 0 ? s.length : end;
        continue;
      }
      // never prose: a stylesheet's tag, and an HTML heading with its text (as a `== heading ==` is left out)
      if (name === 'templatestyles' || HEADING.test(name)) {
        const end = closing || selfClosing || name === 'templatestyles' ? -1 : closeTag(name, after);
        const to = end < 0 ? after : s.indexOf('>', end) + 1 || s.length;
        cut(i, to, 'other');
        i = to;
        continue;
      }
      if (name === 'ref' || name === 'gallery') {
        const origin: LinkOrigin = name;
        if (closing) {
          if (top === origin) pop(after);
        } else if (selfClosing || closeTag(name, after) < 0) {
          if (name === 'ref') cut(i, after, 'ref'); // <ref name="x"/>, or a ref never closed
        } else push(origin, i);
      }
      i = after;
    } else if (tok === '{{') {
      if (s.indexOf('}}', i + 2) < 0) {
        i += 2;
        continue;
      }
      const name = /^\{\{\s*([^|}]*)/.exec(s.slice(i, i + 100))?.[1] ?? '';
      push(top === 'infobox' || /^infobox/i.test(name) ? 'infobox' : 'template', i, SILENT_TEMPLATE.test(name));
      i += 2;
    } else if (tok === '}}') {
      if (top === 'template' || top === 'infobox') pop(i + 2);
      i += 2;
    } else if (tok === '{|') {
      if (atLineStart(s, i) && s.indexOf('|}', i + 2) >= 0) {
        push('table', i);
        i += 2;
      } else i++; // as in `{{{|…`: the brace may open a template
    } else if (tok === '|}') {
      if (top === 'table' && atLineStart(s, i)) {
        pop(i + 2);
        i += 2;
      } else i++; // as in `{{hlist |}}`: the brace may close a template
    } else {
      const before = links.length;
      const r = link(s, i, scan, stack);
      if (i < listUntil) for (let k = before; k < links.length; k++) if (links[k]!.origin === 'text') links[k]!.origin = 'list';
      if (!r) {
        i += 2;
        continue;
      }
      if (dropLevel < 0 && i >= cutUntil) {
        out.push(s.slice(copied, i), r.text);
        copied = r.text || !strip ? r.end : resume(r.end, 'other', i);
      }
      i = r.end;
    }
  }
  for (; region < regions.length; region++) {
    const [start, end] = regions[region]!;
    if (dropLevel < 0 && stack.length === base && start >= copied) {
      out.push(s.slice(copied, start));
      copied = end;
    }
  }
  if (dropLevel < 0) out.push(s.slice(copied));
  return out.join('');
}

/** A `[[…]]` at i: its rewritten text and where it ends, or null when it is no link. */
function link(s: string, i: number, scan: Scan, stack: LinkOrigin[]): { text: string; end: number } | null {
  const { titles, links, strip } = scan;
  const close = s.indexOf(']]', i + 2);
  if (close < 0) return null;
  let bar = i + 2; // the first '|' inside the brackets, else -1 (looked for there only: an unpiped link may stand far from any '|')
  while (bar < close && s.charCodeAt(bar) !== 0x7c) bar++;
  if (bar === close) bar = -1;
  const targetEnd = bar >= 0 ? bar : close;
  const target = s.slice(i + 2, targetEnd);
  if (!target.trim() || BAD_TARGET.test(target)) return null;
  const colonLead = target.trimStart().startsWith(':');
  const body = colonLead ? target.trimStart().slice(1) : target;
  const colon = body.indexOf(':');
  const prefix = colon > 0 ? body.slice(0, colon).trim() : '';
  const ns = prefix ? (titles.namespaceByPrefix(prefix) ?? foreignNamespace(prefix, body, s.slice(bar + 1, close), bar >= 0, titles)) : undefined;
  if (ns && !colonLead && (ns.key === 6 || ns.key === -2)) {
    // A file: its caption may hold links, and brackets nest inside it.
    const end = matchingClose(s, i);
    if (end < 0) return null;
    stack.push('caption');
    const inner = rewrite(s.slice(i + 2, end), scan, stack);
    stack.pop();
    return { text: strip ? '' : `[[${inner}]]`, end: end + 2 };
  }
  if (ns && ns.key === 14 && !colonLead) return strip ? { text: '', end: close + 2 } : null; // category membership, not a link
  if (!ns && prefix && isInterwiki(prefix)) {
    // an interlanguage link shows nothing in the text (`[[:fr:Port]]` is an inline link, left to wtf)
    return !colonLead && isLanguage(prefix) ? { text: '', end: close + 2 } : null;
  }
  const inner = s.slice(i + 2, close);
  if (inner.includes('[[')) return null;
  // Unpiped links show their target as written, underscores as spaces.
  let anchor = bar >= 0 && bar < close ? s.slice(bar + 1, close) : body.replace(/_/g, ' ').trim();
  if (bar >= 0 && bar < close && !anchor.trim()) anchor = pipeTrick(body);
  const trail = scan.trail.exec(s.slice(close + 2, close + 40))?.[0] ?? '';
  const n = links.length;
  links.push({ target, anchor: anchor + trail, origin: originOf(stack) });
  // inside an external link's label (`[http://… the [[Foo]] site]`) wtf would keep the marker: the anchor alone
  if (insideExternalLink(s, i, scan)) return { text: anchor + trail, end: close + 2 + trail.length };
  // the trail goes inside the link, so wtf's own (English) trail rule never applies
  return { text: `[[Lk${n}|${anchor}${trail}]]`, end: close + 2 + trail.length };
}

const MEDIA_FILE = /\.(?:jpe?g|png|gif|svg|tiff?|webp|xcf|ogg|oga|ogv|webm|mp3|wav|flac|mid|pdf|djvu|stl)\s*$/i;

/**
 * A prefix the wiki does not know as a namespace that is another language's file or category
 * name: a file when the link looks like one (an image option such as `miniatur` or `250px`, or a
 * media file name), whatever the wiki (pages copied from another wiki keep their `[[Attēls:…]]`);
 * a category only where the names are guesses (no siteinfo and no --lang).
 */
function foreignNamespace(prefix: string, body: string, params: string, piped: boolean, titles: Titles): { key: number; name: string } | undefined {
  if (isFileNameInAnyLanguage(prefix) && ((piped && params.split('|').some(isImageOption)) || MEDIA_FILE.test(body))) return { key: 6, name: 'File' };
  if (titles.guessed && isCategoryNameInAnyLanguage(prefix)) return { key: 14, name: 'Category' };
  return undefined;
}

const EXTERNAL = /\[(?:https?:|ftp:|mailto:|\/\/)/i;
const EXTERNAL_OPEN = /\[(?:https?:|ftp:|mailto:|\/\/)[^\]\n]*$/i;
/** Whether the `[[` at i stands in the label of an external link opened earlier on its line. */
function insideExternalLink(s: string, i: number, scan: Scan): boolean {
  // most lines hold no external link: tested once per line (a paragraph is one line with many links)
  const line = scan.line;
  if (line.s !== s || i < line.start || i >= line.end) {
    line.s = s;
    line.start = s.lastIndexOf('\n', i - 1) + 1;
    const end = s.indexOf('\n', i);
    line.end = end < 0 ? s.length : end;
    line.external = EXTERNAL.test(s.slice(line.start, line.end));
  }
  if (!line.external) return false;
  const before = s.slice(Math.max(i - 300, line.start), i);
  return EXTERNAL.test(before) && EXTERNAL_OPEN.test(before.replace(/\[\[[^\]]*\]\]/g, ''));
}

/** The `]]` closing the `[[` at i, counting nested brackets (file captions hold links). */
function matchingClose(s: string, i: number): number {
  let depth = 0;
  for (let j = i; j < s.length - 1; j++) {
    if (s[j] === '[' && s[j + 1] === '[') {
      depth++;
      j++;
    } else if (s[j] === ']' && s[j + 1] === ']') {
      depth--;
      if (depth === 0) return j;
      j++;
    }
  }
  return -1;
}

/** `[[Foo (bar)|]]` shows "Foo"; `[[Help:Foo|]]` shows "Foo". */
function pipeTrick(target: string): string {
  return target.replace(/^[^:]*:/, '').replace(/\s*\([^)]*\)\s*$/, '').replace(/,.*$/, '').trim();
}
