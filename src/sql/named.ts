/**
 * Named queries: files in sql/queries/. The first comment line describes the query; lines
 * `-- param: NAME` or `-- param: NAME = DEFAULT` declare its $parameters.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { SQL_DIR } from '../db/duckdb.js';

export interface NamedQuery {
  name: string;
  description: string;
  params: { name: string; default: string | null }[];
  sql: string;
}

const DIR = new URL('queries/', SQL_DIR);

export function parseNamedQuery(name: string, text: string): NamedQuery {
  const comments = text.split('\n').filter((l) => l.startsWith('--')).map((l) => l.slice(2).trim());
  const params = comments
    .map((c) => /^param:\s*(\w+)\s*(?:=\s*(.*))?$/.exec(c))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ name: m[1]!, default: m[2]?.trim() ?? null }));
  return { name, description: comments.find((c) => !c.startsWith('param:')) ?? '', params, sql: text };
}

export function namedQueries(): NamedQuery[] {
  return readdirSync(DIR)
    .filter((f) => f.endsWith('.sql'))
    .sort()
    .map((f) => parseNamedQuery(f.slice(0, -4), readFileSync(new URL(f, DIR), 'utf8')));
}

export function namedQuery(name: string): NamedQuery {
  const q = namedQueries().find((x) => x.name === name);
  if (!q) throw new Error(`no named query '${name}' (linkbert sql --list shows them)`);
  return q;
}

/** The query's parameter values from `key=value` strings and the declared defaults. */
export function bindParams(q: NamedQuery, given: string[]): Record<string, string> {
  const values: Record<string, string> = {};
  for (const kv of given) {
    const eq = kv.indexOf('=');
    if (eq <= 0) throw new Error(`--param needs key=value, got '${kv}'`);
    const key = kv.slice(0, eq);
    if (!q.params.some((p) => p.name === key)) throw new Error(`query '${q.name}' has no parameter '${key}' (it takes: ${q.params.map((p) => p.name).join(', ') || 'none'})`);
    values[key] = kv.slice(eq + 1);
  }
  for (const p of q.params) {
    if (values[p.name] !== undefined) continue;
    if (p.default === null) throw new Error(`query '${q.name}' needs --param ${p.name}=VALUE`);
    values[p.name] = p.default;
  }
  return values;
}
