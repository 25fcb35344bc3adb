/**
 * `npm run bench -- --units`: a planned run of a multistream bench dump (6k and 60k pages by default)
 * launched with 1 and with 2 workers of one thread each, each worker's tasks bound to a core of its
 * own (`launch --pin`: a task has one core, whatever threads its stage starts). Per stage: wall time with
 * W=1 and W=2 and their ratio, the CPU its tasks used, each task's peak RSS; the whole-corpus steps'
 * share of the CPU (what Amdahl's law leaves for many nodes); and a projection to English Wikipedia
 * on N nodes. Each task's CPU and peak RSS come from its completion marker.
 *
 * Flags: --sizes 6000,60000, --memory SIZE (passed to every task), --units N (units per dump, default 8),
 * --no-pin (tasks not bound: a task's helper threads then use the other core too).
 * Shards of 60,000 rows: 8 files at 60k pages, so that both workers have a file to the end.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const { values } = parseArgs({ args: process.argv.slice(2).filter((a) => a !== '--units'), options: { sizes: { type: 'string', default: '6000,60000' }, memory: { type: 'string' }, units: { type: 'string', default: '8' }, 'no-pin': { type: 'boolean' } } });
const pin = values['no-pin'] ? [] : ['--pin'];
const tool = join(ROOT, '../shared/tools/make-bench-dump');
const vocab = join(ROOT, '../shared/fixtures/tokenizer/bert-base-cased-vocab.txt');
if (!existsSync(tool) || !existsSync(vocab)) {
  console.error(`bench --units: ${tool} and ${vocab} are needed (they live in ../shared); nothing to measure`);
  process.exit(1);
}
const dataDir = join(ROOT, 'bench/data');
const GLOBAL = new Set(['graph', 'vocab', 'pairs', 'order', 'manifest', 'report']);

/** The multistream bench dump of n pages with its index, built once and cached in bench/data. */
function dumpOf(pages: number): string {
  const dir = join(dataDir, `multistream-${pages}`);
  const dump = join(dir, `bench-${pages}-multistream.xml.bz2`);
  if (existsSync(dump)) return dump;
  const partial = `${dir}.partial`;
  rmSync(partial, { recursive: true, force: true });
  mkdirSync(partial, { recursive: true });
  console.error(`making ${dump} (make-bench-dump --multistream --pages ${pages}; cached for later runs)`);
  const r = spawnSync('python3', [tool, '--pages', String(pages), '--multistream', '--out', join(partial, `bench-${pages}-multistream.xml.bz2`)], { stdio: ['ignore', 'ignore', 'inherit'] });
  if (r.status !== 0) throw new Error(`make-bench-dump exited ${r.status}`);
  renameSync(partial, dir);
  return dump;
}

function linkbert(args: string[]): Promise<{ wall: number; stdout: string }> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const p = spawn(process.execPath, [join(ROOT, 'bin/linkbert.js'), ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
    let stdout = '';
    p.stdout.on('data', (b: Buffer) => (stdout += b));
    p.on('close', (code) => (code === 0 ? resolve({ wall: (performance.now() - t0) / 1000, stdout }) : reject(new Error(`linkbert ${args.join(' ')} exited ${code}`))));
  });
}

interface StageFigures { wall: number; cpu: number; rss: number; units: number }

async function measure(dump: string, pages: number, workers: number): Promise<{ stages: Record<string, StageFigures>; wall: number; wikitextMb: number }> {
  const dir = join(dataDir, `units-run-${pages}-w${workers}`);
  rmSync(dir, { recursive: true, force: true }); // this bench's own folder
  const streams = Number(spawnSync('bash', ['-c', `bzip2 -dc '${dump.replace(/\.xml\.bz2$/, '-index.txt.bz2')}' | cut -d: -f1 | uniq | wc -l`], { encoding: 'utf8' }).stdout.trim());
  const k = Math.max(1, Math.ceil(streams / Number(values.units)));
  await linkbert(['plan', '--out', dir, '--dump', dump, '--tokenizer', vocab, '--unit-streams', String(k), '--shard-rows', '60000']);
  const run = await linkbert(['launch', '--out', dir, '--workers', String(workers), '--threads', '1', ...pin, '--json', ...(values.memory ? ['--memory', values.memory] : [])]);
  const launched = JSON.parse(run.stdout) as { units: Record<string, { seconds: number }> };
  const stages: Record<string, StageFigures> = {};
  let wikitextMb = 0;
  for (const stage of Object.keys(launched.units)) {
    const done = join(dir, 'tasks', stage, 'done');
    const markers = readdirSync(done).map((f) => JSON.parse(readFileSync(join(done, f), 'utf8')) as { usage: { cpu_seconds: number; peak_rss_mb: number }; report: { summary?: { wikitext_mb?: number } } });
    if (stage === 'ingest') wikitextMb = markers.reduce((n, m) => n + (m.report.summary?.wikitext_mb ?? 0), 0);
    stages[stage] = { wall: launched.units[stage]!.seconds, cpu: markers.reduce((n, m) => n + m.usage.cpu_seconds, 0), rss: Math.max(...markers.map((m) => m.usage.peak_rss_mb)), units: markers.length };
  }
  return { stages, wall: run.wall, wikitextMb };
}

const pad = (s: string, n: number) => s.padEnd(n);
for (const pages of values.sizes!.split(',').map(Number)) {
  const dump = dumpOf(pages);
  const one = await measure(dump, pages, 1);
  const two = await measure(dump, pages, 2);
  console.log(`\n${pages.toLocaleString('en')} pages (${one.wikitextMb.toFixed(0)} MB of wikitext), ${Object.values(one.stages)[0]!.units} units, one thread per task${pin.length ? ', each bound to a core' : ' (not bound to cores)'}`);
  console.log(`${pad('stage', 9)}${pad('W=1 wall', 11)}${pad('W=2 wall', 11)}${pad('speed-up', 12)}${pad('CPU-s', 9)}${pad('W=2 CPU-s', 11)}${pad('W=2 busy', 10)}peak RSS per task`);
  let cpuAll = 0;
  let cpuGlobal = 0;
  let parallel1 = 0;
  let parallel2 = 0;
  let cpuParallel1 = 0;
  let cpuParallel2 = 0;
  for (const [stage, f] of Object.entries(one.stages)) {
    const g = two.stages[stage]!;
    cpuAll += f.cpu;
    if (GLOBAL.has(stage)) cpuGlobal += f.cpu;
    else {
      parallel1 += f.wall;
      parallel2 += g.wall;
      cpuParallel1 += f.cpu;
      cpuParallel2 += g.cpu;
    }
    // busy: the tasks' CPU over the two cores' time in the stage, what the pool leaves idle or spends itself
    const busy = GLOBAL.has(stage) ? '' : `${((100 * g.cpu) / (2 * g.wall)).toFixed(0)}%`;
    console.log(`${pad(stage, 9)}${pad(`${f.wall.toFixed(1)} s`, 11)}${pad(`${g.wall.toFixed(1)} s`, 11)}${pad(GLOBAL.has(stage) ? '(one task)' : `${(f.wall / g.wall).toFixed(2)}×`, 12)}${pad(f.cpu.toFixed(1), 9)}${pad(GLOBAL.has(stage) ? '' : g.cpu.toFixed(1), 11)}${pad(busy, 10)}${f.rss} MB`);
  }
  const share = cpuGlobal / cpuAll;
  console.log(`parallel stages (ingest, segment, shards): W=2 ${(parallel1 / parallel2).toFixed(2)}× W=1 (target ≥ 1.7×); whole launch ${one.wall.toFixed(1)} s → ${two.wall.toFixed(1)} s`);
  console.log(`  the cores busy with tasks at W=2: ${((100 * cpuParallel2) / (2 * parallel2)).toFixed(0)}%; the same units' CPU-s at W=2 ÷ at W=1: ${(cpuParallel2 / cpuParallel1).toFixed(2)} (above 1: two tasks at once slow each other, sharing the machine's caches and memory)`);
  console.log(`whole-corpus steps: ${(100 * share).toFixed(1)}% of the CPU (target ≤ 5% at 60k): Amdahl allows ${(1 / share).toFixed(0)}× on enough nodes`);
  // English Wikipedia: ~90 GB of article wikitext (as docs/benchmarks.md assumes), linear in the wikitext
  const scale = 90_000 / Math.max(one.wikitextMb, 1e-9);
  for (const cores of [2, 32]) {
    const line = [1, 10, 50].map((nodes) => {
      const hours = (scale * (cpuGlobal / Math.min(cores, 2) + (cpuAll - cpuGlobal) / (nodes * cores))) / 3600;
      return `${nodes} node(s) ${hours.toFixed(1)} h`;
    });
    console.log(`projection, English Wikipedia on nodes of ${cores} cores: ${line.join(', ')}`);
  }
}
