import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { graph } from '../src/graph/graph.ts';
import { ingest } from '../src/ingest/ingest.ts';
import { bzip2, cli, dumpXml, makeMultistream, namespaceCounts, query, replicateSample, ROOT, SAMPLE, sorted, tableDigests, tmp, userDb } from './helpers.ts';

const sampleXml = readFileSync(SAMPLE, 'utf8');

test('the sample: every page counted by namespace, articles, redirects, links', async () => {
  const db = join(tmp(), 's.duckdb');
  const s = await ingest({ dump: SAMPLE, db, workers: 2 });
  assert.equal(s.pages, 57);
  assert.deepEqual(sorted(s.namespaces), sorted(namespaceCounts(sampleXml)));
  assert.equal(s.articles, 42);
  assert.equal(s.redirects, 8);
  assert.equal(s.disambiguations, 1);
  assert.equal(s.skipped, 0);
  const [c] = await query<Record<string, number>>(db, `SELECT (SELECT count(*) FROM pages)::INT p, (SELECT count(*) FROM links)::INT l, (SELECT count(*) FROM articles WHERE disambiguation)::INT d`);
  assert.deepEqual(c, { p: 57, l: s.links, d: 1 });
  const kinds = await query<{ title: string; kind: string }>(db, `SELECT title, kind FROM pages WHERE title IN ('Kestrel Isles', 'Wikipedia:About', 'Port Wren')`);
  assert.deepEqual(Object.fromEntries(kinds.map((k) => [k.title, k.kind])), { 'Kestrel Isles': 'redirect', 'Wikipedia:About': 'other', 'Port Wren': 'article' });
});

test('every link with an offset has its anchor there in the stored text (checked in SQL)', async () => {
  const db = join(tmp(), 's.duckdb');
  await ingest({ dump: SAMPLE, db });
  const [r] = await query<Record<string, number>>(
    db,
    `SELECT count(*)::INT total, count("offset")::INT placed,
            count(*) FILTER ("offset" IS NOT NULL AND substr(a.text, "offset" + 1, length(anchor)) <> anchor)::INT wrong
     FROM links l JOIN articles a ON a.seq = l.src`,
  );
  assert.equal(r!.wrong, 0);
  assert.ok(r!.placed! / r!.total! > 0.9, `${r!.placed}/${r!.total} placed`);
  // text-origin links that found no place: only those in left-out sections ("See also" etc.)
  const lost = await query(db, `SELECT * FROM links WHERE origin = 'text' AND "offset" IS NULL`);
  assert.deepEqual(lost, []);
});

test('links are normalised and resolved to what the wikitext says, quirks included', async () => {
  const db = join(tmp(), 's.duckdb');
  await ingest({ dump: SAMPLE, db });
  const rows = await query<{ src: string; target: string; fragment: string | null; anchor: string; origin: string }>(
    db,
    `SELECT a.title AS src, target, fragment, anchor, origin FROM links l JOIN articles a ON a.seq = l.src
     WHERE (a.title, l.anchor) IN (('Greyhaven', 'Q line'), ('Kestrel Sea', 'port Wren'), ('Port Wren', 'history'),
       ('Storm of 1887', 'harbour wall of Port Wren'), ('Port Wren Museum', 'towns'), ('Kestrel Islands', 'Port Wren'))
     ORDER BY src, anchor, origin`,
  );
  assert.deepEqual(rows, [
    { src: 'Greyhaven', target: 'Q', fragment: null, anchor: 'Q line', origin: 'text' },
    { src: 'Kestrel Islands', target: 'Port Wren', fragment: null, anchor: 'Port Wren', origin: 'infobox' },
    { src: 'Kestrel Islands', target: 'Port Wren', fragment: null, anchor: 'Port Wren', origin: 'text' },
    { src: 'Kestrel Islands', target: 'Port Wren', fragment: null, anchor: 'Port Wren', origin: 'text' },
    { src: 'Kestrel Islands', target: 'Port Wren', fragment: null, anchor: 'Port Wren', origin: 'text' },
    { src: 'Kestrel Sea', target: 'Port Wren', fragment: null, anchor: 'port Wren', origin: 'text' },
    { src: 'Port Wren', target: 'Port Wren', fragment: 'History', anchor: 'history', origin: 'text' },
    { src: 'Port Wren Museum', target: 'Category:Towns of the Kestrel Islands', fragment: null, anchor: 'towns', origin: 'text' },
    { src: 'Storm of 1887', target: 'Port Wren', fragment: 'History', anchor: 'harbour wall of Port Wren', origin: 'text' },
  ]);
  const redirects = await query(db, `SELECT title, target, source FROM redirects WHERE title IN ('Old Port', 'Kestrel Isles') ORDER BY title`);
  assert.deepEqual(redirects, [
    { title: 'Kestrel Isles', target: 'Kestrel Islands', source: 'text' },
    { title: 'Old Port', target: 'Wren Harbour', source: 'element' },
  ]);
});

test('sentences are recoverable from the stored offsets (the sentences view)', async () => {
  const db = join(tmp(), 's.duckdb');
  await ingest({ dump: SAMPLE, db });
  const rows = await query<{ idx: number; paragraph: number; text: string }>(db, `SELECT idx, paragraph, s.text FROM sentences s JOIN articles a ON a.seq = s.article WHERE a.title = 'Oatcake' ORDER BY idx`);
  assert.deepEqual(rows.map((r) => r.paragraph), [0, 0, 1, 1]);
  assert.equal(rows[0]!.text, 'An oatcake is a flat biscuit made of oatmeal, water, salt and a little fat.');
  assert.equal(rows[2]!.text, 'They keep for weeks, and fishermen carried them to sea.');
});

test('same rows whatever the worker count; a rerun is idempotent', async () => {
  const d = tmp();
  const a = await ingest({ dump: SAMPLE, db: join(d, 'a.duckdb'), workers: 1 });
  const b = await ingest({ dump: SAMPLE, db: join(d, 'b.duckdb'), workers: 3 });
  assert.deepEqual(await tableDigests(join(d, 'a.duckdb')), await tableDigests(join(d, 'b.duckdb')));
  const again = await ingest({ dump: SAMPLE, db: join(d, 'b.duckdb'), workers: 2 });
  assert.equal(again.already_done, true);
  assert.equal(again.links, b.links);
  const forced = await ingest({ dump: SAMPLE, db: join(d, 'b.duckdb'), force: true });
  assert.equal(forced.already_done, false);
  assert.deepEqual(await tableDigests(join(d, 'a.duckdb')), await tableDigests(join(d, 'b.duckdb')));
  assert.equal(a.links, forced.links);
});

test('a DB holding another dump is not overwritten without --force', async () => {
  const d = tmp();
  const other = join(d, 'other.xml');
  writeFileSync(other, sampleXml.replace('Sample Wiki', 'Other Wiki'));
  const db = join(d, 'x.duckdb');
  await ingest({ dump: SAMPLE, db });
  await assert.rejects(ingest({ dump: other, db }), /already holds .*samplewiki\.xml.*--force/);
  const s = await ingest({ dump: other, db, force: true });
  assert.equal(s.pages, 57);
  assert.deepEqual(readdirSync(d).sort(), ['other.xml', 'x.duckdb'], 'the replacement was moved in, nothing left beside it');
});

test('the summary keeps the dump path as given (relative stays relative), its size and SHA-256', async () => {
  const { relative } = await import('node:path');
  const { createHash } = await import('node:crypto');
  const given = relative(process.cwd(), SAMPLE);
  const s = await ingest({ dump: given, db: join(tmp(), 'r.duckdb') });
  assert.equal(s.dump, given);
  assert.ok(!given.startsWith('/'));
  assert.equal(s.dump_bytes, Buffer.byteLength(sampleXml));
  assert.equal(s.dump_sha256, createHash('sha256').update(sampleXml).digest('hex'));
});

test('--keep-lists keeps list items; the choice is recorded, and a DB is not resumed or reused the other way', async () => {
  const d = tmp();
  const db = join(d, 'l.duckdb');
  const plain = await ingest({ dump: SAMPLE, db });
  const text = async () => (await query<{ t: string }>(db, `SELECT string_agg(text, chr(10) ORDER BY seq) AS t FROM articles`))[0]!.t;
  const [{ n }] = (await query<{ n: number }>(db, `SELECT count(*)::INT n FROM links WHERE origin = 'list' AND "offset" IS NULL`)) as [{ n: number }];
  assert.ok(n > 0, 'links of list items are kept, origin list');
  const without = await text();
  await assert.rejects(ingest({ dump: SAMPLE, db, keepLists: true }), /ingested without --keep-lists.*--force/);
  const kept = await ingest({ dump: SAMPLE, db, keepLists: true, force: true });
  assert.equal(kept.links, plain.links, 'the same links either way');
  const withLists = await text();
  assert.ok(withLists.length > without.length);
  const [run] = await query<{ s: string }>(db, `SELECT settings::VARCHAR AS s FROM runs WHERE stage = 'ingest'`);
  assert.equal(JSON.parse(run!.s).keep_lists, true);
  assert.equal((await ingest({ dump: SAMPLE, db, keepLists: true })).already_done, true);
});

test('ingest never wipes a DuckDB file it did not make: refused without --force, replaced with it', async () => {
  const d = tmp();
  const db = join(d, 'mywork.duckdb');
  await userDb(db, 'CREATE TABLE experiments AS SELECT 42 AS answer');
  await assert.rejects(ingest({ dump: SAMPLE, db }), /mywork\.duckdb is not a linkbert-pipeline database \(it holds experiments\); choose another --db, or pass --force/);
  const r = await cli(['ingest', '--dump', SAMPLE, '--db', db]);
  assert.equal(r.code, 1);
  assert.deepEqual(await query(db, 'SELECT answer FROM experiments'), [{ answer: 42 }], 'the user table is still there');
  const s = await ingest({ dump: SAMPLE, db, force: true });
  assert.equal(s.pages, 57);
  assert.equal(s.db, db);
});

test('--force keeps the old database until the new input has proved to be a dump (empty file, a README)', async () => {
  const d = tmp();
  const db = join(d, 'p.duckdb');
  await ingest({ dump: SAMPLE, db });
  await graph({ db });
  const before = await tableDigests(db);
  const edges = await query(db, 'SELECT count(*)::INT n FROM edges');
  writeFileSync(join(d, 'empty.xml'), '');
  for (const bad of [join(d, 'empty.xml'), join(ROOT, 'README.md')]) {
    await assert.rejects(ingest({ dump: bad, db, force: true }), /is left as it was/);
    assert.deepEqual(await tableDigests(db), before, bad);
    assert.deepEqual(readdirSync(d).sort(), ['empty.xml', 'p.duckdb'], 'no replacement left behind');
  }
  assert.deepEqual(await query(db, 'SELECT count(*)::INT n FROM edges'), edges, 'what graph made is kept too');
});

test('an input that is not a dump says so, and leaves no database behind', async () => {
  const d = tmp();
  writeFileSync(join(d, 'foo.xml'), '<foo/>\n');
  const r = await cli(['ingest', '--dump', join(ROOT, 'README.md'), '--db', join(d, 'n.duckdb')]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /README\.md is not a MediaWiki XML dump: malformed XML at line \d+, column \d+: .*\(no database was made\)/);
  assert.doesNotMatch(r.stderr, /resume/);
  await assert.rejects(ingest({ dump: join(d, 'foo.xml'), db: join(d, 'n.duckdb') }), /foo\.xml: not a MediaWiki XML dump \(its root element is <foo>\)/);
  assert.deepEqual(readdirSync(d), ['foo.xml']);
});

test('a multistream dump read through its index gives the same rows as read whole', async () => {
  const d = tmp();
  makeMultistream(sampleXml, 4, join(d, 'w-multistream.xml.bz2'), join(d, 'w-multistream-index.txt.bz2'));
  const viaIndex = await ingest({ dump: join(d, 'w-multistream.xml.bz2'), db: join(d, 'i.duckdb') });
  assert.match(viaIndex.multistream_index ?? '', /w-multistream-index\.txt\.bz2$/);
  const whole = await ingest({ dump: join(d, 'w-multistream.xml.bz2'), db: join(d, 'w.duckdb'), index: null });
  assert.equal(whole.multistream_index, null);
  const plain = await ingest({ dump: SAMPLE, db: join(d, 'p.duckdb') });
  assert.deepEqual(await tableDigests(join(d, 'i.duckdb')), await tableDigests(join(d, 'w.duckdb')));
  assert.deepEqual(await tableDigests(join(d, 'i.duckdb')), await tableDigests(join(d, 'p.duckdb')));
  assert.equal(viaIndex.links, plain.links);
});

/** A multistream dump of the sample (4 pages a stream) with a byte flipped inside page stream k. */
function damagedMultistream(d: string, k: number | 'last'): { dump: string; offsets: number[]; start: number; end: number } {
  const dump = join(d, 'd-multistream.xml.bz2');
  makeMultistream(sampleXml, 4, dump, join(d, 'd-multistream-index.txt.bz2'));
  const index = spawnSync('bzip2', ['-dc', join(d, 'd-multistream-index.txt.bz2')], { encoding: 'utf8' }).stdout;
  const offsets = [...new Set(index.trim().split('\n').map((l) => Number(l.split(':')[0])))];
  const bytes = readFileSync(dump);
  const s = k === 'last' ? offsets.length - 1 : k;
  const start = offsets[s]!;
  const end = s + 1 < offsets.length ? offsets[s + 1]! : bytes.length;
  const at = start + Math.floor((Math.min(end, start + 400) - start) / 2); // inside its first block
  bytes[at] = bytes[at]! ^ 0x55;
  writeFileSync(dump, bytes);
  return { dump, offsets, start, end };
}

test('a damaged stream of a multistream dump: stop keeps the pages before it; --on-damage skip counts its pages and reads on', async () => {
  const d = tmp();
  const { dump, offsets, start, end } = damagedMultistream(d, 3); // pages 12–15
  const clean = await ingest({ dump: SAMPLE, db: join(d, 'clean.duckdb') });

  // stop (the default): an error naming the file and the stream's bytes; the 12 pages before it kept
  const stopped = await cli(['ingest', '--dump', dump, '--db', join(d, 'stop.duckdb'), '--json']);
  assert.equal(stopped.code, 1, stopped.stderr);
  assert.match(stopped.stderr, new RegExp(`d-multistream\\.xml\\.bz2 \\(bytes ${start}–${end}\\): bz2 data damaged`));
  assert.deepEqual(await query(join(d, 'stop.duckdb'), `SELECT count(*)::INTEGER AS n, max(seq) AS last FROM pages`), [{ n: 12, last: 11 }]);

  // skip: every other page as a clean ingest has it; the stream's four pages skipped with their ids and titles from the index
  const r = await cli(['ingest', '--dump', dump, '--db', join(d, 'skip.duckdb'), '--on-damage', 'skip', '--json']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /skipping 4 pages of a damaged bz2 stream/);
  const s = JSON.parse(r.stdout);
  assert.equal(s.pages, clean.pages);
  assert.deepEqual(s.skipped_reasons, { [`damaged bz2 stream (bytes ${start}–${end})`]: 4 });
  const cols = 'seq, page_id, ns, title, norm_title, rev_id, kind, text_bytes';
  const kept = await query(join(d, 'clean.duckdb'), `SELECT ${cols} FROM pages WHERE seq NOT BETWEEN 12 AND 15 ORDER BY seq`);
  assert.deepEqual(await query(join(d, 'skip.duckdb'), `SELECT ${cols} FROM pages ORDER BY seq`), kept);
  assert.deepEqual(
    await query(join(d, 'skip.duckdb'), `SELECT seq, page_id, ns, title, line FROM skipped ORDER BY seq`),
    (await query<{ seq: number; page_id: bigint; ns: number; title: string }>(join(d, 'clean.duckdb'), `SELECT seq, page_id, ns, title FROM pages WHERE seq BETWEEN 12 AND 15 ORDER BY seq`)).map((p) => ({ ...p, line: null })),
  );
  const text = `SELECT a.seq, a.text, a.sent_start FROM articles a WHERE a.seq NOT BETWEEN 12 AND 15 ORDER BY a.seq`;
  assert.deepEqual(await query(join(d, 'skip.duckdb'), text), await query(join(d, 'clean.duckdb'), text));
  assert.deepEqual(await query(join(d, 'skip.duckdb'), `SELECT status FROM runs WHERE stage = 'ingest'`), [{ status: 'done' }]);
  assert.ok(offsets.length > 5);

  // the last page stream (it holds the closing tag too)
  const d2 = tmp();
  const last = damagedMultistream(d2, 'last');
  const r2 = await cli(['ingest', '--dump', last.dump, '--db', join(d2, 'skip.duckdb'), '--on-damage', 'skip', '--json']);
  assert.equal(r2.code, 0, r2.stderr);
  assert.equal(JSON.parse(r2.stdout).pages, clean.pages);
  assert.equal(JSON.parse(r2.stdout).skipped, clean.pages - 4 * (last.offsets.length - 1));

  // damage in the block that holds the dump's header (siteinfo): nothing can be read past it, and it says so
  const one = join(d, 'one.xml.bz2');
  const b = bzip2(sampleXml); // one block
  const mid = Math.floor(b.length / 2);
  b[mid] = b[mid]! ^ 0x55;
  writeFileSync(one, b);
  const r3 = await cli(['ingest', '--dump', one, '--db', join(d, 'one.duckdb'), '--on-damage', 'skip']);
  assert.equal(r3.code, 1);
  assert.match(r3.stderr, /one\.xml\.bz2 \(bytes \d+–\d+\): bz2 data damaged .*\(inside the dump's header: nothing can be read without it\)/);
  assert.match((await cli(['ingest', '--dump', one, '--db', join(d, 'x.duckdb'), '--on-damage', 'maybe'])).stderr, /--on-damage must be stop or skip, not 'maybe'/);
});

test('a fragment cut out of a dump (starting inside a page, no <mediawiki> around it): an error, or with --on-damage skip its whole pages', async () => {
  const d = tmp();
  const starts = [...sampleXml.matchAll(/ {2}<page>/g)].map((m) => m.index!);
  const fragment = join(d, 'fragment.xml');
  writeFileSync(fragment, sampleXml.slice(starts[2]! + 5, starts[12]!)); // from inside the third page to the end of the twelfth
  const stopped = await cli(['ingest', '--dump', fragment, '--db', join(d, 'stop.duckdb')]);
  assert.equal(stopped.code, 1);
  assert.match(stopped.stderr, /fragment\.xml.*: the file starts inside a page \(a <\/page> at line \d+ comes before any <page>\).*--on-damage skip/);
  // whole pages, but no <mediawiki> around them: still an error without skip (every page kept)
  const rootless = join(d, 'rootless.xml');
  writeFileSync(rootless, sampleXml.slice(starts[3]!, starts[12]!));
  const r0 = await cli(['ingest', '--dump', rootless, '--db', join(d, 'rootless.duckdb')]);
  assert.equal(r0.code, 1);
  assert.match(r0.stderr, /rootless\.xml: its pages stand in no <mediawiki> element/);

  const r = await cli(['ingest', '--dump', fragment, '--db', join(d, 'skip.duckdb'), '--on-damage', 'skip', '--json']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /passing over lines 1–\d+, the end of a page cut at its start/);
  await ingest({ dump: SAMPLE, db: join(d, 'clean.duckdb') });
  const titles = `SELECT title, kind, text_bytes FROM pages ORDER BY seq`;
  const expected = (await query(join(d, 'clean.duckdb'), titles)).slice(3, 12);
  assert.deepEqual(await query(join(d, 'skip.duckdb'), titles), expected);
  const r2 = await cli(['ingest', '--dump', rootless, '--db', join(d, 'rootless2.duckdb'), '--on-damage', 'skip', '--json']);
  assert.equal(r2.code, 0, r2.stderr);
  assert.deepEqual(await query(join(d, 'rootless2.duckdb'), titles), expected);
});

test('--on-damage skip reads a single-stream bz2 dump block by block: a damaged block is left out, the page it cuts counted, the rest read', async () => {
  const d = tmp();
  const comp = spawnSync('bzip2', ['-1', '-c'], { input: replicateSample(12), maxBuffer: 1 << 30 }).stdout as Buffer; // blocks of 100k
  writeFileSync(join(d, 'clean.xml.bz2'), comp);
  const bad = Buffer.from(comp);
  const at = Math.floor(bad.length * 0.45);
  bad[at] = bad[at]! ^ 0x55;
  const dump = join(d, 'one.xml.bz2');
  writeFileSync(dump, bad);
  // undamaged, read block by block: the same rows as read whole
  await ingest({ dump: join(d, 'clean.xml.bz2'), db: join(d, 'c1.duckdb') });
  await ingest({ dump: join(d, 'clean.xml.bz2'), db: join(d, 'c2.duckdb'), onDamage: 'skip' });
  assert.deepEqual(await tableDigests(join(d, 'c2.duckdb')), await tableDigests(join(d, 'c1.duckdb')));
  const clean = await query<{ title: string; text: string }>(join(d, 'c1.duckdb'), `SELECT p.title, a.text FROM pages p LEFT JOIN articles a USING (seq) ORDER BY p.seq`);

  const stopped = await cli(['ingest', '--dump', dump, '--db', join(d, 'stop.duckdb')]);
  assert.equal(stopped.code, 1);
  assert.match(stopped.stderr, /one\.xml\.bz2: bz2 data damaged after \d+ decompressed bytes/);
  for (const tool of ['lbzip2', 'js']) {
    const db = join(d, `skip-${tool}.duckdb`);
    const r = await cli(['ingest', '--dump', dump, '--db', db, '--on-damage', 'skip', '--json'], { LINKBERT_BUNZIP: tool });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /leaving out a damaged bz2 block/);
    const skipped = await query<{ title: string | null; reason: string }>(db, `SELECT title, reason FROM skipped`);
    assert.equal(skipped.length, 1);
    assert.match(skipped[0]!.reason, /^damaged bz2 block \(bytes \d+–\d+\): this page and any wholly inside the block are lost$/);
    // every page kept is the clean one, in order; the lost ones are one run, the first of them the page counted
    const kept = await query<{ title: string; text: string }>(db, `SELECT p.title, a.text FROM pages p LEFT JOIN articles a USING (seq) ORDER BY p.seq`);
    let i = 0;
    while (i < kept.length && kept[i]!.title === clean[i]!.title) i++;
    const lost = clean.length - kept.length;
    assert.ok(lost >= 1 && lost < clean.length / 2, `lost ${lost}`);
    assert.deepEqual(kept.slice(i), clean.slice(i + lost), 'the pages after the damaged block');
    assert.deepEqual(kept.slice(0, i), clean.slice(0, i));
    if (skipped[0]!.title !== null) assert.equal(skipped[0]!.title, clean[i]!.title);
    assert.deepEqual(await query(db, `SELECT status FROM runs WHERE stage = 'ingest'`), [{ status: 'done' }]);
  }
});

/** Runs ingest in a child, SIGKILLs it after `commits` committed batches, then finishes the run. */
async function killAndResume(dump: string, db: string, commits: number, extra: string[] = [], signal: NodeJS.Signals = 'SIGKILL') {
  const child = spawn(process.execPath, [join(ROOT, 'bin/linkbert.js'), 'ingest', '--dump', dump, '--db', db, '--batch-pages', '40', '--verbose', ...extra]);
  let seen = 0;
  let stderr = '';
  const killed = await new Promise<boolean>((resolve) => {
    child.stderr.on('data', (b: Buffer) => {
      stderr += b;
      seen = (stderr.match(/committed pages below/g) ?? []).length;
      if (seen >= commits && child.exitCode === null && !child.killed) {
        child.kill(signal);
        resolve(true);
      }
    });
    child.on('close', () => resolve(false));
  });
  const code = child.exitCode ?? (await new Promise((r) => child.on('close', r)));
  assert.ok(killed, `the run ended before ${commits} commits:\n${stderr}`);
  if (signal === 'SIGINT') {
    assert.equal(code, 130, stderr);
    assert.match(stderr, /linkbert ingest: interrupted \(SIGINT\); rerun the same command to resume/);
    assert.deepEqual(await query(db, `SELECT status FROM runs WHERE stage = 'ingest'`), [{ status: 'interrupted' }]);
  }
  return cli(['ingest', '--dump', dump, '--db', db, '--json', ...extra]);
}

test('Ctrl-C records the run as interrupted (exit 130); the rerun resumes to the rows of an uninterrupted run', async () => {
  const d = tmp();
  const dump = join(d, 'big.xml');
  writeFileSync(dump, replicateSample(12));
  const resumed = await killAndResume(dump, join(d, 'i.duckdb'), 3, [], 'SIGINT');
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.equal(JSON.parse(resumed.stdout).pages, 684);
  await ingest({ dump, db: join(d, 'u.duckdb') });
  assert.deepEqual(await tableDigests(join(d, 'i.duckdb')), await tableDigests(join(d, 'u.duckdb')));
  assert.deepEqual(await query(join(d, 'i.duckdb'), `SELECT status FROM runs WHERE stage = 'ingest'`), [{ status: 'done' }]);
});

test('a run killed half way and started again ends with exactly the rows of an uninterrupted run', async () => {
  const d = tmp();
  const dump = join(d, 'big.xml');
  writeFileSync(dump, replicateSample(12)); // 684 pages
  const resumed = await killAndResume(dump, join(d, 'k.duckdb'), 3);
  assert.equal(resumed.code, 0, resumed.stderr);
  const s = JSON.parse(resumed.stdout);
  assert.ok(s.resumed_at >= 120, `resumed at ${s.resumed_at}`);
  assert.equal(s.pages, 684);
  await ingest({ dump, db: join(d, 'u.duckdb') });
  assert.deepEqual(await tableDigests(join(d, 'k.duckdb')), await tableDigests(join(d, 'u.duckdb')));
});

test('killed and resumed: a JSON Lines corpus, and a damaged bz2 dump read block by block, end with the rows of an uninterrupted run', async () => {
  const d = tmp();
  const jsonl = join(d, 'big.jsonl');
  writeFileSync(jsonl, Array.from({ length: 600 }, (_, k) => JSON.stringify({ id: k, title: `Doc ${k}`, text: `Document ${k} says one thing. It says ${k} more.`, links: [(k * 7) % 600, k + 1] })).join('\n'));
  const r1 = await killAndResume(jsonl, join(d, 'j-k.duckdb'), 3);
  assert.equal(r1.code, 0, r1.stderr);
  assert.ok(JSON.parse(r1.stdout).resumed_at >= 120);
  await ingest({ dump: jsonl, db: join(d, 'j-u.duckdb') });
  assert.deepEqual(await tableDigests(join(d, 'j-k.duckdb')), await tableDigests(join(d, 'j-u.duckdb')));

  const comp = spawnSync('bzip2', ['-1', '-c'], { input: replicateSample(12), maxBuffer: 1 << 30 }).stdout as Buffer;
  const at = Math.floor(comp.length * 0.6);
  comp[at] = comp[at]! ^ 0x55;
  const dump = join(d, 'dmg.xml.bz2');
  writeFileSync(dump, comp);
  const r2 = await killAndResume(dump, join(d, 'b-k.duckdb'), 3, ['--on-damage', 'skip']);
  assert.equal(r2.code, 0, r2.stderr);
  await ingest({ dump, db: join(d, 'b-u.duckdb'), onDamage: 'skip' });
  assert.deepEqual(await tableDigests(join(d, 'b-k.duckdb')), await tableDigests(join(d, 'b-u.duckdb')));
  assert.equal((await query(join(d, 'b-k.duckdb'), `SELECT count(*)::INTEGER AS n FROM skipped`))[0]!.n, 1);
});

test('several inputs in one database: a run killed in the second resumes there, to the rows of an uninterrupted run', async () => {
  const d = tmp();
  const jsonl = join(d, 'second.jsonl');
  writeFileSync(jsonl, Array.from({ length: 500 }, (_, k) => JSON.stringify({ id: `d${k}`, text: `Document ${k} says one thing. It says more.`, links: [`d${(k * 3) % 500}`] })).join('\n'));
  const r = await killAndResume(SAMPLE, join(d, 'k.duckdb'), 4, ['--dump', jsonl]);
  assert.equal(r.code, 0, r.stderr);
  const s = JSON.parse(r.stdout);
  assert.ok(s.resumed_at > 57, `resumed at ${s.resumed_at}, in the second input`);
  assert.deepEqual(s.inputs.map((i: { first_seq: number; end_seq: number }) => [i.first_seq, i.end_seq]), [[0, 57], [57, 557]]);
  await ingest({ dump: [SAMPLE, jsonl], db: join(d, 'u.duckdb') });
  assert.deepEqual(await tableDigests(join(d, 'k.duckdb')), await tableDigests(join(d, 'u.duckdb')));
  // another order is other inputs: refused without --force
  const other = await cli(['ingest', '--dump', jsonl, '--dump', SAMPLE, '--db', join(d, 'u.duckdb')]);
  assert.equal(other.code, 1);
  assert.match(other.stderr, /already holds .*samplewiki\.xml \+ .*second\.jsonl \(another dump\)/);
});

test('a killed multistream run resumes through the index at the stream holding its next page', async () => {
  const d = tmp();
  makeMultistream(replicateSample(12), 25, join(d, 'r-multistream.xml.bz2'), join(d, 'r-multistream-index.txt.bz2'));
  const resumed = await killAndResume(join(d, 'r-multistream.xml.bz2'), join(d, 'k.duckdb'), 3);
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.ok(JSON.parse(resumed.stdout).resumed_at >= 120);
  await ingest({ dump: join(d, 'r-multistream.xml.bz2'), db: join(d, 'u.duckdb'), index: null });
  assert.deepEqual(await tableDigests(join(d, 'k.duckdb')), await tableDigests(join(d, 'u.duckdb')));
});

test('damaged dumps: pages without text or title are skipped and counted; broken XML and truncated bz2 keep what came before', async () => {
  const d = tmp();
  const damaged = sampleXml
    .replace(/(<title>Lake Orla<\/title>[\s\S]*?)<text bytes="\d+" xml:space="preserve">[\s\S]*?<\/text>/, '$1')
    .replace('<title>Oatcake</title>', '')
    .replace(/(<title>Greyhaven<\/title>[\s\S]*?)<text bytes="\d+" xml:space="preserve">[\s\S]*?<\/text>/, '$1<text bytes="0" xml:space="preserve" />');
  writeFileSync(join(d, 'd.xml'), damaged);
  const s = await ingest({ dump: join(d, 'd.xml'), db: join(d, 'd.duckdb') });
  assert.equal(s.pages, 57);
  assert.deepEqual(s.skipped_reasons, { 'empty text': 1, 'no text': 1, 'no title': 1 });
  assert.equal(s.articles, 39);
  const skipped = await query(join(d, 'd.duckdb'), `SELECT title, reason, line > 0 AS has_line FROM skipped ORDER BY seq`);
  assert.deepEqual(skipped, [
    { title: 'Greyhaven', reason: 'empty text', has_line: true },
    { title: 'Lake Orla', reason: 'no text', has_line: true },
    { title: null, reason: 'no title', has_line: true },
  ]);

  const broken = sampleXml.replace('<title>Saltmarsh</title>', '<title>Saltmarsh</tilte>');
  writeFileSync(join(d, 'b.xml'), broken);
  const r = await cli(['ingest', '--dump', join(d, 'b.xml'), '--db', join(d, 'b.duckdb'), '--json']);
  assert.equal(r.code, 1);
  const line = broken.slice(0, broken.indexOf('</tilte>')).split('\n').length;
  assert.match(r.stderr, new RegExp(`b\\.xml: malformed XML at line ${line}, column \\d+`));
  const before = broken.slice(0, broken.indexOf('<title>Saltmarsh')).split('<page>').length - 2;
  const kept = await query<{ n: number }>(join(d, 'b.duckdb'), 'SELECT count(*)::INT n FROM pages');
  assert.equal(kept[0]!.n, before, 'every page before the damage is kept');
  assert.equal(JSON.parse(r.stdout).error.includes('malformed XML'), true);
  // the same damage met in one of many small runs of pages, parsed by 3 workers: same line, same pages kept
  const many = await ingest({ dump: join(d, 'b.xml'), db: join(d, 'm.duckdb'), workers: 3, runBytes: 1000 }).catch((e: Error) => e);
  assert.ok(many instanceof Error);
  assert.match(many.message, new RegExp(`b\\.xml: malformed XML at line ${line}, column \\d+`));
  assert.deepEqual(await query(join(d, 'm.duckdb'), 'SELECT count(*)::INT n FROM pages'), kept);

  // bzip2 works in 900 kB blocks: a dump of several blocks, cut inside the last one
  const bz = bzip2(replicateSample(40));
  writeFileSync(join(d, 't.xml.bz2'), bz.subarray(0, Math.floor(bz.length * 0.8)));
  const t = await cli(['ingest', '--dump', join(d, 't.xml.bz2'), '--db', join(d, 't.duckdb')]);
  assert.equal(t.code, 1);
  assert.match(t.stderr, /t\.xml\.bz2: bz2 data damaged after \d+ decompressed bytes/);
  const tk = await query<{ n: number; status: string }>(join(d, 't.duckdb'), `SELECT (SELECT count(*) FROM pages)::INT n, (SELECT status FROM runs WHERE stage = 'ingest') status`);
  assert.ok(tk[0]!.n > 1000, `pages before the truncation kept (${tk[0]!.n})`);
  assert.equal(tk[0]!.status, 'failed');
});

test('a page that takes longer than --page-timeout to clean keeps its page row and links, its text left out and counted; its worker is replaced and the run goes on', async () => {
  const d = tmp();
  // depth-1000 nested templates: wtf_wikipedia needs seconds for these 6 kB (its time grows ~n^2.3)
  const nested = `Intro [[Harbor]]. ${'{{a|'.repeat(1000)}x [[Inner place|inner]]${'}}'.repeat(1000)} End [[Town|town]]s.`;
  const xml = sampleXml.replace(/(<title>Greyhaven<\/title>[\s\S]*?<text bytes="\d+" xml:space="preserve">)[\s\S]*?(<\/text>)/, `$1${nested}$2`);
  writeFileSync(join(d, 'n.xml'), xml);
  const s = await ingest({ dump: join(d, 'n.xml'), db: join(d, 'n.duckdb'), workers: 2, pageTimeout: 0.3, runBytes: 4000 });
  assert.equal(s.pages, 57, 'the page counted once (a row in pages and one in skipped)');
  assert.deepEqual(s.skipped_reasons, { 'parse timeout (over 0.3 s): text left out, links kept': 1 });
  assert.equal(s.articles, 41);
  const db = join(d, 'n.duckdb');
  assert.deepEqual(await query(db, `SELECT title FROM skipped`), [{ title: 'Greyhaven' }]);
  assert.deepEqual(await query(db, `SELECT kind, text_bytes > 6000 AS big FROM pages WHERE title = 'Greyhaven'`), [{ kind: 'article', big: true }]);
  assert.deepEqual(await query(db, `SELECT l.target, l.anchor, l."offset", l.origin FROM links l JOIN pages p ON p.seq = l.src WHERE p.title = 'Greyhaven' ORDER BY l.idx`), [
    { target: 'Harbor', anchor: 'Harbor', offset: null, origin: 'text' },
    { target: 'Inner place', anchor: 'inner', offset: null, origin: 'template' },
    { target: 'Town', anchor: 'towns', offset: null, origin: 'text' },
  ]);
  // every other page is as without the slow one
  const plain = await ingest({ dump: SAMPLE, db: join(d, 'p.duckdb') });
  assert.deepEqual(s.namespaces, plain.namespaces, 'namespaces counted once per page');
  const others = `SELECT md5(string_agg(text, '|' ORDER BY seq)) h FROM articles WHERE title <> 'Greyhaven'`;
  assert.deepEqual(await query(db, others), await query(join(d, 'p.duckdb'), others));
  assert.equal(plain.articles, 42);
  // links to it resolve to its page; it gives no segments, so no pair draws it as B
  await graph({ db });
  assert.deepEqual(await query(db, `SELECT DISTINCT r.resolution FROM link_resolution r JOIN pages p ON p.title = 'Greyhaven' AND r.dst = p.seq`), [{ resolution: 'direct' }]);
  await assert.rejects(ingest({ dump: SAMPLE, db: join(d, 'x.duckdb'), pageTimeout: 0 }), /--page-timeout must be a number of seconds > 0/);
});

test('an article over 8 MiB of wikitext is skipped as too large, not cleaned', async () => {
  const d = tmp();
  const huge = 'The harbour is busy. '.repeat(420_000); // 8.8 MB
  writeFileSync(join(d, 'h.xml'), sampleXml.replace(/(<title>Greyhaven<\/title>[\s\S]*?<text bytes="\d+" xml:space="preserve">)[\s\S]*?(<\/text>)/, `$1${huge}$2`));
  const s = await ingest({ dump: join(d, 'h.xml'), db: join(d, 'h.duckdb') });
  assert.deepEqual(s.skipped_reasons, { 'too large (8.4 MiB of wikitext; at most 8 MiB are cleaned)': 1 });
  assert.equal(s.articles, 41);
});

test('the pure-JS bz2 decoder keeps the pages of every block before the damage, as bzip2 does, and says what is wrong', async () => {
  const d = tmp();
  const bz = bzip2(replicateSample(100)); // several 900 kB blocks
  writeFileSync(join(d, 'cut.xml.bz2'), bz.subarray(0, Math.floor(bz.length * 0.3)));
  const kept: Record<string, number> = {};
  for (const tool of ['bzip2', 'js']) {
    const r = await cli(['ingest', '--dump', join(d, 'cut.xml.bz2'), '--db', join(d, `${tool}.duckdb`)], { LINKBERT_BUNZIP: tool });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /cut\.xml\.bz2: bz2 data damaged after [1-9]\d* decompressed bytes/, tool);
    assert.doesNotMatch(r.stderr, /Cannot read properties/);
    kept[tool] = (await query<{ n: number }>(join(d, `${tool}.duckdb`), 'SELECT count(*)::INT n FROM pages'))[0]!.n;
  }
  assert.ok(kept.bzip2! > 500, `bzip2 kept ${kept.bzip2}`);
  assert.ok(kept.js! >= kept.bzip2!, `js kept ${kept.js}, bzip2 ${kept.bzip2}`);
  const same = `SELECT md5(string_agg(title || coalesce(text_bytes, -1), '|' ORDER BY seq)) h FROM pages WHERE seq < ${kept.bzip2}`;
  assert.deepEqual(await query(join(d, 'js.duckdb'), same), await query(join(d, 'bzip2.duckdb'), same));
});

/** Each page's title and the `bytes` its <text> element declares (MediaWiki's own count), read with plain string search. */
function declaredBytes(xml: string): Map<string, number> {
  const out = new Map<string, number>();
  const unescape = (s: string) => s.replace(/&quot;/g, '"').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&#039;/g, "'").replace(/&amp;/g, '&');
  for (const page of xml.split('<page>').slice(1)) {
    const title = /<title>([^<]*)<\/title>/.exec(page)?.[1];
    const bytes = /<text[^>]*\sbytes="(\d+)"/.exec(page)?.[1];
    if (title !== undefined && bytes !== undefined) out.set(unescape(title), Number(bytes));
  }
  return out;
}

for (const [name, file] of [['the sample', SAMPLE], ['the akwiki dump (real MediaWiki byte counts)', join(ROOT, '../shared/fixtures/dumps/akwiki-20230301-pages-articles-multistream.xml.bz2')]] as const) {
  test(`text_bytes of every page of ${name} is the byte count its <text bytes="…"> declares`, { skip: existsSync(file) ? false : `${file} is absent` }, async () => {
    const d = tmp();
    const db = join(d, 'b.duckdb');
    await ingest({ dump: file, db, workers: 2 });
    const declared = declaredBytes(dumpXml(file));
    assert.ok(declared.size > 40, `${declared.size} pages declare their bytes`);
    const rows = await query<{ title: string; text_bytes: number }>(db, 'SELECT title, text_bytes FROM pages WHERE text_bytes IS NOT NULL');
    let compared = 0;
    for (const r of rows) {
      const want = declared.get(r.title);
      if (want === undefined) continue;
      assert.equal(Number(r.text_bytes), want, r.title);
      compared++;
    }
    assert.ok(compared >= declared.size * 0.95, `${compared} of ${declared.size} pages compared`);
  });
}

test('a <redirect> element naming the page itself over a text that is no redirect (a disambiguation page) is an article; a text that redirects to itself stays a self-redirect', async () => {
  const d = tmp();
  const header = sampleXml.slice(0, sampleXml.indexOf('  <page>'));
  const page = (id: number, title: string, redirect: string | null, text: string) =>
    `  <page>\n    <title>${title}</title>\n    <ns>0</ns>\n    <id>${id}</id>\n${redirect ? `    <redirect title="${redirect}" />\n` : ''}    <revision>\n      <id>${id}0</id>\n      <text bytes="${Buffer.byteLength(text)}" xml:space="preserve">${text}</text>\n    </revision>\n  </page>\n`;
  const xml = header +
    page(1, 'Mercury', 'Mercury', "'''Mercury''' may refer to:\n* [[Mercury (planet)]], a planet.\n* [[Mercury (element)]], a metal.\n{{disambiguation}}") +
    page(2, 'Loop', 'Loop', '#REDIRECT [[Loop]]') +
    page(3, 'Quicksilver', 'Mercury (element)', '#REDIRECT [[Mercury (element)]]') +
    page(4, 'Mercury (element)', null, 'Mercury is a chemical element. It is a metal.') +
    '</mediawiki>\n';
  writeFileSync(join(d, 'r.xml'), xml);
  const db = join(d, 'r.duckdb');
  await ingest({ dump: join(d, 'r.xml'), db });
  assert.deepEqual(await query(db, 'SELECT title, kind FROM pages ORDER BY seq'), [
    { title: 'Mercury', kind: 'article' },
    { title: 'Loop', kind: 'redirect' },
    { title: 'Quicksilver', kind: 'redirect' },
    { title: 'Mercury (element)', kind: 'article' },
  ]);
  assert.deepEqual(await query(db, "SELECT disambiguation FROM articles WHERE title = 'Mercury'"), [{ disambiguation: true }]);
  assert.deepEqual(await query(db, 'SELECT title, target, source FROM redirects ORDER BY seq'), [
    { title: 'Loop', target: 'Loop', source: 'element' },
    { title: 'Quicksilver', target: 'Mercury (element)', source: 'element' },
  ]);
});
