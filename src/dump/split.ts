/**
 * Cuts a dump's UTF-8 bytes apart without parsing them: the header (everything before the first
 * <page>), runs of whole <page> elements of about `size` bytes, and the trailer after the last
 * </page>. Each run carries where it stands in the dump (first page's seq, line, column), so the
 * thread it is sent to parses it as if it read the dump whole. Literal `<page>`/`</page>` cannot
 * occur inside a page's text: XML escapes `<` there.
 */
import type { DumpPosition } from './xml.js';

/**
 * A run of whole pages for a worker; or one page over the size cap (`oversized`), never held whole:
 * only its first bytes (its title and id) and its length, to be written as skipped.
 */
export type PageRun = Omit<DumpPosition, 'site'> & { bytes: Uint8Array; pages: number; oversized?: { head: string; bytes: number } };

/** how much of an oversized page is kept: its title, namespace and id come first */
const HEAD = 64 << 10;

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
  /** an oversized page being passed over: its head, its bytes so far, the last bytes seen (a `</page>` may straddle two chunks) */
  private over: { head: string; bytes: number; tail: Buffer; at: Omit<DumpPosition, 'site'> } | null = null;
  /** where the next run starts */
  seq: number;
  line = 1;
  column = 0;

  constructor(
    firstSeq: number,
    private readonly size = 1 << 20,
    /** a page longer than this (its XML) is passed over, not held: written as skipped */
    private readonly maxPage = 16 << 20, // (ingest's --max-record)
  ) {
    this.seq = firstSeq;
    this.want = size;
  }

  /** Adds bytes; returns the header bytes that are now known to be header, and the runs now complete. */
  push(b: Buffer): { header: Buffer | null; runs: PageRun[] } {
    const passed: PageRun[] = [];
    if (this.over) {
      const rest = this.passOver(b);
      if (!rest) return { header: null, runs: [] };
      passed.push(rest.run);
      b = rest.after;
    }
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
    if (this.pending < this.want) return { header, runs: passed };
    const runs = [...passed, ...this.cut()];
    if (this.pending > this.maxPage) {
      // the page being read is over the cap: keep its head, pass over the rest up to its </page>
      let page = Buffer.concat(this.chunks);
      this.chunks = [];
      this.pending = 0;
      this.want = this.size;
      // its position is that of its <page> tag, after the white space before it
      const open = Math.max(0, pageOpen(page));
      this.advance(page.subarray(0, open));
      page = page.subarray(open);
      this.over = { head: page.subarray(0, HEAD).toString('utf8'), bytes: 0, tail: Buffer.alloc(0), at: { seq: this.seq, line: this.line, column: this.column } };
      const rest = this.passOver(page);
      if (rest) runs.push(rest.run, ...this.push(rest.after).runs);
    }
    return { header, runs };
  }

  /**
   * Bytes of an oversized page: counted (lines too) and dropped up to its `</page>`; then the page as
   * a run of its own, and the bytes after it.
   */
  private passOver(b: Buffer): { run: PageRun; after: Buffer } | null {
    const over = this.over!;
    const joined = over.tail.length ? Buffer.concat([over.tail, b]) : b;
    const close = joined.indexOf(CLOSE);
    if (close < 0) {
      const keep = Math.min(joined.length, CLOSE.length - 1);
      this.advance(joined.subarray(0, joined.length - keep));
      over.bytes += joined.length - keep;
      over.tail = Buffer.from(joined.subarray(joined.length - keep));
      return null;
    }
    const end = close + CLOSE.length;
    this.advance(joined.subarray(0, end));
    this.over = null;
    const run: PageRun = { bytes: new Uint8Array(0), pages: 1, seq: this.seq, line: over.at.line, column: over.at.column, oversized: { head: over.head, bytes: over.bytes + end } };
    this.seq++;
    return { run, after: joined.subarray(end) };
  }

  /**
   * A damaged stream of a multistream dump is left out: the pages before it are cut into runs now
   * (a stream holds whole pages), and the next page read is page `nextSeq`.
   */
  skipTo(nextSeq: number): PageRun[] {
    this.over = null; // an oversized page in the damaged stream is lost with it
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
    // an oversized page being passed over is the page the lost bytes cut: its head names it
    const partial = this.over ? Buffer.from(this.over.head) : Buffer.concat(this.chunks);
    if (!this.over) this.advance(partial); // (an oversized page's bytes were counted as they passed)
    this.over = null;
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

  /**
   * Cuts the pending bytes into runs of about `size` bytes, the last one ending at the last </page>.
   * A page over the cap ends the run before it and becomes an oversized run of its own.
   */
  private cut(): PageRun[] {
    // the runs are views of one shared buffer: a worker is sent a view of it, not a copy
    const buf = this.concat(this.chunks);
    const runs: PageRun[] = [];
    let shared = 0;
    let pos = 0;
    for (;;) {
      let close = buf.indexOf(CLOSE, pos + Math.max(0, this.size - CLOSE.length));
      if (close < 0) close = buf.lastIndexOf(CLOSE);
      if (close < pos) break;
      const end = close + CLOSE.length;
      let pages = 0;
      let from = pos; // where the page being counted begins (after the last </page>)
      let big: number | null = null; // the end of a page over the cap
      for (let i = buf.indexOf(CLOSE, pos); i >= 0 && i < end; i = buf.indexOf(CLOSE, i + CLOSE.length)) {
        if (i + CLOSE.length - from > this.maxPage) {
          big = i + CLOSE.length;
          break;
        }
        pages++;
        from = i + CLOSE.length;
      }
      if (pages) {
        runs.push({ bytes: buf.subarray(pos, from), pages, seq: this.seq, line: this.line, column: this.column });
        shared++;
        this.seq += pages;
        this.advance(buf.subarray(pos, from));
      }
      pos = from;
      if (big !== null) {
        const open = Math.max(0, pageOpen(buf.subarray(pos, big)));
        this.advance(buf.subarray(pos, pos + open));
        const head = buf.subarray(pos + open, Math.min(big, pos + open + HEAD)).toString('utf8');
        runs.push({ bytes: new Uint8Array(0), pages: 1, seq: this.seq++, line: this.line, column: this.column, oversized: { head, bytes: big - pos - open } });
        this.advance(buf.subarray(pos + open, big));
        pos = big;
      }
    }
    if (shared) this.inUse.set(buf.buffer, shared);
    // the rest copied (unless nothing was cut): buf is reused once its runs are done
    this.chunks = pos < buf.length ? [pos ? Buffer.from(buf.subarray(pos)) : buf] : [];
    this.pending = buf.length - pos;
    // a page longer than `size`: look again when twice as much is here (and once past the cap)
    this.want = runs.length ? this.size : Math.min(this.pending * 2, this.maxPage + 1);
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
