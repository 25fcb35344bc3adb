import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { JSON_FLAG, MEMORY_FLAG, type Command } from '../src/cli/args.js';
import { log, withProgress } from '../src/cli/report.js';
import { graph } from '../src/graph/graph.js';
import { ingest } from '../src/ingest/ingest.js';
import { pairs, type BSegments } from '../src/pairs/pairs.js';
import { segment } from '../src/segment/segment.js';
import { shards, type Masking } from '../src/shards/shards.js';
import { printGraph } from './graph.js';
import { KEEP_LISTS_FLAG, printIngest } from './ingest.js';
import { B_SEGMENTS_FLAG, printPairs } from './pairs.js';
import { printShards } from './shards.js';
import { printSegment } from './segment.js';
import { TOKENIZER_FLAGS } from './tokenize.js';
import { writeDemoTokenizer } from './vocab.js';
import { buildModel, initTinyModel } from './model.js';
import { printVerify } from './verify.js';
import { verify } from '../src/verify/verify.js';

export const SAMPLE_DUMP = fileURLToPath(new URL('../data/sample/samplewiki.xml', import.meta.url));

export const command: Command = {
  name: 'run',
  summary: 'run ingest → graph → segment → pairs → shards → verify, skipping complete stages; the embedded sample when no --dump is given',
  usage: 'linkbert run [--dump FILE] [--tokenizer X] [--model FILE.onnx] [--out DIR] [--max-seq-len N] [--seed S] [--masking static|dynamic] [--samples N] [--batch B] [--mlm-positions N] [--workers N] [--force] [--memory SIZE] [--json]',
  flags: [
    { name: 'dump', type: 'string', placeholder: 'FILE', help: 'dump to process (default: the embedded sample wiki)' },
    ...TOKENIZER_FLAGS.map((f) => (f.name === 'tokenizer' ? { ...f, help: `${f.help}; default: a demo vocabulary made from the dump (not a real model's)` } : f)),
    { name: 'model', type: 'string', placeholder: 'FILE', help: 'ONNX model to verify the shards with (default: a tiny random BERT made for the tokenizer: checks the plumbing, not the data)' },
    { name: 'out', type: 'string', placeholder: 'DIR', default: 'out', help: 'output folder (the DuckDB file goes there)' },
    { name: 'max-seq-len', type: 'number', range: { integer: true, min: 8 }, help: 'model input length (default: 512; 128 for the embedded sample, whose articles are short)' },
    { name: 'short-seq-prob', type: 'number', range: { min: 0, max: 1 }, default: 0.1, help: 'chance that a segment aims at a shorter, random length' },
    { name: 'seed', type: 'number', range: { integer: true, min: 0 }, default: 12345, help: 'random seed' },
    { name: 'instances-per-segment', type: 'number', range: { integer: true, min: 1 }, default: 1, help: 'instances drawn per anchor segment' },
    { name: 'masking', type: 'string', placeholder: 'MODE', default: 'static', help: 'static or dynamic masking' },
    { name: 'dupe-factor', type: 'number', range: { integer: true, min: 1 }, default: 1, help: 'copies of each pair with different masks' },
    { name: 'shard-rows', type: 'number', range: { integer: true, min: 1 }, default: 100000, help: 'rows per shard at most' },
    { name: 'samples', type: 'number', range: { integer: true, min: 1 }, placeholder: 'N', help: 'shard rows verify checks (default: 512 with --model; 32 with the tiny random model, which checks the plumbing only)' },
    { name: 'batch', type: 'number', range: { integer: true, min: 1 }, default: 16, help: 'rows per verify inference batch' },
    { name: 'mlm-positions', type: 'number', range: { integer: true, min: 1 }, help: "masked positions verify scores per row (default: all with --model; 4 with the tiny random model)" },
    { name: 'workers', type: 'number', range: { integer: true, min: 1 }, help: 'worker threads (default: number of cores)' },
    { name: 'force', type: 'boolean', help: 'redo stages even when their output is complete' },
    KEEP_LISTS_FLAG,
    B_SEGMENTS_FLAG,
    MEMORY_FLAG,
    JSON_FLAG,
  ],
  async run({ flags }) {
    const dump = (flags.dump as string | undefined) ?? SAMPLE_DUMP;
    const out = flags.out as string;
    const db = join(out, 'linkbert.duckdb');
    const force = Boolean(flags.force);
    const memory = flags.memory as string;
    const say = (print: () => void) => {
      if (!flags.json) {
        print();
        console.log('');
      }
    };
    if (!flags.dump) log(`no --dump given: using the embedded sample ${SAMPLE_DUMP}`);
    const maxSeqLen = (flags['max-seq-len'] as number | undefined) ?? (flags.dump ? 512 : 128);

    const i = await withProgress('ingest', 'pages', (tick) =>
      ingest({ dump, db, workers: flags.workers as number | undefined, force, memory, keepLists: Boolean(flags['keep-lists']), onProgress: (p) => tick({ done: p.pages, seconds: p.seconds, bytesRead: p.bytesRead, totalBytes: p.totalBytes }), log }),
    );
    say(() => printIngest(i));

    // A re-ingested dump has a new fingerprint: the later stages see it and rebuild.
    const g = await graph({ db, force, memory });
    say(() => printGraph(g));

    let tokenizer = flags.tokenizer as string | undefined;
    if (!tokenizer) {
      tokenizer = join(out, 'demo-tokenizer');
      const v = await writeDemoTokenizer(db, tokenizer, 4000);
      log(`no --tokenizer given: made a demo vocabulary of ${v.size} tokens from the articles → ${tokenizer} (pass the model's tokenizer for real data)`);
    }
    const s = await withProgress('segment', 'articles', (tick) =>
      segment({
        db,
        tokenizer,
        lowercase: flags.lowercase as boolean | undefined,
        revision: flags.revision as string | undefined,
        maxSeqLen,
        shortSeqProb: flags['short-seq-prob'] as number,
        seed: flags.seed as number,
        force,
        memory,
        onProgress: (p) => tick({ done: p.articles, seconds: p.seconds, total: p.total }),
      }),
    );
    say(() => printSegment(s));

    const p = await pairs({ db, seed: flags.seed as number, instancesPerSegment: flags['instances-per-segment'] as number, bSegments: flags['b-segments'] as BSegments, force, memory });
    say(() => printPairs(p));
    const shardDir = join(out, 'shards');
    const h = await withProgress('shards', 'rows', (tick) =>
      shards({
        db,
        out: shardDir,
        masking: flags.masking as Masking,
        dupeFactor: flags['dupe-factor'] as number,
        shardRows: flags['shard-rows'] as number,
        seed: flags.seed as number,
        force,
        memory,
        onProgress: (q) => tick({ done: q.rows, seconds: q.seconds, total: q.total }),
      }),
    );
    say(() => printShards(h));

    let model = flags.model as string | undefined;
    if (!model) {
      const dir = join(out, 'tiny-model');
      // one layer, one head: enough to run every part of the ONNX path; verify stays a small share of run
      await initTinyModel(dir, tokenizer, { seed: flags.seed as number, head: 'mlm', layers: 1, heads: 1, maxPositions: Math.max(512, maxSeqLen) });
      model = join(dir, 'model.onnx');
      await buildModel(dir, model, 'mlm');
      log(`no --model given: verifying with a tiny random BERT built for the tokenizer → ${model} (its accuracy figures are those of random weights)`);
    }
    const m = model;
    // the tiny random model checks the plumbing only: a few rows, a few masked positions each
    const samples = (flags.samples as number | undefined) ?? (flags.model ? 512 : 32);
    const mlmPositions = (flags['mlm-positions'] as number | undefined) ?? (flags.model ? undefined : 4);
    const v = await withProgress('verify', 'rows', (tick) =>
      verify({ model: m, shards: shardDir, tokenizer, seed: flags.seed as number, samples, mlmPositions, batch: flags.batch as number, onProgress: (q) => tick({ done: q.done, seconds: q.seconds, total: q.total }) }),
    );
    say(() => printVerify(v));

    if (flags.json) {
      console.log(JSON.stringify({ stage: 'run', outputs: { db, tokenizer, shards: shardDir, model }, ingest: i, graph: g, segment: s, pairs: p, shards: h, verify: v }));
    } else {
      console.log(`outputs:\n  database   ${db}\n  tokenizer  ${tokenizer}\n  shards     ${shardDir}  (${h.rows} rows in ${h.shards} Parquet file(s) + manifest.json)\n  model      ${model}`);
      console.log(`  inspect    npx linkbert sql --db ${db} --query top-in-degree   (npx linkbert sql --list for more)`);
    }
    return v.conformance.ok ? 0 : 1;
  },
};
