/**
 * `npm run bench`: ingest of a realistic 6000-page dump (../shared/tools/make-bench-dump) beside
 * baselines measured in the same run, interleaved, `--rounds` times each (medians): the bare
 * wtf_wikipedia parse of the same articles with as many worker threads, and WikiExtractor with as
 * many processes when a checkout of it is named by $WIKIEXTRACTOR (run by $WIKIEXTRACTOR_PYTHON,
 * default python3.10; it cannot be vendored). Targets: ingest ≤ 1.0× WikiExtractor's wall time,
 * ≤ 0.9× the bare wtf parse, peak RSS < 1 GB.
 *
 * Flags: --pages N (default 6000), --workers N (default: the cores), --rounds N (default 3),
 * --ingest-only (stop after the ingest comparison).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { PageReader, type DumpPage } from '../src/dump/xml.ts';
import { benchDump } from './dump.ts';
import { redirectTarget } from '../src/wiki/redirect.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
if (process.argv.includes('--scale')) {
  await import('./scale.ts');
  process.exit(0);
}
if (process.argv.includes('--units')) {
  await import('./units.ts');
  process.exit(0);
}
if (process.argv.includes('--fidelity')) {
  await import('./fidelity.ts');
  process.exit(0);
}
const { values } = parseArgs({ options: { pages: { type: 'string', default: '6000' }, workers: { type: 'string' }, rounds: { type: 'string', default: '3' }, 'ingest-only': { type: 'boolean', default: false } } });
const pages = Number(values.pages);
const workers = values.workers ? Number(values.workers) : availableParallelism();
const rounds = Math.max(1, Number(values.rounds));
const tool = join(ROOT, '../shared/tools/make-bench-dump');
if (!existsSync(tool)) {
  console.error(`bench: ${tool} is absent (it lives in ../shared); nothing to measure`);
  process.exit(1);
}
const dataDir = join(ROOT, 'bench/data');
mkdirSync(dataDir, { recursive: true });
const dump = join(dataDir, `bench-${pages}.xml.bz2`);
await benchDump(tool, pages, dump);

/** Articles of the dump (ns 0, not redirects), as ingest sends them to its workers. */
function articles(): DumpPage[] {
  const xml = spawnSync('bzip2', ['-dc', dump], { maxBuffer: 2 ** 31 }).stdout.toString('utf8');
  const reader = new PageReader(dump);
  reader.write(xml);
  reader.end();
  return reader.take().filter((p) => p.ns === 0 && p.redirect === null && p.text !== null && redirectTarget(p.text) === null);
}

/** CPU seconds and minor page faults, so far. */
interface Usage {
  cpu: number;
  faults: number;
}

/** What this process's finished children used (their own children included once waited for): Linux's /proc; null elsewhere. */
function childUsage(): Usage | null {
  try {
    const stat = readFileSync('/proc/self/stat', 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // f[0] is field 3, the state
    return { cpu: (Number(f[13]) + Number(f[14])) / 100, faults: Number(f[8]) }; // cutime + cstime (clock ticks), cminflt
  } catch {
    return null;
  }
}

/** What this process used (all its threads). */
function ownUsage(): Usage {
  const r = process.resourceUsage();
  return { cpu: (r.userCPUTime + r.systemCPUTime) / 1e6, faults: r.minorPageFault };
}

/** What `run` used, by the measure given. */
function used<T>(measure: () => Usage | null, run: () => T): { result: T; usage: Usage | null } {
  const a = measure();
  const result = run();
  const b = measure();
  return { result, usage: a && b ? { cpu: b.cpu - a.cpu, faults: b.faults - a.faults } : null };
}

/** Baseline: wtf_wikipedia alone (sentences + links, as a user of it would), `workers` threads. */
async function bareWtf(pages: DumpPage[], workers: number): Promise<number> {
  const code = `
    const { parentPort } = require('node:worker_threads');
    const m = require(${JSON.stringify(join(ROOT, 'node_modules/wtf_wikipedia'))});
    const wtf = m.default ?? m;
    parentPort.on('message', (texts) => {
      let n = 0;
      for (const t of texts) { const d = wtf(t); n += d.sentences().length + d.links().length; }
      parentPort.postMessage(n);
    });`;
  const texts = pages.map((p) => p.text!);
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: workers }, (_, w) => {
      const worker = new Worker(code, { eval: true });
      return new Promise<void>((resolve) => {
        worker.once('message', () => worker.terminate().then(() => resolve()));
        worker.postMessage(texts.filter((_, i) => i % workers === w));
      });
    }),
  );
  return (performance.now() - t0) / 1000;
}

/** WikiExtractor on the same dump with `workers` processes: wall seconds, or null without a checkout. */
function wikiExtractor(): number | null {
  const dir = process.env.WIKIEXTRACTOR;
  if (!dir) return null;
  const out = join(dataDir, 'wikiextractor-out');
  rmSync(out, { recursive: true, force: true });
  const python = process.env.WIKIEXTRACTOR_PYTHON ?? 'python3.10';
  const t0 = performance.now();
  const { result: r, usage } = used(childUsage, () => spawnSync(python, ['-m', 'wikiextractor.WikiExtractor', dump, '--no-templates', '--links', '--json', '--processes', String(workers), '-o', out, '-q'], { cwd: dir, encoding: 'utf8' }));
  const wall = (performance.now() - t0) / 1000;
  if (usage) usages.we.push(usage);
  rmSync(out, { recursive: true, force: true });
  if (r.status !== 0) throw new Error(`WikiExtractor (${python} in ${dir}) failed: ${r.stderr || r.error}`);
  return wall;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const arts = articles();
const mb = arts.reduce((s, p) => s + Buffer.byteLength(p.text!), 0) / 1e6;
const db = join(dataDir, 'bench.duckdb');
let s: { decompressor: string; peak_rss_mb: number; articles: number; links: number } | undefined;
const times: Record<'wtf' | 'ingest' | 'we', number[]> = { wtf: [], ingest: [], we: [] };
// CPU and page faults beside the wall time: on two busy cores the difference is CPU, and a page
// fault is dear on some virtual machines (this project's: about 12 µs)
const usages: Record<'wtf' | 'ingest' | 'we', Usage[]> = { wtf: [], ingest: [], we: [] };
const rss: number[] = [];
if (!process.env.WIKIEXTRACTOR) console.error('bench: $WIKIEXTRACTOR is not set (a checkout of attardi/wikiextractor): measuring without it');
for (let round = 1; round <= rounds; round++) {
  console.error(`ingest round ${round}/${rounds} …`);
  const before = ownUsage();
  times.wtf.push(await bareWtf(arts, workers));
  const after = ownUsage();
  usages.wtf.push({ cpu: after.cpu - before.cpu, faults: after.faults - before.faults });
  // Ingest runs as a user runs it: its own process, so its peak RSS is its own.
  const t0 = performance.now();
  const { result: r, usage } = used(childUsage, () => spawnSync(process.execPath, [join(ROOT, 'bin/linkbert.js'), 'ingest', '--dump', dump, '--db', db, '--workers', String(workers), '--force', '--json'], { encoding: 'utf8' }));
  times.ingest.push((performance.now() - t0) / 1000);
  if (usage) usages.ingest.push(usage);
  if (r.status !== 0) {
    console.error(r.stderr);
    process.exit(1);
  }
  s = JSON.parse(r.stdout);
  rss.push(s!.peak_rss_mb);
  const we = wikiExtractor();
  if (we !== null) times.we.push(we);
  // each round's figures too: on a machine whose speed drifts, the spread says how far a median can be trusted
  const fig = (k: 'wtf' | 'ingest' | 'we') => `${times[k].at(-1)!.toFixed(2)} s${usages[k].length === times[k].length ? ` / ${usages[k].at(-1)!.cpu.toFixed(1)} CPU-s` : ''}`;
  console.error(`  bare wtf ${fig('wtf')}, ingest ${fig('ingest')}${we === null ? '' : `, WikiExtractor ${fig('we')}`}: ingest ÷ bare ${(times.ingest.at(-1)! / times.wtf.at(-1)!).toFixed(2)}×${we === null ? '' : `, ÷ WikiExtractor ${(times.ingest.at(-1)! / we).toFixed(2)}×`}`);
}
const wall = median(times.ingest);
const base = median(times.wtf);
const we = times.we.length ? median(times.we) : null;
const peak = Math.max(...rss);
/** Median CPU seconds and page faults of a measure's rounds, or '-' where they could not be read. */
const usageCells = (u: Usage[]): string[] => (u.length ? [median(u.map((x) => x.cpu)).toFixed(1), Math.round(median(u.map((x) => x.faults))).toLocaleString('en')] : ['-', '-']);
const rows: string[][] = [['measure (median of ' + rounds + ')', 'seconds', 'MB/s wikitext', 'ingest ÷ it', 'CPU s', 'page faults', 'peak RSS']];
if (we !== null) rows.push([`WikiExtractor --no-templates --links --json (${workers} processes)`, we.toFixed(2), (mb / we).toFixed(1), `${(wall / we).toFixed(2)}×`, ...usageCells(usages.we), '-']);
rows.push([`bare wtf_wikipedia (${workers} workers)`, base.toFixed(2), (mb / base).toFixed(1), `${(wall / base).toFixed(2)}×`, ...usageCells(usages.wtf), '-']);
rows.push([`linkbert ingest (${workers} workers, ${s!.decompressor})`, wall.toFixed(2), (mb / wall).toFixed(1), '1.00×', ...usageCells(usages.ingest), `${peak} MB`]);
const verdicts = [
  we === null ? 'vs WikiExtractor: not measured (set $WIKIEXTRACTOR)' : `vs WikiExtractor: ${wall <= we ? 'met' : 'not met'} (${(wall / we).toFixed(2)}×, target ≤ 1.00×)`,
  `vs bare wtf: ${wall <= 0.9 * base ? 'met' : 'not met'} (${(wall / base).toFixed(2)}×, target ≤ 0.90×)`,
  `memory: ${peak < 1000 ? 'met' : 'not met'} (${peak} MB, target < 1000 MB)`,
];
function printIngest(): void {
  const w = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  console.log(`\nbench: ${pages} pages, ${s!.articles} articles, ${mb.toFixed(1)} MB of article wikitext, ${s!.links} links, ${availableParallelism()} cores\n`);
  for (const row of rows) console.log(row.map((c, i) => c.padEnd(w[i]!)).join('  '));
  console.log(`\ntargets: ingest ≤ 1.00× WikiExtractor, ≤ 0.90× bare wtf, peak RSS < 1000 MB`);
  for (const v of verdicts) console.log(`result, ${v}`);
  console.log('');
}
if (values['ingest-only']) {
  printIngest();
  process.exit(0);
}

// graph, beside its floor: one join of every link to the page table by title
const cliJson = (args: string[]) => {
  const x = spawnSync(process.execPath, [join(ROOT, 'bin/linkbert.js'), ...args], { encoding: 'utf8' });
  if (x.status !== 0) throw new Error(x.stderr);
  return JSON.parse(x.stdout);
};
let t1 = performance.now();
cliJson(['sql', '--db', db, '--format', 'json', 'SELECT count(*) AS n, count(p.seq) AS found FROM links l LEFT JOIN pages p ON p.norm_title = l.target']);
const joinFloor = (performance.now() - t1) / 1000;
t1 = performance.now();
const g = cliJson(['graph', '--db', db, '--force', '--json']);
const graphWall = (performance.now() - t1) / 1000;

// segment, beside raw encodeBatch over the same sentences (taking the ids out, as any use must), both in this run
const vocab = join(ROOT, '../shared/fixtures/tokenizer/bert-base-cased-vocab.txt');
const { loadTokenizer } = await import('../src/tokenize/tokenizer.ts');
const { openDb, DEFAULT_MEMORY } = await import('../src/db/duckdb.ts');
const tok = await loadTokenizer(vocab);
const conn = await openDb(db, { readOnly: true, memory: 2e9 }); // every sentence in one result: the baseline's input, not the pipeline's way
const sentenceTexts = (await conn.conn.runAndReadAll('SELECT text FROM sentences ORDER BY article, idx')).getColumnsJS()[0] as string[];
conn.close();
t1 = performance.now();
let rawTokens = 0;
for (let i = 0; i < sentenceTexts.length; i += 8192) {
  for (const e of await tok.tokenizer.encodeBatch(sentenceTexts.slice(i, i + 8192), { addSpecialTokens: false })) rawTokens += e.getIds().length;
}
const rawSeconds = (performance.now() - t1) / 1000;
t1 = performance.now();
const seg = cliJson(['segment', '--db', db, '--tokenizer', vocab, '--force', '--json']);
const segWall = (performance.now() - t1) / 1000;
const segRows: string[][] = [
  ['measure', 'seconds', 'tokens/s', 'ratio to raw'],
  [`raw encodeBatch (${sentenceTexts.length} sentences, bert-base-cased)`, rawSeconds.toFixed(2), Math.round(rawTokens / rawSeconds).toLocaleString('en'), '1.00×'],
  [`linkbert segment (command, ${seg.segments} segments)`, segWall.toFixed(2), Math.round(seg.tokens / segWall).toLocaleString('en'), `${(rawSeconds / segWall).toFixed(2)}×`],
];

// pairs + shards, beside writing the same pairs' token ids to Parquet with one plain DuckDB COPY
t1 = performance.now();
const pr = cliJson(['pairs', '--db', db, '--force', '--json']);
const pairsWall = (performance.now() - t1) / 1000;
t1 = performance.now();
// shards with the budget its COPY floor below needs (that sort of whole id rows does not fit in the
// default 128MB), so the two compare at one budget; at the default it is printed as well
const sh = cliJson(['shards', '--db', db, '--out', join(dataDir, 'shards'), '--force', '--memory', '512MB', '--json']);
const shardsWall = (performance.now() - t1) / 1000;
t1 = performance.now();
cliJson(['shards', '--db', db, '--out', join(dataDir, 'shards'), '--force', '--json']);
const shardsDefaultWall = (performance.now() - t1) / 1000;
t1 = performance.now();
// in process with the pipeline's own DuckDB settings (the `sql` command is read-only), but 512MB:
// its sort of whole rows of ids runs out of the default 128MB even at 6k pages
const floorDb = await openDb(db, { mustExist: true, memory: 512e6 });
await floorDb.conn.run(`COPY (SELECT p.id, p.label, sa.ids AS a, sb.ids AS b FROM pairs p JOIN segments sa ON sa.article = p.a_article AND sa.idx = p.a_idx JOIN segments sb ON sb.article = p.b_article AND sb.idx = p.b_idx ORDER BY hash(p.id)) TO '${join(dataDir, 'copy-floor.parquet')}' (FORMAT parquet, COMPRESSION zstd)`);
floorDb.close();
const copyWall = (performance.now() - t1) / 1000;
const pairRows: string[][] = [
  ['measure', 'seconds', 'instances/s', 'ratio to the copy'],
  [`pairs ⋈ segments → Parquet (one DuckDB COPY, ${pr.pairs} pairs)`, copyWall.toFixed(2), Math.round(pr.pairs / copyWall).toLocaleString('en'), '1.00×'],
  ['linkbert pairs', pairsWall.toFixed(2), Math.round(pr.pairs / pairsWall).toLocaleString('en'), `${(pairsWall / copyWall).toFixed(2)}×`],
  [`linkbert shards (static masking, ${sh.shards} shard(s), --memory 512MB as the copy)`, shardsWall.toFixed(2), Math.round(sh.rows / shardsWall).toLocaleString('en'), `${(shardsWall / copyWall).toFixed(2)}×`],
  [`linkbert shards at the default --memory ${DEFAULT_MEMORY} (the copy does not fit in it)`, shardsDefaultWall.toFixed(2), Math.round(sh.rows / shardsDefaultWall).toLocaleString('en'), `${(shardsDefaultWall / copyWall).toFixed(2)}×`],
  ['pairs + shards', (pairsWall + shardsWall).toFixed(2), Math.round(sh.rows / (pairsWall + shardsWall)).toLocaleString('en'), `${((pairsWall + shardsWall) / copyWall).toFixed(2)}×`],
];

// verify on a tiny project-built model, beside a bare onnxruntime session on the same batches
const { OnnxModel } = await import('../src/onnx/session.ts');
const { verify } = await import('../src/verify/verify.ts');
const { initTinyModel, buildModel } = await import('../pipeline/model.ts');
const modelDir = join(dataDir, 'tiny-model');
await initTinyModel(modelDir, vocab, { head: 'mlm', hidden: 64, layers: 2, heads: 4, overwrite: true }); // the bench's own cache
await buildModel(modelDir, join(modelDir, 'model.onnx'), 'mlm', { overwrite: true });
const samples = 128;
const vr = await verify({ model: join(modelDir, 'model.onnx'), shards: join(dataDir, 'shards'), samples, batch: 16 });
const bare = await OnnxModel.load(join(modelDir, 'model.onnx'));
const sampleRows = (await (await import('@duckdb/node-api')).DuckDBInstance.create(':memory:').then((i) => i.connect()).then((c) => c.runAndReadAll(`SELECT input_ids, token_type_ids, masked_lm_positions AS positions FROM read_parquet('${join(dataDir, 'shards')}/*.parquet') LIMIT ${samples}`))).getRowObjectsJS() as unknown as { input_ids: number[]; token_type_ids: number[]; positions: number[] }[];
t1 = performance.now();
// the same work as verify: logits at the masked positions (the model gathers them)
for (let i = 0; i < sampleRows.length; i += vr.batch) await bare.run(sampleRows.slice(i, i + vr.batch), 0, ['logits']);
const bareSeconds = (performance.now() - t1) / 1000;
const verifyRows: string[][] = [
  ['measure', 'sequences/s', 'ratio to bare'],
  [`bare onnxruntime session (${samples} rows, batches of ${vr.batch}, tiny BERT 64×2 with MLM head)`, Math.round(samples / bareSeconds).toLocaleString('en'), '1.00×'],
  ['linkbert verify inference (same rows and batches, metrics included)', vr.seq_per_s.toLocaleString('en'), `${(vr.seq_per_s / (samples / bareSeconds)).toFixed(2)}×`],
];

const graphRows: string[][] = [
  ['measure', 'seconds', 'ratio to the join'],
  ['links ⋈ pages by title (linkbert sql, one query)', joinFloor.toFixed(2), '1.00×'],
  [`linkbert graph (${g.links} links → ${g.edges} edges)`, graphWall.toFixed(2), `${(graphWall / joinFloor).toFixed(2)}×`],
];
printIngest();
const gw = graphRows[0]!.map((_, i) => Math.max(...graphRows.map((row) => row[i]!.length)));
for (const row of graphRows) console.log(row.map((c, i) => c.padEnd(gw[i]!)).join('  '));
console.log('(both as commands, process start included)\n');
const sw = segRows[0]!.map((_, i) => Math.max(...segRows.map((row) => row[i]!.length)));
for (const row of segRows) console.log(row.map((c, i) => c.padEnd(sw[i]!)).join('  '));
console.log(`target: segment ≥ 0.80× raw encodeBatch tokens/s: ${rawSeconds / segWall >= 0.8 ? 'met' : 'not met'}\n`);
const pw = pairRows[0]!.map((_, i) => Math.max(...pairRows.map((row) => row[i]!.length)));
for (const row of pairRows) console.log(row.map((c, i) => c.padEnd(pw[i]!)).join('  '));
console.log('(all as commands, process start included)');
console.log(`target: shards ≥ 0.50× the copy's speed (≤ 2.00× its time): ${shardsWall <= 2 * copyWall ? 'met' : 'not met'}\n`);
const vw = verifyRows[0]!.map((_, i) => Math.max(...verifyRows.map((row) => row[i]!.length)));
for (const row of verifyRows) console.log(row.map((c, i) => c.padEnd(vw[i]!)).join('  '));
