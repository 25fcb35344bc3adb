/**
 * Opens a dump as a stream of UTF-8 XML bytes: plain `.xml`, bz2 (single or multistream, read
 * whole or through its index from any stream), or gzip. Detects the format by its magic bytes and
 * the text encoding by its BOM (UTF-8 default; UTF-16 dumps exist and are re-encoded as UTF-8, so
 * that pages can be cut apart as bytes and decoded by the threads that parse them).
 */
import { createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { bunzip, bunzipTool, DecompressError, type Bunzip } from './bz2.js';
import { bunzipBlocks, type DamagedBlock } from './bz2blocks.js';
export type { DamagedBlock } from './bz2blocks.js';
import { decodeRanges, rangesFrom, type StreamIndex } from './multistream.js';

export type DumpFormat = 'xml' | 'bz2' | 'gzip';

export interface DumpSource {
  file: string;
  format: DumpFormat;
  decompressor: Bunzip | null;
  totalBytes: number;
  /** compressed bytes consumed so far (for progress and ETA) */
  bytesRead(): number;
  /** seq of the first page the bytes hold (0 unless resumed through an index) */
  firstSeq: number;
  /** the XML, UTF-8, without a byte-order mark; with `skipDamaged`, a damaged page stream of a
   * multistream dump comes as a DamagedStream where its bytes would be */
  bytes: AsyncIterable<Buffer | DamagedStream | DamagedBlock>;
}

/** A page stream of a multistream dump that could not be decoded, and the pages the index lists in it. */
export interface DamagedStream {
  damaged: true;
  stream: number;
  start: number;
  end: number;
  /** seq of its first page, and of the first page after it */
  firstSeq: number;
  nextSeq: number;
  /** page id of its first page (as the index lists it) */
  firstId: number;
  error: string;
}

export async function detectFormat(file: string): Promise<DumpFormat> {
  const fh = await open(file, 'r');
  try {
    const { buffer, bytesRead } = await fh.read(Buffer.alloc(4), 0, 4, 0);
    const b = buffer.subarray(0, bytesRead);
    if (b[0] === 0x42 && b[1] === 0x5a && b[2] === 0x68) return 'bz2';
    if (b[0] === 0x1f && b[1] === 0x8b) return 'gzip';
    return 'xml';
  } finally {
    await fh.close();
  }
}

/** Bytes in the encoding its BOM names → UTF-8 bytes without a BOM (UTF-8 passes through uncopied). */
async function* utf8(chunks: AsyncIterable<Buffer | DamagedStream | DamagedBlock>): AsyncGenerator<Buffer | DamagedStream | DamagedBlock> {
  let dec: TextDecoder | null | undefined; // null: UTF-8
  for await (const b of chunks) {
    if (!Buffer.isBuffer(b)) {
      yield b;
      continue;
    }
    if (dec === undefined) {
      if (b[0] === 0xff && b[1] === 0xfe) dec = new TextDecoder('utf-16le'); // strips the BOM itself
      else if (b[0] === 0xfe && b[1] === 0xff) dec = new TextDecoder('utf-16be');
      else {
        dec = null;
        if (b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf) {
          if (b.length > 3) yield b.subarray(3);
          continue;
        }
      }
    }
    if (dec === null) yield b;
    else {
      const s = dec.decode(b, { stream: true });
      if (s) yield Buffer.from(s, 'utf8');
    }
  }
  const tail = dec?.decode();
  if (tail) yield Buffer.from(tail, 'utf8');
}

/** gzip → bytes; damage (a cut file, a bad checksum) is reported with the file and how far it got. */
async function* gunzip(input: Readable, file: string): AsyncGenerator<Buffer> {
  const z = createGunzip();
  input.on('error', (e) => z.destroy(e));
  input.pipe(z);
  let out = 0;
  try {
    for await (const b of z as AsyncIterable<Buffer>) {
      out += b.length;
      yield b;
    }
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (!err.code?.startsWith('Z_') && err.message !== 'unexpected end of file') throw e;
    const cut = err.message === 'unexpected end of file';
    const damage = new DecompressError(`${file}: gzip data damaged after ${out} decompressed bytes (${cut ? 'the file ends inside the compressed data' : err.message})`);
    damage.truncated = cut;
    throw damage;
  } finally {
    input.destroy();
  }
}

export async function openDump(file: string, opts: { index?: StreamIndex | null; fromSeq?: number; toSeq?: number; concurrency?: number; skipDamaged?: boolean } = {}): Promise<DumpSource> {
  const format = await detectFormat(file);
  const totalBytes = (await stat(file)).size;
  let read = 0;
  const counted = (start = 0, end?: number) => {
    const s = createReadStream(file, { start, end, highWaterMark: 1 << 20 });
    s.on('data', (b) => (read += b.length));
    return s;
  };
  if (format === 'bz2' && opts.index) {
    const tool = bunzipTool();
    const { ranges, firstSeq } = await rangesFrom(file, opts.index, opts.fromSeq ?? 0, opts.toSeq);
    const skipped = ranges[1] ? ranges[1].start - ranges[0]!.end : 0;
    async function* bytes() {
      const idx = opts.index!;
      for await (const { range, data, error } of decodeRanges(file, ranges, opts.concurrency ?? 2, tool, opts.skipDamaged)) {
        read = range.end - skipped;
        const k = range.stream;
        if (data) yield data;
        else yield { damaged: true, stream: k, start: range.start, end: range.end, firstSeq: idx.firstSeq[k]!, nextSeq: k + 1 < idx.offsets.length ? idx.firstSeq[k + 1]! : idx.pages, firstId: idx.firstId[k]!, error: error!.message } satisfies DamagedStream;
      }
    }
    return { file, format, decompressor: tool, totalBytes: ranges.at(-1)!.end - skipped, bytesRead: () => read, firstSeq, bytes: utf8(bytes()) };
  }
  const tool = format === 'bz2' ? bunzipTool() : null;
  if (format === 'bz2' && opts.skipDamaged) {
    // one stream (or streams without an index): block by block, so that a damaged block can be left out
    const blocks = bunzipBlocks(file, tool!, opts.concurrency ?? 2, (n) => (read = n));
    return { file, format, decompressor: tool, totalBytes, bytesRead: () => read, firstSeq: 0, bytes: utf8(blocks) };
  }
  const bytes =
    format === 'bz2' ? bunzip(() => counted(), file, tool!) : format === 'gzip' ? gunzip(counted(), file) : (counted() as AsyncIterable<Buffer>);
  return { file, format, decompressor: tool, totalBytes, bytesRead: () => read, firstSeq: 0, bytes: utf8(bytes) };
}
