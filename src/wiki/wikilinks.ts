/**
 * Finds every internal link of a page's wikitext, with the context it stands in, and rewrites each
 * one to `[[Lk<i>|anchor]]` before wtf_wikipedia sees the text. wtf then reports, per sentence, which
 * numbered links survived into the clean text, so links are matched to their wikitext exactly and
 * wtf's own link parsing quirks (one-letter piped targets, namespaces read as interwiki, links inside
 * templates/refs/captions not returned) no longer matter.
 */
import type { Titles } from './title.js';

/** Where in the wikitext a link stands. */
export type LinkOrigin = 'text' | 'template' | 'infobox' | 'ref' | 'caption' | 'gallery' | 'table';

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
const TAG = /^<(\/?)([a-zA-Z]+)\b[^>]*?(\/?)>/;
const SPECIAL = /<|\{\{|\}\}|\[\[|\{\||\|\}/g;
const BAD_TARGET = /[{}[\]<>\n]/;
// Interwiki and interlanguage prefixes: such links leave the wiki, so they are not graph edges.
const INTERWIKI = /^(?:[a-z]{2,3}(?:-[a-z0-9]{2,})*|simple|commons|meta|wikt|wiktionary|wikisource|wikiquote|wikibooks|wikinews|wikiversity|wikivoyage|wikispecies|species|wikidata|mediawikiwiki|mw|foundation|wmf|phab|phabricator|outreach|incubator|s|q|b|n|v|voy|d|c|m|f|w)$/;
const TRAIL = /^[a-z]+/;

function atLineStart(s: string, i: number): boolean {
  for (let j = i - 1; j >= 0; j--) {
    const c = s[j];
    if (c === '\n') return true;
    if (c !== ' ' && c !== '\t') return false;
  }
  return true;
}

export function scanLinks(wikitext: string, titles: Titles): LinkScan {
  const links: WikiLink[] = [];
  const rewritten = rewrite(wikitext, titles, links, []);
  return { rewritten, links };
}

function rewrite(s: string, titles: Titles, links: WikiLink[], stack: LinkOrigin[]): string {
  const out: string[] = [];
  const re = new RegExp(SPECIAL.source, 'g');
  let copied = 0;
  let i = 0;
  const top = (): LinkOrigin => stack[stack.length - 1] ?? 'text';
  while (i < s.length) {
    re.lastIndex = i;
    const m = re.exec(s);
    if (!m) break;
    i = m.index;
    const tok = m[0];
    if (tok === '<') {
      if (s.startsWith('<!--', i)) {
        const end = s.indexOf('-->', i + 4);
        i = end < 0 ? s.length : end + 3;
        continue;
      }
      const t = TAG.exec(s.slice(i, i + 200));
      if (!t) {
        i++;
        continue;
      }
      const [whole, closing, rawName, selfClosing] = t;
      const name = rawName!.toLowerCase();
      if (!closing && !selfClosing && OPAQUE.has(name)) {
        const end = s.toLowerCase().indexOf(`</${name}`, i + whole.length);
        i = end < 0 ? s.length : end;
        continue;
      }
      if ((name === 'ref' || name === 'gallery') && !selfClosing) {
        if (!closing) stack.push(name === 'ref' ? 'ref' : 'gallery');
        else if (top() === name) stack.pop();
      }
      i += whole.length;
    } else if (tok === '{{') {
      const name = /^\{\{\s*([^|}]*)/.exec(s.slice(i, i + 100))?.[1] ?? '';
      stack.push(top() === 'infobox' || /^infobox/i.test(name) ? 'infobox' : 'template');
      i += 2;
    } else if (tok === '}}') {
      const t = top();
      if (t === 'template' || t === 'infobox') stack.pop();
      i += 2;
    } else if (tok === '{|') {
      if (atLineStart(s, i)) stack.push('table');
      i += 2;
    } else if (tok === '|}') {
      if (atLineStart(s, i) && top() === 'table') stack.pop();
      i += 2;
    } else {
      const r = link(s, i, titles, links, stack);
      if (r) {
        out.push(s.slice(copied, i), r.text);
        i = copied = r.end;
      } else i += 2;
    }
  }
  out.push(s.slice(copied));
  return out.join('');
}

/** A `[[…]]` at i: its rewritten text and where it ends, or null when it is no link. */
function link(s: string, i: number, titles: Titles, links: WikiLink[], stack: LinkOrigin[]): { text: string; end: number } | null {
  const bar = s.indexOf('|', i + 2);
  const close = s.indexOf(']]', i + 2);
  if (close < 0) return null;
  const targetEnd = bar >= 0 && bar < close ? bar : close;
  const target = s.slice(i + 2, targetEnd);
  if (!target.trim() || BAD_TARGET.test(target)) return null;
  const colonLead = target.trimStart().startsWith(':');
  const body = colonLead ? target.trimStart().slice(1) : target;
  const colon = body.indexOf(':');
  const prefix = colon > 0 ? body.slice(0, colon).trim() : '';
  const ns = prefix ? titles.namespaceByPrefix(prefix) : undefined;
  if (ns && !colonLead && (ns.key === 6 || ns.key === -2)) {
    // A file: its caption may hold links, and brackets nest inside it.
    const end = matchingClose(s, i);
    if (end < 0) return null;
    stack.push('caption');
    const inner = rewrite(s.slice(i + 2, end), titles, links, stack);
    stack.pop();
    return { text: `[[${inner}]]`, end: end + 2 };
  }
  if (ns && ns.key === 14 && !colonLead) return null; // category membership, not a link
  if (!ns && prefix && INTERWIKI.test(prefix)) return null;
  const inner = s.slice(i + 2, close);
  if (inner.includes('[[')) return null;
  // Unpiped links show their target as written, underscores as spaces.
  let anchor = bar >= 0 && bar < close ? s.slice(bar + 1, close) : body.replace(/_/g, ' ').trim();
  if (bar >= 0 && bar < close && !anchor.trim()) anchor = pipeTrick(body);
  const trail = TRAIL.exec(s.slice(close + 2, close + 40))?.[0] ?? '';
  const n = links.length;
  links.push({ target, anchor: anchor + trail, origin: stack[stack.length - 1] ?? 'text' });
  return { text: `[[Lk${n}|${anchor}]]`, end: close + 2 };
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
