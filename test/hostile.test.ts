/**
 * Inputs built to hurt, small on disk (generated here): each stays within a bounded memory (peak RSS
 * of the command, measured in the child), and ends as a skip with its reason and position or a clear
 * error naming the position, every valid record before it in the database.
 */
import assert from 'node:assert/strict';
import { createWriteStream, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { createGzip } from 'node:zlib';
import { ingest } from '../src/ingest/ingest.ts';
import { cli, query, replicateSample, SAMPLE, tmp } from './helpers.ts';

const LIMIT_MB = 1000;

/** Runs a CLI command; its exit code, output and peak RSS in MB. */
async function measured(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string; rss: number }> {
  const usage = join(tmp(), 'usage.json');
  const r = await cli(args, { LINKBERT_RUSAGE: usage });
  return { ...r, rss: (JSON.parse(readFileSync(usage, 'utf8')) as { peak_rss_mb: number }).peak_rss_mb };
}

/** Writes a gzip file from parts, a part being a string or [a string, how many times]. */
async function gzipOf(file: string, parts: (string | [string, number])[]): Promise<void> {
  const gz = createGzip({ level: 1 });
  const done = new Promise<void>((resolve, reject) => gz.pipe(createWriteStream(file)).on('finish', resolve).on('error', reject));
  for (const p of parts) {
    const [text, times] = typeof p === 'string' ? [p, 1] : p;
    const b = Buffer.from(text);
    for (let i = 0; i < times; i++) if (!gz.write(b)) await new Promise((r) => gz.once('drain', r));
  }
  gz.end();
  await done;
}

const sample = readFileSync(SAMPLE, 'utf8');
const HEADER = sample.slice(0, sample.indexOf('  <page>'));
const page = (id: number, title: string, text: string) => `  <page>\n    <title>${title}</title>\n    <ns>0</ns>\n    <id>${id}</id>\n    <revision>\n      <id>${id}0</id>\n      <text bytes="${text.length}" xml:space="preserve">${text}</text>\n    </revision>\n  </page>\n`;

test('a .xml.gz holding one page of 1 GiB: skipped as too large with its title and line, never held whole; the pages around it read', async () => {
  const d = tmp();
  const dump = join(d, 'huge-page.xml.gz');
  const before = page(1, 'Before', 'A page before the huge one. It has text.');
  const huge = page(2, 'Huge', '@@').split('@@');
  await gzipOf(dump, [HEADER, before, huge[0]!, ['a'.repeat(1 << 20), 1024], huge[1]!, page(3, 'After', 'A page after the huge one. It has text too.'), '</mediawiki>\n']);
  const db = join(d, 'h.duckdb');
  const r = await measured(['ingest', '--dump', dump, '--db', db, '--json']);
  assert.equal(r.code, 0, r.stderr);
  assert.ok(r.rss < LIMIT_MB, `peak RSS ${r.rss} MB`);
  assert.deepEqual(await query(db, 'SELECT title FROM articles ORDER BY seq'), [{ title: 'Before' }, { title: 'After' }]);
  const [s] = await query<{ seq: number; page_id: number; title: string; reason: string; line: number }>(db, 'SELECT seq, page_id, title, reason, line FROM skipped');
  assert.equal(s!.title, 'Huge');
  assert.equal(s!.page_id, 2);
  assert.equal(s!.seq, 1);
  assert.equal(s!.line, HEADER.split('\n').length + before.split('\n').length - 1);
  assert.equal(s!.reason, 'too large: its XML is over --max-record (16 MiB)');
  // a smaller cap is a flag
  const small = await measured(['ingest', '--dump', SAMPLE, '--db', join(d, 's.duckdb'), '--max-record', '1200B', '--json']);
  assert.equal(small.code, 0, small.stderr);
  const reasons = (JSON.parse(small.stdout) as { skipped_reasons: Record<string, number> }).skipped_reasons;
  // the sample's three pages over 1,200 bytes of XML
  assert.equal(reasons['too large: its XML is over --max-record (1.2 KiB)'], 3, JSON.stringify(reasons));
});

test('JSON Lines: a 200 MB line is skipped as too large with its id and line, within bounded memory; the lines around it read', async () => {
  const d = tmp();
  const file = join(d, 'long-line.jsonl.gz');
  const doc = (id: string, text: string) => JSON.stringify({ id, text, links: [] }) + '\n';
  await gzipOf(file, [doc('first', 'The first document. It is short.'), '{"id": "huge", "text": "', ['lorem ipsum '.repeat(1 << 16), 256], '"}\n', doc('last', 'The last document. It is short too.')]);
  const db = join(d, 'j.duckdb');
  const r = await measured(['ingest', '--dump', file, '--db', db]);
  assert.equal(r.code, 0, r.stderr);
  assert.ok(r.rss < LIMIT_MB, `peak RSS ${r.rss} MB`);
  assert.deepEqual(await query(db, 'SELECT title FROM articles ORDER BY seq'), [{ title: 'first' }, { title: 'last' }]);
  assert.deepEqual(await query(db, 'SELECT seq, title, reason, line FROM skipped'), [{ seq: 1, title: 'huge', reason: 'too large: the line is over --max-record (16 MiB)', line: 2 }]);
});

test('JSON Lines: invalid UTF-8 in line 20,001 is an error naming that line, every line before it in the database; --on-damage skip passes over it', async () => {
  const d = tmp();
  const file = join(d, 'bad-utf8.jsonl');
  const lines = Array.from({ length: 20_000 }, (_, i) => JSON.stringify({ id: `d${i}`, text: `Document number ${i}. It says little.`, links: i ? [`d${i - 1}`] : [] }));
  writeFileSync(file, Buffer.concat([Buffer.from(lines.join('\n') + '\n'), Buffer.from('{"id": "bad", "text": "caf'), Buffer.from([0xc3, 0x28]), Buffer.from('"}\n{"id": "after", "text": "A last one."}\n')]));
  const db = join(d, 'u.duckdb');
  const r = await measured(['ingest', '--dump', file, '--db', db]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /bad-utf8\.jsonl: line 20001 is not UTF-8 text/);
  assert.deepEqual(await query(db, 'SELECT count(*)::INTEGER AS n FROM articles'), [{ n: 20_000 }]);
  const s = await measured(['ingest', '--dump', file, '--db', join(d, 's.duckdb'), '--on-damage', 'skip', '--json']);
  assert.equal(s.code, 0, s.stderr);
  const summary = JSON.parse(s.stdout) as { articles: number; skipped_reasons: Record<string, number> };
  assert.equal(summary.articles, 20_001);
  assert.deepEqual(summary.skipped_reasons, { 'not UTF-8 text': 1 });
});

test('a .gz of 1 GiB of NUL bytes, and one of 2 MiB of spaces: refused from their first bytes, naming the file, no database made', async () => {
  const d = tmp();
  const nul = join(d, 'zeros.xml.gz');
  await gzipOf(nul, [['\0'.repeat(1 << 20), 1024]]);
  const r = await measured(['ingest', '--dump', nul, '--db', join(d, 'z.duckdb')]);
  assert.equal(r.code, 1);
  assert.ok(r.rss < LIMIT_MB, `peak RSS ${r.rss} MB`);
  assert.match(r.stderr, /zeros\.xml\.gz: not an input this pipeline reads: at byte 0 it begins with binary bytes .*\(no database was made\)/);
  const spaces = join(d, 'spaces.xml.gz');
  await gzipOf(spaces, [[' '.repeat(1 << 20), 2]]);
  const s = await measured(['ingest', '--dump', spaces, '--db', join(d, 's.duckdb')]);
  assert.equal(s.code, 1);
  assert.match(s.stderr, /spaces\.xml\.gz: not an input this pipeline reads: its first MiB is white space/);
});

test('PubMed: 150,000 records (337 MB of XML) are read record by record, never the file whole; versions and deletes still resolved', async () => {
  const d = tmp();
  const file = join(d, 'big-pubmed.xml.gz');
  const abstract = 'Results of a study that says little, written at length. '.repeat(36);
  const record = (pmid: number, version = 1) => `<PubmedArticle><MedlineCitation><PMID Version="${version}">${pmid}</PMID><Article><ArticleTitle>Study ${pmid}</ArticleTitle><Abstract><AbstractText>${abstract}</AbstractText></Abstract></Article></MedlineCitation><PubmedData><ReferenceList><Reference><ArticleIdList><ArticleId IdType="pubmed">${pmid + 1}</ArticleId></ArticleIdList></Reference></ReferenceList></PubmedData></PubmedArticle>\n`;
  const parts: string[] = ['<?xml version="1.0"?>\n<PubmedArticleSet>\n'];
  for (let i = 1; i <= 150_000; i++) parts.push(i === 7 ? record(7, 1) : record(i));
  parts.push(record(7, 2), '<DeleteCitation><PMID Version="1">9</PMID></DeleteCitation>\n</PubmedArticleSet>\n');
  await gzipOf(file, parts);
  const db = join(d, 'p.duckdb');
  const r = await measured(['ingest', '--dump', file, '--db', db, '--json']);
  assert.equal(r.code, 0, r.stderr);
  assert.ok(r.rss < LIMIT_MB, `peak RSS ${r.rss} MB`);
  const s = JSON.parse(r.stdout) as { articles: number };
  assert.equal(s.articles, 150_000 - 1, 'one version of PMID 7, PMID 9 deleted');
  assert.deepEqual(await query(db, "SELECT p.rev_id FROM pages p WHERE p.norm_title = '7'"), [{ rev_id: 2 }]);
  assert.deepEqual(await query(db, "SELECT count(*)::INTEGER AS n FROM pages WHERE norm_title = '9'"), [{ n: 0 }]);
});

test('a paragraph of 100,000 links and no sentence end is cleaned with every link (the sentence cut and the link replacement took time in its square: a parse timeout)', async () => {
  const d = tmp();
  const dump = join(d, 'links.xml');
  const text = 'Intro. ' + Array.from({ length: 100_000 }, (_, i) => `[[L${i % 1000}]]`).join(' ');
  writeFileSync(dump, HEADER + page(5, 'Many links', text) + '</mediawiki>\n');
  const db = join(d, 'l.duckdb');
  const r = await measured(['ingest', '--dump', dump, '--db', db, '--json']);
  assert.equal(r.code, 0, r.stderr);
  assert.ok(r.rss < LIMIT_MB, `peak RSS ${r.rss} MB`);
  const s = JSON.parse(r.stdout) as { articles: number; links: number; skipped: number };
  assert.deepEqual([s.articles, s.links, s.skipped], [1, 100_000, 0]);
  const [a] = await query<{ n: number; t: string }>(db, 'SELECT length(text)::INTEGER AS n, left(text, 20) AS t FROM articles');
  assert.equal(a!.t, 'Intro. L0 L1 L2 L3 L');
  assert.ok(a!.n > 400_000, `${a!.n} characters`);
});

test('a page whose cleaning outgrows a worker’s heap is skipped as out of memory, the worker replaced and the pages after it read; a paragraph of 1,000,000 links stays under 1 GB', async () => {
  const d = tmp();
  const dump = join(d, 'million.xml');
  const text = 'Intro. ' + Array.from({ length: 1_000_000 }, (_, i) => `[[${String.fromCharCode(65 + (i % 26))}]]`).join(' ');
  writeFileSync(dump, HEADER + page(1, 'Before', 'A page before. It has text.') + page(2, 'Million', text) + page(3, 'After', 'A page after. It has text too.') + '</mediawiki>\n');
  // a worker heap of 64 MB cannot clean a million links
  const s = await ingest({ dump, db: join(d, 'small.duckdb'), workers: 1, workerHeapMb: 64 });
  assert.equal(s.articles, 2);
  assert.deepEqual(s.skipped_reasons, { "out of memory (cleaning it took more than the worker's 64 MB)": 1 });
  // the default heap cleans it, within bounded memory
  const r = await measured(['ingest', '--dump', dump, '--db', join(d, 'm.duckdb'), '--json']);
  assert.equal(r.code, 0, r.stderr);
  assert.ok(r.rss < LIMIT_MB, `peak RSS ${r.rss} MB`);
  const m = JSON.parse(r.stdout) as { articles: number; links: number };
  assert.deepEqual([m.articles, m.links], [3, 1_000_000]);
});

test('a page whose links alone, read after its cleaning timed out, run over the timeout again is skipped whole; the pages around it are read', async () => {
  const d = tmp();
  const dump = join(d, 'slow.xml');
  // a million links: neither cleaning them nor scanning them alone fits in 0.2 s
  const text = 'Intro. ' + Array.from({ length: 1_000_000 }, (_, i) => `[[${String.fromCharCode(65 + (i % 26))}]]`).join(' ');
  writeFileSync(dump, HEADER + page(1, 'Before', 'A page before. It has [[After|text]].') + page(2, 'Million', text) + page(3, 'After', 'A page after. It has text too.') + '</mediawiki>\n');
  const db = join(d, 's.duckdb');
  const s = await ingest({ dump, db, workers: 1, pageTimeout: 0.2 });
  assert.deepEqual(s.skipped_reasons, { 'parse timeout (over 0.2 s); its links not read either': 1 });
  assert.deepEqual([s.pages, s.articles, s.links], [3, 2, 1]);
  assert.deepEqual(await query(db, "SELECT title FROM pages ORDER BY seq"), [{ title: 'Before' }, { title: 'After' }]);
});

test('ten small pages built to be slow each run against a budget of their size (2 s + 20 ms per KiB), not the 30 s page timeout; their links are kept', async () => {
  const d = tmp();
  const dump = join(d, 'nested.xml');
  // depth-2000 nested templates, 12 kB: wtf_wikipedia needs over ten seconds for each (its time grows ~n^2.3)
  const nested = (i: number) => `Slow [[Target ${i}]]. ${'{{a|'.repeat(2000)}x${'}}'.repeat(2000)} End.`;
  const pages = Array.from({ length: 10 }, (_, i) => page(10 + i, `Slow ${i}`, nested(i))).join('');
  writeFileSync(dump, HEADER + page(1, 'Before', 'A page before. It has text.') + pages + page(3, 'After', 'A page after. It has text too.') + '</mediawiki>\n');
  const db = join(d, 'n.duckdb');
  const s = await ingest({ dump, db, workers: 2 });
  assert.deepEqual(s.skipped_reasons, { 'parse timeout (over 2 s + 20 ms per KiB of its wikitext): text left out, links kept': 10 });
  assert.deepEqual([s.pages, s.articles, s.links], [12, 2, 10]);
  assert.deepEqual(await query(db, "SELECT count(*)::INTEGER AS n FROM links WHERE target LIKE 'Target %' AND \"offset\" IS NULL"), [{ n: 10 }]);
});

test('10 pages of 20,000 links each among 3,000 pages: none reaches the page timeout, every link kept, within bounded memory', async () => {
  const d = tmp();
  const dump = join(d, 'dense.xml');
  const body = replicateSample(53);
  const first = body.indexOf('  <page>');
  const end = body.lastIndexOf('</mediawiki>');
  const dense = Array.from({ length: 10 }, (_, k) => page(900_000 + k, `Dense ${k}`, 'Intro. ' + Array.from({ length: 20_000 }, (_, i) => `[[L${(i * 7 + k) % 3000}]]`).join(' '))).join('');
  writeFileSync(dump, body.slice(0, first) + dense + body.slice(first, end) + '</mediawiki>\n');
  const db = join(d, 'd.duckdb');
  // a page of 20,000 links takes well under a second now; when its sentence cut and link replacement
  // took time in the square of its length, each ran for several seconds (161 s for ten, at 30 s each)
  const r = await measured(['ingest', '--dump', dump, '--db', db, '--page-timeout', '5', '--json']);
  assert.equal(r.code, 0, r.stderr);
  assert.ok(r.rss < LIMIT_MB, `peak RSS ${r.rss} MB`);
  const s = JSON.parse(r.stdout) as { pages: number; skipped_reasons: Record<string, number> };
  assert.ok(s.pages >= 3000, `${s.pages} pages`);
  assert.ok(!Object.keys(s.skipped_reasons).some((k) => /timeout|out of memory/.test(k)), JSON.stringify(s.skipped_reasons));
  assert.deepEqual(await query(db, "SELECT count(*)::INTEGER AS n FROM links l JOIN pages p ON p.seq = l.src WHERE p.title LIKE 'Dense %'"), [{ n: 200_000 }]);
});
