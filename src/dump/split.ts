/**
 * Cuts a dump's UTF-8 bytes apart without parsing them: the header (everything before the first
 * <page>), runs of whole <page> elements of about `size` bytes, and the trailer after the last
 * </page>. Each run carries where it stands in the dump (first page's seq, line, column), so the
 * thread it is sent to parses it as if it read the dump whole. Literal `<page>`/`</page>` cannot
 * occur inside a page's text: XML escapes `<` there.
 */
import type { DumpPosition } from './xml.js';

export type PageRun = Omit<DumpPosition, 'site'> & { bytes: Uint8Array; pages: number };

const OPEN = Buffer.from('<page');
const CLOSE = Buffer.from('</page>');
const NL = 0x0a;

export class PageSplitter {
  private inHeader = true;
  private resync = false;
  private chunks: Buffer[] = [];
  private pending = 0;
  /** shared buffers that runs were cut from, with the number of those runs not yet done */
  private readonly inUse = new Map<ArrayBufferLike, number>();
  /** shared buffers whose runs are all done, to cut runs from again (fresh memory costs page faults) */
  private readonly free: SharedArrayBuffer[] = [];
  private want: number;
  /** where the next run starts */
  seq: number;
  line = 1;
  column = 0;

  constructor(
    firstSeq: number,
    private readonly size = 1 << 20,
  ) {
    this.seq = firstSeq;
    this.want = size;
  }

  /** Adds bytes; returns the header bytes that are now known to be header, and the runs now complete. */
  push(b: Buffer): { header: Buffer | null; runs: PageRun[] } {
    if (this.resync) {
      // after lost bytes: what comes before the next <page> is the rest of a page cut by them
      const buf = this.chunks.length ? Buffer.concat([...this.chunks, b]) : b;
      this.chunks = [];
      const at = pageOpen(buf);
      if (at < 0) {
        const keep = Math.min(buf.length, OPEN.length);
        this.advance(buf.subarray(0, buf.length - keep));
        this.chunks = [Buffer.from(buf.subarray(buf.length - keep))];
        return { header: null, runs: [] };
      }
      this.advance(buf.subarray(0, at));
      this.resync = false;
      b = buf.subarray(at);
    }
    let header: Buffer | null = null;
    if (this.inHeader) {
      const buf = this.chunks.length ? Buffer.concat([...this.chunks, b]) : b;
      const at = pageOpen(buf);
      if (at < 0) {
        // keep what could be the start of `<page` for the next chunk
        const keep = Math.min(buf.length, OPEN.length);
        header = buf.subarray(0, buf.length - keep);
        this.chunks = [Buffer.from(buf.subarray(buf.length - keep))];
        this.advance(header);
        return { header, runs: [] };
      }
      header = buf.subarray(0, at);
      this.advance(header);
      this.inHeader = false;
      this.chunks = [];
      b = buf.subarray(at);
    }
    this.chunks.push(b);
    this.pending += b.length;
    return { header, runs: this.pending >= this.want ? this.cut() : [] };
  }

  /**
   * A damaged stream of a multistream dump is left out: the pages before it are cut into runs now
   * (a stream holds whole pages), and the next page read is page `nextSeq`.
   */
  skipTo(nextSeq: number): PageRun[] {
    const runs = !this.inHeader && this.pending ? this.cut() : [];
    this.seq = nextSeq;
    return runs;
  }

  /** Dropping the rest of a page cut by lost bytes (no <page> has followed them yet). */
  get resyncing(): boolean {
    return this.resync;
  }

  /**
   * Bytes are lost here (a damaged bz2 block): the whole pages before them are cut into runs, the
   * page they cut off is handed back as it stands, and what follows is dropped up to the next <page>.
   */
  lose(): { runs: PageRun[]; partial: Buffer } {
    if (this.inHeader) throw new Error('bytes lost inside the dump\'s header');
    const runs = this.pending ? this.cut() : [];
    const partial = Buffer.concat(this.chunks);
    this.advance(partial);
    this.chunks = [];
    this.pending = 0;
    this.want = this.size;
    this.resync = true;
    return { runs, partial };
  }

  /** The end of the bytes (or of those that could be read): the header if no page began, the last run, and the trailer. */
  end(): { header: Buffer | null; runs: PageRun[]; trailer: Buffer } {
    const rest = Buffer.concat(this.chunks);
    this.chunks = [];
    this.pending = 0;
    if (this.inHeader) return { header: rest, runs: [], trailer: Buffer.alloc(0) };
    this.chunks = [rest];
    this.pending = rest.length;
    const runs = this.cut();
    const trailer = Buffer.concat(this.chunks);
    this.chunks = [];
    return { header: null, runs, trailer };
  }

  /** A run's bytes are no longer needed (its rows are back): its buffer can hold new runs once all of its runs are. */
  done(run: PageRun): void {
    const sab = run.bytes.buffer;
    const left = (this.inUse.get(sab) ?? 0) - 1;
    if (left > 0) this.inUse.set(sab, left);
    else if (this.inUse.delete(sab) && this.free.length < 8) this.free.push(sab as SharedArrayBuffer);
  }

  /** The chunks' bytes in one buffer of shared memory, a free one when one is large enough. */
  private concat(chunks: Buffer[]): Buffer {
    let n = 0;
    for (const c of chunks) n += c.length;
    const k = this.free.findIndex((b) => b.byteLength >= n);
    const sab = k >= 0 ? this.free.splice(k, 1)[0]! : new SharedArrayBuffer(Math.max(n, 2 * this.size));
    const buf = Buffer.from(sab, 0, n);
    let at = 0;
    for (const c of chunks) {
      buf.set(c, at);
      at += c.length;
    }
    return buf;
  }

  /** Cuts the pending bytes into runs of about `size` bytes, the last one ending at the last </page>. */
  private cut(): PageRun[] {
    // the runs are views of one shared buffer: a worker is sent a view of it, not a copy
    const buf = this.concat(this.chunks);
    const runs: PageRun[] = [];
    let pos = 0;
    for (;;) {
      let close = buf.indexOf(CLOSE, pos + Math.max(0, this.size - CLOSE.length));
      if (close < 0) close = buf.lastIndexOf(CLOSE);
      if (close < pos) break;
      const end = close + CLOSE.length;
      const bytes = buf.subarray(pos, end);
      let pages = 0;
      for (let i = buf.indexOf(CLOSE, pos); i >= 0 && i < end; i = buf.indexOf(CLOSE, i + CLOSE.length)) pages++;
      runs.push({ bytes, pages, seq: this.seq, line: this.line, column: this.column });
      this.seq += pages;
      this.advance(buf.subarray(pos, end));
      pos = end;
    }
    if (runs.length) this.inUse.set(buf.buffer, runs.length);
    // the rest copied (unless nothing was cut): buf is reused once its runs are done
    this.chunks = pos < buf.length ? [pos ? Buffer.from(buf.subarray(pos)) : buf] : [];
    this.pending = buf.length - pos;
    this.want = runs.length ? this.size : this.pending * 2; // a page longer than `size`: look again when twice as much is here
    return runs;
  }

  /** Moves line and column past these bytes (columns count bytes: only error messages use them). */
  private advance(b: Buffer): void {
    let last = -1;
    for (let i = b.indexOf(NL); i >= 0; i = b.indexOf(NL, i + 1)) {
      this.line++;
      last = i;
    }
    this.column = last < 0 ? this.column + b.length : b.length - last - 1;
  }
}

/** Index of the first `<page>` (or `<page …>`) tag, -1 if none. */
function pageOpen(b: Buffer): number {
  for (let i = b.indexOf(OPEN); i >= 0; i = b.indexOf(OPEN, i + 1)) {
    const c = b[i + OPEN.length];
    if (c === undefined) return -1; // cut off: decide with the next chunk
    if (c === 0x3e || c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d || c === 0x2f) return i;
  }
  return -1;
}
