/**
 * One article's wikitext → clean text (paragraphs of sentences) and its links, each placed at its
 * character offset in that text when it has a place there.
 *
 * Layout of the stored text: sentences of a paragraph joined by ' ' (list items by '\n'),
 * paragraphs by '\n\n'. Offsets and lengths count Unicode code points, as DuckDB's substr() and
 * Python's str do, so `substr(text, offset + 1, length(anchor)) = anchor` holds in SQL.
 */
import { decodeHTMLStrict } from 'entities';
import wtf from 'wtf_wikipedia';
import type { Titles } from './title.js';
import { APPARATUS } from './regions.js';
import { MARKER, scanLinks, type LinkOrigin, type ScanOptions, type WikiLink } from './wikilinks.js';

export interface CleanLink {
  idx: number; // order of the link in the wikitext
  target: string; // normalised title
  targetNs: number;
  fragment: string | null;
  anchor: string;
  offset: number | null; // code points into the clean text; null when the link is not in it
  origin: LinkOrigin; // where the link stands in the wikitext
}

export interface CleanArticle {
  text: string;
  sentStart: number[];
  sentLen: number[];
  paraFirst: number[]; // index of each paragraph's first sentence
  disambiguation: boolean;
  links: CleanLink[];
}


interface WtfLink { page(): string; text(): string }
interface WtfSentence { text(): string; links(): WtfLink[] }
interface WtfParagraph { sentences(): WtfSentence[]; lists(): { lines(): WtfSentence[] }[] }

const SURROGATE = /[\ud800-\udbff]/;

function cpLength(s: string): number {
  if (!SURROGATE.test(s)) return s.length;
  let n = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) n--;
  }
  return n;
}

const LOOSE_SPACE = /\s\s|[\t\n\r\f\v\u00a0]|^\s|\s$/;
/** Runs of white space as one space, none at the ends (the test spares the common case a copy; a lone
 * unusual space such as U+2009 stays as it is). */
function squeeze(s: string): string {
  return LOOSE_SPACE.test(s) ? s.replace(/\s+/g, ' ').trim() : s;
}

const LEFTOVER = /\{\{|\}\}|\{\||\|\}|\[\[|\]\]|Lk\d|&[#a-zA-Z0-9]+;|<\/?[a-zA-Z]|''|\uE000/;
/**
 * The ideographic full stop, hidden from wtf_wikipedia (which rewrites every `。` as `. `) and put back
 * in the sentences it returns; refine() ends sentences there.
 */
const FULL_STOP = /\u3002/g;
const HIDDEN_FULL_STOP = '\uE000';
// HTML tags allowed in wikitext that wtf may leave around text (`<span title="…">` from IPA templates)
const TAG = /<\/?(?:span|div|small|big|sup|sub|center|font|br|hr|abbr|s|u|i|b|p|code|kbd|var|tt|del|ins|mark|q|cite|dfn|bdi|bdo|ruby|rt|rp|wbr|em|strong|strike|poem|references|nowiki|includeonly|noinclude|onlyinclude)\b[^<>]{0,500}>/gi;
/**
 * A sentence as a reader sees it: character references decoded (wtf leaves `&times;` as it is) and
 * what wtf let through of markup taken out: a template or table it did not parse, a link it
 * broke (its marker or brackets).
 */
function readable(s: string, anchors: (idx: number) => string | undefined): string {
  if (!LEFTOVER.test(s)) return s;
  let t = s;
  // innermost templates first, until none is left
  for (let prev = ''; prev !== t && t.includes('{{'); ) {
    prev = t;
    t = t.replace(/\{\{[^{}]*\}\}/g, '');
  }
  t = t
    .replace(/\[\[Lk(\d+)\|([^\]]*)\]\]?/g, (_, _n: string, a: string) => a)
    .replace(/\bLk(\d+)\b/g, (m, n: string) => anchors(Number(n)) ?? m)
    .replace(/\{\||\|\}|\{\{|\}\}|\[\[|\]\]/g, '')
    .replace(TAG, '')
    // what is left of italics or bold that spanned two sentences (wtf pairs the marks within one): in
    // MediaWiki's reading a run of four is an apostrophe and bold, of six or more the extra ones and both
    .replace(/'{2,}/g, (m) => (m.length === 4 ? "'" : m.length > 5 ? "'".repeat(m.length - 5) : ''))
    .replace(/\uE000/g, '。');
  return decodeHTMLStrict(t);
}
const WORD_CHAR = /[\p{L}\p{N}]/u;
// where a sentence ends inside what wtf gives as one: a full stop, then citation markers as text, then
// a space and no lower-case letter; an ideographic full stop, exclamation or question mark (with the
// closing quotes and brackets after it), whatever follows; or, before a space, the sentence ends of
// scripts wtf does not know: Arabic and Persian ؟ and ۔, Devanagari । and ॥, Armenian ։, Ethiopic ።
const SPLIT_AT = /[.!?]["”’»)]*(?:\[\d{1,4}\])+ (?!\p{Ll})|[。！？][」』”’）》〉】〕"']*(?:\[\d{1,4}\])* ?|[؟۔।॥։።។။]["”’»)]*(?:\[\d{1,4}\])* /gu;
/** SPLIT_AT's first test, cheaper than its matches: a mark it starts with, then anything */
const SPLIT_TEST = /[.!?]["”’»)]*\[\d|[。！？؟۔।॥։።។။]/u;
const LOWER_START = /^\p{Ll}/u;
/**
 * What ends a cut that was no sentence end, when the next piece starts in lower case: a day's ordinal
 * (`17. mai`), letters with inner full stops (`e.g.`, `н.е.`, `U.N.`), or a short abbreviation of the
 * major languages (`1582 г.`, `bzw.`, `πχ.`). Not any full stop, nor a year: in some wikis (Akan)
 * sentences start in lower case, often after a year, and a lower-case start alone says nothing.
 */
const ABBREVIATIONS = [
  'bzw', 'usw', 'vgl', 'ca', 'ggf', 'evtl', 'inkl', 'Nr', 'resp', 'etc', 'cf', 'vs', 'approx', 'incl', 'viz', 'env', 'av', 'apr', 'aprox', 'ecc', 'pag', 'ok', 'г', 'в', 'ул', 'гг', 'вв', 'см', 'пр', 'им', 'др', 'тыс', 'млн', 'млрд', 'руб', 'ст', 'πχ', 'κλπ', 'σελ', 'βλ',
  'tys', 'tzw', 'np', 'r', 'w', 'ur', 'zm', 'godz', 'mln', 'mld', 'χλμ', 'τετρ', 'εκ', 'χιλ', 'g', 'gs', 'tūkst', 'milj', 'esim', 'mm', 'ns', 'tj', 'tzv', 'např', 'kb', 'stb', 'tis', 'р', 'див', 'вул',
].join('|');
const CUT_END = new RegExp(String.raw`(?:^|[\s(])(?:\d{1,2}|(?:\p{L}{1,3}\.)+\p{L}{1,3}|${ABBREVIATIONS})\.["”’»)]*$`, 'u');
/** CUT_END where ordinals are written with a full stop (`1949. gadā`, `1871. gada`, `2009./2010.`): any number */
const CUT_END_ORDINAL = new RegExp(String.raw`(?:^|[\s(/])(?:\d+|(?:\p{L}{1,3}\.)+\p{L}{1,3}|${ABBREVIATIONS})\.["”’»)]*$`, 'u');
/**
 * Languages whose ordinals are a number and a full stop (`17. Mai 1949.`, `1949. gadā`): there a
 * number with a full stop before a lower-case word ends no sentence (elsewhere only a day's may not).
 */
const ORDINAL_DOT = new Set(['de', 'als', 'bar', 'lb', 'nds', 'ksh', 'pfl', 'lv', 'ltg', 'lt', 'fi', 'et', 'da', 'no', 'nb', 'nn', 'is', 'fo', 'cs', 'sk', 'sl', 'hr', 'sr', 'sh', 'bs', 'hu', 'tr', 'se', 'hsb', 'dsb']);
export function writesOrdinalDot(language: string | null): boolean {
  return language !== null && ORDINAL_DOT.has(language);
}

class TextBuilder {
  parts: string[] = [];
  cp = 0;
  sentStart: number[] = [];
  sentLen: number[] = [];
  paraFirst: number[] = [];
  placed = new Map<number, { offset: number; anchor: string }>();
  private inPara = false;

  constructor(
    private anchors: (idx: number) => string | undefined,
    private cutEnd = CUT_END,
  ) {}

  paragraph(sentences: WtfSentence[], sep: string, keepBullets = true): void {
    this.inPara = false;
    const first = this.sentStart.length;
    const texts: string[] = [];
    let refine = false; // whether a sentence may be cut or joined (most paragraphs: no)
    for (const s of sentences) {
      const text = squeeze(readable(s.text(), this.anchors));
      if (!text) continue;
      if (!keepBullets && text.startsWith('• ')) continue; // a list inside a template ({{columns-list|…}}), as wtf renders it
      if (this.sentStart.length) {
        const glue = this.inPara ? sep : '\n\n';
        this.push(glue, glue.length);
      }
      if (!this.inPara) this.paraFirst.push(this.sentStart.length);
      this.inPara = true;
      const start = this.cp;
      const astral = SURROGATE.test(text); // else code points = UTF-16 units
      const length = astral ? cpLength(text) : text.length;
      this.sentStart.push(start);
      this.sentLen.push(length);
      this.push(text, length);
      this.place(s.links(), text, start, astral);
      if (!refine && (SPLIT_TEST.test(text) || (texts.length > 0 && LOWER_START.test(text)))) refine = true;
      texts.push(text);
    }
    if (refine && sep === ' ') this.refine(first, texts);
  }

  /**
   * Sentence bounds where wtf_wikipedia's rules, made for English, get them wrong elsewhere. Only the
   * spans move (the text and the links' offsets stay): a sentence end followed by citation markers
   * (`… end.[9][11] Next`) ends the sentence; a sentence that starts in lower case after one that
   * ends in an ordinal or abbreviation (CUT_END) continues it: `1582 г. в …`, `e.g. and`.
   */
  private refine(first: number, texts: string[]): void {
    let spans = texts.map((text, k) => ({ start: this.sentStart[first + k]!, len: this.sentLen[first + k]!, text }));
    spans = spans.flatMap((sp) => {
      const out = [];
      let from = 0;
      for (const m of sp.text.matchAll(SPLIT_AT)) {
        // after the markers (and the space after them, the glue between two sentences)
        const cut = m.index + m[0].length - (m[0].endsWith(' ') ? 1 : 0);
        if (cut >= sp.text.length) break;
        const head = sp.text.slice(from, cut);
        const at = sp.start + cpLength(sp.text.slice(0, from));
        out.push({ start: at, len: cpLength(head), text: head });
        from = sp.text[cut] === ' ' ? cut + 1 : cut;
      }
      if (!from) return [sp];
      const tail = sp.text.slice(from);
      out.push({ start: sp.start + cpLength(sp.text.slice(0, from)), len: cpLength(tail), text: tail });
      return out;
    });
    const merged: typeof spans = [];
    for (const sp of spans) {
      const prev = merged.at(-1);
      if (prev && LOWER_START.test(sp.text) && this.cutEnd.test(prev.text) && sp.start === prev.start + prev.len + 1) {
        merged[merged.length - 1] = { start: prev.start, len: sp.start + sp.len - prev.start, text: `${prev.text} ${sp.text}` };
      } else merged.push(sp);
    }
    if (merged.length === texts.length && spans.length === texts.length) return;
    this.sentStart.length = first;
    this.sentLen.length = first;
    for (const sp of merged) {
      this.sentStart.push(sp.start);
      this.sentLen.push(sp.len);
    }
  }

  private push(s: string, cp: number): void {
    this.parts.push(s);
    this.cp += cp;
  }

  /** Finds each numbered link's anchor in the sentence, left to right, where a word starts
   * ("cultural anthropology" is not the end of "Sociocultural anthropology") when it can. */
  private place(links: WtfLink[], text: string, start: number, astral: boolean): void {
    let cursor = 0;
    for (const l of links) {
      const n = MARKER.exec(l.page?.() ?? '');
      if (!n) continue;
      const idx = Number(n[1]);
      const anchor = squeeze(readable(l.text?.() ?? '', this.anchors));
      if (!anchor || this.placed.has(idx)) continue;
      let at = wordAt(text, anchor, cursor);
      if (at < 0) at = text.indexOf(anchor, cursor);
      if (at < 0) at = text.indexOf(anchor);
      if (at < 0) continue;
      this.placed.set(idx, { offset: start + (astral ? cpLength(text.slice(0, at)) : at), anchor });
      cursor = at + anchor.length;
    }
  }
}

/** The first occurrence of `anchor` at or after `from` that does not start inside a word. */
function wordAt(text: string, anchor: string, from: number): number {
  if (!WORD_CHAR.test(anchor[0] ?? '')) return text.indexOf(anchor, from);
  for (let at = text.indexOf(anchor, from); at >= 0; at = text.indexOf(anchor, at + 1)) {
    if (at === 0 || !WORD_CHAR.test(text[at - 1]!)) return at;
  }
  return -1;
}

/**
 * The page's links with normalised targets; each placed where `placed` (the clean text's builder)
 * found its anchor, otherwise offset null and origin where it stands in the wikitext.
 */
export function articleLinks(title: string, scanned: WikiLink[], titles: Titles, placed = new Map<number, { anchor: string; offset: number }>()): CleanLink[] {
  const links: CleanLink[] = [];
  scanned.forEach((l, idx) => {
    const norm = titles.normalize(l.target);
    // `[[#Section]]` points into the page itself.
    const self = norm.title ? null : norm.fragment ? titles.normalize(title) : null;
    const target = norm.title || self?.title || '';
    if (!target) return;
    const at = placed.get(idx);
    links.push({
      idx,
      target,
      targetNs: self ? self.ns : norm.ns,
      fragment: norm.fragment,
      anchor: at?.anchor ?? squeeze(decodeHTMLStrict(l.anchor)),
      offset: at?.offset ?? null,
      origin: at ? 'text' : l.origin,
    });
  });
  return links;
}

export function cleanArticle(title: string, wikitext: string, titles: Titles, opts: ScanOptions = {}): CleanArticle {
  const scan = scanLinks(wikitext, titles, opts);
  const doc = wtf(scan.rewritten.includes('。') ? scan.rewritten.replace(FULL_STOP, HIDDEN_FULL_STOP) : scan.rewritten, { title });
  const b = new TextBuilder((idx) => scan.links[idx]?.anchor, opts.ordinalDot ? CUT_END_ORDINAL : CUT_END);
  let apparatusDepth: number | null = null; // inside an apparatus section, subsections included
  for (const section of doc.sections()) {
    const depth = section.depth();
    if (apparatusDepth !== null && depth > apparatusDepth) continue;
    apparatusDepth = APPARATUS.test(section.title().trim()) ? depth : null;
    if (apparatusDepth !== null) continue;
    for (const p of section.paragraphs() as unknown as WtfParagraph[]) {
      b.paragraph(p.sentences(), ' ', opts.keepLists ?? false);
      if (opts.keepLists) for (const list of p.lists()) b.paragraph(list.lines(), '\n');
    }
  }
  const links = articleLinks(title, scan.links, titles, b.placed);
  return {
    text: b.parts.join(''),
    sentStart: b.sentStart,
    sentLen: b.sentLen,
    paraFirst: b.paraFirst,
    disambiguation: doc.isDisambiguation(),
    links,
  };
}
