import { existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { JSON_FLAG, memoryOf, UsageError, type Command, type Flag, type ParsedArgs } from '../src/cli/args.js';
import { OnnxModel } from '../src/onnx/session.js';
import { loadTokenizer } from '../src/tokenize/tokenizer.js';
import { log, withProgress } from '../src/cli/report.js';
import { graph } from '../src/graph/graph.js';
import { ingest } from '../src/ingest/ingest.js';
import { pairs } from '../src/pairs/pairs.js';
import { segment } from '../src/segment/segment.js';
import { shards } from '../src/shards/shards.js';
import { command as graphCommand, graphOptions, printGraph } from './graph.js';
import { command as ingestCommand, ingestOptions, printIngest } from './ingest.js';
import { command as pairsCommand, pairsOptions, printPairs } from './pairs.js';
import { command as shardsCommand, printShards, shardsOptions } from './shards.js';
import { command as segmentCommand, printSegment, segmentOptions } from './segment.js';
import { TOKENIZER_FLAGS } from './tokenize.js';
import { demoTokenizerFiles, writeDemoTokenizer } from './vocab.js';
import { buildModel, initTinyModel, tinyModelFiles } from './model.js';
import { checkWritable } from '../src/util/own-files.js';
import { command as verifyCommand, printVerify, verifyOptions } from './verify.js';
import { verify } from '../src/verify/verify.js';
import { report } from '../src/report/report.js';
import { command as reportCommand, reportOptions } from './report.js';

export const SAMPLE_DUMP = fileURLToPath(new URL('../data/sample/samplewiki.xml', import.meta.url));

// run's own flags: what it decides for the stages (where outputs go, the defaults that suit a whole
// run), declared first; then every other flag of every stage it runs, declared once in that stage
// and passed through, so `run` accepts what the stages accept and their help cannot drift apart.
const OWN: Flag[] = [
  { name: 'dump', type: 'string', multiple: true, placeholder: 'FILE', help: 'dump to process (default: the embedded sample wiki); repeat it to read several into one database, in order' },
  ...TOKENIZER_FLAGS.map((f) => (f.name === 'tokenizer' ? { ...f, help: `${f.help}; default: a demo vocabulary made from the dump (not a real model's)` } : f)),
  { name: 'model', type: 'string', placeholder: 'FILE', help: 'ONNX model to verify the shards with (default: a tiny random BERT made for the tokenizer: checks the plumbing, not the data)' },
  { name: 'out', type: 'string', placeholder: 'DIR', default: 'out', help: 'output folder: the DuckDB file, shards/, the demo tokenizer and model go there' },
  { name: 'db', type: 'string', placeholder: 'FILE', help: 'DuckDB file (default: OUT/linkbert.duckdb)' },
  { name: 'max-seq-len', type: 'number', range: { integer: true, min: 8 }, help: 'model input length (default: 512; 128 for the embedded sample, whose articles are short)' },
  { name: 'seed', type: 'number', range: { integer: true, min: 0 }, default: 12345, help: 'random seed of every stage' },
  { name: 'samples', type: 'number', range: { integer: true, min: 1 }, placeholder: 'N', help: 'shard rows verify checks (default: 512 with --model; 32 with the tiny random model, which checks the plumbing only)' },
  { name: 'mlm-positions', type: 'number', range: { integer: true, min: 1 }, help: 'masked positions verify scores per row (default: all with --model; 4 with the tiny random model)' },
  { name: 'workers', type: 'number', range: { integer: true, min: 1 }, help: 'worker threads (default: number of cores)' },
  { name: 'force', type: 'boolean', help: 'redo stages even when their output is complete' },
  { name: 'overwrite', type: 'boolean', help: 'replace files at --out that linkbert did not write (report.html, the demo tokenizer and model); without it they are refused before any stage runs' },
];
// stage flags that name a stage's own input or output, which run sets itself
const NOT_PASSED = new Set(['out', 'shards']);
const STAGES: Command[] = [ingestCommand, graphCommand, segmentCommand, pairsCommand, shardsCommand, reportCommand, verifyCommand];

/** run's flags: its own, then each stage's (the first declaration of a name wins), --json last. */
export function runFlags(): Flag[] {
  const own = new Set([...OWN.map((f) => f.name), 'json']);
  const first = new Map<string, Flag>();
  const users = new Map<string, string[]>();
  for (const c of STAGES) {
    for (const f of c.flags) {
      if (own.has(f.name) || NOT_PASSED.has(f.name)) continue;
      if (!first.has(f.name)) first.set(f.name, f);
      users.set(f.name, [...(users.get(f.name) ?? []), c.name]);
    }
  }
  return [...OWN, ...[...first.values()].map((f) => ({ ...f, help: `${f.help} (${users.get(f.name)!.join(', ')})` })), JSON_FLAG];
}

/** What run will need after ingest (hours on a full dump), checked before it: the tokenizer and the model load. */
async function checkInputs(flags: ParsedArgs['flags']): Promise<void> {
  for (const f of (flags.dump as string[] | undefined) ?? []) if (!existsSync(f)) throw new Error(`--dump ${f}: no such file or folder`);
  if (flags.tokenizer) {
    try {
      await loadTokenizer(flags.tokenizer as string, { lowercase: flags.lowercase as boolean | undefined, revision: flags.revision as string | undefined });
    } catch (e) {
      const m = (e as Error).message;
      throw new Error(m.includes(flags.tokenizer as string) ? m : `--tokenizer ${flags.tokenizer as string}: ${m}`);
    }
  }
  if (flags.model) {
    if ((flags.format ?? 'parquet') !== 'parquet') return; // verify does not run on TFRecord or HDF5 shards
    const m = await OnnxModel.load(flags.model as string);
    await m.session.release();
  }
}

export const command: Command = {
  name: 'run',
  summary: 'run ingest → graph → segment → pairs → shards → verify, skipping complete stages; the embedded sample when no --dump is given',
  usage: 'linkbert run [--dump FILE] [--tokenizer X] [--model FILE.onnx] [--out DIR] [--max-seq-len N] [--seed S] [--workers N] [--force] [--overwrite] [--memory SIZE] [--json] [every flag of the stages it runs]',
  flags: runFlags(),
  async run({ flags }) {
    // with --json, a run that fails still prints what it did: the summaries of the stages done, and the error
    const done: Record<string, unknown> = {};
    try {
      return await runAll(flags, done);
    } catch (e) {
      if (flags.json) {
        const ingestSummary = (e as { summary?: unknown }).summary;
        console.log(JSON.stringify({ stage: 'run', ...(ingestSummary && !done.ingest ? { ingest: ingestSummary } : {}), ...done, error: e instanceof Error ? e.message : String(e) }));
      }
      throw e;
    }
  },
};

async function runAll(flags: ParsedArgs['flags'], done: Record<string, unknown>): Promise<number> {
  // the sample as a path from here (the manifest keeps the dump's path as given, not this machine's layout)
  const given = flags.dump as string[] | undefined;
  const dump = given?.length ? (given.length === 1 ? given[0]! : given) : relative(process.cwd(), SAMPLE_DUMP) || SAMPLE_DUMP;
  const out = flags.out as string;
  const db = (flags.db as string | undefined) ?? join(out, 'linkbert.duckdb');
  const say = (print: () => void) => {
    if (!flags.json) {
      print();
      console.log('');
    }
  };
  if (!flags.dump) log(`no --dump given: using the embedded sample ${SAMPLE_DUMP}`);
  // every stage's warnings reach the user: on stderr as the stage ends, and in --json
  const warnings: { stage: string; warning: string }[] = [];
  done.warnings = warnings; // a run that fails says them too
  const warn = (stage: string, ws: string[] | undefined, printed = false) => {
    for (const w of ws ?? []) {
      warnings.push({ stage, warning: w });
      if (!printed) log(`warning (${stage}): ${w}`);
    }
  };
  const maxSeqLen = (flags['max-seq-len'] as number | undefined) ?? (flags.dump ? 512 : 128);
  const overwrite = Boolean(flags.overwrite);
  const reportFile = join(out, 'report.html');
  const modelDir = join(out, 'tiny-model');
  // every file run writes beside the user's, checked before the first stage (not hours later)
  const writes = [reportFile, ...(flags.tokenizer ? [] : demoTokenizerFiles(join(out, 'demo-tokenizer'))), ...(flags.model ? [] : [...tinyModelFiles(modelDir), join(modelDir, 'model.onnx')])];
  checkWritable(writes, { allowed: overwrite, flag: '--overwrite' });
  await checkInputs(flags);
  const maxPredictions = flags['max-predictions'] as number | undefined;
  if (maxPredictions !== undefined && maxPredictions > maxSeqLen - 3) throw new UsageError(`--max-predictions ${maxPredictions} is more than a row of --max-seq-len ${maxSeqLen} can hold (${maxSeqLen - 3} tokens of A and B)`);

  const i = await withProgress('ingest', 'pages', (tick) =>
    ingest({ ...ingestOptions(flags), dump, db, onProgress: (p) => tick({ done: p.pages, seconds: p.seconds, bytesRead: p.bytesRead, totalBytes: p.totalBytes }), log }),
  );
  done.ingest = i;
  say(() => printIngest(i));
  warn('ingest', i.warnings, true); // said as the input was read

  // A re-ingested dump has a new fingerprint: the later stages see it and rebuild.
  const g = await graph({ ...graphOptions(flags), db });
  done.graph = g;
  say(() => printGraph(g));

  let tokenizer = flags.tokenizer as string | undefined;
  if (!tokenizer) {
    tokenizer = join(out, 'demo-tokenizer');
    const v = await writeDemoTokenizer(db, tokenizer, 4000, { memory: memoryOf(flags), overwrite });
    log(`no --tokenizer given: made a demo vocabulary of ${v.size} tokens from the articles → ${tokenizer} (pass the model's tokenizer for real data)`);
  }
  const s = await withProgress('segment', 'articles', (tick) =>
    segment({
      ...segmentOptions(flags),
      db,
      tokenizer,
      maxSeqLen,
      onProgress: (p) => tick({ done: p.articles, seconds: p.seconds, total: p.total }),
    }),
  );
  done.segment = s;
  say(() => printSegment(s));
  warn('segment', s.warnings);

  const p = await pairs({ ...pairsOptions(flags), db });
  done.pairs = p;
  say(() => printPairs(p));
  const shardDir = join(out, 'shards');
  const h = await withProgress('shards', 'rows', (tick) =>
    shards({
      ...shardsOptions(flags),
      db,
      out: shardDir,
      onProgress: (q) => tick({ done: q.rows, seconds: q.seconds, total: q.total }),
    }),
  );
  done.shards = h;
  say(() => printShards(h));

  const rep = await report({ ...reportOptions(flags), db, out: reportFile, overwrite });
  say(() => console.log(`report: ${rep.out} (${rep.plots} plots, ${rep.examples} example pairs)`));

  const format = (flags.format as string | undefined) ?? 'parquet';
  let model = flags.model as string | undefined;
  let v: Awaited<ReturnType<typeof verify>> | null = null;
  if (format !== 'parquet') {
    // verify reads Parquet shards; the TFRecord or HDF5 files hold the same rows
    log(`verify skipped: it reads Parquet shards, and --format ${format} wrote ${format} (the same rows; \`linkbert shards --format parquet\` gives Parquet to verify)`);
  } else {
    if (!model) {
      // one layer, one head: enough to run every part of the ONNX path; verify stays a small share of run
      await initTinyModel(modelDir, tokenizer, { seed: flags.seed as number, head: 'mlm', layers: 1, heads: 1, maxPositions: Math.max(512, maxSeqLen), overwrite });
      model = join(modelDir, 'model.onnx');
      await buildModel(modelDir, model, 'mlm', { overwrite });
      log(`no --model given: verifying with a tiny random BERT built for the tokenizer → ${model} (its accuracy figures are those of random weights)`);
    }
    const m = model;
    // the tiny random model checks the plumbing only: a few rows, a few masked positions each
    const samples = (flags.samples as number | undefined) ?? (flags.model ? 512 : 32);
    const mlmPositions = (flags['mlm-positions'] as number | undefined) ?? (flags.model ? undefined : 4);
    const report = await withProgress('verify', 'rows', (tick) =>
      verify({ ...verifyOptions(flags), model: m, shards: shardDir, tokenizer, samples, mlmPositions, onProgress: (q) => tick({ done: q.done, seconds: q.seconds, total: q.total }) }),
    );
    v = report;
    say(() => printVerify(report));
    warn('verify', report.warnings, !flags.json); // printVerify says them
  }

  if (flags.json) {
    console.log(JSON.stringify({ stage: 'run', outputs: { db, tokenizer, shards: shardDir, report: reportFile, model: model ?? null }, ingest: i, graph: g, segment: s, pairs: p, shards: h, verify: v, warnings }));
  } else {
    console.log(`outputs:\n  database   ${db}\n  tokenizer  ${tokenizer}\n  shards     ${shardDir}  (${h.rows} rows${h.splits?.validation ? ` (${h.splits.validation.rows} of them validation)` : ''} in ${h.shards} ${format === 'parquet' ? 'Parquet' : format === 'hdf5' ? 'HDF5' : 'TFRecord'} file(s) + manifest.json, README.md)\n  report     ${reportFile}${model ? `\n  model      ${model}` : ''}`);
    console.log(`  inspect    npx linkbert sql --db ${db} --query top-in-degree   (npx linkbert sql --list for more)`);
  }
  return !v || v.conformance.ok ? 0 : 1;
}
