/** What ingest is asked to do, and what it reports while it works. */

/** --max-record's default: 16 MiB, eight times the largest Wikipedia page */
export const DEFAULT_MAX_RECORD = 16 << 20;

/** A size for a message: 16 MiB, 1.5 KiB, 900 B. */
export function sizeText(n: number): string {
  return n >= 2 ** 20 ? `${+(n / 2 ** 20).toFixed(1)} MiB` : n >= 1024 ? `${+(n / 1024).toFixed(1)} KiB` : `${n} B`;
}
export interface IngestOptions {
  /** the input, or several: read in order into one database (their documents one corpus) */
  dump: string | string[];
  db: string;
  /** multistream index; undefined: look beside the dump; null: read the dump whole */
  index?: string | null;
  workers?: number;
  /** replace what the DB holds even if it came from another dump */
  force?: boolean;
  batchPages?: number;
  /** keep list items in the clean text (default: text passages only, as BERT's and WikiExtractor's) */
  keepLists?: boolean;
  /** the wiki's language code (de, zh-yue): its namespace names and aliases; default: the one its siteinfo's dbname says */
  lang?: string;
  /** the most a worker may spend on one page (default 30 s); each page gets 2 s + 20 ms per KiB of wikitext within it (page.ts pageBudgetMs) */
  pageTimeout?: number;
  /** the largest page (its XML), JSON line or record read, in bytes; a larger one is skipped and counted, never held whole (default 16 MiB) */
  maxRecord?: number;
  /** a worker's heap in MB (default WORKER_HEAP_MB; tests make it small) */
  workerHeapMb?: number;
  /** size of the runs of pages sent to the workers (about 1 MB by default; tests make it small) */
  runBytes?: number;
  /** DuckDB's memory limit, bytes */
  memory?: number;
  /** log each committed batch */
  verbose?: boolean;
  /**
   * What a damaged bz2 stream or block does: `stop` the ingest there (default; the pages before it
   * are kept), or `skip` it and go on: a multistream dump's stream through its index (its pages
   * counted in `skipped`), or a block of a dump read block by block (bz2blocks.ts).
   */
  onDamage?: 'stop' | 'skip';
  /**
   * A unit of a planned run: one input's pages from `fromSeq` up to `toSeq` (a multistream dump's
   * stream boundaries, or a run of a folder's books; null: to the end of the input) into a database
   * of their own, their seq counted from the input's start. A PubMed file records the PMIDs it
   * replaces in a table `replaces` rather than deleting them from inputs before it (there are none
   * in a unit's database: the plan's catalog leaves them out). The inputs' checksums are the plan's.
   */
  unit?: { fromSeq: number; toSeq: number | null };
  onProgress?: (p: IngestProgress) => void;
  log?: (line: string) => void;
}

export interface IngestProgress {
  pages: number;
  bytesRead: number;
  totalBytes: number;
  wikitextBytes: number;
  seconds: number;
}
