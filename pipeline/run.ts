import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { JSON_FLAG, type Command } from '../src/cli/args.js';
import { log, progressBar } from '../src/cli/report.js';
import { graph } from '../src/graph/graph.js';
import { ingest } from '../src/ingest/ingest.js';
import { printGraph } from './graph.js';
import { printIngest } from './ingest.js';

export const SAMPLE_DUMP = fileURLToPath(new URL('../data/sample/samplewiki.xml', import.meta.url));

export const command: Command = {
  name: 'run',
  summary: 'run every stage in order (now: ingest, graph); the embedded sample when no --dump is given',
  usage: 'linkbert run [--dump FILE] [--out DIR] [--workers N] [--force] [--json]',
  flags: [
    { name: 'dump', type: 'string', placeholder: 'FILE', help: 'dump to process (default: the embedded sample wiki)' },
    { name: 'out', type: 'string', placeholder: 'DIR', default: 'out', help: 'output folder (the DuckDB file goes there)' },
    { name: 'workers', type: 'number', help: 'worker threads (default: number of cores)' },
    { name: 'force', type: 'boolean', help: 'redo stages even when their output is complete' },
    JSON_FLAG,
  ],
  async run({ flags }) {
    const dump = (flags.dump as string | undefined) ?? SAMPLE_DUMP;
    const out = flags.out as string;
    const db = join(out, 'linkbert.duckdb');
    if (!flags.dump) log(`no --dump given: using the embedded sample ${SAMPLE_DUMP}`);
    const bar = progressBar('ingest');
    const s = await ingest({
      dump,
      db,
      workers: flags.workers as number | undefined,
      force: Boolean(flags.force),
      onProgress: (p) => bar.update({ done: p.pages, unit: 'pages', seconds: p.seconds, bytesRead: p.bytesRead, totalBytes: p.totalBytes }),
      log,
    });
    bar.end();
    if (!flags.json) printIngest(s);
    // A re-ingested dump invalidates the graph: graph() sees the new fingerprint and rebuilds.
    const g = await graph({ db, force: Boolean(flags.force) });
    if (flags.json) {
      console.log(JSON.stringify({ stage: 'run', outputs: { db }, ingest: s, graph: g }));
    } else {
      console.log('');
      printGraph(g);
      console.log(`\noutputs:\n  database  ${db}`);
      console.log(`  inspect   npx linkbert sql --db ${db} --query top-in-degree   (npx linkbert sql --list for more)`);
    }
    return 0;
  },
};
