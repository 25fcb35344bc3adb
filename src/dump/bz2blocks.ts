/**
 * A bzip2 file read block by block, for `ingest --on-damage skip` on a dump that is one stream (or
 * streams without an index): the blocks are found by their 48-bit magic (they are not byte-aligned,
 * as bzip2recover finds them), runs of them are cut out as streams of their own (a header, the
 * blocks' bits, an end-of-stream marker with the combined CRC) and decoded like a multistream
 * dump's streams. A run that fails is decoded again block by block: the good blocks are kept and
 * each bad one comes as a DamagedBlock where its bytes would be.
 */
import { open } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { bunzip, DecompressError, type Bunzip } from './bz2.js';

const BLOCK_MAGIC = 0x314159265359n;
const END_MAGIC = 0x177245385090n;

export interface DamagedBlock {
  damagedBlock: true;
  /** the block's first and last compressed bytes (it starts and ends inside them) */
  start: number;
  end: number;
  error: string;
}

interface Block {
  bit: number; // where its magic starts
  end: number; // bit where the next block's magic or the stream's end marker starts
  last: boolean; // the last block of its stream
  crc: number;
}

/** The 7 bytes a 48-bit magic shifted right by `s` bits spans, and the masks of its first and last. */
function shifted(magic: bigint, s: number): { bytes: number[]; first: number; last: number } {
  const v = magic << BigInt(8 - s);
  const bytes = Array.from({ length: 7 }, (_, i) => Number((v >> BigInt(48 - 8 * i)) & 0xffn));
  return { bytes, first: 0xff >> s, last: (0xff << (8 - s)) & 0xff };
}

/** Bit offsets of a magic in a buffer (whose bit 0 is `base` in the file). */
function find(buf: Buffer, magic: bigint, base: number, out: number[]): void {
  for (let s = 0; s < 8; s++) {
    const { bytes, first, last } = shifted(magic, s);
    const needle = Buffer.from(bytes.slice(1, 6));
    for (let i = buf.indexOf(needle, 1); i >= 1 && i + 5 < buf.length; i = buf.indexOf(needle, i + 1)) {
      if ((buf[i - 1]! & first) !== (bytes[0]! & first) || (buf[i + 5]! & last) !== (bytes[6]! & last)) continue;
      out.push(base + (i - 1) * 8 + s);
    }
  }
}

function bitsAt(buf: Buffer, bit: number, n: number): number {
  let v = 0;
  for (let k = 0; k < n; k++) {
    const b = bit + k;
    v = v * 2 + ((buf[b >> 3]! >> (7 - (b & 7))) & 1);
  }
  return v;
}

/** Every block of the file, in order (a 32 MiB window at a time). */
async function scanBlocks(file: string): Promise<Block[]> {
  const fh = await open(file, 'r');
  try {
    const size = (await fh.stat()).size;
    const WINDOW = 32 << 20;
    const starts: number[] = [];
    const ends: number[] = [];
    const crcs = new Map<number, number>();
    for (let at = 0; at < size; at += WINDOW) {
      const len = Math.min(size - at, WINDOW + 16); // overlap: a magic across the window's end
      const buf = Buffer.alloc(len);
      await fh.read(buf, 0, len, at);
      const s: number[] = [];
      find(buf, BLOCK_MAGIC, at * 8, s);
      for (const bit of s) if (bit < (at + WINDOW) * 8 && !crcs.has(bit) && bit + 80 <= (at + len) * 8) crcs.set(bit, bitsAt(buf, bit - at * 8 + 48, 32));
      starts.push(...s.filter((b) => b < (at + WINDOW) * 8));
      const e: number[] = [];
      find(buf, END_MAGIC, at * 8, e);
      ends.push(...e.filter((b) => b < (at + WINDOW) * 8));
    }
    const blockStarts = [...new Set(starts)].sort((a, b) => a - b);
    const streamEnds = [...new Set([...ends, size * 8])].sort((a, b) => a - b);
    let e = 0;
    return blockStarts.map((bit, i) => {
      while (streamEnds[e]! <= bit) e++;
      const next = blockStarts[i + 1] ?? Infinity;
      const last = streamEnds[e]! < next; // its stream ends after it
      return { bit, end: last ? streamEnds[e]! : next, last, crc: crcs.get(bit) ?? 0 };
    });
  } finally {
    await fh.close();
  }
}

/** A bzip2 stream of its own holding blocks [first, last] (contiguous bits of the file). */
async function cutStream(file: string, blocks: Block[]): Promise<Buffer> {
  const from = blocks[0]!.bit;
  const to = blocks[blocks.length - 1]!.end;
  const fh = await open(file, 'r');
  let src: Buffer;
  try {
    const first = Math.floor(from / 8);
    const len = Math.ceil(to / 8) - first + 1;
    src = Buffer.alloc(len);
    await fh.read(src, 0, len, first);
  } finally {
    await fh.close();
  }
  const nbits = to - from;
  const out = Buffer.alloc(4 + Math.ceil((nbits + 80) / 8));
  out.write('BZh9', 0, 'latin1');
  // the blocks' bits, shifted to start at bit 32
  const k = from % 8;
  const nbytes = Math.ceil(nbits / 8);
  for (let i = 0; i < nbytes; i++) out[4 + i] = ((src[i]! << k) | (k ? src[i + 1]! >> (8 - k) : 0)) & 0xff;
  // then the end-of-stream marker and the combined CRC
  let combined = 0;
  for (const b of blocks) combined = (((combined << 1) | (combined >>> 31)) ^ b.crc) >>> 0;
  let bit = 32 + nbits;
  const put = (v: bigint, n: number) => {
    for (let j = n - 1; j >= 0; j--, bit++) {
      const byte = bit >> 3;
      const mask = 0x80 >> (bit & 7);
      if ((v >> BigInt(j)) & 1n) out[byte] = out[byte]! | mask;
      else out[byte] = out[byte]! & ~mask;
    }
  };
  put(END_MAGIC, 48);
  put(BigInt(combined), 32);
  return out.subarray(0, Math.ceil(bit / 8));
}

async function decodeBuffer(buf: Buffer, label: string, tool: Bunzip): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const b of bunzip(() => Readable.from([buf]), label, tool)) parts.push(b);
  return Buffer.concat(parts);
}

const RUN_BLOCKS = 16;

/** The file's decompressed bytes, runs of blocks decoded `concurrency` at a time; damaged blocks as markers. */
export async function* bunzipBlocks(file: string, tool: Bunzip, concurrency: number, onRead?: (bytes: number) => void): AsyncGenerator<Buffer | DamagedBlock> {
  const blocks = await scanBlocks(file);
  const runs: Block[][] = [];
  // runs of contiguous blocks: at most RUN_BLOCKS, none across the end of a stream
  let run: Block[] = [];
  for (const b of blocks) {
    run.push(b);
    if (run.length === RUN_BLOCKS || b.last) {
      runs.push(run);
      run = [];
    }
  }
  if (run.length) runs.push(run);
  const label = (bs: Block[]) => `${file} (bytes ${Math.floor(bs[0]!.bit / 8)}–${Math.ceil(bs[bs.length - 1]!.end / 8)})`;
  const decodeRun = async (run: Block[]): Promise<(Buffer | DamagedBlock)[]> => {
    try {
      return [await decodeBuffer(await cutStream(file, run), label(run), tool)];
    } catch (e) {
      if (!(e instanceof DecompressError)) throw e;
      const out: (Buffer | DamagedBlock)[] = [];
      for (const b of run) {
        try {
          out.push(await decodeBuffer(await cutStream(file, [b]), label([b]), tool));
        } catch (e2) {
          if (!(e2 instanceof DecompressError)) throw e2;
          out.push({ damagedBlock: true, start: Math.floor(b.bit / 8), end: Math.ceil(b.end / 8), error: (e2 as Error).message });
        }
      }
      return out;
    }
  };
  const inflight: Promise<(Buffer | DamagedBlock)[]>[] = [];
  let next = 0;
  for (let i = 0; i < runs.length; i++) {
    while (next < runs.length && next < i + Math.max(1, concurrency)) {
      const p = decodeRun(runs[next++]!);
      p.catch(() => {});
      inflight.push(p);
    }
    for (const part of await inflight.shift()!) yield part;
    onRead?.(Math.ceil(runs[i]![runs[i]!.length - 1]!.end / 8));
  }
}
