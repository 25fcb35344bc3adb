/** `linkbert task STAGE`: runs units of one stage of a plan (idempotent: done units are skipped). */
import { JSON_FLAG, MEMORY_FLAG, memoryOf, UsageError, type Command } from '../src/cli/args.js';
import { log } from '../src/cli/report.js';
import { PLAN_STAGES, readPlan, stageUnits, type PlanStage } from '../src/units/plan.js';
import { runUnit } from '../src/units/tasks.js';
import { OUT_FLAG, taskOptions } from './plan.js';

export const command: Command = {
  name: 'task',
  summary: "run units of one stage of a plan: one (--unit U) or rank R of W's share (units with u % W == R)",
  usage: 'linkbert task STAGE --out DIR [--unit U | --rank R --world W] [--workers N] [--memory SIZE] [--json]',
  positionals: true,
  flags: [
    OUT_FLAG,
    { name: 'unit', type: 'number', range: { integer: true, min: 0 }, help: 'the unit to run' },
    { name: 'rank', type: 'number', range: { integer: true, min: 0 }, help: 'this worker\'s rank, with --world' },
    { name: 'world', type: 'number', range: { integer: true, min: 1 }, help: 'how many workers share the units (may change between restarts)' },
    { name: 'workers', type: 'number', range: { integer: true, min: 1 }, help: 'threads of this task (default: the cores)' },
    MEMORY_FLAG,
    JSON_FLAG,
  ],
  async run({ flags, positionals }) {
    const stage = positionals[0] as PlanStage | undefined;
    if (!stage || positionals.length > 1 || !PLAN_STAGES.some((s) => s.name === stage)) throw new UsageError(`name one stage: ${PLAN_STAGES.map((s) => s.name).join(', ')}`);
    const dir = flags.out as string;
    const plan = readPlan(dir);
    const all = stageUnits(plan, stage, dir);
    let units: number[];
    if (flags.unit !== undefined) {
      if (flags.rank !== undefined || flags.world !== undefined) throw new UsageError('--unit, or --rank with --world: not both');
      units = [flags.unit as number];
    } else {
      if (flags.rank === undefined || flags.world === undefined) throw new UsageError('--unit U, or --rank R with --world W');
      if ((flags.rank as number) >= (flags.world as number)) throw new UsageError(`--rank must be below --world (${flags.world as number})`);
      units = all.filter((u) => u % (flags.world as number) === flags.rank);
    }
    if (flags.workers !== undefined) {
      // this task's share of the cores, for every pool it starts: ingest's workers, DuckDB's threads,
      // the tokenizer's (read by the tokenizers library when its pool starts)
      process.env.LINKBERT_THREADS = String(flags.workers);
      process.env.RAYON_NUM_THREADS = String(flags.workers);
    }
    const opts = taskOptions(plan, memoryOf(flags), flags.workers as number | undefined);
    const ran: Record<string, string> = {};
    for (const u of units) {
      const r = await runUnit(dir, plan, stage, u, opts);
      ran[String(u)] = r;
      if (!flags.json) log(`task ${stage} unit ${u}: ${r === 'skipped' ? 'already done' : 'done'}`);
    }
    if (flags.json) console.log(JSON.stringify({ stage: 'task', task: stage, out: dir, units: ran }));
    return 0;
  },
};
