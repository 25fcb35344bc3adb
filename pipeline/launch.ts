/** `linkbert launch` and `linkbert resume`: run a plan's units with a pool of workers. */
import { fileURLToPath } from 'node:url';
import { JSON_FLAG, MEMORY_FLAG, memoryOf, UsageError, type Command } from '../src/cli/args.js';
import { log } from '../src/cli/report.js';
import { launchLocal } from '../src/units/launch.js';
import { readPlan } from '../src/units/plan.js';
import { OUT_FLAG } from './plan.js';

const BIN = fileURLToPath(new URL('../bin/linkbert.js', import.meta.url));

export const EXECUTORS = ['local'];

export function launchCommand(name: 'launch' | 'resume'): Command {
  return {
    name,
    summary: name === 'launch' ? "run a plan: every stage's units, W at a time, whole-corpus steps between them (--executor local)" : 'run what a plan is missing (units without a completion marker), with any number of workers',
    flags: [
      OUT_FLAG,
      { name: 'executor', type: 'string', placeholder: 'NAME', default: 'local', help: 'local: child processes on this machine' },
      { name: 'workers', type: 'number', range: { integer: true, min: 1 }, default: 1, help: 'units run at once (each task gets cores ÷ W threads)' },
      { name: 'threads', type: 'number', range: { integer: true, min: 1 }, help: 'threads of each task (default: the cores ÷ W)' },
      { name: 'retries', type: 'number', range: { integer: true, min: 0 }, default: 3, help: 'times a unit whose task died (killed, out of memory) is run again' },
      MEMORY_FLAG,
      JSON_FLAG,
    ],
    async run({ flags }) {
      if (!EXECUTORS.includes(flags.executor as string)) throw new UsageError(`--executor must be ${EXECUTORS.join(' or ')}, not '${String(flags.executor)}'`);
      const dir = flags.out as string;
      const plan = readPlan(dir);
      const s = await launchLocal(dir, plan, {
        workers: flags.workers as number,
        threads: flags.threads as number | undefined,
        retries: flags.retries as number,
        argv: [process.execPath, BIN],
        taskFlags: ['--memory', `${memoryOf(flags)}B`],
        log,
      });
      if (flags.json) console.log(JSON.stringify(s));
      else log(`${name}: ${dir} complete in ${s.seconds}s (${Object.entries(s.units).map(([k, v]) => `${k} ${v.ran} run${v.skipped ? `, ${v.skipped} already done` : ''}${v.retried ? `, ${v.retried} retried` : ''}`).join('; ')}); shards in ${dir}/shards`);
      return 0;
    },
  };
}

export const command = launchCommand('launch');
