/**
 * What every ingest reader is: it is handed an input's bytes in order and writes the input's pages
 * (documents) as rows through the batch writer, page numbers (seq) from `base` on; rows of pages
 * below `resumeAt` are already in the database and are not written again.
 */
import type { PageRows } from '../../db/rows.js';
import type { Db } from '../../db/duckdb.js';
import type { DamagedBlock, DamagedStream, DumpSource } from '../../dump/source.js';
import type { SiteInfo } from '../../dump/siteinfo.js';
import type { InputKind } from '../inputs.js';
import type { IngestOptions } from '../options.js';
import type { BatchWriter } from '../writer.js';

export interface ReaderContext {
  db: Db;
  file: string;
  writer: BatchWriter;
  /** seq of this input's first page (inputs before it in the same database hold the ones below) */
  base: number;
  resumeAt: number;
  opts: IngestOptions;
}

export interface InputReader {
  readonly kind: InputKind;
  /** the wiki's siteinfo (the defaults for a corpus that is no wiki), once known */
  readonly site: SiteInfo | null;
  /** bytes of page text read (wikitext, or a document's text) */
  readonly wikitextBytes: number;
  /** pages (documents) read so far, and the seq after the input's last one */
  readonly pagesRead: number;
  readonly endSeq: number;
  /** what the user should know though the input was read (a truncated file accepted by --on-damage skip) */
  readonly warnings?: readonly string[];
  /** the next bytes of the input (a wiki dump read with --on-damage skip: or a damaged part) */
  push(b: Buffer | DamagedStream | DamagedBlock): Promise<void>;
  /** the input is at its end, or the decompressor failed (`damage`) after the bytes pushed */
  end(damage: Error | null): Promise<void>;
  /** writes what is still in flight (unless it failed) and commits */
  finish(failure: Error | null): Promise<void>;
}

/** Counts what a reader writes (rows below resumeAt are skipped: already in the database). */
export class Sink {
  wikitextBytes = 0;
  constructor(private readonly ctx: ReaderContext) {}

  async add(rows: PageRows): Promise<void> {
    if (rows.seq < this.ctx.resumeAt) return;
    this.wikitextBytes += rows.wikitextBytes;
    await this.ctx.writer.add(rows);
  }
}

export type { DumpSource };
