/**
 * A planned run: the whole pipeline cut into units of work fixed by the inputs alone, so that any
 * number of workers, on any number of machines sharing DIR, make the same output as `linkbert run`.
 *
 * A multistream dump's unit is a run of K consecutive bz2 streams (from its index): its pages' seq
 * are known from the index, so a unit needs nothing of the units before it. Any other input is one
 * unit. Segment follows ingest's units; graph, the demo vocabulary, pairs, the shards' order (the
 * shuffle and each row's masks), the manifest and the report are whole-corpus steps, one task each,
 * run over the units' Parquet in DIR/linkbert.duckdb; each shard file is a unit of its own, their
 * number known once the order step has counted the rows.
 *
 * DIR/plan.json holds the inputs (size, SHA-256), every setting, the units, and a hash of the three:
 * a task, a resume or another plan with other settings in the same DIR is refused (nothing deleted).
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { indexBeside, readIndex } from '../dump/multistream.js';
import { inputKind, inputsFingerprint, inputsSha256 } from '../ingest/inputs.js';
import { checkBooks, isBooks } from '../corpus/books.js';
import { sha256Of } from '../util/hash.js';
import { doneMarker } from './markers.js';

export const PLAN_FORMAT = 'linkbert-plan/1';

/** The stages of a plan in the order they run, and whether each is cut into units. */
export const PLAN_STAGES = [
  { name: 'ingest', units: true },
  { name: 'graph', units: false },
  { name: 'vocab', units: false },
  { name: 'segment', units: true },
  { name: 'pairs', units: false },
  { name: 'order', units: false },
  { name: 'shards', units: true },
  { name: 'manifest', units: false },
  { name: 'report', units: false },
] as const;
export type PlanStage = (typeof PLAN_STAGES)[number]['name'];

/** A unit of pages: seq from_seq … to_seq - 1 (to_seq null: to the end of the input). */
export interface PageUnit {
  unit: number;
  from_seq: number;
  to_seq: number | null;
  /** the multistream streams it covers: [first, end) */
  streams: [number, number] | null;
}

export interface Plan {
  format: typeof PLAN_FORMAT;
  /** the dump as given (as `linkbert run --dump` records it), its size, SHA-256, index and fingerprint */
  input: { file: string; bytes: number; sha256: string; index: string | null; fingerprint: string; pages: number | null };
  /** every flag of the run that decides the output (as parsed), by name */
  settings: Record<string, unknown>;
  unit_streams: number | null;
  units: PageUnit[];
  /** SHA-256 of input, settings and units: what every marker and task must match */
  settings_hash: string;
}

/** Flags that do not change the output: not part of the plan's settings (each task may set them). */
export const OPERATIONAL = new Set(['out', 'db', 'json', 'force', 'workers', 'memory', 'executor', 'unit', 'rank', 'world', 'unit-streams', 'verbose', 'model', 'samples', 'mlm-positions', 'batch']);

/** Pages per unit aimed at by default (a multiple of a stream's 100 pages). */
export const UNIT_PAGES = 50_000;

export function planFile(dir: string): string {
  return join(dir, 'plan.json');
}

function hashOf(p: Pick<Plan, 'input' | 'settings' | 'units'>): string {
  return createHash('sha256').update(JSON.stringify({ input: p.input, settings: p.settings, units: p.units })).digest('hex');
}

/** The units of `dump`: runs of `unitStreams` streams of a multistream dump (by its index), else one. */
export async function unitsOf(dump: string, index: string | null, unitStreams: number | null): Promise<{ units: PageUnit[]; pages: number | null; k: number | null }> {
  if (!index || inputKind(dump) === 'books') return { units: [{ unit: 0, from_seq: 0, to_seq: null, streams: null }], pages: null, k: null };
  const idx = await readIndex(index);
  const n = idx.offsets.length;
  const pagesPerStream = idx.pages / n;
  const k = Math.max(1, unitStreams ?? Math.round(UNIT_PAGES / Math.max(1, pagesPerStream)));
  const units: PageUnit[] = [];
  for (let s = 0, u = 0; s < n; s += k, u++) {
    const end = Math.min(n, s + k);
    units.push({ unit: u, from_seq: idx.firstSeq[s]!, to_seq: end < n ? idx.firstSeq[end]! : null, streams: [s, end] });
  }
  return { units, pages: idx.pages, k };
}

/** Makes the plan of a run of `dump` with `settings` (the run's flags that decide its output). */
export async function makePlan(dump: string, settings: Record<string, unknown>, opts: { index?: string | null; unitStreams?: number | null }): Promise<Plan> {
  if (!existsSync(dump)) throw new Error(`${dump}: no such file or folder`);
  if (isBooks(dump)) checkBooks(dump); // a .txt that is plainly no book: refused before the plan is written
  const index = opts.index === undefined ? indexBeside(dump) : opts.index;
  const { units, pages, k } = await unitsOf(dump, index, opts.unitStreams ?? null);
  const input = { file: dump, bytes: statSync(dump).isDirectory() ? 0 : statSync(dump).size, sha256: statSync(dump).isDirectory() ? await inputsSha256([dump]) : await sha256Of(dump), index, fingerprint: await inputsFingerprint([dump]), pages };
  const own = Object.fromEntries(Object.entries(settings).filter(([k, v]) => !OPERATIONAL.has(k) && v !== undefined).sort(([a], [b]) => a.localeCompare(b)));
  const plan: Omit<Plan, 'settings_hash'> = { format: PLAN_FORMAT, input, settings: own, unit_streams: k, units };
  return { ...plan, settings_hash: hashOf(plan) };
}

/** What differs between two plans, in words (empty when they are the same). */
export function planDiff(a: Plan, b: Plan): string[] {
  const out: string[] = [];
  if (a.input.sha256 !== b.input.sha256 || a.input.file !== b.input.file) out.push(`the input (${a.input.file} ${a.input.sha256.slice(0, 12)}… against ${b.input.file} ${b.input.sha256.slice(0, 12)}…)`);
  const keys = [...new Set([...Object.keys(a.settings), ...Object.keys(b.settings)])].sort();
  for (const k of keys) if (JSON.stringify(a.settings[k]) !== JSON.stringify(b.settings[k])) out.push(`--${k} ${JSON.stringify(a.settings[k] ?? null)} against ${JSON.stringify(b.settings[k] ?? null)}`);
  if (JSON.stringify(a.units) !== JSON.stringify(b.units)) out.push(`the units (${a.units.length} against ${b.units.length}; --unit-streams ${a.unit_streams} against ${b.unit_streams})`);
  return out;
}

/** Reads DIR/plan.json, checked; an error naming what to do when there is none or it is not one. */
export function readPlan(dir: string): Plan {
  const file = planFile(dir);
  if (!existsSync(file)) throw new Error(`${dir} holds no plan: run \`linkbert plan --out ${dir} --dump FILE …\` first`);
  let p: Plan;
  try {
    p = JSON.parse(readFileSync(file, 'utf8')) as Plan;
  } catch (e) {
    throw new Error(`${file}: not a plan (${(e as Error).message})`);
  }
  if (p.format !== PLAN_FORMAT || !p.input || !Array.isArray(p.units) || typeof p.settings_hash !== 'string') throw new Error(`${file}: not a plan of this version of linkbert (format ${String(p.format)})`);
  if (hashOf(p) !== p.settings_hash) throw new Error(`${file} was changed by hand (its settings hash does not match): make a new plan in another --out`);
  return p;
}

/**
 * Writes the plan into DIR, or keeps the one there when it is the same. Another plan in DIR is
 * refused, naming what differs; so is a DIR holding files of anything else.
 */
export function writePlan(dir: string, plan: Plan): 'written' | 'same' {
  if (existsSync(planFile(dir))) {
    const old = readPlan(dir);
    const diff = planDiff(old, plan);
    if (!diff.length) return 'same';
    throw new Error(`${dir} holds a plan with other settings: ${diff.join('; ')}. Use another --out (nothing was changed)`);
  }
  // a plan's folder is its own: tasks write into it, so one holding anything else is not taken
  if (existsSync(dir) && readdirSync(dir).length) throw new Error(`${dir} holds files that are not a plan's (${readdirSync(dir).slice(0, 5).join(', ')}): choose an empty or new --out`);
  mkdirSync(dir, { recursive: true });
  const tmp = `${planFile(dir)}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(plan, null, 2) + '\n');
  renameSync(tmp, planFile(dir));
  return 'written';
}

/**
 * The units of a stage: a page stage has the plan's units; the shards stage one per shard file, as
 * many as the order step counted (none known before it is done); a whole-corpus step has one, unit 0.
 */
export function stageUnits(plan: Plan, stage: PlanStage, dir: string): number[] {
  if (stage === 'shards') {
    const order = doneMarker(dir, plan, 'order', 0);
    return order ? Array.from({ length: (order.report as { count: number }).count }, (_, s) => s) : [];
  }
  const s = PLAN_STAGES.find((x) => x.name === stage)!;
  return s.units ? plan.units.map((u) => u.unit) : [0];
}
