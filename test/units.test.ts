/**
 * A planned run (plan → launch/task/resume) makes exactly what `linkbert run` makes: every table of
 * the database (the catalog's views over the units' Parquet) and every shard byte, for any number
 * of workers and any unit size; and stays so through kill -9 at any point of a task or of the
 * launcher.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { cli, HAVE_SHARED, makeMultistream, query, replicateSample, ROOT, SHARED, tmp } from './helpers.ts';

/** A digest of every table and view of a pipeline database but runs (each row, in a fixed order). */
async function dbDigests(db: string): Promise<Record<string, string>> {
  const names = await query<{ t: string }>(db, `SELECT table_name AS t FROM information_schema.tables WHERE table_schema = 'main' AND table_name NOT IN ('runs', 'link_resolution') ORDER BY 1`);
  const out: Record<string, string> = {};
  for (const { t } of names) {
    const [r] = await query<{ d: string }>(db, `SELECT count(*) || ':' || coalesce(md5(string_agg(x::VARCHAR, chr(10) ORDER BY x::VARCHAR)), '') AS d FROM "${t}" x`);
    out[t] = r!.d;
  }
  return out;
}

/** Every file of a shards folder: its SHA-256 (the manifest with the folder's own path taken out). */
function shardDigests(dir: string, base: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const f of readdirSync(dir).sort()) {
    let bytes = readFileSync(join(dir, f));
    if (f === 'manifest.json') bytes = Buffer.from(bytes.toString('utf8').replaceAll(base, 'DIR'));
    out[f] = createHash('sha256').update(bytes).digest('hex');
  }
  return out;
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => statSync(join(dir, f)).isFile()).sort();
}

/** `linkbert run` into DIR, then its outputs moved aside: what a plan into the same DIR must make. */
async function reference(dir: string, flags: string[]): Promise<{ tables: Record<string, string>; shards: Record<string, string> }> {
  const r = await cli(['run', '--out', dir, '--json', ...flags]);
  assert.equal(r.code, 0, r.stderr);
  const ref = { tables: await dbDigests(join(dir, 'linkbert.duckdb')), shards: shardDigests(join(dir, 'shards'), dir) };
  renameSync(dir, `${dir}.run`);
  return ref;
}

/** What the last launch of planned() logged. */
let launchLog = '';

async function planned(dir: string, flags: string[], launches: string[][], env: Record<string, string> = {}): Promise<{ tables: Record<string, string>; shards: Record<string, string> }> {
  const p = await cli(['plan', '--out', dir, '--json', ...flags]);
  assert.equal(p.code, 0, p.stderr);
  for (const l of launches) {
    const r = await cli([...l, '--out', dir, '--json'], env);
    assert.equal(r.code, 0, r.stderr);
    launchLog = r.stderr;
  }
  return { tables: await dbDigests(join(dir, 'linkbert.duckdb')), shards: shardDigests(join(dir, 'shards'), dir) };
}

/** A multistream dump of the sample repeated 6 times (342 pages in streams of 20), with its index. */
function multistreamSample(dir: string): string {
  const dump = join(dir, 'six-multistream.xml.bz2');
  makeMultistream(replicateSample(6), 20, dump, join(dir, 'six-multistream-index.txt.bz2'));
  return dump;
}

test('a plan of a multistream dump, launched with 1 or 3 workers or with units half the size, makes every table and shard byte of `linkbert run` (a validation split and its card included)', async () => {
  const d = tmp();
  const dump = multistreamSample(d);
  // shards of 60 rows: each a unit of its own in the plan
  const flags = ['--dump', dump, '--max-seq-len', '128', '--shard-rows', '60', '--validation', '0.2'];
  const ref = await reference(join(d, 'out'), flags);
  assert.ok(Number(ref.tables.pairs!.split(':')[0]) > 100, 'the sample makes pairs');
  assert.ok(Object.keys(ref.shards).length >= 3, 'several shards (and the manifest)');
  assert.ok(Object.keys(ref.shards).some((f) => f.startsWith('validation-')) && 'README.md' in ref.shards, Object.keys(ref.shards).join(' '));
  const one = await planned(join(d, 'out'), [...flags, '--unit-streams', '6'], [['launch', '--workers', '1']]);
  assert.deepEqual(one, ref);
  const plan = JSON.parse(readFileSync(join(d, 'out/plan.json'), 'utf8')) as { units: unknown[] };
  assert.equal(plan.units.length, 3, '18 page streams in units of 6');
  assert.deepEqual(await planned(join(d, 'w3'), [...flags, '--unit-streams', '6'], [['launch', '--workers', '3']]), { ...ref, shards: shardDigestsAt(d, 'w3', ref) });
  // each worker's tasks bound to a core of their own, where there are two
  const pin = availableParallelism() >= 2 ? ['--pin'] : [];
  assert.deepEqual(await planned(join(d, 'half'), [...flags, '--unit-streams', '3'], [['launch', '--workers', '2', '--threads', '1', ...pin]]), { ...ref, shards: shardDigestsAt(d, 'half', ref) });
  // progress of the page stages in pages per second, with an ETA until the last unit
  assert.match(launchLog, /ingest: unit \d done; 1\/6 units, [\d,]+ pages\/s, ETA \d+ s/);
  assert.match(launchLog, /segment: unit \d done; 6\/6 units, [\d,]+ pages\/s\n/);
  assert.match(launchLog, /shards: unit \d+ done; \d+\/\d+ units, [\d.]+ units\/s, ETA \d+ s/);
});

/** The reference's shard digests, as they read with another folder's path in the manifest. */
function shardDigestsAt(d: string, name: string, ref: { shards: Record<string, string> }): Record<string, string> {
  const m = readFileSync(join(d, 'out.run/shards/manifest.json'), 'utf8').replaceAll(join(d, 'out'), join(d, name));
  return { ...ref.shards, 'manifest.json': createHash('sha256').update(Buffer.from(m.replaceAll(join(d, name), 'DIR'))).digest('hex') };
}

/** A PubMed record (MEDLINE XML) citing `refs`. */
const citation = (pmid: string, title: string, abstract: string, refs: string[], version = 1) =>
  `<PubmedArticle><MedlineCitation Status="MEDLINE"><PMID Version="${version}">${pmid}</PMID><Article><ArticleTitle>${title}</ArticleTitle><Abstract><AbstractText>${abstract}</AbstractText></Abstract></Article></MedlineCitation>` +
  `<PubmedData><ReferenceList>${refs.map((r) => `<Reference><Citation>Ref.</Citation><ArticleIdList><ArticleId IdType="pubmed">${r}</ArticleId></ArticleIdList></Reference>`).join('')}</ReferenceList></PubmedData></PubmedArticle>\n`;

test('several inputs in one plan (a multistream dump, a PubMed folder whose update file replaces and deletes records of the baseline file, JSON Lines, books cut by count) make every table and shard byte of `linkbert run` with the same --dump list', async () => {
  const d = tmp();
  const dump = multistreamSample(d);
  const pubmed = join(d, 'pubmed');
  mkdirSync(pubmed);
  const long = (n: number) => Array.from({ length: 6 }, (_, k) => `Finding ${k} of study ${n} was measured twice in the cohort.`).join(' ');
  const set = (records: string) => `<?xml version="1.0" ?>\n<PubmedArticleSet>\n${records}</PubmedArticleSet>\n`;
  writeFileSync(join(pubmed, 'pubmed26n0001.xml'), set(['201', '202', '203', '204'].map((p) => citation(p, `Study ${p}.`, long(Number(p)), ['201', '202', '203', '204'].filter((x) => x !== p))).join('')));
  writeFileSync(join(pubmed, 'pubmed26n0002.xml'), set(citation('202', 'Study 202, revised.', long(2020), ['204'], 2) + citation('205', 'Study 205.', long(205), ['203', '201']) + '<DeleteCitation><PMID Version="1">203</PMID></DeleteCitation>\n'));
  const jsonl = join(d, 'papers.jsonl');
  writeFileSync(jsonl, Array.from({ length: 12 }, (_, k) => JSON.stringify({ id: `p${k}`, title: `Paper ${k}`, text: long(300 + k), links: [`p${(k + 1) % 12}`, '201'] })).join('\n') + '\n');
  const books = join(d, 'books');
  mkdirSync(books);
  for (const name of ['ash', 'birch', 'cedar', 'elm', 'oak']) writeFileSync(join(books, `${name}.txt`), Array.from({ length: 12 }, (_, k) => `In the ${name} book, chapter ${k}, the traveller walked on. ${long(k)}`).join('\n\n'));
  const flags = ['--dump', dump, '--dump', pubmed, '--dump', jsonl, '--dump', books, '--max-seq-len', '128', '--shard-rows', '150'];
  const ref = await reference(join(d, 'out'), flags);
  const got = await planned(join(d, 'out'), [...flags, '--unit-streams', '6', '--unit-books', '2'], [['launch', '--workers', '2']]);
  assert.deepEqual(got, ref);
  const plan = JSON.parse(readFileSync(join(d, 'out/plan.json'), 'utf8')) as { inputs: unknown[]; units: { input: number }[] };
  assert.equal(plan.inputs.length, 5, 'the dump, two PubMed files, the JSON Lines, the books');
  assert.deepEqual(plan.units.map((u) => u.input), [0, 0, 0, 1, 2, 3, 4, 4, 4], '18 streams by 6, a unit per file, 5 books by 2');
  // the update's revision stands in the baseline's place, its deletion is gone
  const db = join(d, 'out/linkbert.duckdb');
  assert.deepEqual(await query(db, `SELECT norm_title, title FROM pages WHERE norm_title IN ('201', '202', '203', '205') ORDER BY seq`), [
    { norm_title: '201', title: 'Study 201.' },
    { norm_title: '202', title: 'Study 202, revised.' },
    { norm_title: '205', title: 'Study 205.' },
  ]);
  // and so reads `linkbert sql` (the catalog's views over the units' Parquet)
  const sql = await cli(['sql', '--db', db, '--format', 'csv', "SELECT norm_title FROM pages WHERE norm_title IN ('202', '203')"]);
  assert.equal(sql.code, 0, sql.stderr);
  assert.equal(sql.stdout.trim().split('\n').slice(1).join(' '), '202');
  // units of one input with another W and another cut of the books: the same
  assert.deepEqual(await planned(join(d, 'w3'), [...flags, '--unit-streams', '3', '--unit-books', '3'], [['launch', '--workers', '3']]), { ...ref, shards: shardDigestsAt(d, 'w3', ref) });
});

test('kill -9 of a task after its temporary file and before the rename, after the rename and before its marker, and of the launcher: resume with another W gives the same output, no duplicate rows, no temporary file', async () => {
  const d = tmp();
  const dump = multistreamSample(d);
  const flags = ['--dump', dump, '--max-seq-len', '128'];
  const ref = await reference(join(d, 'out'), flags);
  flags.push('--unit-streams', '4');
  for (const point of ['before-rename', 'before-marker']) {
    const dir = join(d, point);
    const got = await planned(dir, flags, [['launch', '--workers', '2']], { LINKBERT_CRASH: `${point}:${join(d, `${point}.crashed`)}` });
    assert.ok(existsSync(join(d, `${point}.crashed`)), `a task was killed ${point}`);
    assert.deepEqual(got.tables, ref.tables, point);
    assert.deepEqual(Object.keys(got.shards), Object.keys(ref.shards));
    assert.deepEqual(filesUnder(dir).filter((f) => /\.tmp-/.test(f)), [], `${point}: no temporary file left`);
  }
  // the launcher killed once the first ingest unit is done; its tasks may still be at work
  const dir = join(d, 'launcher');
  assert.equal((await cli(['plan', '--out', dir, ...flags])).code, 0);
  const launcher = spawn(process.execPath, [join(ROOT, 'bin/linkbert.js'), 'launch', '--out', dir, '--workers', '2'], { stdio: 'ignore' });
  const deadline = Date.now() + 60_000;
  while (!existsSync(join(dir, 'tasks/ingest/done')) || !readdirSync(join(dir, 'tasks/ingest/done')).length) {
    assert.ok(Date.now() < deadline, 'a unit is done within a minute');
    await new Promise((r) => setTimeout(r, 50));
  }
  launcher.kill('SIGKILL');
  await new Promise((r) => launcher.on('close', r));
  const status = await cli(['status', '--out', dir, '--json']);
  assert.equal(status.code, 0, status.stderr);
  const st = JSON.parse(status.stdout) as { complete: boolean; progress: { ingest: { pages_done: number; pages: number; pages_per_s: number } | null } };
  assert.equal(st.complete, false);
  // the pages the done ingest units hold, of the index's 342, and the rate so far
  assert.ok(st.progress.ingest && st.progress.ingest.pages === 342 && st.progress.ingest.pages_done > 0 && st.progress.ingest.pages_per_s > 0, JSON.stringify(st.progress));
  const r = await cli(['resume', '--out', dir, '--workers', '3']);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(await dbDigests(join(dir, 'linkbert.duckdb')), ref.tables);
  const pages = await query<{ n: number; d: number }>(join(dir, 'linkbert.duckdb'), 'SELECT count(*)::INTEGER AS n, count(DISTINCT seq)::INTEGER AS d FROM pages');
  assert.equal(pages[0]!.n, pages[0]!.d, 'no page twice');
  assert.deepEqual(filesUnder(dir).filter((f) => /\.tmp-/.test(f)), [], 'no temporary file left');
});

test('a plan with other settings in the same folder is refused, saying what differs, and deletes nothing; status names a failed unit with its error', async () => {
  const d = tmp();
  const dump = multistreamSample(d);
  const dir = join(d, 'out');
  assert.equal((await cli(['plan', '--out', dir, '--dump', dump, '--max-seq-len', '128', '--unit-streams', '6'])).code, 0);
  assert.equal((await cli(['launch', '--out', dir, '--workers', '2'])).code, 0);
  const before = filesUnder(dir).map((f) => `${f} ${statSync(join(dir, f)).mtimeMs}`);
  const base = ['plan', '--out', dir, '--dump', dump, '--max-seq-len', '128'];
  for (const [other, says] of [
    [['--unit-streams', '6', '--seed', '7'], /--seed 12345 against 7/],
    [['--unit-streams', '3'], /the units \(3 against 6/],
    [['--unit-streams', '6', '--tokenizer', join(d, 'vocab.txt')], /--tokenizer null against/],
  ] as [string[], RegExp][]) {
    const r = await cli([...base, ...other]);
    assert.equal(r.code, 1, other.join(' '));
    assert.match(r.stderr, /holds a plan with other settings: /);
    assert.match(r.stderr, says);
  }
  // a resume that names a setting: the plan's goes on, another is refused
  const same = await cli(['resume', '--out', dir, '--seed', '12345', '--max-seq-len', '128']);
  assert.equal(same.code, 0, same.stderr);
  for (const [other, says] of [
    [['--seed', '7'], /--seed 7 \(the plan's is 12345\)/],
    [['--tokenizer', join(d, 'vocab.txt')], /--tokenizer ".*vocab\.txt" \(the plan's is null\)/],
    [['--dump', join(d, 'six-multistream.xml.bz2'), '--dump', join(d, 'six-multistream.xml.bz2')], /--dump .* \+ .* \(the plan reads /],
  ] as [string[], RegExp][]) {
    const r = await cli(['resume', '--out', dir, ...other]);
    assert.equal(r.code, 1, other.join(' '));
    assert.match(r.stderr, /holds a plan with other settings than /);
    assert.match(r.stderr, says);
  }
  // more workers bound to cores than there are cores: refused before anything runs
  const pinned = await cli(['resume', '--out', dir, '--workers', String(availableParallelism() + 1), '--threads', '1', '--pin']);
  assert.equal(pinned.code, 1);
  assert.match(pinned.stderr, new RegExp(`--pin: ${availableParallelism() + 1} workers of 1 thread\\(s\\) need ${availableParallelism() + 1} cores, and this machine has ${availableParallelism()}`));
  assert.deepEqual(filesUnder(dir).map((f) => `${f} ${statSync(join(dir, f)).mtimeMs}`), before, 'nothing changed');
  // a folder of the user's is not taken for a plan
  const users = join(d, 'users');
  mkdirSync(users);
  writeFileSync(join(users, 'notes.txt'), 'mine');
  const taken = await cli([...base.slice(0, 2), users, ...base.slice(3)]);
  assert.equal(taken.code, 1);
  assert.match(taken.stderr, /holds files that are not a plan's \(notes\.txt\)/);
  assert.equal(readFileSync(join(users, 'notes.txt'), 'utf8'), 'mine');
  // the catalog reads as any pipeline database through linkbert sql: named queries, the units' tables
  // (its views read their Parquet files, and nothing else may be read or written)
  const q = await cli(['sql', '--db', join(dir, 'linkbert.duckdb'), '--query', 'top-in-degree', '--format', 'json']);
  assert.equal(q.code, 0, q.stderr);
  assert.ok((JSON.parse(q.stdout) as unknown[]).length > 0);
  const pages = await cli(['sql', '--db', join(dir, 'linkbert.duckdb'), '--format', 'json', 'SELECT count(*) AS n, count(DISTINCT seq) AS d FROM pages']);
  assert.equal(pages.code, 0, pages.stderr);
  assert.deepEqual(JSON.parse(pages.stdout), [{ n: 342, d: 342 }]);
  const write = await cli(['sql', '--db', join(dir, 'linkbert.duckdb'), `COPY (SELECT 1) TO '${join(dir, 'ingest/pages/x.csv')}'`]);
  assert.equal(write.code, 1);
  assert.match(write.stderr, /Permission Error/);
  // the same plan again: kept, and a resume finds nothing to do
  assert.equal((await cli(['plan', '--out', dir, '--dump', dump, '--max-seq-len', '128', '--unit-streams', '6'])).code, 0);
  const again = await cli(['resume', '--out', dir, '--json']);
  assert.equal(again.code, 0, again.stderr);
  assert.ok(Object.values((JSON.parse(again.stdout) as { units: Record<string, { ran: number }> }).units).every((u) => u.ran === 0));
  // a unit that fails: its error in status
  const bad = join(d, 'bad');
  assert.equal((await cli(['plan', '--out', bad, '--dump', dump, '--max-seq-len', '128', '--tokenizer', join(d, 'no-such-tokenizer')])).code, 0);
  const r = await cli(['launch', '--out', bad]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /segment unit 0 failed: .*no-such-tokenizer/);
  const st = await cli(['status', '--out', bad]);
  assert.match(st.stdout, /segment unit 0 failed: .*no-such-tokenizer/);
  assert.match(st.stdout, /ingest\s+1\/1 done/);
});

test('the akwiki multistream dump planned in units of 4 streams, 3 workers: the tables and shards of `linkbert run`', { skip: HAVE_SHARED ? false : '../shared/fixtures is absent (a fresh clone): skipping the shared dump' }, async () => {
  const d = tmp();
  const flags = ['--dump', join(SHARED, 'dumps/akwiki-20230301-pages-articles-multistream.xml.bz2'), '--tokenizer', join(SHARED, 'tokenizer/bert-base-cased-tokenizer.json')];
  const ref = await reference(join(d, 'out'), flags);
  const got = await planned(join(d, 'out'), [...flags, '--unit-streams', '4'], [['launch', '--workers', '3']]);
  assert.deepEqual(got, ref);
  assert.equal((JSON.parse(readFileSync(join(d, 'out/plan.json'), 'utf8')) as { units: unknown[] }).units.length, 4, '13 page streams');
});

test('a 6,000-page bench dump with its index (make-bench-dump --multistream): 1 and 3 workers, and units half the size, make the tables and shards of `linkbert run`', { skip: existsSync(join(SHARED, '../tools/make-bench-dump')) ? false : '../shared/tools is absent (a fresh clone): skipping the bench dump' }, async () => {
  const d = tmp();
  const dump = join(d, 'bench-6000-multistream.xml.bz2');
  const made = spawnSync('python3', [join(SHARED, '../tools/make-bench-dump'), '--pages', '6000', '--multistream', '--out', dump], { stdio: 'ignore' });
  assert.equal(made.status, 0, 'make-bench-dump');
  const flags = ['--dump', dump, '--tokenizer', join(SHARED, 'tokenizer/bert-base-cased-vocab.txt'), '--max-seq-len', '128', '--shard-rows', '20000'];
  const ref = await reference(join(d, 'out'), flags);
  assert.ok(Object.keys(ref.shards).length >= 3, 'several shards');
  assert.deepEqual(await planned(join(d, 'out'), [...flags, '--unit-streams', '10'], [['launch', '--workers', '1']]), ref);
  assert.deepEqual(await planned(join(d, 'w3'), [...flags, '--unit-streams', '10'], [['launch', '--workers', '3']]), { ...ref, shards: shardDigestsAt(d, 'w3', ref) });
  assert.deepEqual(await planned(join(d, 'half'), [...flags, '--unit-streams', '5'], [['launch', '--workers', '2']]), { ...ref, shards: shardDigestsAt(d, 'half', ref) });
});
