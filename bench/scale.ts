/**
 * `npm run bench -- --scale`: every stage, each as its own command (as a user runs it), on bench
 * dumps of 6k and 60k pages (`--large` adds 600k, for a run by hand), with wall time, CPU (user +
 * system, children such as lbzip2 included), peak RSS and throughput per stage; the growth factor
 * of each between sizes against the bounds (memory within 1.25× + 100 MB, CPU within 12× for 10×
 * the data, peak RSS under 1.5 GB); and a projection to the whole English Wikipedia.
 *
 * Flags: --sizes 6000,60000 (page counts, ascending), --large (adds 600000), --memory SIZE (passed
 * to every stage), --workers N, --reuse (a size whose figures are in bench/data/scale-N.json from an
 * earlier complete run is not run again: a 600k run takes hours).
 *
 * Each stage's figures are printed as it ends and kept in bench/data/scale-N.json.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchDump } from './dump.ts';
import { parseArgs } from 'node:util';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const { values } = parseArgs({
  args: process.argv.slice(2).filter((a) => a !== '--scale'),
  options: { sizes: { type: 'string', default: '6000,60000' }, large: { type: 'boolean' }, memory: { type: 'string' }, workers: { type: 'string' }, reuse: { type: 'boolean' } },
});
const sizes = values.sizes!.split(',').map(Number);
if (values.large) sizes.push(600_000);
const tool = join(ROOT, '../shared/tools/make-bench-dump');
const vocab = join(ROOT, '../shared/fixtures/tokenizer/bert-base-cased-vocab.txt');
if (!existsSync(tool) || !existsSync(vocab)) {
  console.error(`bench --scale: ${tool} and ${vocab} are needed (they live in ../shared); nothing to measure`);
  process.exit(1);
}
const dataDir = join(ROOT, 'bench/data');
mkdirSync(dataDir, { recursive: true });
const cores = availableParallelism();
const common = [...(values.memory ? ['--memory', values.memory] : [])];

/** The bench dump of n pages, built once (with its progress shown) and cached in bench/data. */
async function dumpOf(pages: number): Promise<string> {
  const dump = join(dataDir, `bench-${pages}.xml.bz2`);
  await benchDump(tool, pages, dump);
  return dump;
}

interface Measured {
  wall: number;
  cpu: number;
  rss: number;
  json: Record<string, unknown>;
}

/** One `linkbert …` command: its wall time, its own CPU and peak RSS (LINKBERT_RUSAGE), its --json summary. */
function linkbert(args: string[], label: string): Promise<Measured> {
  const usage = join(dataDir, `.rusage-${process.pid}.json`);
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const p = spawn(process.execPath, [join(ROOT, 'bin/linkbert.js'), ...args], { env: { ...process.env, LINKBERT_RUSAGE: usage }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (b) => (out += b));
    p.stderr.on('data', (b) => (err += b));
    const tick = setInterval(() => process.stderr.write(`\r\x1b[2K  ${label}: ${Math.round((performance.now() - t0) / 1000)}s`), 1000);
    p.on('close', (code) => {
      clearInterval(tick);
      process.stderr.write('\r\x1b[2K');
      const wall = (performance.now() - t0) / 1000;
      if (code !== 0) return reject(new Error(`linkbert ${args.join(' ')} exited ${code}:\n${err}`));
      const u = JSON.parse(readFileSync(usage, 'utf8')) as { cpu_seconds: number; peak_rss_mb: number };
      rmSync(usage, { force: true });
      resolve({ wall, cpu: u.cpu_seconds, rss: u.peak_rss_mb, json: out.trim() ? (JSON.parse(out) as Record<string, unknown>) : {} });
    });
  });
}

type StageName = 'ingest' | 'graph' | 'segment' | 'pairs' | 'shards' | 'verify' | 'report';
const STAGES: StageName[] = ['ingest', 'graph', 'segment', 'pairs', 'shards', 'verify', 'report'];
interface SizeResult {
  pages: number;
  wikitextMb: number;
  stages: Record<StageName, Measured & { rate: string; amount: number }>;
  memory: string | null;
  date: string;
}

/** Figures of one size, kept beside the bench data as each stage ends. */
const figuresOf = (pages: number) => join(dataDir, `scale-${pages}.json`);

async function measure(pages: number): Promise<SizeResult> {
  const kept = figuresOf(pages);
  if (values.reuse && existsSync(kept)) {
    const r = JSON.parse(readFileSync(kept, 'utf8')) as SizeResult & { complete?: boolean };
    if (r.complete && r.stages.report && (r.memory ?? null) === (values.memory ?? null)) {
      console.error(`${pages} pages: figures of ${r.date} reused (${kept})`);
      return r;
    }
  }
  const dump = await dumpOf(pages);
  const dir = join(dataDir, `scale-${pages}`);
  rmSync(dir, { recursive: true, force: true }); // made by this bench only
  mkdirSync(dir, { recursive: true });
  const db = join(dir, 'bench.duckdb');
  const shards = join(dir, 'shards');
  const workers = values.workers ? ['--workers', values.workers] : [];
  console.error(`${pages} pages: ${dump}`);
  const result = { pages, wikitextMb: 0, stages: {}, memory: values.memory ?? null, date: new Date().toISOString(), complete: false } as SizeResult & { complete: boolean };
  const keep = (stage: StageName, m: Measured, amount: number, rate: string) => {
    result.stages[stage] = { ...m, amount, rate };
    writeFileSync(kept, JSON.stringify(result, null, 1));
    console.error(`  ${stage}: ${m.wall.toFixed(1)} s wall, ${m.cpu.toFixed(1)} CPU-s, peak RSS ${m.rss} MB, ${rate}`);
  };
  const n = (m: Measured, k: string) => m.json[k] as number;
  const per = (stage: StageName, m: Measured, amount: number, unit: string) => keep(stage, m, amount, `${Math.round(amount / m.wall).toLocaleString('en')} ${unit}/s`);

  const ingest = await linkbert(['ingest', '--dump', dump, '--db', db, ...workers, ...common, '--json'], 'ingest');
  result.wikitextMb = ingest.json.wikitext_mb as number;
  keep('ingest', ingest, result.wikitextMb, `${(result.wikitextMb / ingest.wall).toFixed(1)} MB/s`);
  const graph = await linkbert(['graph', '--db', db, ...common, '--json'], 'graph');
  per('graph', graph, n(graph, 'links'), 'links');
  const segment = await linkbert(['segment', '--db', db, '--tokenizer', vocab, ...common, '--json'], 'segment');
  per('segment', segment, n(segment, 'tokens'), 'tokens');
  const pairs = await linkbert(['pairs', '--db', db, ...common, '--json'], 'pairs');
  per('pairs', pairs, n(pairs, 'pairs'), 'instances');
  const shardsRun = await linkbert(['shards', '--db', db, '--out', shards, ...common, '--json'], 'shards');
  per('shards', shardsRun, n(shardsRun, 'rows'), 'rows');
  // verify with a tiny random BERT with an MLM head, as `run` does without --model
  const model = join(dir, 'tiny-model');
  await linkbert(['model', 'init', '--out', model, '--tokenizer', vocab], 'model init');
  await linkbert(['model', 'build', '--from', model, '--out', join(model, 'model.onnx'), '--head', 'mlm'], 'model build');
  const verify = await linkbert(['verify', '--model', join(model, 'model.onnx'), '--shards', shards, '--json'], 'verify');
  per('verify', verify, n(verify, 'samples'), 'rows');
  // the report reads every link (where links end) and looks up a few examples
  const report = await linkbert(['report', '--db', db, '--out', join(dir, 'report.html'), ...common, '--json'], 'report');
  result.complete = true;
  keep('report', report, result.wikitextMb, `${(result.wikitextMb / report.wall).toFixed(1)} MB/s`);
  return result;
}

const results: SizeResult[] = [];
for (const pages of sizes) results.push(await measure(pages));

const print = (rows: string[][]) => {
  const w = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  for (const r of rows) console.log(r.map((c, i) => (i ? c.padStart(w[i]!) : c.padEnd(w[i]!))).join('  '));
};
console.log(`\nbench --scale: ${cores} cores; every stage as its own command${values.memory ? `, --memory ${values.memory}` : ' (default --memory)'}\n`);
for (const r of results) {
  console.log(`${r.pages.toLocaleString('en')} pages, ${r.wikitextMb.toFixed(0)} MB of article wikitext`);
  print([['stage', 'wall s', 'CPU s', 'peak RSS MB', 'throughput'], ...STAGES.map((s) => {
    const m = r.stages[s];
    return [s, m.wall.toFixed(1), m.cpu.toFixed(1), String(m.rss), m.rate];
  })]);
  const run = STAGES.reduce((t, s) => t + r.stages[s].wall, 0);
  console.log(`verify: ${((100 * r.stages.verify.wall) / run).toFixed(1)}% of the stages' wall time together\n`);
}

let ok = true;
for (let i = 1; i < results.length; i++) {
  const a = results[i - 1]!;
  const b = results[i]!;
  const data = b.wikitextMb / a.wikitextMb;
  console.log(`growth ${a.pages.toLocaleString('en')} → ${b.pages.toLocaleString('en')} pages (${data.toFixed(1)}× the wikitext)`);
  const rows = [['stage', 'CPU ×', 'bound', 'peak RSS ×', 'bound', 'RSS < 1.5 GB', 'verdict']];
  for (const s of STAGES) {
    const x = a.stages[s];
    const y = b.stages[s];
    const cpuBound = 1.2 * data; // 12× for 10× the data
    const rssBound = 1.25 * x.rss + 100; // within 1.25× plus a small constant
    // verify reads a fixed sample: its cost should not grow at all
    const good = y.cpu <= cpuBound * x.cpu && y.rss <= rssBound && y.rss < 1500;
    ok &&= good;
    rows.push([s, `${(y.cpu / x.cpu).toFixed(2)}×`, `≤ ${cpuBound.toFixed(1)}×`, `${(y.rss / x.rss).toFixed(2)}×`, `≤ ${rssBound.toFixed(0)} MB`, y.rss < 1500 ? 'yes' : 'no', good ? 'met' : 'NOT MET']);
  }
  print(rows);
  console.log('');
}

// Projection: English Wikipedia as ~6.8 million articles and ~90 GB of article wikitext (~20 GB of
// bz2), each stage's cost taken as linear in the wikitext from the largest size measured.
const big = results[results.length - 1]!;
const ENWIKI_MB = 90_000;
const scale = ENWIKI_MB / big.wikitextMb;
console.log(`projection to English Wikipedia (assumed: 6.8M articles, ${ENWIKI_MB.toLocaleString('en')} MB of article wikitext, ~20 GB bz2), linear from ${big.pages.toLocaleString('en')} pages (×${scale.toFixed(0)}):`);
const hours = (s: number) => `${(s / 3600).toFixed(1)} h`;
print([['stage', `wall, this machine (${cores} cores)`, 'CPU (one core)'], ...STAGES.filter((s) => s !== 'verify').map((s) => [s, hours(big.stages[s].wall * scale), hours(big.stages[s].cpu * scale)]),
  ['all', hours(STAGES.filter((s) => s !== 'verify').reduce((t, s) => t + big.stages[s].wall * scale, 0)), hours(STAGES.filter((s) => s !== 'verify').reduce((t, s) => t + big.stages[s].cpu * scale, 0))]]);
console.log('(verify reads a fixed sample: its time does not grow with the corpus)');
console.log(results.length > 1 ? `\nresult: ${ok ? 'every stage within the memory and CPU bounds' : 'some stage is NOT within the bounds (see above)'}` : '');
