/** Ingest worker thread: a run of pages' bytes → parsed XML (saxes) → each page's rows, articles cleaned by wtf_wikipedia. */
import { parentPort, workerData } from 'node:worker_threads';
import type { SiteInfo } from '../dump/siteinfo.js';
import { readPages } from '../dump/xml.js';
import { Titles } from '../wiki/title.js';
import { pageRows } from './page.js';
import type { RunRequest, RunResult } from './pool.js';

const { file, site } = workerData as { file: string; site: SiteInfo };
const titles = new Titles(site);
const decoder = new TextDecoder();

parentPort!.on('message', (req: RunRequest) => {
  const { pages, error } = readPages(file, decoder.decode(req.bytes), { seq: req.seq, line: req.line, column: req.column, site });
  const first = pages[0];
  const res: RunResult = {
    id: req.id,
    first: first ? { seq: first.seq, id: first.id } : null,
    rows: pages.filter((p) => p.seq >= req.skipBelow).map((p) => pageRows(p, titles)),
    error: error ? error.message : null,
  };
  parentPort!.postMessage(res);
});
