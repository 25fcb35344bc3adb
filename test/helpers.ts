/** Shared test helpers: temp dirs, the CLI, read-only queries, and the ../shared fixtures. */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after } from 'node:test';
import { DuckDBInstance } from '@duckdb/node-api';
import { rows } from '../src/db/duckdb.ts';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const SAMPLE = join(ROOT, 'data/sample/samplewiki.xml');
export const SHARED = join(ROOT, '../shared/fixtures');
export const HAVE_SHARED = existsSync(SHARED);
/** For `test(name, { skip: NO_SHARED }, …)`: a message when ../shared is absent. */
export const NO_SHARED = HAVE_SHARED ? false : '../shared/fixtures is absent (a fresh clone): skipping tests on the shared real dumps';

export function tmp(prefix = 'linkbert-'): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  after(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `linkbert ARGS` as a user would. */
export function cli(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [join(ROOT, 'bin/linkbert.js'), ...args], { env: { ...process.env, ...env }, cwd: ROOT });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (b) => (stdout += b));
    p.stderr.on('data', (b) => (stderr += b));
    p.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Rows of a query on a DB opened read-only (64-bit integers as numbers). */
export async function query<T = Record<string, unknown>>(db: string, sql: string): Promise<T[]> {
  const inst = await DuckDBInstance.create(db, { access_mode: 'READ_ONLY' });
  const conn = await inst.connect();
  try {
    return await rows<T>(conn, sql);
  } finally {
    conn.closeSync();
    inst.closeSync();
  }
}

/** A DuckDB file of someone else's, made by running `sql` in it. */
export async function userDb(path: string, sql: string): Promise<void> {
  const inst = await DuckDBInstance.create(path);
  const conn = await inst.connect();
  try {
    await conn.run(sql);
  } finally {
    conn.closeSync();
    inst.closeSync();
  }
}

/** The decompressed XML of a dump, independently of the project's code (bzip2 / iconv CLIs). */
export function dumpXml(file: string): string {
  const raw = file.endsWith('.bz2') ? spawnSync('bzip2', ['-dc', file], { maxBuffer: 1 << 30 }).stdout : readFileSync(file);
  if (raw[0] === 0xff && raw[1] === 0xfe) return new TextDecoder('utf-16le').decode(raw);
  return raw.toString('utf8');
}

/** Pages per <ns> counted with a regex over the XML. */
export function namespaceCounts(xml: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const page of xml.split('<page>').slice(1)) {
    const ns = /<ns>(-?\d+)<\/ns>/.exec(page)?.[1] ?? 'unknown';
    out[ns] = (out[ns] ?? 0) + 1;
  }
  return out;
}

export const sorted = (o: Record<string, number>) => Object.fromEntries(Object.entries(o).sort(([a], [b]) => a.localeCompare(b)));

/** bzip2 of a buffer through the bzip2 CLI (present wherever the tests run). */
export function bzip2(data: Buffer | string): Buffer {
  const r = spawnSync('bzip2', ['-c'], { input: data, maxBuffer: 1 << 30 });
  if (r.status !== 0) throw new Error(`bzip2 failed: ${r.stderr}`);
  return r.stdout;
}

/**
 * A multistream dump of an XML dump, as Wikimedia makes them: the header in one bz2 stream, then
 * `perStream` pages per stream, the footer last; plus its `offset:pageid:title` index.
 */
export function makeMultistream(xml: string, perStream: number, dumpPath: string, indexPath: string): void {
  const first = xml.indexOf('  <page>');
  const end = xml.lastIndexOf('</mediawiki>');
  const pages = xml.slice(first, end).split(/(?=  <page>)/);
  const parts: Buffer[] = [bzip2(xml.slice(0, first))];
  let offset = parts[0]!.length;
  const index: string[] = [];
  const unescape = (s: string) => s.replace(/&quot;/g, '"').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
  for (let i = 0; i < pages.length; i += perStream) {
    const group = pages.slice(i, i + perStream);
    for (const p of group) index.push(`${offset}:${/<id>(\d+)<\/id>/.exec(p)![1]}:${unescape(/<title>(.*?)<\/title>/.exec(p)![1]!)}`);
    const b = bzip2(group.join(''));
    parts.push(b);
    offset += b.length;
  }
  parts.push(bzip2(xml.slice(end)));
  writeFileSync(dumpPath, Buffer.concat(parts));
  writeFileSync(indexPath, bzip2(index.join('\n') + '\n'));
}

/** A larger dump: the sample's pages `copies` times, titles and link targets suffixed per copy. */
export function replicateSample(copies: number): string {
  const xml = readFileSync(SAMPLE, 'utf8');
  const first = xml.indexOf('  <page>');
  const end = xml.lastIndexOf('</mediawiki>');
  const body = xml.slice(first, end);
  const out = [xml.slice(0, first)];
  for (let k = 0; k < copies; k++) {
    out.push(
      body
        .replace(/<title>([^<:]*)<\/title>/g, (_, t) => `<title>${t} ${k}</title>`)
        .replace(/<redirect title="([^":]*)"/g, (_, t) => `<redirect title="${t} ${k}"`)
        // article link targets (not other namespaces, not section links) follow their copy
        .replace(/\[\[(:?)([^\[\]|#:]+)([#|\]])/g, (_, colon, t, end) => `[[${colon}${t} ${k}${end}`)
        .replace(/<id>(\d+)<\/id>/g, (_, id) => `<id>${Number(id) + k * 100000}</id>`),
    );
  }
  out.push(xml.slice(end));
  return out.join('');
}

/** md5 of every ingest table's rows in key order: equal digests, equal contents. */
export async function tableDigests(db: string): Promise<Record<string, string>> {
  const [r] = await query<Record<string, string>>(
    db,
    `SELECT
      (SELECT count(*) || ':' || md5(string_agg(t::VARCHAR, chr(10) ORDER BY seq)) FROM pages t) AS pages,
      (SELECT count(*) || ':' || md5(string_agg(t::VARCHAR, chr(10) ORDER BY seq)) FROM articles t) AS articles,
      (SELECT count(*) || ':' || md5(string_agg(t::VARCHAR, chr(10) ORDER BY seq)) FROM redirects t) AS redirects,
      (SELECT count(*) || ':' || md5(string_agg(t::VARCHAR, chr(10) ORDER BY src, idx)) FROM links t) AS links,
      (SELECT count(*) || ':' || md5(coalesce(string_agg(t::VARCHAR, chr(10) ORDER BY seq), '')) FROM skipped t) AS skipped`,
  );
  return r!;
}

/** ingest → graph → demo tokenizer → segments (max_seq_len 128) into a fresh DB in `dir`. */
export async function prepare(dump: string, dir: string): Promise<string> {
  const { ingest } = await import('../src/ingest/ingest.ts');
  const { graph } = await import('../src/graph/graph.ts');
  const { segment } = await import('../src/segment/segment.ts');
  const { writeDemoTokenizer } = await import('../pipeline/vocab.ts');
  const db = join(dir, 'p.duckdb');
  await ingest({ dump, db });
  await graph({ db });
  await writeDemoTokenizer(db, join(dir, 'tok'), 4000);
  await segment({ db, tokenizer: join(dir, 'tok'), maxSeqLen: 128 });
  return db;
}
