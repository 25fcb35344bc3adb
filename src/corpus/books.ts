/**
 * Books as plain text, as LinkBERT mixed BookCorpus with Wikipedia: a `.txt` file, or a folder of
 * them, one document per file, no links. A Project Gutenberg header and footer are taken off. Each
 * book becomes a plain-text document as a JSON Lines line does (its file name as id and title); with
 * no links, their anchors get contiguous or random B's (`pairs --unlinked nsp`).
 */
import { createHash } from 'node:crypto';
import { closeSync, lstatSync, openSync, readdirSync, readSync, realpathSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, join, relative, isAbsolute } from 'node:path';
import { sha256Of } from '../util/hash.js';

/** Whether `path` is a book input: a folder or a `.txt` file. */
export function isBooks(path: string): boolean {
  try {
    return statSync(path).isDirectory() || /\.txt$/i.test(path);
  } catch {
    return false;
  }
}

/** A `.txt` entry of a books folder, and why it is not read (null: it is). */
export interface BookEntry {
  file: string;
  skip: string | null;
}

/**
 * The `.txt` entries of a books input, in name order. A symbolic link is followed when it ends at a
 * file inside the folder; one that leads out of it, or nowhere, is skipped (and counted by ingest):
 * a folder of books never reads what its owner did not put in it.
 */
export function bookEntries(path: string): BookEntry[] {
  if (!statSync(path).isDirectory()) return [{ file: path, skip: null }];
  const root = realpathSync(path);
  const entries: BookEntry[] = [];
  for (const f of readdirSync(path).filter((f) => /\.txt$/i.test(f)).sort()) {
    const file = join(path, f);
    if (!lstatSync(file).isSymbolicLink()) {
      if (statSync(file).isFile()) entries.push({ file, skip: null });
      continue;
    }
    let real: string;
    try {
      real = realpathSync(file);
    } catch {
      entries.push({ file, skip: 'dangling link' });
      continue;
    }
    const inside = relative(root, real);
    if (inside.startsWith('..') || isAbsolute(inside)) entries.push({ file, skip: 'link out of the folder' });
    else if (statSync(real).isFile()) entries.push({ file, skip: null });
  }
  if (!entries.length) throw new Error(`${path}: a folder is read as books, a document per .txt file, and it holds none`);
  return entries;
}

/**
 * What a `.txt` file is when it is plainly not a book, by its first bytes: a multistream index, the
 * output of WikiExtractor, a dump or JSON Lines saved as .txt. Null for anything else (a book).
 */
export function notABook(file: string): string | null {
  const fd = openSync(file, 'r');
  const head = Buffer.alloc(65536);
  let n;
  try {
    n = readSync(fd, head, 0, head.length, 0);
  } finally {
    closeSync(fd);
  }
  const text = head.subarray(0, n).toString('utf8').replace(/^\uFEFF/, '');
  const lines = text.split('\n').map((l) => l.trim()).filter(Boolean).slice(0, 5);
  if (lines.length >= 2 && lines.every((l, k) => /^\d+:\d+:./.test(l) || (k === lines.length - 1 && /^\d*(:\d*)?$/.test(l)))) {
    return 'a multistream index (offset:id:title lines), not a book: give the dump as --dump (its index beside it is found) or this file as --index';
  }
  if (/^<doc id="[^"]*"[^>]*\btitle="/.test(lines[0] ?? '')) return 'the output of WikiExtractor (<doc id=… title=…> documents), not a book: give the dump it was extracted from as --dump';
  if (/^(<\?xml|<mediawiki)\b/.test(lines[0] ?? '')) return 'XML (a MediaWiki dump?) saved as .txt, not a book: rename it to .xml';
  if (/^\{"/.test(lines[0] ?? '')) return 'JSON Lines saved as .txt, not a book: rename it to .jsonl';
  return null;
}

/** Refuses a books input holding a `.txt` file that is plainly something else (see notABook). */
export function checkBooks(path: string): void {
  for (const e of bookEntries(path)) {
    if (e.skip) continue;
    const what = notABook(e.file);
    if (what) throw new Error(`${e.file}: ${what}`);
  }
}

/** The book files of an input that are read, in name order. */
export function bookFiles(path: string): string[] {
  return bookEntries(path).filter((e) => !e.skip).map((e) => e.file);
}

const START = /^\*{3}\s*START OF (?:THE|THIS) PROJECT GUTENBERG\b.*$/im;
const END = /^(?:\*{3}\s*END OF (?:THE|THIS) PROJECT GUTENBERG\b|End of (?:the )?Project Gutenberg'?s?\b).*$/im;

/**
 * The book's own text: between the `*** START/END OF THE PROJECT GUTENBERG EBOOK` lines when it has
 * them; an early release's introduction (its first paragraphs naming Project Gutenberg, up to the
 * last that names it within the first 300 lines) taken off; line ends of any kind as `\n`.
 */
export function stripGutenberg(raw: string): string {
  let text = raw.replace(/\r\n?/g, '\n');
  const start = START.exec(text);
  if (start) text = text.slice(start.index + start[0].length);
  const end = END.exec(text);
  if (end) text = text.slice(0, end.index);
  if (!start) {
    const paragraphs = text.split(/\n[ \t]*\n/);
    const firstText = paragraphs.findIndex((p) => p.trim());
    if (firstText >= 0 && /project gutenberg/i.test(paragraphs[firstText]!)) {
      let lines = 0;
      let last = firstText;
      for (let i = 0; i < paragraphs.length && lines < 300; i++) {
        lines += paragraphs[i]!.split('\n').length + 1;
        if (/gutenberg|etext/i.test(paragraphs[i]!)) last = i;
      }
      text = paragraphs.slice(last + 1).join('\n\n');
    }
  }
  return text.trim();
}

/** A book's document: its file name as id and title, its own text (Gutenberg's header and footer off), no links. */
export async function bookDocument(file: string): Promise<{ id: string; title: string; text: string; links: string[] }> {
  const name = basename(file).replace(/\.txt$/i, '');
  return { id: name, title: name, text: stripGutenberg(await readFile(file, 'utf8')), links: [] };
}

/** SHA-256 of the books (of their `sha256  name` lines, as sha256sum prints them, for a folder). */
export async function booksSha256(path: string): Promise<string> {
  const files = bookFiles(path);
  const sums = await Promise.all(files.map(async (f) => `${await sha256Of(f)}  ${basename(f)}\n`));
  return files.length === 1 && !statSync(path).isDirectory() ? sums[0]!.slice(0, 64) : createHash('sha256').update(sums.join('')).digest('hex');
}

/** Total size of the books, in bytes. */
export function booksBytes(path: string): number {
  return bookFiles(path).reduce((n, f) => n + statSync(f).size, 0);
}
