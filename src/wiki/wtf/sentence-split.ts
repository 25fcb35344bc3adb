/**
 * wtf_wikipedia's `04-sentence/parse.js` (a paragraph split into sentences), the same rules with
 * cheaper tests: whether a piece ends in an initial (`J.`), an ellipsis, or holds unbalanced
 * brackets, quotes or parentheses is decided by looking at its end and counting characters, where
 * wtf's ran a regular expression from every position of the piece. Ingest's worker bundle takes this
 * module in its place (src/util/bundle.js); test/wtf-replaced.test.ts checks the two give the same.
 */
import { upstream } from './upstream.ts';

// the package's own modules, as the replacements hand work on to them
const { default: wtfAbbreviations } = (await upstream('04-sentence/_abbreviations.js')) as { default: any };

// wtf's own patterns, where a test of the end alone would not be simpler
const ABBREVIATION = new RegExp(`(^| |')(${[...(wtfAbbreviations as string[]), '[^]][^]]'].join('|')})[.!?] ?$`, 'i');
const CIRCA = / c\.\s$/;
const LETTER = /\p{Letter}/iu;
const NON_SPACE = /\S/;
const SPACE = /\s/;

const isAsciiLetter = (c: number) => (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
const isLineBreak = (c: number) => c === 0x0a || c === 0x0d || c === 0x2028 || c === 0x2029;

/** Where `s` ends once its trailing spaces (U+0020 only) are dropped. */
function endBeforeSpaces(s: string): number {
  let e = s.length;
  while (e > 0 && s.charCodeAt(e - 1) === 0x20) e--;
  return e;
}

/** wtf's `[ .'][A-Z].? *$` (case-insensitive): a space, period or apostrophe, a letter, at most one more character, spaces. */
function endsInInitial(s: string): boolean {
  const e = endBeforeSpaces(s);
  const after = (c: number) => c === 0x20 || c === 0x2e || c === 0x27;
  if (e >= 2 && isAsciiLetter(s.charCodeAt(e - 1)) && after(s.charCodeAt(e - 2))) return true;
  return e >= 3 && !isLineBreak(s.charCodeAt(e - 1)) && isAsciiLetter(s.charCodeAt(e - 2)) && after(s.charCodeAt(e - 3));
}

/** wtf's `\.{3,} +$`: three periods or more, then at least one space to the end. */
function endsInEllipsis(s: string): boolean {
  const e = endBeforeSpaces(s);
  return e < s.length && e >= 3 && s.endsWith('...', e);
}

/** How many times `what` occurs in `s`, not overlapping, from the left (as a split by it counts). */
function count(s: string, what: string): number {
  let n = 0;
  for (let i = s.indexOf(what); i >= 0; i = s.indexOf(what, i + what.length)) n++;
  return n;
}

/** No more `[[` than `]]`; and in a piece under 900 characters, quotes and parentheses paired. */
function isBalanced(s: string): boolean {
  if (count(s, '[[') > count(s, ']]')) return false;
  if (s.length >= 900) return true;
  return count(s, '"') % 2 === 0 && (count(s, '(') + count(s, ')')) % 2 === 0;
}

/** Whether a piece can end a sentence: not an abbreviation, initial or ellipsis, has a letter, is balanced. */
function isSentence(s: string): boolean {
  if (ABBREVIATION.test(s) || endsInInitial(s) || endsInEllipsis(s) || CIRCA.test(s)) return false;
  return LETTER.test(s) && isBalanced(s);
}

/**
 * `line.split(/(\S.+?[.!?]"?)(?=\s|$)/)`, wtf's cut, in one pass: that expression, tried from every
 * position of a long line with no sentence end (a paragraph of a million links), took time in the
 * square of its length. A piece starts at a non-space and ends at the first `.`, `!` or `?` at least two
 * characters on (with a `"` after it, if one follows) that white space or the end follows; `.` does
 * not cross a line terminator (\r, U+2028, U+2029), so no piece starts before one and ends after it.
 */
function splitPieces(line: string): string[] {
  const n = line.length;
  const space = (i: number) => i >= n || SPACE.test(line[i]!);
  const isBreak = (c: string) => c === '\r' || c === '\u2028' || c === '\u2029';
  const out: string[] = [];
  let from = 0; // the text not yet handed out
  for (let s = 0; s < n; ) {
    if (space(s)) {
      s++;
      continue;
    }
    let end = -1;
    let i = s + 1;
    for (; i < n && !isBreak(line[i]!); i++) {
      const c = line[i]!;
      if (i < s + 2 || (c !== '.' && c !== '!' && c !== '?')) continue;
      if (line[i + 1] === '"' && space(i + 2)) end = i + 2;
      else if (space(i + 1)) end = i + 1;
      if (end >= 0) break;
    }
    if (end < 0) {
      s = i; // no piece starts from here to the line terminator (or the end)
      continue;
    }
    out.push(line.slice(from, s), line.slice(s, end));
    from = s = end;
  }
  out.push(line.slice(from));
  return out;
}

/** Lines that hold something, each cut after every `.`, `!` or `?` that a space or the end follows. */
function pieces(text: string): string[] {
  const out: string[] = [];
  for (const line of text.split(/(\n+)/)) {
    if (NON_SPACE.test(line)) for (const p of splitPieces(line)) out.push(p);
  }
  return out;
}

export default function sentenceParser(text: unknown): string[] {
  if (!text || typeof text !== 'string' || text.trim().length === 0) return [];
  const splits = pieces(text);
  const chunks: string[] = [];
  for (let i = 0; i < splits.length; i++) {
    const s = splits[i]!;
    if (!s) continue;
    // white space alone joins the piece before it, or else the one after
    if (!NON_SPACE.test(s)) {
      if (chunks[chunks.length - 1]) {
        chunks[chunks.length - 1] += s;
        continue;
      }
      if (splits[i + 1]) {
        splits[i + 1] = s + splits[i + 1];
        continue;
      }
    }
    chunks.push(s);
  }
  // a piece that cannot end a sentence is joined to the next
  const sentences: string[] = [];
  for (let i = 0; i < chunks.length; i++) {
    const c = chunks[i]!;
    if (chunks[i + 1] && !isSentence(c)) {
      const next = chunks[i + 1]!;
      chunks[i + 1] = !/^\s/.test(next) && !/\s$/.test(c) ? `${c} ${next}` : c + next;
    } else if (c) {
      sentences.push(c);
      chunks[i] = '';
    }
  }
  return sentences.length ? sentences : [text];
}
