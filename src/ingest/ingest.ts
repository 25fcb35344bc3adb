/**
 * The ingest stage: inputs → pages, articles (clean text), redirects and links in DuckDB.
 *
 * main thread:  decompress → cut into runs of whole pages (bytes) ─────────────┐
 * workers:      run → UTF-8 → saxes → classify each page → wtf_wikipedia ───────┤ ordered (by run)
 * main thread:                          batch (Appenders + checkpoint, one transaction) ←┘
 *
 * That is a wiki dump (readers/wiki.ts); other corpora have readers of their own
 * (readers/documents.ts), all writing the same rows (db/rows.ts). Several inputs go into one
 * database in turn, page numbers (seq) going on from one to the next. The database is made ready
 * by target.ts (the same input resumed, or a new one built beside the old).
 */
import { availableParallelism } from 'node:os';
import { recordIngestProgress, recordSiteInfo, runsTable } from '../db/runs.js';
import { indexBeside, readIndex } from '../dump/multistream.js';
import { DumpSyntaxError } from '../dump/xml.js';
import { checkBooks, isBooks } from '../corpus/books.js';
import { isKnownLanguage, someLanguages } from '../wiki/namespaces.js';
import type { IngestSettings, IngestSummary, InputRange } from '../stage/contracts.js';
import { elapsed, Failed, recordedRun } from '../stage/kernel.js';
import { checkMd5, expandInputs, fingerprint, inputsBytes, inputsDigests, inputsFingerprint } from './inputs.js';
import { readInput, type InputResult } from './input.js';
import type { IngestOptions } from './options.js';
import { PagePool } from './pool.js';
import { summarize } from './summary.js';
import { openTarget } from './target.js';
import { DEFAULT_MAX_RECORD } from './options.js';
import { BatchWriter } from './writer.js';

export type { IngestOptions, IngestProgress } from './options.js';
export type { IngestSummary, InputRange };
export { fingerprint };

export class IngestError extends Error {
  constructor(message: string, readonly summary: IngestSummary) {
    super(message);
  }
}

export async function ingest(opts: IngestOptions): Promise<IngestSummary> {
  const t0 = performance.now();
  const log = opts.log ?? (() => {});
  const workers = Math.max(1, opts.workers ?? availableParallelism());
  if (opts.onDamage !== undefined && opts.onDamage !== 'stop' && opts.onDamage !== 'skip') throw new Error(`--on-damage must be stop or skip, not '${opts.onDamage}'`);
  if (opts.pageTimeout !== undefined && !(opts.pageTimeout > 0)) throw new Error(`--page-timeout must be a number of seconds > 0, not ${opts.pageTimeout}`);
  const inputs = expandInputs(Array.isArray(opts.dump) ? opts.dump : [opts.dump]);
  if (!inputs.length) throw new Error('--dump FILE is required');
  if (inputs.length > 1 && opts.index) throw new Error("--index names the index of one dump; with several --dump, each multistream dump's index is found beside it");
  const dump = inputs.join(' + '); // how the input is named in messages, the run and the summary
  if (!opts.unit) for (const f of inputs) await checkMd5(f);
  // a .txt that is plainly no book (an index, WikiExtractor's output) is refused before anything is written
  for (const f of inputs) if (isBooks(f)) checkBooks(f);
  const fp = await inputsFingerprint(inputs);
  const indexFile = inputs.length > 1 ? null : opts.index === undefined ? indexBeside(inputs[0]!) : opts.index;
  if (opts.unit && (opts.unit.fromSeq > 0 || opts.unit.toSeq !== null) && (inputs.length > 1 || (!indexFile && !isBooks(inputs[0]!)))) throw new Error(`${dump}: a unit of its pages needs one multistream dump and its index, or a folder of books`);
  if (opts.lang !== undefined && opts.lang !== 'en' && !isKnownLanguage(opts.lang)) throw new Error(`--lang ${opts.lang}: not a Wikipedia language code this version knows (such as ${someLanguages()})`);
  const keepLists = opts.keepLists ?? false;
  const target = await openTarget({ db: opts.db, memory: opts.memory, force: opts.force, keepLists, lang: opts.lang }, { name: dump, fingerprint: fp }, log);
  const { db } = target;
  let pool = null as Promise<PagePool> | null; // one for all inputs (started in the work, closed here)
  let proved = Boolean(target.same); // a database of the same input is kept whatever happens
  // the cap is recorded where it is not the default (a database of an older version keeps its key)
  const settings: IngestSettings = { index: indexFile, keep_lists: keepLists, ...(opts.lang ? { lang: opts.lang } : {}), ...(opts.maxRecord !== undefined && opts.maxRecord !== DEFAULT_MAX_RECORD ? { max_record: opts.maxRecord } : {}) };
  // inputs completed by an earlier run of the same inputs (several --dump): where each one's pages are
  const done: InputRange[] = target.before?.inputs ?? [];
  const nextSeq = opts.unit ? opts.unit.fromSeq : target.nextSeq;
  try {
    const result = await recordedRun<IngestSummary>({
      store: runsTable(db),
      stage: 'ingest',
      source: dump,
      fingerprint: fp,
      key: JSON.stringify(inputs.length > 1 ? { ...settings, inputs: done } : settings),
      // the same input, complete: whatever the recorded inputs so far (target.ts refused other settings)
      reusable: () => Boolean(target.same),
      nextSeq,
      t0,
      work: async () => {
        // the workers load while the dump's header is read (an input that is no wiki dump never
        // uses them: a fifth of a CPU-second each)
        pool = PagePool.open(workers, { keepLists }, opts.pageTimeout ?? 30, 2, opts.workerHeapMb);
        pool.catch(() => {}); // a failure to start is met where the pool is first used
        // DuckDB only appends and commits while pages are read: one thread of its own, not one per
        // core beside the parsers (measured on 2 cores: about 2 CPU-s and 1 s less for the 6k bench).
        await db.conn.run('SET threads = 1');
        let failure: Error | null = null;
        let last: InputResult | null = null;
        let decompressor: string | null = null;
        let wikitextBytes = 0;
        const warnings: string[] = [];
        // one input after the other, page numbers (seq) going on from one to the next
        for (let k = done.length, base = done.at(-1)?.end_seq ?? 0; k < inputs.length; k++) {
          const file = inputs[k]!;
          const idxFile = inputs.length === 1 ? indexFile : indexBeside(file);
          const index = idxFile ? await readIndex(idxFile) : null;
          const resumeAt = Math.max(nextSeq, base);
          const writer = new BatchWriter(db, resumeAt, opts.batchPages, opts.verbose ? (n) => log(`committed pages below ${n}`) : undefined);
          last = await readInput({ db, file, writer, base, resumeAt, opts }, { index, fromSeq: Math.max(0, nextSeq - base), toSeq: opts.unit?.toSeq ?? undefined, pool, workers });
          decompressor ??= last.decompressor;
          wikitextBytes += last.reader.wikitextBytes;
          warnings.push(...(last.reader.warnings ?? []));
          failure = last.failure;
          if (failure) break;
          done.push({ file, kind: last.reader.kind, first_seq: base, end_seq: last.reader.endSeq });
          if (inputs.length > 1) {
            log(`${file}: pages ${base}–${last.reader.endSeq - 1} of the database`);
            await recordIngestProgress(db, { ...settings, inputs: done }, last.reader.endSeq);
          }
          base = last.reader.endSeq;
        }
        await db.conn.run('RESET threads');
        // what exactly was ingested, for the shards' manifest and card (a few seconds for English Wikipedia's 20 GB)
        const digests = failure || opts.unit ? null : await inputsDigests(inputs);
        const summary = await summarize(db, opts, {
          multistream_index: indexFile,
          decompressor,
          workers,
          resumed_at: nextSeq > 0 && !opts.unit ? nextSeq : null,
          wikitext_mb: wikitextBytes / 1e6,
          peak_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024),
          seconds: elapsed(t0),
          dump_bytes: await inputsBytes(inputs),
          dump_sha256: digests?.sha256 ?? null,
          inputs: digests ? done.map((d, k) => ({ ...d, ...digests.each[k]! })) : done,
          ...(warnings.length ? { warnings } : {}),
        });
        if (last?.reader.site && inputs.length === 1) await recordSiteInfo(db, last.reader.site);
        // An input that failed before its first page makes nothing, and a database being replaced
        // stays unless every input is read to its end.
        proved = !failure || (summary.pages > 0 && !target.replacing);
        if (!failure) return summary;
        const recorded = failure.message;
        const failed = inputs[done.length] ?? dump;
        if (last?.reader.kind === 'wiki' && last.reader.pagesRead === 0 && failure instanceof DumpSyntaxError && !/not a MediaWiki XML dump|not an input this pipeline reads/.test(failure.message)) {
          failure = new DumpSyntaxError(`${failed} is not a MediaWiki XML dump: ${failure.message.replace(`${failed}: `, '')}`);
        }
        const message = !proved ? `${failure.message} (${target.createdFile ? 'no database was made' : `${opts.db} is left as it was`})` : failure.message;
        return new Failed(summary, new IngestError(message, { ...summary, already_done: false }), recorded);
      },
    });
    if (result.already_done) log(`${dump} is already ingested into ${opts.db}; nothing to do (--force re-ingests)`);
    return result;
  } finally {
    await pool?.then((p) => p.close(), () => {});
    target.close(proved);
  }
}
