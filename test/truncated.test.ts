/**
 * Dumps cut short, as downloads often are: after their last complete page (no </mediawiki>), inside
 * a page, inside their gzip data. Without --on-damage skip: an error naming the cut, the count of
 * complete pages kept and the flag; with it: every complete page, the cut page in `skipped`, the
 * ingest done and graph running. On the sample (always) and a real English dump (../shared).
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { cli, HAVE_SHARED, NO_SHARED, query, SAMPLE, SHARED, tmp } from './helpers.ts';
import { execFileSync } from 'node:child_process';

const sample = readFileSync(SAMPLE, 'utf8');

/** The XML up to the end of its last complete page, and cut inside the page after the `n`th. */
function cuts(xml: string, n: number): { noClose: string; midPage: string; before: number; title: string } {
  const noClose = xml.slice(0, xml.lastIndexOf('</page>') + '</page>\n'.length);
  let at = -1;
  for (let k = 0; k <= n; k++) at = xml.indexOf('<page>', at + 1);
  const title = /<title>([^<]*)<\/title>/.exec(xml.slice(at))![1]!;
  const midPage = xml.slice(0, xml.indexOf('<text', at) + 40);
  return { noClose, midPage, before: n, title };
}

const status = async (db: string) => (await query<{ status: string }>(db, "SELECT status FROM runs WHERE stage = 'ingest'"))[0]!.status;
const lineOf = (xml: string, i: number) => xml.slice(0, i).split('\n').length;

test('a dump without its closing </mediawiki>: an error that names the cut, the pages kept and --on-damage skip; with the flag, every page and a complete ingest that graph reads', async () => {
  const d = tmp();
  const { noClose } = cuts(sample, 10);
  const file = join(d, 'cut.xml');
  writeFileSync(file, noClose);
  const r = await cli(['ingest', '--dump', file, '--db', join(d, 'a.duckdb')]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, new RegExp(`cut\\.xml: the file ends at line ${noClose.split('\n').length} without closing </mediawiki>: a truncated file\\? Its 57 complete pages are in the database; --on-damage skip keeps them and completes the ingest`));
  assert.equal(await status(join(d, 'a.duckdb')), 'failed');

  const s = await cli(['ingest', '--dump', file, '--db', join(d, 'b.duckdb'), '--on-damage', 'skip', '--json']);
  assert.equal(s.code, 0, s.stderr);
  const j = JSON.parse(s.stdout) as { pages: number; skipped: number; warnings: string[] };
  assert.deepEqual([j.pages, j.skipped], [57, 0]);
  assert.match(j.warnings[0]!, /without closing <\/mediawiki>: a truncated file; its 57 complete pages are kept \(--on-damage skip\)/);
  assert.equal(await status(join(d, 'b.duckdb')), 'done');
  // the same rows as the whole dump's
  const whole = await cli(['ingest', '--dump', SAMPLE, '--db', join(d, 'w.duckdb')]);
  assert.equal(whole.code, 0);
  const rows = `SELECT md5(string_agg(seq || ':' || title || ':' || kind, ',' ORDER BY seq)) h FROM pages`;
  assert.deepEqual(await query(join(d, 'b.duckdb'), rows), await query(join(d, 'w.duckdb'), rows));
  const g = await cli(['graph', '--db', join(d, 'b.duckdb')]);
  assert.equal(g.code, 0, g.stderr);
});

test('a dump cut inside a page: the error names the page and its line; with --on-damage skip the complete pages are in, the cut page in skipped; a failed run resumed with the flag ends the same', async () => {
  const d = tmp();
  const { midPage, before, title } = cuts(sample, 30);
  const file = join(d, 'mid.xml');
  writeFileSync(file, midPage);
  const pageLine = lineOf(midPage, midPage.lastIndexOf('<page>'));
  const r = await cli(['ingest', '--dump', file, '--db', join(d, 'a.duckdb')]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, new RegExp(`mid\\.xml: the file ends inside a page \\(the <page> at line ${pageLine}, "${title}"\\): a truncated file\\? Its ${before} complete pages are in the database; --on-damage skip keeps them, records the cut page as skipped and completes the ingest`));
  assert.equal((await query<{ n: number }>(join(d, 'a.duckdb'), 'SELECT count(*)::INT n FROM pages'))[0]!.n, before);

  const s = await cli(['ingest', '--dump', file, '--db', join(d, 'b.duckdb'), '--on-damage', 'skip', '--json']);
  assert.equal(s.code, 0, s.stderr);
  const j = JSON.parse(s.stdout) as { pages: number; skipped_reasons: Record<string, number> };
  assert.equal(j.pages, before + 1);
  assert.deepEqual(j.skipped_reasons, { 'truncated: the file ends inside this page': 1 });
  assert.deepEqual(await query(join(d, 'b.duckdb'), 'SELECT seq, title, line FROM skipped'), [{ seq: before, title, line: pageLine }]);
  assert.equal(await status(join(d, 'b.duckdb')), 'done');

  // the failed database, resumed with the flag: the same rows
  const resumed = await cli(['ingest', '--dump', file, '--db', join(d, 'a.duckdb'), '--on-damage', 'skip']);
  assert.equal(resumed.code, 0, resumed.stderr);
  const all = `SELECT (SELECT md5(string_agg(seq || title, ',' ORDER BY seq)) FROM pages) p, (SELECT md5(string_agg(seq || title || reason, ',' ORDER BY seq)) FROM skipped) s`;
  assert.deepEqual(await query(join(d, 'a.duckdb'), all), await query(join(d, 'b.duckdb'), all));
  assert.equal((await cli(['graph', '--db', join(d, 'a.duckdb')])).code, 0);
});

test('a .xml.gz cut inside its compressed data: the complete pages before the cut, and the cut page skipped, with --on-damage skip', async () => {
  const d = tmp();
  const gz = gzipSync(Buffer.from(sample));
  const file = join(d, 'cut.xml.gz');
  writeFileSync(file, gz.subarray(0, Math.floor(gz.length * 0.7)));
  const r = await cli(['ingest', '--dump', file, '--db', join(d, 'a.duckdb')]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /cut\.xml\.gz: the file ends inside its gzip data, inside a page \(the <page> at line \d+, "[^"]+"\): a truncated file\? Its \d+ complete pages are in the database; --on-damage skip keeps them/);
  const s = await cli(['ingest', '--dump', file, '--db', join(d, 'b.duckdb'), '--on-damage', 'skip', '--json']);
  assert.equal(s.code, 0, s.stderr);
  const j = JSON.parse(s.stdout) as { pages: number; skipped: number };
  // what gunzip gives of the cut file: its whole pages are the database's
  const prefix = execFileSync('sh', ['-c', `gzip -dc < '${file}' 2>/dev/null || true`], { maxBuffer: 1 << 26 }).toString('utf8');
  const complete = prefix.split('</page>').length - 1;
  assert.ok(complete > 5 && complete < 57, `${complete} complete pages in the cut file`);
  assert.deepEqual([j.pages, j.skipped], [complete + 1, 1]);
});

test('run --json prints the summaries of the stages done and the error when it fails', async () => {
  const d = tmp();
  const file = join(d, 'cut.xml');
  writeFileSync(file, cuts(sample, 10).noClose);
  const r = await cli(['run', '--dump', file, '--out', join(d, 'out'), '--json']);
  assert.equal(r.code, 1);
  const j = JSON.parse(r.stdout) as { stage: string; error: string; ingest: { pages: number } };
  assert.equal(j.stage, 'run');
  assert.match(j.error, /without closing <\/mediawiki>.*--on-damage skip/);
  assert.equal(j.ingest.pages, 57);
  const ok = await cli(['run', '--dump', file, '--out', join(d, 'out'), '--on-damage', 'skip', '--json']);
  assert.equal(ok.code, 0, ok.stderr);
  const k = JSON.parse(ok.stdout) as { warnings: { stage: string; warning: string }[]; pairs: { pairs: number } };
  assert.ok(k.pairs.pairs > 0);
  assert.deepEqual(k.warnings.filter((w) => w.stage === 'ingest').length, 1);
  // a run that fails after a warning says it with the error
  const late = await cli(['run', '--dump', file, '--out', join(d, 'late'), '--on-damage', 'skip', '--validation', '0.001', '--json']);
  assert.equal(late.code, 1);
  const l = JSON.parse(late.stdout) as { error: string; warnings: { stage: string; warning: string }[]; segment: unknown };
  assert.match(l.error, /--validation 0\.001 held out 0 of \d+ articles/);
  assert.ok(l.segment, 'the stages done before the failure');
  assert.match(l.warnings.find((w) => w.stage === 'ingest')!.warning, /without closing <\/mediawiki>/);
});

test('a real English dump cut inside a page: with --on-damage skip every complete page is in the database, as the whole dump has it', { skip: NO_SHARED }, async () => {
  if (!HAVE_SHARED) return;
  const d = tmp();
  const xml = execFileSync('bzip2', ['-dc', join(SHARED, 'dumps/enwiki-10k.xml.bz2')], { maxBuffer: 1 << 28 }).toString('utf8');
  const { midPage, before } = cuts(xml, 150);
  writeFileSync(join(d, 'cut.xml'), midPage);
  writeFileSync(join(d, 'whole.xml'), xml);
  assert.equal((await cli(['ingest', '--dump', join(d, 'whole.xml'), '--db', join(d, 'w.duckdb')])).code, 0);
  const r = await cli(['ingest', '--dump', join(d, 'cut.xml'), '--db', join(d, 'c.duckdb'), '--on-damage', 'skip']);
  assert.equal(r.code, 0, r.stderr);
  const firstPages = `SELECT md5(string_agg(page_id || ':' || title, ',' ORDER BY seq)) h, count(*)::INT n FROM (SELECT page_id, title, seq FROM pages UNION ALL SELECT page_id, title, seq FROM skipped) WHERE seq < ${before}`;
  assert.deepEqual(await query(join(d, 'c.duckdb'), firstPages), await query(join(d, 'w.duckdb'), firstPages));
  const texts = `SELECT md5(string_agg(text, '|' ORDER BY seq)) h FROM articles WHERE seq < ${before}`;
  assert.deepEqual(await query(join(d, 'c.duckdb'), texts), await query(join(d, 'w.duckdb'), texts));
  assert.equal((await cli(['graph', '--db', join(d, 'c.duckdb')])).code, 0);
});
