/**
 * Ingest's inputs: what `--dump` names (a file, several, a folder), what each one is (decided once,
 * by `inputKind`), their checksums and fingerprints.
 */
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, readdirSync, statSync } from 'node:fs';
import { open, readFile, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { bookEntries, booksBytes, booksSha256, isBooks } from '../corpus/books.js';
import { isPubmed } from '../corpus/pubmed.js';
import { isJats } from '../corpus/pmc.js';
import { sha256Of } from '../util/hash.js';

/** What an input is read as: a MediaWiki dump, PubMed/MEDLINE XML, a PMC full text, JSON Lines, or books. */
export type InputKind = 'wiki' | 'pubmed' | 'pmc' | 'jsonl' | 'books';

/**
 * An input's kind. Books are known by their path (a `.txt` file or a folder of them); every other
 * kind by the first bytes of its decompressed content (`head`): JSON Lines by a `{` first, PubMed
 * and PMC by their root element or doctype, anything else is read as a wiki dump (whose reader
 * names what it found when it is none). Without `head`: books, or null (the content decides).
 */
export function inputKind(path: string): 'books' | null;
export function inputKind(path: string, head: Buffer): InputKind;
export function inputKind(path: string, head?: Buffer): InputKind | null {
  if (isBooks(path)) return 'books';
  if (!head) return null;
  const first = head.findIndex((c) => c > 0x20);
  if (first >= 0 && head[first] === 0x7b) return 'jsonl';
  const text = head.subarray(0, 4096).toString('latin1');
  return isPubmed(text) ? 'pubmed' : isJats(text) ? 'pmc' : 'wiki';
}

/**
 * A folder of dumps (PubMed baseline files, PMC articles…) is its files, in name order, each read
 * as what its content says; checksum and index files beside them are not inputs. A folder of .txt
 * files is one input of books.
 */
export function expandInputs(paths: string[]): string[] {
  return paths.flatMap((path) => {
    if (!existsSync(path)) throw new Error(`${path}: no such file or folder`);
    if (!statSync(path).isDirectory()) return [path];
    const names = readdirSync(path).sort();
    if (names.some((f) => /\.txt$/i.test(f))) return [path];
    const files = names.filter((f) => !f.startsWith('.') && !/\.md5$|-index\.txt\.bz2$/i.test(f) && statSync(join(path, f)).isFile()).map((f) => join(path, f));
    if (!files.length) throw new Error(`${path}: an empty folder`);
    return files;
  });
}

/** A `.md5` file beside the input (as PubMed's baseline has, `MD5(name)= hex`, or md5sum's `hex  name`) must match it. */
export async function checkMd5(file: string): Promise<void> {
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

/** Size plus a hash of the first and last MiB: cheap, and changes whenever the dump does. */
export async function fingerprint(file: string): Promise<string> {
  if (isBooks(file) && statSync(file).isDirectory()) {
    const h = createHash('sha256');
    for (const e of bookEntries(file)) h.update(`${basename(e.file)}\0${e.skip ? `skipped: ${e.skip}` : await fingerprint(e.file)}\n`);
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

/** The fingerprint of the inputs together: one input's own, or a hash of several's. */
export async function inputsFingerprint(inputs: string[]): Promise<string> {
  if (inputs.length === 1) return fingerprint(inputs[0]!);
  return `inputs:${createHash('sha256').update((await Promise.all(inputs.map(fingerprint))).join('\n')).digest('hex').slice(0, 32)}`;
}

/** SHA-256 of the input; of several, of their `sha256  name` lines (as sha256sum prints them). */
export async function inputsSha256(inputs: string[]): Promise<string> {
  return (await inputsDigests(inputs)).sha256;
}

/** The inputs' SHA-256 (as inputsSha256), and each input's size and SHA-256. */
export async function inputsDigests(inputs: string[]): Promise<{ sha256: string; each: { bytes: number; sha256: string }[] }> {
  const each: { bytes: number; sha256: string }[] = [];
  for (const f of inputs) each.push({ bytes: isBooks(f) ? await booksBytes(f) : (await stat(f)).size, sha256: isBooks(f) ? await booksSha256(f) : await sha256Of(f) });
  if (inputs.length === 1) return { sha256: each[0]!.sha256, each };
  const lines = inputs.map((f, k) => `${each[k]!.sha256}  ${f}\n`);
  return { sha256: createHash('sha256').update(lines.join('')).digest('hex'), each };
}

/** The inputs' total size in bytes. */
export async function inputsBytes(inputs: string[]): Promise<number> {
  return (await Promise.all(inputs.map(async (f) => (isBooks(f) ? booksBytes(f) : (await stat(f)).size)))).reduce((a, b) => a + b, 0);
}
