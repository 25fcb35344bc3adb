/** `linkbert <stage> [flags]`: dispatch to the stage commands. */
import { interruptRun } from '../src/db/runs.js';
import { writeFileSync } from 'node:fs';
import { processUsage } from '../src/util/usage.js';
import { closest, helpText, parse, UsageError, type Command } from '../src/cli/args.js';
import { DbLockedError, DEFAULT_MEMORY_BYTES, outOfMemory } from '../src/db/duckdb.js';

const STAGES: Record<string, () => Promise<{ command: Command }>> = {
  ingest: () => import('./ingest.js'),
  graph: () => import('./graph.js'),
  tokenize: () => import('./tokenize.js'),
  segment: () => import('./segment.js'),
  pairs: () => import('./pairs.js'),
  shards: () => import('./shards.js'),
  verify: () => import('./verify.js'),
  model: () => import('./model.js'),
  vocab: () => import('./vocab.js'),
  sql: () => import('./sql.js'),
  report: () => import('./report.js'),
  run: () => import('./run.js'),
  plan: () => import('./plan.js'),
  launch: () => import('./launch.js'),
  task: () => import('./task.js'),
  status: () => import('./status.js'),
  resume: () => import('./resume.js'),
};

async function overview(): Promise<string> {
  const lines = ['linkbert — Wikipedia dump → LinkBERT pretraining data', '', 'usage: linkbert <stage> [flags]   (linkbert <stage> --help for its flags)', '', 'stages:'];
  for (const [name, load] of Object.entries(STAGES)) lines.push(`  ${name.padEnd(8)}  ${(await load()).command.summary}`);
  return lines.join('\n');
}

/**
 * CPU seconds and peak RSS written as JSON to $LINKBERT_RUSAGE at exit: how the benchmarks measure
 * a stage run as a command, without timing tools that a machine may lack.
 */
function recordUsage(file: string): void {
  writeFileSync(file, JSON.stringify(processUsage()));
}

export async function main(argv: string[]): Promise<number> {
  const usage = process.env.LINKBERT_RUSAGE;
  if (usage) process.once('exit', () => recordUsage(usage));
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    console.log(await overview());
    return name ? 0 : 2;
  }
  const load = STAGES[name];
  if (!load) {
    const near = closest(name, Object.keys(STAGES));
    console.error(`linkbert: unknown stage '${name}'${near ? `; did you mean ${near}?` : ''}\n\n${await overview()}`);
    return 2;
  }
  const { command } = await load();
  // Ctrl-C: the run in progress is recorded as interrupted (rerun the command to resume it)
  const stop = (signal: NodeJS.Signals) => {
    process.once(signal, () => process.exit(130)); // a second Ctrl-C does not wait
    // at most 10 s: a stage's query that does not stop must not keep Ctrl-C from ending the process
    // (recording the interruption takes milliseconds, but seconds on a machine loaded to the full)
    void Promise.race([interruptRun(), new Promise<boolean>((r) => setTimeout(() => r(true), 10_000).unref())]).then((had) => {
      if (had) console.error(`\nlinkbert ${name}: interrupted (${signal}); rerun the same command to resume`);
      process.exit(130);
    });
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  let budget: unknown;
  try {
    const args = parse(command, rest);
    budget = args.flags.memory;
    if (args.flags.help) {
      console.log(helpText(command));
      return 0;
    }
    return await command.run(args);
  } catch (e) {
    if (e instanceof UsageError) {
      console.error(`linkbert ${name}: ${e.message}\n\n${helpText(command)}`);
      return 2;
    }
    let msg = e instanceof DbLockedError || !(e instanceof Error) ? String((e as Error).message ?? e) : e.message;
    // DuckDB's own advice (SET threads, SET memory_limit) is for its SQL users; ours set --memory
    if (outOfMemory(e) && command.flags.some((f) => f.name === 'memory')) msg = `${msg.split('\n')[0]}\nThis step needs more memory than --memory ${Math.round((typeof budget === 'number' ? budget : DEFAULT_MEMORY_BYTES) / 1e6)}MB gives DuckDB: rerun with a larger --memory (twice as much, say).`;
    console.error(`linkbert ${name}: ${msg}`);
    if (process.env.LINKBERT_DEBUG && e instanceof Error) console.error(e.stack);
    return 1;
  }
}
