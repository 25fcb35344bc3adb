/**
 * A linked corpus as JSON Lines, one document per line: `{"id", "title", "text", "links": [ids]}`
 * (title and links optional). Each document becomes an article whose links point at other
 * documents by id: its pages row has the id as `norm_title`, the key `graph` resolves links against,
 * so ids that name no document of the corpus are dangling like any link. Text is plain: paragraphs
 * by blank lines (any line ends), sentences by the splitter wtf_wikipedia uses for Wikipedia text.
 */
import { LINK_ORIGINS, type LinkColumns, type LinkOrigin, type PageRows } from '../db/rows.js';
import { DumpSyntaxError } from '../dump/xml.js';
// wtf_wikipedia's rule-based sentence splitter (the same rules, tested equal to the package's module)
import splitSentences from '../wiki/wtf/sentence-split.js';

const split = splitSentences as (text: string) => string[];

export interface PlainText {
  text: string;
  sentStart: number[];
  sentLen: number[];
  paraFirst: number[];
}

function cpLength(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

/** Plain text → the articles table's layout: sentences joined by ' ', paragraphs by '\n\n', offsets in code points. */
export function plainText(raw: string): PlainText {
  const out: PlainText = { text: '', sentStart: [], sentLen: [], paraFirst: [] };
  const parts: string[] = [];
  let cp = 0;
  for (const para of raw.replace(/\r\n?/g, '\n').split(/\n[ \t]*\n/)) {
    const flat = para.replace(/\s+/g, ' ').trim();
    if (!flat) continue;
    let first = true;
    for (const s of split(flat)) {
      const sentence = s.replace(/\s+/g, ' ').trim();
      if (!sentence) continue;
      if (out.sentStart.length) {
        const glue = first ? '\n\n' : ' ';
        parts.push(glue);
        cp += glue.length;
      }
      if (first) out.paraFirst.push(out.sentStart.length);
      first = false;
      const n = cpLength(sentence);
      out.sentStart.push(cp);
      out.sentLen.push(n);
      parts.push(sentence);
      cp += n;
    }
  }
  out.text = parts.join('');
  return out;
}

/** One line of the file → a document's rows, or an error naming the file and line. */
export function jsonlRows(file: string, line: string, lineNo: number, seq: number): PageRows | null {
  if (!line.trim()) return null;
  const bad = (why: string) => new DumpSyntaxError(`${file}: line ${lineNo}: ${why}`);
  let d: unknown;
  try {
    d = JSON.parse(line);
  } catch (e) {
    throw bad(`not JSON (${(e as Error).message})`);
  }
  if (typeof d !== 'object' || d === null || Array.isArray(d)) throw bad('not a JSON object');
  const doc = d as { id?: unknown; title?: unknown; text?: unknown; links?: unknown };
  const isId = (x: unknown): x is string | number => (typeof x === 'string' && x !== '') || (typeof x === 'number' && Number.isFinite(x));
  if (!isId(doc.id)) throw bad('"id" must be a string or a number');
  if (typeof doc.text !== 'string') throw bad('"text" must be a string');
  if (doc.title !== undefined && typeof doc.title !== 'string') throw bad('"title" must be a string');
  if (doc.links !== undefined && (!Array.isArray(doc.links) || !doc.links.every(isId))) throw bad('"links" must be a list of ids');
  return plainDocumentRows({ id: String(doc.id), title: doc.title as string | undefined, text: doc.text, links: ((doc.links as (string | number)[] | undefined) ?? []).map(String) }, seq, lineNo);
}

/**
 * A plain-text document (a JSON Lines line, a book) → its rows: the title defaults to the id, an
 * empty text is skipped and counted with its line (or the book's number).
 */
export function plainDocumentRows(doc: { id: string; title?: string; text: string; links: string[] }, seq: number, lineNo: number): PageRows {
  const { id, text } = doc;
  const title = doc.title?.trim() || id;
  const bytes = Buffer.byteLength(text);
  const pageId = /^\d{1,15}$/.test(id) ? Number(id) : null;
  if (!text.trim()) return { seq, wikitextBytes: bytes, skipped: { seq, page_id: pageId, ns: 0, title, reason: 'empty text', line: lineNo } };
  return documentRows({ seq, id, pageId, title, raw: text, bytes, targets: doc.links, origin: 'document' });
}

/** A document of a non-wiki corpus → its rows: an article keyed by `id` (its norm_title), its links by target id, none placed in the text. */
export function documentRows(d: { seq: number; id: string; pageId: number | null; title: string; revId?: number | null; raw: string; bytes: number; targets: string[]; origin: LinkOrigin }): PageRows {
  const { seq, title } = d;
  const t = plainText(d.raw);
  const n = d.targets.length;
  const code = LINK_ORIGINS.indexOf(d.origin);
  const links: LinkColumns = { idx: Int32Array.from(d.targets.keys()), target: d.targets, target_ns: new Int32Array(n), fragment: new Array(n).fill(null), anchor: new Array(n).fill(''), offset: new Int32Array(n).fill(-1), origin: new Uint8Array(n).fill(code) };
  return {
    seq,
    wikitextBytes: d.bytes,
    page: { seq, page_id: d.pageId, ns: 0, title, norm_title: d.id, rev_id: d.revId ?? null, timestamp: null, kind: 'article', text_bytes: d.bytes },
    article: { seq, title, disambiguation: false, text: t.text, sent_start: Int32Array.from(t.sentStart), sent_len: Int32Array.from(t.sentLen), para_first: Int32Array.from(t.paraFirst) },
    links,
  };
}
