/** `linkbert plan`: a run cut into units of work, written to DIR/plan.json; and what tasks read of it. */
import { relative } from 'node:path';
import { memoryOf, UsageError, type Command, type Flag, type ParsedArgs } from '../src/cli/args.js';
import { log } from '../src/cli/report.js';
import { inputKind } from '../src/ingest/inputs.js';
import { makePlan, UNIT_BOOKS, writePlan, type Plan } from '../src/units/plan.js';
import type { TaskOptions } from '../src/units/tasks.js';
import { ingestOptions } from './ingest.js';
import { pairsOptions } from './pairs.js';
import { runFlags, SAMPLE_DUMP } from './run.js';
import { segmentOptions } from './segment.js';
import { shardsOptions } from './shards.js';
import { writeDemoTokenizer } from './vocab.js';

export const OUT_FLAG: Flag = { name: 'out', type: 'string', placeholder: 'DIR', required: true, help: 'the plan\'s folder (shared by every machine that runs its tasks): plan.json, the units\' Parquet, linkbert.duckdb, shards/' };

/** The stages' options from the plan's settings, with this task's memory and threads. */
export function taskOptions(plan: Plan, memory: number, workers: number | undefined): TaskOptions {
  const f: ParsedArgs['flags'] = { ...(plan.settings as ParsedArgs['flags']), memory, workers, dump: plan.inputs.map((i) => i.file) };
  return {
    ingest: ingestOptions(f),
    segment: { ...segmentOptions(f), tokenizer: f.tokenizer as string | undefined, maxSeqLen: f['max-seq-len'] as number },
    pairs: pairsOptions(f),
    shards: shardsOptions(f),
    report: { examplesPerLabel: f.examples as number },
    vocab: (db, dir, mem) => writeDemoTokenizer(db, dir, 4000, { memory: mem, overwrite: true }), // the plan's folder is its own
    memory,
    log,
  };
}

export const command: Command = {
  name: 'plan',
  summary: 'cut a run into units of work for any number of workers or machines (DIR/plan.json); then launch, task, status, resume',
  usage: 'linkbert plan --out DIR [--dump FILE …] [--unit-streams K] [--unit-books B] [every flag of run that decides the output] [--json]',
  flags: [
    OUT_FLAG,
    { name: 'unit-streams', type: 'number', range: { integer: true, min: 1 }, placeholder: 'K', help: "bz2 streams of a multistream dump per unit (default: about 50,000 pages' worth)" },
    { name: 'unit-books', type: 'number', range: { integer: true, min: 1 }, placeholder: 'B', help: `books of a folder of them per unit (default ${UNIT_BOOKS}); any other input file (a PubMed file, JSON Lines, a dump without its index) is a unit of its own` },
    ...runFlags().filter((f) => f.name !== 'out'),
  ],
  async run({ flags }) {
    const dir = flags.out as string;
    if (!dir) throw new Error('--out DIR is required');
    // as `linkbert run` decides them: the sample when no dump is given, and its shorter max_seq_len
    const given = (flags.dump as string[] | undefined) ?? [];
    const dumps = given.length ? given : [relative(process.cwd(), SAMPLE_DUMP) || SAMPLE_DUMP];
    const { dump: _given, help: _help, ...rest } = flags;
    const settings = { ...rest, 'max-seq-len': (flags['max-seq-len'] as number | undefined) ?? (flags.dump ? 512 : 128) };
    memoryOf(flags);
    if (given.length > 1 && flags.index) throw new UsageError("--index names the index of one dump; with several --dump, each multistream dump's index is found beside it");
    const plan = await makePlan(dumps, settings, { index: flags['no-index'] ? null : (flags.index as string | undefined), unitStreams: flags['unit-streams'] as number | undefined, unitBooks: flags['unit-books'] as number | undefined });
    const how = writePlan(dir, plan);
    const pages = plan.inputs.every((i) => i.pages !== null) ? plan.inputs.reduce((n, i) => n + i.pages!, 0) : null;
    if (flags.json) console.log(JSON.stringify({ stage: 'plan', out: dir, plan: `${dir}/plan.json`, written: how === 'written', inputs: plan.inputs.length, units: plan.units.length, unit_streams: plan.unit_streams, unit_books: plan.unit_books, pages, settings_hash: plan.settings_hash }));
    else {
      log(`plan: ${dir}/plan.json ${how === 'same' ? '(the same plan was there already)' : 'written'}`);
      for (const [k, input] of plan.inputs.entries()) {
        const units = plan.units.filter((u) => u.input === k);
        const books = inputKind(input.file) === 'books';
        const cut = input.index ? ` of ${plan.unit_streams} bz2 streams` : books ? (units.length > 1 ? ` of ${plan.unit_books} books` : '') : ' (read whole: a file of its own; a MediaWiki dump without its multistream index is cut into units only as a -multistream.xml.bz2 with the index beside it)';
        if (k < 20 || k === plan.inputs.length - 1) log(`  ${input.file}: ${units.length} unit(s)${cut}${input.pages ? `, ${input.pages.toLocaleString('en')} ${books ? 'books' : 'pages'}` : ''}`);
        else if (k === 20) log(`  … ${plan.inputs.length - 21} more input(s), a unit each or more`);
      }
      log(`  ${plan.units.length} unit(s) of ingest and segment in all`);
      log(`  next: linkbert launch --out ${dir} [--workers W]   (or linkbert task STAGE --out ${dir} --rank R --world W on each machine)`);
    }
    return 0;
  },
};
