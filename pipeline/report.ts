import { JSON_FLAG, MEMORY_FLAG, memoryOf, OVERWRITE_FLAG, type Command, type ParsedArgs } from '../src/cli/args.js';
import { report } from '../src/report/report.js';
import { DEFAULT_DB } from './ingest.js';

/** The report options the flags give (shared with `run`, which sets out). */
export function reportOptions(flags: ParsedArgs['flags']) {
  return { db: flags.db as string, out: flags.out as string, examplesPerLabel: flags.examples as number, memory: memoryOf(flags), overwrite: Boolean(flags.overwrite) };
}

export const command: Command = {
  name: 'report',
  summary: 'one self-contained HTML page about the data: counts, degree distributions, label balance, segment lengths, hubs, coverage, example pairs',
  flags: [
    { name: 'db', type: 'string', placeholder: 'FILE', default: DEFAULT_DB, help: 'DuckDB file with pairs' },
    { name: 'out', type: 'string', placeholder: 'FILE', default: 'out/report.html', help: 'the HTML page to write' },
    { name: 'examples', type: 'number', range: { integer: true, min: 0 }, default: 2, help: 'example pairs shown per relation' },
    MEMORY_FLAG,
    OVERWRITE_FLAG,
    JSON_FLAG,
  ],
  async run({ flags }) {
    const s = await report(reportOptions(flags));
    if (flags.json) console.log(JSON.stringify(s));
    else console.log(`report: ${s.out} (${s.plots} plots, ${s.examples} example pairs, ${s.seconds}s) — open it in a browser`);
    return 0;
  },
};
