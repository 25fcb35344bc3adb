/**
 * Multistream dumps: the `…-multistream-index.txt.bz2` beside the dump lists `offset:pageid:title`
 * for every page, in dump order; each distinct offset starts a bz2 stream of ≤100 pages. Streams are
 * decoded concurrently as byte ranges, and a resumed run starts at the stream holding its next page.
 */
import { createReadStream, existsSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { Readable } from 'node:stream';
import { bunzip, DecompressError, type Bunzip } from './bz2.js';

export interface StreamIndex {
  file: string;
  offsets: number[]; // byte offset of each page stream
  firstSeq: number[]; // seq of its first page
  firstId: number[]; // page id of its first page
  pages: number; // pages listed
}

/** `x-multistream.xml.bz2` → `x-multistream-index.txt.bz2`, if that file exists. */
export function indexBeside(dump: string): string | null {
  const m = /^(.*)\.xml\.bz2$/.exec(dump);
  if (!m) return null;
  const candidate = `${m[1]}-index.txt.bz2`;
  return existsSync(candidate) ? candidate : null;
}

export async function readIndex(file: string, tool?: Bunzip): Promise<StreamIndex> {
  const idx: StreamIndex = { file, offsets: [], firstSeq: [], firstId: [], pages: 0 };
  const bytes = file.endsWith('.bz2') ? Readable.from(bunzip(() => createReadStream(file), file, tool)) : createReadStream(file);
  let lineNo = 0;
  for await (const line of createInterface({ input: bytes, crlfDelay: Infinity })) {
    lineNo++;
    if (!line) continue;
    const a = line.indexOf(':');
    const b = line.indexOf(':', a + 1);
    const offset = Number(line.slice(0, a));
    const id = Number(line.slice(a + 1, b));
    if (a <= 0 || b < 0 || !Number.isSafeInteger(offset) || !Number.isSafeInteger(id)) {
      throw new Error(`${file}: line ${lineNo} is not offset:pageid:title`);
    }
    const last = idx.offsets.length - 1;
    if (last < 0 || idx.offsets[last] !== offset) {
      if (last >= 0 && offset < idx.offsets[last]!) throw new Error(`${file}: line ${lineNo}: offsets go backwards`);
      idx.offsets.push(offset);
      idx.firstSeq.push(idx.pages);
      idx.firstId.push(id);
    }
    idx.pages++;
  }
  if (!idx.pages) throw new Error(`${file}: empty index`);
  return idx;
}

export interface Range {
  start: number;
  end: number; // exclusive
  stream: number; // -1 for the header (siteinfo)
}

/**
 * The header range, then the page streams from the one holding `fromSeq` to the end of the file,
 * or up to the stream that starts at `toSeq` (a unit of a planned run: toSeq is a stream's first page).
 */
export async function rangesFrom(dump: string, idx: StreamIndex, fromSeq: number, toSeq?: number): Promise<{ ranges: Range[]; firstSeq: number }> {
  const size = (await stat(dump)).size;
  let k = 0;
  while (k + 1 < idx.offsets.length && idx.firstSeq[k + 1]! <= fromSeq) k++;
  const ranges: Range[] = [{ start: 0, end: idx.offsets[0]!, stream: -1 }];
  for (let s = k; s < idx.offsets.length && (toSeq === undefined || idx.firstSeq[s]! < toSeq); s++) {
    ranges.push({ start: idx.offsets[s]!, end: s + 1 < idx.offsets.length ? idx.offsets[s + 1]! : size, stream: s });
  }
  if (idx.offsets[idx.offsets.length - 1]! >= size) throw new Error(`${idx.file}: offsets point past the end of ${dump}`);
  return { ranges, firstSeq: idx.firstSeq[k]! };
}

/** The pages the index lists for stream k, in order (read again from the index: needed only for damage). */
export async function streamPages(idx: StreamIndex, k: number, tool?: Bunzip): Promise<{ id: number; title: string }[]> {
  const file = idx.file;
  const bytes = file.endsWith('.bz2') ? Readable.from(bunzip(() => createReadStream(file), file, tool)) : createReadStream(file);
  const out: { id: number; title: string }[] = [];
  const offset = idx.offsets[k]!;
  const lines = createInterface({ input: bytes, crlfDelay: Infinity });
  for await (const line of lines) {
    const a = line.indexOf(':');
    const b = line.indexOf(':', a + 1);
    const at = Number(line.slice(0, a));
    if (at > offset) break;
    if (at === offset) out.push({ id: Number(line.slice(a + 1, b)), title: line.slice(b + 1) });
  }
  lines.close();
  bytes.destroy();
  return out;
}

/**
 * Decoded bytes of each range, in order, with up to `concurrency` ranges decoding at once. With
 * `skipDamaged`, a page stream that fails to decode (a bad CRC, a cut) comes as its error instead
 * of ending the sequence: each stream holds whole pages, so the streams after it still make sense.
 */
export async function* decodeRanges(dump: string, ranges: Range[], concurrency: number, tool?: Bunzip, skipDamaged = false): AsyncGenerator<{ range: Range; data: Buffer | null; error?: Error }> {
  const decode = async (r: Range): Promise<Buffer> => {
    const parts: Buffer[] = [];
    const label = `${dump} (bytes ${r.start}–${r.end})`;
    for await (const b of bunzip(() => createReadStream(dump, { start: r.start, end: r.end - 1 }), label, tool)) parts.push(b);
    return Buffer.concat(parts);
  };
  const inflight: Promise<Buffer>[] = [];
  let next = 0;
  for (let i = 0; i < ranges.length; i++) {
    while (next < ranges.length && next < i + Math.max(1, concurrency)) {
      const p = decode(ranges[next++]!);
      p.catch(() => {}); // awaited in order below
      inflight.push(p);
    }
    const range = ranges[i]!;
    let data: Buffer;
    try {
      data = await inflight.shift()!;
    } catch (e) {
      if (!skipDamaged || range.stream < 0 || !(e instanceof DecompressError)) throw e; // the header (siteinfo) cannot be done without
      yield { range, data: null, error: e };
      continue;
    }
    yield { range, data };
  }
}
