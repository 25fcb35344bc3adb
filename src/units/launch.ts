/**
 * The local executor: the plan's stages in order, each stage's missing units run as child processes
 * (`linkbert task STAGE --unit U`), at most `workers` at once. A child that dies by a signal (killed,
 * out of memory) is replaced and its unit run again, up to `retries` times; a unit that fails with an
 * error stops the run once the children at work have finished, naming the unit and its error. Killed
 * itself, the launcher leaves only complete units behind: `resume` (a launch again) runs the rest,
 * with any number of workers.
 */
import { spawn, spawnSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { PLAN_STAGES, stageUnits, type Plan, type PlanStage } from './plan.js';
import { doneAt, doneMarker, unitState } from './markers.js';

export interface LaunchOptions {
  workers: number;
  /** threads of each task (default: the cores shared out among the workers) */
  threads?: number;
  /**
   * Binds each worker's tasks to cores of their own (worker k: cores k·threads … (k+1)·threads - 1,
   * with taskset), as Slurm binds a task to its --cpus-per-task: a task then has its threads and no
   * more, whatever threads its stage starts (ingest's parsers beside its reader, lbzip2, the tokenizer's).
   */
  pin?: boolean;
  /** the command that runs a task: argv before `task` (node and bin/linkbert.js) */
  argv: string[];
  /** flags passed to every task (--memory …) */
  taskFlags: string[];
  retries?: number;
  log: (line: string) => void;
  env?: NodeJS.ProcessEnv;
}

export interface LaunchSummary {
  stage: 'launch';
  out: string;
  workers: number;
  units: Record<string, { total: number; ran: number; skipped: number; retried: number; seconds: number }>;
  seconds: number;
}

/** The pages of a unit of ingest or segment (a run of pages), where the plan knows them; else null. */
export function unitPages(plan: Plan, stage: PlanStage, u: number): number | null {
  if (stage !== 'ingest' && stage !== 'segment') return null;
  const unit = plan.units[u];
  const end = unit ? (unit.to_seq ?? plan.inputs[unit.input]!.pages) : null;
  return unit && end !== null ? end - unit.from_seq : null;
}

export async function launchLocal(dir: string, plan: Plan, opts: LaunchOptions): Promise<LaunchSummary> {
  const t0 = performance.now();
  const workers = Math.max(1, opts.workers);
  // each task's threads: the cores shared out among the tasks at work at once
  const threads = opts.threads ?? Math.max(1, Math.floor(availableParallelism() / workers));
  if (opts.pin && workers * threads > availableParallelism()) throw new Error(`--pin: ${workers} workers of ${threads} thread(s) need ${workers * threads} cores, and this machine has ${availableParallelism()}`);
  if (opts.pin && spawnSync('taskset', ['-c', '0', 'true']).status !== 0) throw new Error('--pin binds tasks to cores with taskset (util-linux), which is not here or cannot bind');
  const summary: LaunchSummary = { stage: 'launch', out: dir, workers, units: {}, seconds: 0 };
  for (const { name: stage } of PLAN_STAGES) {
    const all = stageUnits(plan, stage, dir);
    const todo = all.filter((u) => !doneMarker(dir, plan, stage, u));
    const s = (summary.units[stage] = { total: all.length, ran: 0, skipped: all.length - todo.length, retried: 0, seconds: 0 });
    if (!todo.length) continue;
    const ts = performance.now();
    let failure: Error | null = null;
    const queue = [...todo];
    const tries = new Map<number, number>();
    // pages per second where the units are runs of pages (ingest, segment), and the ETA from them
    const pagesOf = (u: number) => unitPages(plan, stage, u);
    const pagesTotal = all.every((u) => pagesOf(u) !== null) ? all.reduce((n, u) => n + pagesOf(u)!, 0) : null;
    let pagesLeft = pagesTotal === null ? null : todo.reduce((n, u) => n + pagesOf(u)!, 0);
    let pagesRan = 0;
    const runOne = async (worker: number): Promise<void> => {
      const cores = opts.pin ? `${worker * threads}-${(worker + 1) * threads - 1}` : null;
      for (let u = queue.shift(); u !== undefined && !failure; u = queue.shift()) {
        const r = await child(stage, u, threads, cores);
        if (r.code === 0) {
          s.ran++;
          const done = s.skipped + s.ran;
          const seconds = (performance.now() - ts) / 1000;
          const rate = s.ran / seconds;
          let speed = s.total > 1 ? `, ${rate.toFixed(2)} units/s, ETA ${Math.round((s.total - done) / Math.max(rate, 1e-9))} s` : '';
          if (pagesLeft !== null && pagesTotal) {
            pagesRan += pagesOf(u)!;
            pagesLeft -= pagesOf(u)!;
            const pageRate = pagesRan / seconds;
            speed = `, ${Math.round(pageRate).toLocaleString('en')} pages/s${pagesLeft > 0 ? `, ETA ${Math.round(pagesLeft / Math.max(pageRate, 1e-9))} s` : ''}`;
          }
          opts.log(`${stage}: unit ${u} done; ${done}/${s.total} units${speed}`);
        } else if (r.signal && (tries.get(u) ?? 0) < (opts.retries ?? 3)) {
          tries.set(u, (tries.get(u) ?? 0) + 1);
          s.retried++;
          opts.log(`${stage}: unit ${u}: its task died (${r.signal}); running it again`);
          queue.unshift(u);
        } else {
          const why = unitState(dir, plan, stage, u).error ?? r.stderr.trim().split('\n').slice(-3).join(' ') ?? `exit ${r.code}`;
          failure = new Error(`${stage} unit ${u} failed: ${why}`);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(workers, todo.length) }, (_, k) => runOne(k)));
    s.seconds = Math.round(performance.now() - ts) / 1000;
    if (failure) throw failure;
  }
  summary.seconds = Math.round(performance.now() - t0) / 1000;
  return summary;

  function child(stage: PlanStage, unit: number, threads: number, cores: string | null): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }> {
    return new Promise((resolve) => {
      // taskset execs the task in its own process: a signal to the child reaches the task
      const args = [...(cores ? ['taskset', '-c', cores] : []), ...opts.argv, 'task', stage, '--out', dir, '--unit', String(unit), '--workers', String(threads), ...opts.taskFlags];
      const p = spawn(args[0]!, args.slice(1), { stdio: ['ignore', 'ignore', 'pipe'], env: opts.env ?? process.env });
      let stderr = '';
      p.stderr.on('data', (b: Buffer) => {
        stderr += b.toString();
        if (stderr.length > 1 << 16) stderr = stderr.slice(-(1 << 15));
      });
      p.on('close', (code, signal) => resolve({ code, signal, stderr }));
    });
  }
}

/**
 * How far a page stage is, from its markers: pages done of all, and the rate since its first done
 * unit began (whatever the workers, the machines); the ETA at that rate. Null where the plan does
 * not know its units' pages (inputs without an index) or none is done.
 */
export function pageProgress(dir: string, plan: Plan, stage: 'ingest' | 'segment', now = Date.now()): { pages_done: number; pages: number; pages_per_s: number; eta_s: number } | null {
  const units = stageUnits(plan, stage, dir);
  if (!units.every((u) => unitPages(plan, stage, u) !== null)) return null;
  let done = 0;
  let since = Infinity;
  for (const u of units) {
    const m = doneMarker(dir, plan, stage, u);
    if (!m) continue;
    done += unitPages(plan, stage, u)!;
    since = Math.min(since, doneAt(dir, stage, u)! - m.seconds * 1000);
  }
  if (!done) return null;
  const pages = units.reduce((n, u) => n + unitPages(plan, stage, u)!, 0);
  const rate = done / Math.max((now - since) / 1000, 1e-3);
  return { pages_done: done, pages, pages_per_s: Math.round(rate), eta_s: Math.round((pages - done) / rate) };
}

/** Each stage's units: done, running, failed (with the error) and missing. */
export function planStatus(dir: string, plan: Plan): { stage: PlanStage; total: number; done: number; running: number; failed: { unit: number; error: string }[]; missing: number; missingUnits: number[] }[] {
  return PLAN_STAGES.map(({ name: stage }) => {
    const units = stageUnits(plan, stage, dir);
    const states = units.map((u) => ({ u, s: unitState(dir, plan, stage, u) }));
    return {
      stage,
      total: units.length,
      done: states.filter((x) => x.s.state === 'done').length,
      running: states.filter((x) => x.s.state === 'running').length,
      failed: states.filter((x) => x.s.state === 'failed').map((x) => ({ unit: x.u, error: x.s.error ?? '' })),
      missing: states.filter((x) => x.s.state === 'missing').length,
      missingUnits: states.filter((x) => x.s.state === 'missing').map((x) => x.u),
    };
  });
}
