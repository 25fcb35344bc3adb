/**
 * The Slurm executor: each stage of a plan as jobs, chained with --dependency=afterok: a job array
 * for the units of a page stage or the shard files (`--array=<units>%W`, the array index = the unit),
 * one job for each whole-corpus step. The scripts and logs are written under DIR/slurm/ (a user can
 * read and resubmit them), and the job ids in DIR/slurm/jobs.json. Only missing units are submitted,
 * so a resume is a launch again. The shards' count is known once their order step has run: the
 * submission stops there with a job that submits the rest when it runs.
 *
 * A task is idempotent and writes under temporary names: Slurm may kill, requeue or run it twice.
 * Before its time limit a job gets SIGUSR1 (--signal), stops its task (SIGTERM: no partial output)
 * and requeues itself; afterok jobs of a failed stage are cancelled (--kill-on-invalid-dep).
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { doneMarker } from './markers.js';
import { PLAN_STAGES, stageUnits, type Plan, type PlanStage } from './plan.js';

export interface SlurmOptions {
  workers: number;
  partition?: string;
  time?: string;
  cpusPerTask?: number;
  mem?: string;
  account?: string;
  /** more sbatch arguments, as given */
  sbatchArgs: string[];
  /** the command that runs linkbert (node and bin/linkbert.js) */
  argv: string[];
  /** flags every task gets (--memory …) */
  taskFlags: string[];
  /** the launch command again (its flags), for the job that submits what follows the shards' order */
  relaunch: string[];
  log: (line: string) => void;
}

export interface Submitted {
  stage: PlanStage | 'continue';
  job: string;
  units: number[];
  script: string;
  submitted_at: string;
}

const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** `0-3,7,9`: the units as sbatch --array ranges. */
export function arraySpec(units: number[]): string {
  const out: string[] = [];
  for (let i = 0; i < units.length; ) {
    let j = i;
    while (j + 1 < units.length && units[j + 1] === units[j]! + 1) j++;
    out.push(i === j ? `${units[i]}` : `${units[i]}-${units[j]}`);
    i = j + 1;
  }
  return out.join(',');
}

function script(dir: string, name: string, body: string, directives: string[]): string {
  const file = join(dir, 'slurm', `${name}.sh`);
  const text = ['#!/bin/bash', ...directives.map((d) => `#SBATCH ${d}`), '# written by linkbert launch --executor slurm; submit again with sbatch to rerun it', 'set -u', `cd ${q(process.cwd())}`, body, ''].join('\n');
  writeFileSync(file, text);
  chmodSync(file, 0o755);
  return file;
}

/**
 * The body of a task job: the task in the background, so that SIGUSR1 (time limit near) can stop it
 * and requeue the job. The traps are set before the task starts: a signal that comes first is not
 * bash's default (the job dying), it is remembered and passed on once the task runs.
 */
function taskBody(opts: SlurmOptions, stage: PlanStage, dir: string, unit: string): string {
  const cmd = [...opts.argv, 'task', stage, '--out', resolve(dir), '--unit', unit, ...opts.taskFlags].map((a) => (a.startsWith('$') ? `"${a}"` : q(a))).join(' ');
  return [
    'task=""; signal=""',
    'stop() { signal=$1; if [ -n "$task" ]; then kill -TERM "$task" 2>/dev/null; fi; }',
    'trap \'stop USR1\' USR1',
    'trap \'stop TERM\' TERM',
    // the log says where and when the task began: a signal after this line is handled
    `echo "task ${stage} unit ${unit}: started on $(hostname -s) at $(date -u +%FT%TZ), attempt \${SLURM_RESTART_COUNT:-0}"`,
    `threads=\${SLURM_CPUS_PER_TASK:-1}`,
    `${cmd} --workers "$threads" &`,
    'task=$!',
    'if [ -n "$signal" ]; then kill -TERM "$task" 2>/dev/null; fi',
    // `wait` returns early when a trapped signal arrives: wait until the task itself has ended
    'while kill -0 "$task" 2>/dev/null; do wait "$task"; done',
    'wait "$task"; code=$?',
    // near the time limit: the task stopped (what it wrote stays under temporary names); the job is requeued
    'if [ "$signal" = USR1 ]; then scontrol requeue "${SLURM_ARRAY_JOB_ID:-$SLURM_JOB_ID}${SLURM_ARRAY_TASK_ID:+_$SLURM_ARRAY_TASK_ID}"; exit 0; fi',
    'if [ "$signal" = TERM ]; then exit 143; fi',
    'exit $code',
  ].join('\n');
}

function sbatch(args: string[]): string {
  const r = spawnSync('sbatch', ['--parsable', ...args], { encoding: 'utf8' });
  if (r.error) throw new Error(`sbatch could not be run (${r.error.message}): is Slurm installed here? (scripts/slurm-local.sh start makes a one-node cluster)`);
  if (r.status !== 0) throw new Error(`sbatch ${args.join(' ')}: ${r.stderr.trim()}`);
  return r.stdout.trim().split(';')[0]!;
}

export function jobsFile(dir: string): string {
  return join(dir, 'slurm', 'jobs.json');
}

export function submittedJobs(dir: string): Submitted[] {
  return existsSync(jobsFile(dir)) ? (JSON.parse(readFileSync(jobsFile(dir), 'utf8')) as Submitted[]) : [];
}

/** Submits the plan's missing units as chained jobs; returns what was submitted. */
export function launchSlurm(dir: string, plan: Plan, opts: SlurmOptions): Submitted[] {
  mkdirSync(join(dir, 'slurm', 'logs'), { recursive: true });
  const logs = resolve(dir, 'slurm', 'logs');
  const common = [
    ...(opts.partition ? [`--partition=${opts.partition}`] : []),
    ...(opts.time ? [`--time=${opts.time}`] : []),
    ...(opts.account ? [`--account=${opts.account}`] : []),
    ...(opts.mem ? [`--mem=${opts.mem}`] : []),
    `--cpus-per-task=${opts.cpusPerTask ?? 1}`,
    '--requeue',
    '--open-mode=append',
    '--signal=B:USR1@120',
  ];
  const submitted: Submitted[] = [];
  let after: string | null = null;
  const dependency = () => (after ? [`--dependency=afterok:${after}`, '--kill-on-invalid-dep=yes'] : []);
  for (const { name: stage, units: perUnit } of PLAN_STAGES) {
    const orderDone = doneMarker(dir, plan, 'order', 0) !== null;
    if (stage === 'shards' && !orderDone) {
      // the shard files are counted by the order step: a job after it submits them and what follows
      const relaunch = [...opts.argv, ...opts.relaunch].map(q).join(' ');
      const file = script(dir, 'continue', relaunch, [`--job-name=linkbert-continue`, `--output=${logs}/continue-%j.log`, ...common.filter((c) => !c.startsWith('--cpus')), '--cpus-per-task=1', ...opts.sbatchArgs]);
      const job = sbatch([...dependency(), file]);
      submitted.push({ stage: 'continue', job, units: [], script: file, submitted_at: new Date().toISOString() });
      opts.log(`continue: job ${job} submits the shards and what follows once the order step has run`);
      break;
    }
    const missing = stageUnits(plan, stage, dir).filter((u) => !doneMarker(dir, plan, stage, u));
    if (!missing.length) continue;
    const array = perUnit;
    const file = script(dir, stage, taskBody(opts, stage, dir, array ? '$SLURM_ARRAY_TASK_ID' : '0'), [`--job-name=linkbert-${stage}`, `--output=${logs}/${stage}-${array ? '%a' : '0'}.log`, ...common, ...opts.sbatchArgs]);
    const job = sbatch([...dependency(), ...(array ? [`--array=${arraySpec(missing)}%${Math.max(1, opts.workers)}`] : []), file]);
    submitted.push({ stage, job, units: missing, script: file, submitted_at: new Date().toISOString() });
    opts.log(`${stage}: job ${job}${array ? ` (array of ${missing.length} unit(s), ${Math.max(1, opts.workers)} at a time)` : ''}${after ? `, after job ${after}` : ''}`);
    after = job;
  }
  writeFileSync(jobsFile(dir), JSON.stringify([...submittedJobs(dir), ...submitted], null, 2) + '\n');
  return submitted;
}

/** Slurm's word on the jobs submitted: sacct where accounting exists, else squeue (jobs still queued or running). */
export function slurmStates(jobs: string[]): Map<string, string> {
  const states = new Map<string, string>();
  if (!jobs.length) return states;
  const acct = spawnSync('sacct', ['-n', '-P', '-X', '-j', jobs.join(','), '--format=JobID,State'], { encoding: 'utf8' });
  if (acct.status === 0 && acct.stdout.trim()) {
    for (const line of acct.stdout.trim().split('\n')) {
      const [id, state] = line.split('|');
      if (id && state) states.set(id, state.split(' ')[0]!);
    }
    return states;
  }
  const sq = spawnSync('squeue', ['-h', '-r', '-j', jobs.join(','), '-o', '%i|%T|%r'], { encoding: 'utf8' });
  if (sq.status === 0) {
    for (const line of sq.stdout.trim().split('\n').filter(Boolean)) {
      const [id, state, reason] = line.split('|');
      if (id && state) states.set(id, reason && reason !== 'None' ? `${state} (${reason})` : state);
    }
  }
  return states;
}

/** The last lines of a unit's Slurm log, if there is one. */
export function logTail(dir: string, stage: PlanStage, unit: number, lines = 5): string | null {
  const file = join(dir, 'slurm', 'logs', `${stage}-${unit}.log`);
  if (!existsSync(file)) return null;
  return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
}
