/** Flag parsing and help text for the stage commands, from one declaration per flag. */
import { parseArgs } from 'node:util';
import { DEFAULT_MEMORY, memoryBytes, sizeBytes } from '../db/duckdb.js';

export interface Flag {
  name: string;
  /** size: a number of bytes written as 128MB, 1GB, 512MiB… (parsed to bytes with the flags) */
  type: 'string' | 'boolean' | 'number' | 'size';
  help: string;
  default?: string | number | boolean;
  placeholder?: string;
  multiple?: boolean;
  /** for numbers: the values that make sense (checked when the flag is parsed) */
  range?: Range;
  /** the command cannot run without it (shown unbracketed in the usage line; the command checks it) */
  required?: boolean;
  /** parsed, but left out of the usage line and the help (the command's help says what they are) */
  hidden?: boolean;
}

export interface Range { integer?: boolean; min?: number; max?: number; above?: number; below?: number }

/** The range in words: "a whole number, ≥ 1". */
function rangeText(r: Range): string {
  const parts: string[] = [];
  if (r.integer) parts.push('a whole number');
  if (r.min !== undefined) parts.push(`≥ ${r.min}`);
  if (r.above !== undefined) parts.push(`> ${r.above}`);
  if (r.max !== undefined) parts.push(`≤ ${r.max}`);
  if (r.below !== undefined) parts.push(`< ${r.below}`);
  return parts.join(', ');
}

/** Why `n` is outside `r`, or null when it is inside. */
export function outOfRange(n: number, r: Range): string | null {
  const bad = (r.integer && !Number.isInteger(n)) || (r.min !== undefined && n < r.min) || (r.above !== undefined && n <= r.above) || (r.max !== undefined && n > r.max) || (r.below !== undefined && n >= r.below);
  return bad ? `must be ${rangeText(r)}, not ${n}` : null;
}

export interface Command {
  name: string;
  summary: string;
  /** the usage line; by default made from the flags (so the two cannot disagree) */
  usage?: string;
  flags: Flag[];
  /** positional arguments allowed */
  positionals?: boolean;
  /** a last paragraph of the help (what the hidden flags are) */
  note?: string;
  run(args: ParsedArgs): Promise<number>;
}

/** The flags as parsed; the positionals; and the arguments as given (to run the command again). */
export type ParsedArgs = { flags: Record<string, string | number | boolean | string[] | undefined>; positionals: string[]; argv?: string[] };

export class UsageError extends Error {}

export const MEMORY_FLAG: Flag = { name: 'memory', type: 'size', placeholder: 'SIZE', default: DEFAULT_MEMORY, help: "DuckDB's memory budget (e.g. 1GB on a larger machine); past it, sorts and joins spill to a temp folder beside the database" };

export const OVERWRITE_FLAG: Flag = { name: 'overwrite', type: 'boolean', help: 'replace output files that linkbert did not write (or that were changed since); without it they are refused' };

export const JSON_FLAG: Flag = { name: 'json', type: 'boolean', help: 'print the summary as one JSON object on stdout (logs go to stderr)' };

/** `linkbert NAME --required X [--optional N] [--switch]`: the command's usage, from its flags unless it gives its own. */
export function usageLine(cmd: Command): string {
  if (cmd.usage) return cmd.usage;
  const part = (f: Flag) => `--${f.name}${f.type === 'boolean' ? '' : ` ${f.placeholder ?? (f.type === 'number' ? 'N' : 'VALUE')}`}`;
  return [`linkbert ${cmd.name}`, ...cmd.flags.filter((f) => !f.hidden).map((f) => (f.required ? part(f) : `[${part(f)}]`))].join(' ');
}

export function parse(cmd: Command, argv: string[]): ParsedArgs {
  const options: Record<string, { type: 'string' | 'boolean'; multiple?: boolean }> = { help: { type: 'boolean' } };
  // every flag that takes a value is read as a list, so that one given twice where it is taken once
  // is an error rather than its last value winning unseen
  for (const f of cmd.flags) options[f.name] = { type: f.type === 'boolean' ? 'boolean' : 'string', multiple: f.type !== 'boolean' };
  // `--shard-rows -5`: a negative number is the flag's value (parseArgs would call it ambiguous), so
  // that the flag's range check says what is wrong with it
  const args: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const next = argv[i + 1];
    if (next !== undefined && /^-\d/.test(next) && /^--[^=]+$/.test(a) && options[a.slice(2)]?.type === 'string') args.push(`${a}=${argv[++i]}`);
    else args.push(a);
  }
  let parsed;
  try {
    parsed = parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (e) {
    const unknown = /^Unknown option '(--?[^']+)'/.exec((e as Error).message)?.[1];
    if (unknown) {
      const near = closest(unknown.replace(/^-+/, '').split('=')[0]!, Object.keys(options));
      throw new UsageError(`unknown flag ${unknown}${near ? `; did you mean --${near}?` : ''}`);
    }
    throw new UsageError((e as Error).message);
  }
  if (parsed.positionals.length && !cmd.positionals) throw new UsageError(`unexpected argument '${parsed.positionals[0]}'`);
  const flags: ParsedArgs['flags'] = { help: parsed.values.help as boolean | undefined };
  for (const f of cmd.flags) {
    let v = parsed.values[f.name] as string | boolean | string[] | undefined;
    if (Array.isArray(v) && !f.multiple) {
      if (v.length > 1) throw new UsageError(`--${f.name} is given ${v.length} times (${v.map((x) => JSON.stringify(x)).join(', ')}); it takes one value`);
      v = v[0];
    }
    if (f.type === 'number' && typeof v === 'string') {
      const n = Number(v);
      if (!Number.isFinite(n)) throw new UsageError(`--${f.name} needs a number, got '${v}'`);
      const why = f.range ? outOfRange(n, f.range) : null;
      if (why) throw new UsageError(`--${f.name} ${why}`);
      flags[f.name] = n;
    } else if (f.type === 'size' && v === undefined && f.default === undefined) {
      flags[f.name] = undefined;
    } else if (f.type === 'size') {
      const text = String(v ?? f.default);
      try {
        flags[f.name] = f.name === 'memory' ? memoryBytes(text) : sizeBytes(text, f.name);
        if (f.range?.min !== undefined && (flags[f.name] as number) < f.range.min) throw new Error(`--${f.name} ${text}: at least ${f.range.min} bytes`);
      } catch (e) {
        throw new UsageError((e as Error).message);
      }
    } else flags[f.name] = v ?? f.default;
  }
  return { flags, positionals: parsed.positionals, argv };
}

export function helpText(cmd: Command): string {
  const lines = [`linkbert ${cmd.name} — ${cmd.summary}`, '', `usage: ${usageLine(cmd)}`, '', 'flags:'];
  const rows = cmd.flags.filter((f) => !f.hidden).map((f) => {
    const left = `--${f.name}${f.type === 'boolean' ? '' : ` ${f.placeholder ?? (f.type === 'number' ? 'N' : 'VALUE')}`}`;
    const def = f.default !== undefined && f.type !== 'boolean' ? ` (default: ${f.default})` : '';
    const range = f.range ? ` [${rangeText(f.range)}]` : '';
    return [left, f.help + def + range];
  });
  rows.push(['--help', 'show this help']);
  const w = Math.max(...rows.map((r) => r[0]!.length));
  for (const [l, r] of rows) lines.push(`  ${l!.padEnd(w)}  ${r}`);
  if (cmd.note) lines.push('', cmd.note);
  return lines.join('\n');
}

/** The flag a mistyped one most likely meant (`--dupm` → dump, `--shard_rows` → shard-rows), if any is close. */
export function closest(typed: string, names: string[]): string | null {
  const t = typed.toLowerCase().replace(/_/g, '-');
  let best: string | null = null;
  let bestD = Infinity;
  for (const n of names) {
    const d = editDistance(t, n);
    if (d < bestD) [best, bestD] = [n, d];
  }
  return best !== null && bestD <= Math.max(1, Math.min(2, Math.floor(t.length / 3))) ? best : null;
}

/** Levenshtein distance, a transposition counted as one edit. */
function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...new Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i]![j] = Math.min(d[i]![j]!, d[i - 2]![j - 2]! + 1);
    }
  }
  return d[a.length]![b.length]!;
}

/** --memory as parsed (bytes), for the commands that declare MEMORY_FLAG. */
export function memoryOf(flags: ParsedArgs['flags']): number {
  const m = flags.memory;
  if (typeof m !== 'number') throw new Error('internal error: --memory was not parsed as a size');
  return m;
}
