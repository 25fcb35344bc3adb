/** Worker thread: cleans articles with wtf_wikipedia (the CPU-heavy part of ingest). */
import { parentPort, workerData } from 'node:worker_threads';
import type { SiteInfo } from '../dump/siteinfo.js';
import { cleanArticle } from './clean.js';
import { Titles } from './title.js';
import { linkColumns } from '../ingest/rows.js';
import type { CleanRequest, CleanResponse } from './pool.js';

const titles = new Titles((workerData as { site: SiteInfo }).site);

parentPort!.on('message', (req: CleanRequest) => {
  let res: CleanResponse;
  try {
    const { links, ...article } = cleanArticle(req.title, req.text, titles);
    res = { id: req.id, article, links: linkColumns(links.map(({ targetNs, ...l }) => ({ ...l, target_ns: targetNs }))) };
  } catch (e) {
    res = { id: req.id, error: e instanceof Error ? e.message : String(e) };
  }
  parentPort!.postMessage(res);
});
