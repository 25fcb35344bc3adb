/** `linkbert status`: each stage's units of a plan, done, running, failed (with the error) or missing; and its Slurm jobs. */
import { JSON_FLAG, type Command } from '../src/cli/args.js';
import { table } from '../src/cli/report.js';
import { planStatus } from '../src/units/launch.js';
import { readPlan } from '../src/units/plan.js';
import { logTail, slurmStates, submittedJobs } from '../src/units/slurm.js';
import { OUT_FLAG } from './plan.js';

export const command: Command = {
  name: 'status',
  summary: "each stage's units of a plan: done, running, failed (with the error) or missing; the state of its Slurm jobs",
  flags: [OUT_FLAG, JSON_FLAG],
  async run({ flags }) {
    const dir = flags.out as string;
    const plan = readPlan(dir);
    const st = planStatus(dir, plan);
    const jobs = submittedJobs(dir);
    const states = slurmStates(jobs.map((j) => j.job));
    // a job Slurm no longer lists has finished: its units' markers say how
    const slurm = jobs.map((j) => ({ stage: j.stage, job: j.job, units: j.units.length, state: states.get(j.job) ?? [...states.entries()].find(([id]) => id.startsWith(`${j.job}_`))?.[1] ?? 'finished' }));
    // units that are not done and not at work, whose Slurm log says why (a task killed by SIGKILL
    // leaves no error of its own: its log's end is all there is)
    const logs = st.flatMap((s) => [...s.failed.map((f) => f.unit), ...s.missingUnits].map((u) => ({ stage: s.stage, unit: u, tail: logTail(dir, s.stage, u) }))).filter((x) => x.tail);
    const complete = st.every((s) => s.done === s.total) && st.find((s) => s.stage === 'manifest')!.done === 1;
    if (flags.json) {
      console.log(JSON.stringify({ stage: 'status', out: dir, complete, stages: st, slurm, logs }));
      return 0;
    }
    console.log(`status: ${dir} (${plan.inputs.length > 1 ? `${plan.inputs.length} inputs` : plan.inputs[0]!.file}, ${plan.units.length} unit(s))`);
    console.log(table(st.map((s) => [s.stage, s.stage === 'shards' && !s.total ? 'counted by the order step' : `${s.done}/${s.total} done${s.running ? `, ${s.running} running` : ''}${s.failed.length ? `, ${s.failed.length} failed` : ''}${s.missing ? `, ${s.missing} missing` : ''}`])));
    for (const s of st) for (const f of s.failed) console.log(`  ${s.stage} unit ${f.unit} failed: ${f.error}`);
    if (slurm.length) {
      console.log('slurm jobs:');
      console.log(table(slurm.map((j) => [`  ${j.stage}`, `job ${j.job}${j.units > 1 ? ` (${j.units} units)` : ''}: ${j.state}`])));
      for (const l of logs) console.log(`  ${l.stage} unit ${l.unit} is not done; the end of its log:\n${l.tail!.replace(/^/gm, '    ')}`);
    }
    if (!complete) console.log(`  linkbert resume --out ${dir}${slurm.length ? ' --executor slurm' : ''} runs what is missing`);
    return 0;
  },
};
