/**
 * The parts of a page's wikitext that are not prose, found before its links are rewritten:
 * apparatus sections (See also, References…) and runs of list lines; and single line breaks inside
 * paragraphs, which MediaWiki renders as a space.
 */

/** Sections whose text is apparatus, not prose: left out of the clean text (their links are kept). */
export const APPARATUS = /^(see also|references|notes|external links|further reading|bibliography|sources|footnotes|citations|notes and references|references and notes|works cited|literatur|weblinks|einzelnachweise|siehe auch)$/i;

/** [start, end) of each apparatus section: from its heading to the next heading of its level or above. */
function apparatusRegions(s: string): [number, number][] {
  const out: [number, number][] = [];
  const heading = /^(={2,6})[ \t]*([^=\n]*?)[ \t]*\1[ \t]*$/gm;
  let m: RegExpExecArray | null;
  let open: { start: number; level: number } | null = null;
  while ((m = heading.exec(s))) {
    const level = m[1]!.length;
    if (open && level <= open.level) {
      out.push([open.start, m.index]);
      open = null;
    }
    if (!open && APPARATUS.test(m[2]!.trim())) open = { start: m.index, level };
  }
  if (open) out.push([open.start, s.length]);
  return out;
}

export type Region = [start: number, end: number, kind: 'apparatus' | 'list'];

/** Apparatus sections and (unless lists are kept) runs of list lines, in order, none inside another. */
export function regionsOf(s: string, scan: { strip: boolean; keepLists: boolean }): Region[] {
  const apparatus: Region[] = scan.strip ? apparatusRegions(s).map(([a, b]) => [a, b, 'apparatus']) : [];
  if (scan.keepLists) return apparatus;
  const out: Region[] = [];
  let k = 0;
  for (const r of listRegions(s)) {
    while (k < apparatus.length && apparatus[k]![1] <= r[0]) out.push(apparatus[k++]!);
    if (k < apparatus.length && apparatus[k]![0] < r[1]) continue; // inside (or across) an apparatus section
    out.push(r);
  }
  while (k < apparatus.length) out.push(apparatus[k++]!);
  return out;
}

const LIST_LINE = /[*#:;]/;
/**
 * [start, end) of each run of list lines at the top level (not inside a template, table or
 * comment), up to the end of its last line (its line break stays, so the text around it keeps
 * its paragraph break). A list item's template or table (`:{|`) that goes on over more lines
 * belongs to the item.
 */
const LINE_TOKEN = /\{\{|\}\}|<!--|\n/g;
function listRegions(s: string): Region[] {
  const out: Region[] = [];
  let depth = 0; // {{ }} nesting
  let tables = 0; // {| |} nesting, by line
  let open = -1; // start of the run of list lines being read; -1: none
  let inItem = false; // the current line (or the construct it opened) is a list item
  let lineEnd = -1;
  for (let i = 0; i < s.length; ) {
    // at a line start
    let j = i;
    while (s.charCodeAt(j) === 0x3a || s.charCodeAt(j) === 0x20) j++; // `:{|` is an indented table
    const tableOpen = s.startsWith('{|', j);
    const tableClose = s.startsWith('|}', j);
    const top = depth === 0 && tables === 0;
    if (top) inItem = LIST_LINE.test(s[i] ?? '');
    if (top && inItem && open < 0) open = i;
    if (top && !inItem && open >= 0) {
      out.push([open, lineEnd, 'list']);
      open = -1;
    }
    if (tableOpen) tables++;
    else if (tableClose && tables > 0) tables--;
    // through the line, counting braces (and skipping comments, which may span lines)
    let e = s.length;
    LINE_TOKEN.lastIndex = i;
    for (let m = LINE_TOKEN.exec(s); m; m = LINE_TOKEN.exec(s)) {
      const tok = m[0];
      if (tok === '\n') {
        e = m.index;
        break;
      }
      if (tok === '{{') depth++;
      else if (tok === '}}') {
        if (depth > 0) depth--;
      } else {
        const close = s.indexOf('-->', m.index + 4);
        LINE_TOKEN.lastIndex = close < 0 ? s.length : close + 3;
      }
    }
    lineEnd = e;
    i = e + 1;
  }
  if (open >= 0) out.push([open, Math.min(lineEnd, s.length), 'list']);
  return out;
}

// A line MediaWiki reads as paragraph text starts with none of these (list, heading, table,
// template line, tag, magic word, rule, preformatted).
const PROSE_START = /^[^*#:;=!|{}< \t\r\n_-]/;

/**
 * A single line break between two lines of paragraph text, outside templates, tables, refs and
 * comments, as the space MediaWiki renders it (`ships\ncan dock` is one sentence); wtf_wikipedia
 * would end a sentence there. Done on the wikitext as written, before anything is left out, so
 * what is left out later (a table on its own line) cannot join the lines around it.
 */
/** A character of a script written without spaces between words (Chinese, Japanese, Thai, …), or CJK punctuation. */
export const UNSPACED = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Thai}\p{Script=Lao}\p{Script=Khmer}\p{Script=Myanmar}\p{Script=Tibetan}\u3000-\u303f\uff00-\uffef]/u;

/** Where the text a reader sees ends before `e`: before the refs that end the line (they are cut). */
function shownBefore(s: string, e: number, lineStart: number): number {
  let k = e;
  while (k > lineStart && s[k - 1] === '>') {
    const ref = s.lastIndexOf('<ref', k - 1);
    if (ref < lineStart) break;
    k = ref;
  }
  return k;
}

export function joinProseLines(s: string): string {
  if (!s.includes('\n')) return s;
  const re = /\{\{|\}\}|<!--|<ref\b[^>]{0,200}>|\n/gi;
  let out: string[] | null = null;
  let copied = 0;
  let depth = 0;
  let tables = 0;
  let lineStart = 0;
  let m: RegExpExecArray | null;
  while ((m = re.exec(s))) {
    const tok = m[0];
    const e = m.index;
    if (tok === '{{') depth++;
    else if (tok === '}}') depth = Math.max(0, depth - 1);
    else if (tok === '<!--') {
      const close = s.indexOf('-->', e + 4);
      re.lastIndex = close < 0 ? s.length : close + 3;
    } else if (tok !== '\n') {
      // a ref keeps its lines (wtf removes a ref whole only as written); `<ref name="x"/>` has none
      if (!tok.endsWith('/>')) {
        const close = s.indexOf('</ref', e);
        if (close >= 0) re.lastIndex = close + 5;
      }
    } else {
      let t = lineStart;
      while (s.charCodeAt(t) === 0x3a || s.charCodeAt(t) === 0x20) t++;
      if (s.startsWith('{|', t)) tables++;
      else if (s.startsWith('|}', t) && tables > 0) tables--;
      if (depth === 0 && tables === 0 && e > lineStart && PROSE_START.test(s[lineStart]!)) {
        const next = e + 1 < s.length ? s[e + 1]! : '';
        // between characters of a script written without spaces, a line break is no space (as CSS
        // renders it); a ref or link after it is taken to continue the script
        const prevUnspaced = UNSPACED.test(s[shownBefore(s, e, lineStart) - 1] ?? '');
        if (next && (PROSE_START.test(next) || (prevUnspaced && /^<ref\b/i.test(s.slice(e + 1, e + 5)))) && !s.startsWith('----', e + 1)) {
          const unspaced = prevUnspaced && (UNSPACED.test(next) || next === '<' || next === '[');
          (out ??= []).push(s.slice(copied, e), unspaced ? '' : ' ');
          copied = e + 1;
        }
      }
      lineStart = e + 1;
    }
  }
  if (!out) return s;
  out.push(s.slice(copied));
  return out.join('');
}
