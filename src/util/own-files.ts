/**
 * Files this project writes into a user's folder (the demo vocabulary, model files, ONNX exports,
 * the report): written where nothing is, or over a file it wrote itself that nobody has changed
 * since. A ledger beside them (.linkbert-files.json) holds the SHA-256 of each file written; any
 * other file is refused, naming it and the flag that allows replacing it.
 */
import { createHash } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readSync, renameSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

const LEDGER = '.linkbert-files.json';

/** each file's name → the digests it may have (two while a file is being replaced) */
type Ledger = Record<string, string[]>;

/** SHA-256 of a file, a MiB at a time (an ONNX model can be hundreds of MB). */
function digestOf(file: string): string {
  const h = createHash('sha256');
  const buf = Buffer.alloc(1 << 20);
  const fd = openSync(file, 'r');
  try {
    for (let n; (n = readSync(fd, buf, 0, buf.length, null)) > 0; ) h.update(buf.subarray(0, n));
  } finally {
    closeSync(fd);
  }
  return h.digest('hex');
}

function readLedger(dir: string): Ledger {
  const file = join(dir, LEDGER);
  if (!existsSync(file)) return {};
  try {
    const l = JSON.parse(readFileSync(file, 'utf8')) as { format?: string; files?: Ledger };
    return l.format === 'linkbert-files/1' && l.files && typeof l.files === 'object' ? l.files : {};
  } catch {
    return {}; // an unreadable ledger vouches for nothing
  }
}

function writeLedger(dir: string, files: Ledger): void {
  const tmp = join(dir, `${LEDGER}.tmp-${process.pid}`);
  writeFileSync(tmp, JSON.stringify({ format: 'linkbert-files/1', files }, null, 2) + '\n');
  renameSync(tmp, join(dir, LEDGER));
}

/** Whether FILE may be written: absent, or as this project wrote it. */
export function ours(file: string): boolean {
  if (!existsSync(file)) return true;
  const sums = readLedger(dirname(file))[basename(file)];
  return Array.isArray(sums) && sums.includes(digestOf(file));
}

/** Refuses, before anything is written, to replace a file this project did not write (unless `allowed`). */
export function checkWritable(files: string[], opts: { allowed?: boolean; flag: string }): void {
  if (opts.allowed) return;
  const theirs = files.filter((f) => !ours(f));
  if (theirs.length) {
    throw new Error(`${theirs.join(', ')} ${theirs.length > 1 ? 'exist and were' : 'exists and was'} not written by linkbert (or changed since): not replaced; choose another place, or pass ${opts.flag} to replace ${theirs.length > 1 ? 'them' : 'it'}`);
  }
}

/**
 * Writes FILE as this project's. The ledger takes the new digest before the file is replaced (under a
 * temporary name, then renamed) and drops the old one after: killed at any point, the file there is
 * one the ledger knows, and a rerun may replace it.
 */
export function writeOwned(file: string, bytes: string | Uint8Array): void {
  const dir = dirname(file);
  mkdirSync(dir, { recursive: true });
  const sum = createHash('sha256').update(bytes).digest('hex');
  const ledger = readLedger(dir);
  const name = basename(file);
  ledger[name] = [...new Set([...(ledger[name] ?? []), sum])];
  writeLedger(dir, ledger);
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, bytes);
  renameSync(tmp, file);
  writeLedger(dir, { ...readLedger(dir), [name]: [sum] });
}
