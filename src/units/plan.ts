/**
 * A planned run: the whole pipeline cut into units of work fixed by the inputs alone, so that any
 * number of workers, on any number of machines sharing DIR, make the same output as `linkbert run`.
 *
 * A plan reads the inputs `linkbert run` would, in the same order (a folder of PubMed files is its
 * files). A multistream dump's unit is a run of K consecutive bz2 streams (from its index); a folder
 * of books is cut into runs of B books; any other input file is a unit of its own. A unit numbers
 * its pages (seq) from its input's start, as known from the index or the book count, so it needs
 * nothing of the units before it; where an input starts among the others is known once every
 * ingest unit is done (their markers count the pages), and the catalog's views add it, with what
 * a later PubMed file replaces of earlier ones left out, as `linkbert run` deletes it. Segment
 * follows ingest's units; graph, the demo vocabulary, pairs, the shards' order (the
 * shuffle and each row's masks), the manifest and the report are whole-corpus steps, one task each,
 * run over the units' Parquet in DIR/linkbert.duckdb; each shard file is a unit of its own, their
 * number known once the order step has counted the rows.
 *
 * DIR/plan.json holds the inputs (size, SHA-256), every setting, the units, and a hash of the three:
 * a task, a resume or another plan with other settings in the same DIR is refused (nothing deleted).
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { indexBeside, readIndex } from '../dump/multistream.js';
import { checkMd5, expandInputs, inputKind, inputsBytes, inputsDigests, inputsFingerprint } from '../ingest/inputs.js';
import { bookEntries, checkBooks, isBooks } from '../corpus/books.js';
import { doneMarker } from './markers.js';

export const PLAN_FORMAT = 'linkbert-plan/2';

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

/** A unit of pages of one input: its seq from_seq … to_seq - 1, counted from the input's start (to_seq null: to its end). */
export interface PageUnit {
  unit: number;
  /** the input it reads (an index into the plan's inputs) */
  input: number;
  from_seq: number;
  to_seq: number | null;
  /** the multistream streams it covers: [first, end) */
  streams: [number, number] | null;
}

/** One input as `linkbert run` reads it: its size, SHA-256, multistream index, pages when known. */
export interface PlanInput {
  file: string;
  bytes: number;
  sha256: string;
  index: string | null;
  fingerprint: string;
  pages: number | null;
}

export interface Plan {
  format: typeof PLAN_FORMAT;
  /** the inputs together, as `linkbert run` records them (names joined by ' + ', total size, SHA-256, fingerprint) */
  source: { dump: string; bytes: number; sha256: string; fingerprint: string };
  inputs: PlanInput[];
  /** every flag of the run that decides the output (as parsed), by name */
  settings: Record<string, unknown>;
  unit_streams: number | null;
  unit_books: number | null;
  units: PageUnit[];
  /** SHA-256 of the inputs, settings and units: what every marker and task must match */
  settings_hash: string;
}

/** Flags that do not change the output: not part of the plan's settings (each task may set them). */
export const OPERATIONAL = new Set(['out', 'db', 'json', 'force', 'workers', 'memory', 'executor', 'unit', 'rank', 'world', 'unit-streams', 'unit-books', 'verbose', 'model', 'samples', 'mlm-positions', 'batch']);

/** Pages per unit aimed at by default (a multiple of a stream's 100 pages). */
export const UNIT_PAGES = 50_000;

/** Books per unit by default (a book holds about as much text as a few hundred articles). */
export const UNIT_BOOKS = 200;

export function planFile(dir: string): string {
  return join(dir, 'plan.json');
}

function hashOf(p: Pick<Plan, 'source' | 'inputs' | 'settings' | 'units'>): string {
  return createHash('sha256').update(JSON.stringify({ source: p.source, inputs: p.inputs, settings: p.settings, units: p.units })).digest('hex');
}

/**
 * The units of input number `input`: runs of `unitStreams` streams of a multistream dump (by its
 * index), runs of `unitBooks` books of a folder of them, else the whole input.
 */
export async function unitsOf(file: string, input: number, index: string | null, cut: { unitStreams: number | null; unitBooks: number | null }): Promise<{ units: Omit<PageUnit, 'unit'>[]; pages: number | null; k: number | null; b: number | null }> {
  if (inputKind(file) === 'books') {
    const n = bookEntries(file).length;
    const b = Math.max(1, cut.unitBooks ?? UNIT_BOOKS);
    const units: Omit<PageUnit, 'unit'>[] = [];
    for (let s = 0; s < n; s += b) units.push({ input, from_seq: s, to_seq: s + b < n ? s + b : null, streams: null });
    return { units, pages: n, k: null, b: n > 1 ? b : null };
  }
  if (!index) return { units: [{ input, from_seq: 0, to_seq: null, streams: null }], pages: null, k: null, b: null };
  const idx = await readIndex(index);
  const n = idx.offsets.length;
  const pagesPerStream = idx.pages / n;
  const k = Math.max(1, cut.unitStreams ?? Math.round(UNIT_PAGES / Math.max(1, pagesPerStream)));
  const units: Omit<PageUnit, 'unit'>[] = [];
  for (let s = 0; s < n; s += k) {
    const end = Math.min(n, s + k);
    units.push({ input, from_seq: idx.firstSeq[s]!, to_seq: end < n ? idx.firstSeq[end]! : null, streams: [s, end] });
  }
  return { units, pages: idx.pages, k, b: null };
}

/**
 * Makes the plan of a run of `dumps` (as `--dump` names them: files or folders, in order) with
 * `settings` (the run's flags that decide its output).
 */
export async function makePlan(dumps: string[], settings: Record<string, unknown>, opts: { index?: string | null; unitStreams?: number | null; unitBooks?: number | null }): Promise<Plan> {
  const files = expandInputs(dumps);
  if (files.length > 1 && opts.index) throw new Error("--index names the index of one dump; with several --dump, each multistream dump's index is found beside it");
  for (const f of files) {
    if (isBooks(f)) checkBooks(f); // a .txt that is plainly no book: refused before the plan is written
    await checkMd5(f); // once, here: the units do not read the inputs whole again
  }
  const digests = await inputsDigests(files);
  const inputs: PlanInput[] = [];
  const units: PageUnit[] = [];
  let k: number | null = null;
  let b: number | null = null;
  for (const [n, file] of files.entries()) {
    const index = isBooks(file) ? null : files.length === 1 && opts.index !== undefined ? opts.index : indexBeside(file);
    const cut = await unitsOf(file, n, index, { unitStreams: opts.unitStreams ?? null, unitBooks: opts.unitBooks ?? null });
    k ??= cut.k;
    b ??= cut.b;
    for (const u of cut.units) units.push({ unit: units.length, ...u });
    inputs.push({ file, bytes: digests.each[n]!.bytes, sha256: digests.each[n]!.sha256, index, fingerprint: await inputsFingerprint([file]), pages: cut.pages });
  }
  const source = { dump: files.join(' + '), bytes: await inputsBytes(files), sha256: digests.sha256, fingerprint: await inputsFingerprint(files) };
  const own = Object.fromEntries(Object.entries(settings).filter(([k, v]) => !OPERATIONAL.has(k) && v !== undefined).sort(([a], [b]) => a.localeCompare(b)));
  const plan: Omit<Plan, 'settings_hash'> = { format: PLAN_FORMAT, source, inputs, settings: own, unit_streams: k, unit_books: b, units };
  return { ...plan, settings_hash: hashOf(plan) };
}

/** What differs between two plans, in words (empty when they are the same). */
export function planDiff(a: Plan, b: Plan): string[] {
  const out: string[] = [];
  if (a.source.sha256 !== b.source.sha256 || a.source.dump !== b.source.dump) out.push(`the input (${a.source.dump} ${a.source.sha256.slice(0, 12)}… against ${b.source.dump} ${b.source.sha256.slice(0, 12)}…)`);
  const keys = [...new Set([...Object.keys(a.settings), ...Object.keys(b.settings)])].sort();
  for (const k of keys) if (JSON.stringify(a.settings[k]) !== JSON.stringify(b.settings[k])) out.push(`--${k} ${JSON.stringify(a.settings[k] ?? null)} against ${JSON.stringify(b.settings[k] ?? null)}`);
  if (JSON.stringify(a.units) !== JSON.stringify(b.units)) out.push(`the units (${a.units.length} against ${b.units.length}; --unit-streams ${a.unit_streams} against ${b.unit_streams}, --unit-books ${a.unit_books} against ${b.unit_books})`);
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
  if (p.format !== PLAN_FORMAT || !Array.isArray(p.inputs) || !Array.isArray(p.units) || typeof p.settings_hash !== 'string') throw new Error(`${file}: not a plan of this version of linkbert (format ${String(p.format)})`);
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
