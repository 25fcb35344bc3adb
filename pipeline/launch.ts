/** `linkbert launch` and `linkbert resume`: run a plan's units with a pool of workers. */
import { fileURLToPath } from 'node:url';
import { JSON_FLAG, MEMORY_FLAG, memoryOf, UsageError, type Command, type Flag, type ParsedArgs } from '../src/cli/args.js';
import { log } from '../src/cli/report.js';
import { basename, resolve } from 'node:path';
import { k8sManifests } from '../src/units/k8s.js';
import { launchLocal } from '../src/units/launch.js';
import { launchSlurm } from '../src/units/slurm.js';
import { expandInputs } from '../src/ingest/inputs.js';
import { OPERATIONAL, readPlan, type Plan } from '../src/units/plan.js';
import { OUT_FLAG } from './plan.js';
import { runFlags } from './run.js';

const BIN = fileURLToPath(new URL('../bin/linkbert.js', import.meta.url));

export const EXECUTORS = ['local', 'slurm', 'k8s'];

/**
 * The flags of `run` that decide the output, taken (hidden from the help) so that a launch or
 * resume that names one is checked against the plan rather than refused as unknown: the plan's
 * value goes on, any other is refused.
 */
const PLAN_FLAGS: Flag[] = runFlags()
  .filter((f) => !OPERATIONAL.has(f.name) && f.name !== 'json' && f.name !== 'help')
  .map((f) => ({ ...f, default: undefined, hidden: true }));

function checkSettings(dir: string, plan: Plan, flags: ParsedArgs['flags']): void {
  const differ: string[] = [];
  for (const f of PLAN_FLAGS) {
    const given = flags[f.name];
    if (given === undefined || given === false) continue;
    if (f.name === 'dump') {
      const inputs = expandInputs(given as string[]).join(' + ');
      if (inputs !== plan.source.dump) differ.push(`--dump ${inputs} (the plan reads ${plan.source.dump})`);
    } else if (JSON.stringify(given) !== JSON.stringify(plan.settings[f.name] ?? null)) differ.push(`--${f.name} ${JSON.stringify(given)} (the plan's is ${JSON.stringify(plan.settings[f.name] ?? null)})`);
  }
  if (differ.length) throw new Error(`${dir} holds a plan with other settings than ${differ.join(', ')}: a plan's settings are fixed; make a new plan in another --out (nothing was changed)`);
}

export function launchCommand(name: 'launch' | 'resume'): Command {
  return {
    name,
    summary: name === 'launch' ? "run a plan: here with W processes, as Slurm job arrays, or as Kubernetes Indexed Jobs (--executor local|slurm|k8s)" : 'run what a plan is missing (units without a completion marker), with any number of workers',
    flags: [
      OUT_FLAG,
      { name: 'executor', type: 'string', placeholder: 'NAME', default: 'local', help: 'local: child processes on this machine; slurm: job arrays chained by dependencies (sbatch); k8s: Indexed Job manifests (with --dry-run)' },
      { name: 'workers', type: 'number', range: { integer: true, min: 1 }, default: 1, help: 'units run at once (each task gets cores ÷ W threads)' },
      { name: 'threads', type: 'number', range: { integer: true, min: 1 }, help: 'threads of each task (default: the cores ÷ W)' },
      { name: 'pin', type: 'boolean', help: 'local: bind each worker\'s tasks to cores of their own (taskset), as Slurm binds a task to its CPUs' },
      { name: 'retries', type: 'number', range: { integer: true, min: 0 }, default: 3, help: 'times a unit whose task died (killed, out of memory) is run again' },
      { name: 'partition', type: 'string', placeholder: 'P', help: 'slurm: the partition' },
      { name: 'time', type: 'string', placeholder: 'T', help: 'slurm: each job\'s time limit (e.g. 2:00:00); a job near it stops its task and is requeued' },
      { name: 'cpus-per-task', type: 'number', range: { integer: true, min: 1 }, default: 1, help: 'slurm: CPUs of each task (its threads)' },
      { name: 'mem', type: 'string', placeholder: 'M', help: 'slurm: memory of each job (e.g. 4G)' },
      { name: 'account', type: 'string', placeholder: 'A', help: 'slurm: the account to charge' },
      { name: 'sbatch-arg', type: 'string', multiple: true, placeholder: 'ARG', help: 'slurm: one more sbatch argument (repeatable), e.g. --sbatch-arg=--qos=long' },
      { name: 'dry-run', type: 'boolean', help: 'k8s: write the manifests to DIR/k8s/ and submit nothing' },
      { name: 'volume-claim', type: 'string', placeholder: 'NAME', help: 'k8s: the PersistentVolumeClaim holding DIR on every pod' },
      { name: 'mount-path', type: 'string', placeholder: 'PATH', default: '/data', help: 'k8s: where the volume is mounted in the pods' },
      { name: 'pod-out', type: 'string', placeholder: 'DIR', help: 'k8s: the plan folder as the pods see it (default: MOUNT-PATH/basename of --out)' },
      { name: 'image', type: 'string', placeholder: 'IMAGE', default: 'linkbert-pipeline:latest', help: 'k8s: a container image with node and linkbert on its PATH' },
      MEMORY_FLAG,
      JSON_FLAG,
      ...PLAN_FLAGS,
    ],
    note: "Any flag of `linkbert run` that decides the output (--seed, --tokenizer, --dump…) is taken too, and checked: the plan's value goes on, another is refused (a plan's settings are fixed).",
    async run({ flags, argv }) {
      if (!EXECUTORS.includes(flags.executor as string)) throw new UsageError(`--executor must be ${EXECUTORS.join(' or ')}, not '${String(flags.executor)}'`);
      const dir = flags.out as string;
      const plan = readPlan(dir);
      checkSettings(dir, plan, flags);
      const taskFlags = ['--memory', `${memoryOf(flags)}B`];
      if (flags.executor === 'k8s') {
        if (!flags['dry-run']) throw new UsageError('--executor k8s writes manifests only: add --dry-run (and apply them with kubectl)');
        if (!flags['volume-claim']) throw new UsageError('--executor k8s needs --volume-claim NAME: the shared volume that holds --out on every pod');
        const mount = flags['mount-path'] as string;
        const written = k8sManifests(dir, plan, { volumeClaim: flags['volume-claim'] as string, mountPath: mount, podDir: (flags['pod-out'] as string | undefined) ?? `${mount.replace(/\/$/, '')}/${basename(resolve(dir))}`, image: flags.image as string, workers: flags.workers as number, taskFlags });
        if (flags.json) console.log(JSON.stringify({ stage: name, executor: 'k8s', manifests: written }));
        else for (const m of written) log(m.file ? `${m.stage}: ${m.file} (${m.completions} index(es))` : `${m.stage}: counted by the order step: run this again once it is done`);
        return 0;
      }
      if (flags.executor === 'slurm') {
        const jobs = launchSlurm(dir, plan, {
          workers: flags.workers as number,
          partition: flags.partition as string | undefined,
          time: flags.time as string | undefined,
          cpusPerTask: flags['cpus-per-task'] as number,
          mem: flags.mem as string | undefined,
          account: flags.account as string | undefined,
          sbatchArgs: (flags['sbatch-arg'] as string[] | undefined) ?? [],
          argv: [process.execPath, BIN],
          taskFlags,
          relaunch: ['launch', ...(argv ?? []).filter((a) => a !== '--json')],
          log,
        });
        if (flags.json) console.log(JSON.stringify({ stage: name, executor: 'slurm', out: dir, jobs }));
        else log(jobs.length ? `${name}: ${jobs.length} job(s) submitted; watch them with linkbert status --out ${dir}` : `${name}: nothing is missing`);
        return 0;
      }
      const s = await launchLocal(dir, plan, {
        workers: flags.workers as number,
        threads: flags.threads as number | undefined,
        pin: Boolean(flags.pin),
        retries: flags.retries as number,
        argv: [process.execPath, BIN],
        taskFlags,
        log,
      });
      if (flags.json) console.log(JSON.stringify(s));
      else log(`${name}: ${dir} complete in ${s.seconds}s (${Object.entries(s.units).map(([k, v]) => `${k} ${v.ran} run${v.skipped ? `, ${v.skipped} already done` : ''}${v.retried ? `, ${v.retried} retried` : ''}`).join('; ')}); shards in ${dir}/shards`);
      return 0;
    },
  };
}

export const command = launchCommand('launch');
