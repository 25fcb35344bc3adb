/**
 * Ingest worker thread: a run of pages' bytes → parsed XML (saxes) → each page's rows, articles
 * cleaned by wtf_wikipedia. Told which input (file, siteinfo) the runs come from before its first run.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { SiteInfo } from '../dump/siteinfo.js';
import { readPages } from '../dump/xml.js';
import { Titles } from '../wiki/title.js';
import type { ScanOptions } from '../wiki/wikilinks.js';
import { pageBudgetMs, pageRows, scanOptions, skipped, timeoutReason, type CleanSettings } from './page.js';
import type { PoolInput, RunRequest, RunResult } from './pool.js';
import type { PageRows } from '../db/rows.js';

const { clean, beat, heapMb } = workerData as { clean: CleanSettings; beat: Int32Array; heapMb: number };
let input: { file: string; site: SiteInfo; titles: Titles; scan: ScanOptions } | null = null;

parentPort!.on('message', (m: RunRequest | PoolInput) => {
  if ('site' in m) {
    input = { file: m.file, site: m.site, titles: new Titles(m.site), scan: scanOptions(m.site, clean) };
    return;
  }
  if (!input) throw new Error('ingest worker: a run came before its input');
  const { file, site, titles, scan } = input;
  const req = m;
  let first: RunResult['first'] = null;
  const rows: PageRows[] = [];
  // each page is cleaned as soon as it is parsed: its text dies young instead of waiting for the run
  const error = readPages(file, req.bytes, { seq: req.seq, line: req.line, column: req.column, site }, (p) => {
    first ??= { seq: p.seq, id: p.id };
    if (p.seq < req.skipBelow) return;
    const bytes = p.text === null ? 0 : Buffer.byteLength(p.text);
    if (req.outOfMemory.includes(p.seq)) {
      rows.push(skipped(p, bytes, `out of memory (cleaning it took more than the worker's ${heapMb} MB)`));
      return;
    }
    if (req.lost.includes(p.seq)) {
      rows.push(skipped(p, bytes, `${timeoutReason(bytes, req.budgetSeconds)}; its links not read either`));
      return;
    }
    // the pool watches how long a page takes, against the page's own budget
    Atomics.store(beat, 1, Math.ceil(pageBudgetMs(bytes, req.budgetSeconds)));
    Atomics.store(beat, 0, p.seq + 1);
    rows.push(pageRows(p, titles, scan, req.timedOut.includes(p.seq) ? timeoutReason(bytes, req.budgetSeconds) : undefined));
  });
  Atomics.store(beat, 0, 0);
  const res: RunResult = { id: req.id, first, rows, error: error ? error.message : null };
  parentPort!.postMessage(res);
});
