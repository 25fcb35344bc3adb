/**
 * Opens a dump as a stream of decoded XML text: plain `.xml`, bz2 (single or multistream, read
 * whole or through its index from any stream), or gzip. Detects the format by its magic bytes and
 * the text encoding by its BOM (UTF-8 default; UTF-16 dumps exist).
 */
import { createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { createGunzip } from 'node:zlib';
import { bunzip, bunzipTool, type Bunzip } from './bz2.js';
import { decodeRanges, rangesFrom, type StreamIndex } from './multistream.js';

export type DumpFormat = 'xml' | 'bz2' | 'gzip';

export interface DumpSource {
  file: string;
  format: DumpFormat;
  decompressor: Bunzip | null;
  totalBytes: number;
  /** compressed bytes consumed so far (for progress and ETA) */
  bytesRead(): number;
  /** seq of the first page the text holds (0 unless resumed through an index) */
  firstSeq: number;
  text: AsyncIterable<string>;
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

/** Bytes → text, the encoding chosen by the BOM of the first chunk. */
async function* decodeText(chunks: AsyncIterable<Buffer>): AsyncGenerator<string> {
  let dec: TextDecoder | null = null;
  for await (const b of chunks) {
    if (!dec) {
      const enc = b[0] === 0xff && b[1] === 0xfe ? 'utf-16le' : b[0] === 0xfe && b[1] === 0xff ? 'utf-16be' : 'utf-8';
      dec = new TextDecoder(enc); // strips the BOM itself
    }
    const s = dec.decode(b, { stream: true });
    if (s) yield s;
  }
  const tail = dec?.decode();
  if (tail) yield tail;
}

export async function openDump(file: string, opts: { index?: StreamIndex | null; fromSeq?: number; concurrency?: number } = {}): Promise<DumpSource> {
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
    const { ranges, firstSeq } = await rangesFrom(file, opts.index, opts.fromSeq ?? 0);
    const skipped = ranges[1] ? ranges[1].start - ranges[0]!.end : 0;
    async function* bytes() {
      for await (const { range, data } of decodeRanges(file, ranges, opts.concurrency ?? 2, tool)) {
        read = range.end - skipped;
        yield data;
      }
    }
    return { file, format, decompressor: tool, totalBytes: totalBytes - skipped, bytesRead: () => read, firstSeq, text: decodeText(bytes()) };
  }
  const tool = format === 'bz2' ? bunzipTool() : null;
  const bytes =
    format === 'bz2' ? bunzip(() => counted(), file, tool!) : format === 'gzip' ? (counted().pipe(createGunzip()) as AsyncIterable<Buffer>) : (counted() as AsyncIterable<Buffer>);
  return { file, format, decompressor: tool, totalBytes, bytesRead: () => read, firstSeq: 0, text: decodeText(bytes) };
}
