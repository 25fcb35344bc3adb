/** `linkbert status`: each stage's units of a plan, done, running, failed (with the error) or missing. */
import { JSON_FLAG, type Command } from '../src/cli/args.js';
import { table } from '../src/cli/report.js';
import { planStatus } from '../src/units/launch.js';
import { readPlan } from '../src/units/plan.js';
import { OUT_FLAG } from './plan.js';

export const command: Command = {
  name: 'status',
  summary: "each stage's units of a plan: done, running, failed (with the error) or missing",
  flags: [OUT_FLAG, JSON_FLAG],
  async run({ flags }) {
    const dir = flags.out as string;
    const plan = readPlan(dir);
    const st = planStatus(dir, plan);
    if (flags.json) {
      console.log(JSON.stringify({ stage: 'status', out: dir, complete: st.every((s) => s.done === s.total), stages: st }));
      return 0;
    }
    console.log(`status: ${dir} (${plan.input.file}, ${plan.units.length} unit(s))`);
    console.log(table(st.map((s) => [s.stage, `${s.done}/${s.total} done${s.running ? `, ${s.running} running` : ''}${s.failed.length ? `, ${s.failed.length} failed` : ''}${s.missing ? `, ${s.missing} missing` : ''}`])));
    for (const s of st) for (const f of s.failed) console.log(`  ${s.stage} unit ${f.unit} failed: ${f.error}`);
    if (st.some((s) => s.done < s.total)) console.log(`  linkbert resume --out ${dir} runs what is missing`);
    return 0;
  },
};
