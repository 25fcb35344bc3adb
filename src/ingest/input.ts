/**
 * Reads one input into the database: books from their files; any other input as the bytes its
 * decompressor yields, handed to the reader its kind calls for (decided once, from its first bytes).
 */
import { openDump, type DamagedBlock, type DamagedStream } from '../dump/source.js';
import type { StreamIndex } from '../dump/multistream.js';
import { DumpSyntaxError } from '../dump/xml.js';
import { inputKind, type InputKind } from './inputs.js';
import type { PagePool } from './pool.js';
import { BooksInput, JsonlInput, PmcInput, PubmedInput } from './readers/documents.js';
import type { InputReader, ReaderContext } from './readers/reader.js';
import { WikiInput } from './readers/wiki.js';

export interface InputResult {
  reader: InputReader;
  decompressor: string | null;
  /** what ended the input early (the rows before it are committed), or null */
  failure: Error | null;
}

/** XML's white space (a NUL is not: a file of NULs is not an empty dump). */
const isSpace = (c: number) => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;

export async function readInput(ctx: ReaderContext, how: { index: StreamIndex | null; fromSeq: number; toSeq?: number; pool: Promise<PagePool>; workers: number }): Promise<InputResult> {
  const t0 = performance.now();
  let last = 0;
  const progress = (reader: InputReader, bytesRead: number, totalBytes: number, final = false) => {
    const now = performance.now();
    if (!ctx.opts.onProgress || (!final && now - last < 200)) return;
    last = now;
    ctx.opts.onProgress({ pages: reader.pagesRead, bytesRead, totalBytes, wikitextBytes: reader.wikitextBytes, seconds: (now - t0) / 1000 });
  };

  if (inputKind(ctx.file) === 'books') {
    const books = await new BooksInput(ctx).begin();
    let failure: Error | null = null;
    try {
      await books.read(() => progress(books, books.pagesRead, books.entries.length), how.toSeq);
    } catch (e) {
      failure = e as Error;
    }
    await books.finish();
    progress(books, books.pagesRead, books.entries.length, true);
    return { reader: books, decompressor: null, failure };
  }

  const source = await openDump(ctx.file, { index: how.index, fromSeq: how.fromSeq, toSeq: how.toSeq, concurrency: Math.max(2, how.workers), skipDamaged: ctx.opts.onDamage === 'skip' });
  const wiki = () => new WikiInput(ctx, source, how.index, how.pool, how.workers);
  const readerFor = async (kind: InputKind): Promise<InputReader> => {
    if (kind === 'wiki') return wiki();
    const Reader = { jsonl: JsonlInput, pubmed: PubmedInput, pmc: PmcInput, books: BooksInput }[kind];
    return new Reader(ctx).begin();
  };
  let reader: InputReader | null = null;
  // bytes before the first that is not white space: a wiki dump's (the other readers start at that byte)
  const leading: (Buffer | DamagedStream | DamagedBlock)[] = [];
  let leadingBytes = 0;
  let failure: Error | null = null;
  try {
    let damage: Error | null = null;
    const bytes = source.bytes[Symbol.asyncIterator]();
    try {
      for (;;) {
        let next: IteratorResult<Buffer | DamagedStream | DamagedBlock>;
        try {
          next = await bytes.next();
        } catch (e) {
          damage = e as Error; // the decompressor's: the pages completed before it still go in
          break;
        }
        if (next.done) break;
        const b = next.value;
        if (!reader) {
          const first = Buffer.isBuffer(b) ? b.findIndex((c) => !isSpace(c)) : -1;
          if (!Buffer.isBuffer(b) || first < 0) {
            leading.push(b);
            leadingBytes += Buffer.isBuffer(b) ? b.length : 0;
            if (leadingBytes > 1 << 20) throw new DumpSyntaxError(`${ctx.file}: not an input this pipeline reads: its first MiB is white space`);
            continue;
          }
          // binary bytes (a NUL, a control character): no text at all, said at once rather than after
          // reading what may be gigabytes of them (text that is not XML is judged by the XML reader)
          if (b[first]! < 0x20 || b[first] === 0x7f) throw new DumpSyntaxError(`${ctx.file}: not an input this pipeline reads: at byte ${leadingBytes + first} it begins with binary bytes ${JSON.stringify(b.subarray(first, first + 16).toString('latin1'))}, not text (XML or JSON Lines)`);
          reader = await readerFor(inputKind(ctx.file, b));
          if (reader.kind === 'wiki') for (const l of leading.splice(0)) await reader.push(l);
        }
        await reader.push(b);
        progress(reader, source.bytesRead(), source.totalBytes);
      }
    } finally {
      await bytes.return?.();
    }
    if (!reader) {
      reader = wiki(); // nothing but white space (or damage): the wiki reader says what the file is not
      for (const l of leading.splice(0)) await reader.push(l);
    }
    await reader.end(damage);
  } catch (e) {
    failure = e as Error;
  }
  reader ??= wiki();
  await reader.finish(failure);
  progress(reader, source.bytesRead(), source.totalBytes, true);
  return { reader, decompressor: source.decompressor, failure };
}
