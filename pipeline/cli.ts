/** `linkbert <stage> [flags]`: dispatch to the stage commands. */
import { helpText, parse, UsageError, type Command } from '../src/cli/args.js';
import { DbLockedError } from '../src/db/duckdb.js';

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
  run: () => import('./run.js'),
};

async function overview(): Promise<string> {
  const lines = ['linkbert — Wikipedia dump → LinkBERT pretraining data', '', 'usage: linkbert <stage> [flags]   (linkbert <stage> --help for its flags)', '', 'stages:'];
  for (const [name, load] of Object.entries(STAGES)) lines.push(`  ${name.padEnd(8)}  ${(await load()).command.summary}`);
  return lines.join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    console.log(await overview());
    return name ? 0 : 2;
  }
  const load = STAGES[name];
  if (!load) {
    console.error(`linkbert: unknown stage '${name}'\n\n${await overview()}`);
    return 2;
  }
  const { command } = await load();
  try {
    const args = parse(command, rest);
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
    const msg = e instanceof DbLockedError || !(e instanceof Error) ? String((e as Error).message ?? e) : e.message;
    console.error(`linkbert ${name}: ${msg}`);
    if (process.env.LINKBERT_DEBUG && e instanceof Error) console.error(e.stack);
    return 1;
  }
}
