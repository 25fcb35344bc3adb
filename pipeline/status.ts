/** `linkbert status`: each stage's units of a plan, done, running, failed (with the error) or missing; and its Slurm jobs. */
import { JSON_FLAG, type Command } from '../src/cli/args.js';
import { table } from '../src/cli/report.js';
import { pageProgress, planStatus } from '../src/units/launch.js';
import { readPlan } from '../src/units/plan.js';
import { logTail, slurmStates, submittedJobs } from '../src/units/slurm.js';
import { OUT_FLAG } from './plan.js';

/** 95 s → "1 min 35 s", 7300 s → "2 h 1 min". */
function duration(s: number): string {
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}

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
    // the page stages' progress, where the plan knows the pages of their units
    const progress = { ingest: pageProgress(dir, plan, 'ingest'), segment: pageProgress(dir, plan, 'segment') };
    if (flags.json) {
      console.log(JSON.stringify({ stage: 'status', out: dir, complete, stages: st, progress, slurm, logs }));
      return 0;
    }
    console.log(`status: ${dir} (${plan.inputs.length > 1 ? `${plan.inputs.length} inputs` : plan.inputs[0]!.file}, ${plan.units.length} unit(s))`);
    const pace = (p: ReturnType<typeof pageProgress>) => (p ? `; ${p.pages_done.toLocaleString('en')} of ${p.pages.toLocaleString('en')} pages, ${p.pages_per_s.toLocaleString('en')} pages/s${p.eta_s > 0 ? `, ETA ${duration(p.eta_s)}` : ''}` : '');
    console.log(table(st.map((s) => [s.stage, (s.stage === 'shards' && !s.total ? 'counted by the order step' : `${s.done}/${s.total} done${s.running ? `, ${s.running} running` : ''}${s.failed.length ? `, ${s.failed.length} failed` : ''}${s.missing ? `, ${s.missing} missing` : ''}`) + (s.stage === 'ingest' || s.stage === 'segment' ? pace(progress[s.stage]) : '')])));
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
