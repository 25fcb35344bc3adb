/** Query results as an aligned table, CSV or JSON. */
import type { Json, Table } from '../db/duckdb.js';

export type Format = 'table' | 'csv' | 'json';

function text(v: Json | undefined): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

function csvField(s: string): string {
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

const NUMERIC = /^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|UHUGEINT|FLOAT|DOUBLE|DECIMAL.*)$/;

export function formatTable(t: Table, format: Format, maxWidth = 80): string {
  if (format === 'json') return JSON.stringify(t.rows);
  if (format === 'csv') {
    const lines = [t.columns.map(csvField).join(',')];
    for (const r of t.rows) lines.push(t.columns.map((c) => csvField(text(r[c]))).join(','));
    return lines.join('\n');
  }
  const cell = (v: Json | undefined) => {
    if (v === null || v === undefined) return 'NULL';
    const s = text(v).replace(/\n/g, '⏎');
    return s.length > maxWidth ? `${s.slice(0, maxWidth - 1)}…` : s;
  };
  const cells = t.rows.map((r) => t.columns.map((c) => cell(r[c])));
  const widths = t.columns.map((c, i) => Math.max(c.length, ...cells.map((row) => row[i]!.length)));
  const right = t.types.map((ty) => NUMERIC.test(ty));
  const line = (row: string[]) => row.map((s, i) => (right[i] ? s.padStart(widths[i]!) : s.padEnd(widths[i]!))).join('  ').trimEnd();
  const out = [line(t.columns), widths.map((w) => '─'.repeat(w)).join('  '), ...cells.map(line)];
  out.push(`(${t.rows.length} row${t.rows.length === 1 ? '' : 's'})`);
  return out.join('\n');
}
