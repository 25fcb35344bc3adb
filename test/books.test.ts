import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { stripGutenberg } from '../src/corpus/books.ts';
import { ingest } from '../src/ingest/ingest.ts';
import { pairs } from '../src/pairs/pairs.ts';
import { cli, NO_SHARED, prepare, query, SAMPLE, SHARED, tmp } from './helpers.ts';
import { graph } from '../src/graph/graph.ts';
import { segment } from '../src/segment/segment.ts';
import { writeDemoTokenizer } from '../pipeline/vocab.ts';

const chapter = (book: string, k: number) =>
  Array.from({ length: 8 }, (_, p) => Array.from({ length: 5 }, (_, s) => `In ${book} chapter ${k} part ${p} the traveller saw thing ${s} by the old road.`).join('\n')).join('\n\n');

test('Project Gutenberg header and footer are taken off, in the current format and in an early release', () => {
  const modern = 'The Project Gutenberg eBook of X\r\n\r\nLicense text.\r\n*** START OF THE PROJECT GUTENBERG EBOOK X ***\r\n\r\nCHAPTER I\r\n\r\nIt began.\r\n\r\n*** END OF THE PROJECT GUTENBERG EBOOK X ***\r\nMore license.\r\n';
  assert.equal(stripGutenberg(modern), 'CHAPTER I\n\nIt began.');
  const early = '\nThis is the 1992 Project Gutenberg release of:\n\nA Poem\n\nIntroduction: this etext was made in 1964.\n\nMore about the etext.\n\n\nA Poem\n\nBook I\n\nSing, muse.\n';
  assert.equal(stripGutenberg(early), 'A Poem\n\nBook I\n\nSing, muse.');
  assert.equal(stripGutenberg('  Plain book.\r\nNo header.\r\n'), 'Plain book.\nNo header.');
});

test('a folder of books: a document per .txt file, no links; their anchors get contiguous or random B only', async () => {
  const d = tmp();
  const dir = join(d, 'books');
  mkdirSync(dir);
  for (const [i, name] of ['mill', 'river', 'tower'].entries()) {
    const body = Array.from({ length: 3 }, (_, k) => chapter(name, k)).join('\n\n');
    writeFileSync(join(dir, `${name}.txt`), i === 0 ? `Project Gutenberg's ${name}\r\n*** START OF THE PROJECT GUTENBERG EBOOK ${name.toUpperCase()} ***\r\n${body.replace(/\n/g, '\r\n')}\r\n*** END OF THE PROJECT GUTENBERG EBOOK ***\r\nlicense\r\n` : body);
  }
  writeFileSync(join(dir, 'notes.md'), 'not a book');
  const db = await prepare(dir, d);
  const docs = await query<{ title: string; norm_title: string; p: number; cr: boolean; lic: boolean }>(db, `SELECT p.title, p.norm_title, len(a.para_first)::INTEGER AS p, contains(a.text, chr(13)) AS cr, contains(a.text, 'license') OR contains(a.text, 'GUTENBERG') AS lic FROM pages p JOIN articles a USING (seq) ORDER BY seq`);
  assert.deepEqual(docs, ['mill', 'river', 'tower'].map((t) => ({ title: t, norm_title: t, p: 24, cr: false, lic: false })));
  assert.deepEqual(await query(db, `SELECT count(*)::INTEGER AS n FROM links`), [{ n: 0 }]);
  const pr = await pairs({ db, seed: 2, instancesPerSegment: 2 });
  assert.equal(pr.labels['2'], 0);
  assert.ok(pr.labels['0'] > 0 && pr.labels['1'] > 0);
  assert.ok(Math.abs(pr.labels['0'] - pr.labels['1']) <= 1, JSON.stringify(pr.labels));
  const s = await ingest({ dump: dir, db });
  assert.equal(s.already_done, true);
});

test('the shared books: CRLF text and an early Gutenberg release read as two documents', { skip: NO_SHARED }, async () => {
  const d = tmp();
  const s = await ingest({ dump: join(SHARED, 'books'), db: join(d, 'b.duckdb') });
  assert.equal(s.articles, 2);
  const rows = await query<{ title: string; head: string; cr: boolean }>(join(d, 'b.duckdb'), `SELECT title, substr(text, 1, 13) AS head, contains(text, chr(13)) AS cr FROM articles ORDER BY seq`);
  assert.deepEqual(rows, [
    { title: 'alice29', head: "ALICE'S ADVEN", cr: false },
    { title: 'plrabn12', head: 'Paradise Lost', cr: false },
  ]);
});

test('Wikipedia and books in one database (--dump twice): book anchors get contiguous/random only, wiki anchors all three relations', async () => {
  const d = tmp();
  const dir = join(d, 'books');
  mkdirSync(dir);
  for (const name of ['mill', 'river']) writeFileSync(join(dir, `${name}.txt`), Array.from({ length: 3 }, (_, k) => chapter(name, k)).join('\n\n'));
  const r = await cli(['ingest', '--dump', SAMPLE, '--dump', dir, '--db', join(d, 'm.duckdb'), '--json']);
  assert.equal(r.code, 0, r.stderr);
  const s = JSON.parse(r.stdout);
  assert.equal(s.dump, `${SAMPLE} + ${dir}`);
  assert.equal(s.dbname, 'samplewiki'); // the wiki's siteinfo, not replaced by the books'
  const [wiki, books] = s.inputs as { first_seq: number; end_seq: number }[];
  assert.equal(books!.end_seq - books!.first_seq, 2);
  const db = join(d, 'm.duckdb');
  // each page's input and what it was read as
  assert.deepEqual(await query(db, `SELECT input, kind, count(*)::INTEGER AS n FROM page_inputs GROUP BY ALL ORDER BY min(seq)`), [
    { input: SAMPLE, kind: 'wiki', n: 57 },
    { input: dir, kind: 'books', n: 2 },
  ]);
  await graph({ db });
  await writeDemoTokenizer(db, join(d, 'tok'), 4000);
  await segment({ db, tokenizer: join(d, 'tok'), maxSeqLen: 128 });
  const pr = await pairs({ db, seed: 4, instancesPerSegment: 3 });
  // the summary says it per input too
  assert.deepEqual(pr.labels_by_input!.map((i) => i.file), [SAMPLE, dir]);
  assert.equal(pr.labels_by_input![1]!.labels['2'], 0);
  assert.ok(pr.labels_by_input![0]!.labels['2'] > 0 && pr.labels_by_input![1]!.labels['0'] > 0);
  const byInput = await query<{ input: string; label: number; n: number }>(db, `SELECT CASE WHEN a_article >= ${books!.first_seq} THEN 'books' ELSE 'wiki' END AS input, label, count(*)::INTEGER AS n FROM pairs GROUP BY ALL ORDER BY ALL`);
  const labels = (input: string) => byInput.filter((r) => r.input === input).map((r) => r.label);
  assert.deepEqual(labels('books'), [0, 1]);
  assert.deepEqual(labels('wiki'), [0, 1, 2]);
  assert.ok(wiki!.end_seq === books!.first_seq);
});

test('a .txt that is plainly no book (a multistream index, WikiExtractor output, a dump or JSON Lines saved as .txt) is refused by name before anything is written', async () => {
  const d = tmp();
  const cases: [string, string, RegExp][] = [
    ['enwiki-index.txt', '597:10:AccessibleComputing\n597:12:Anarchism\n597:13:AfghanistanHistory\n', /enwiki-index\.txt: a multistream index \(offset:id:title lines\), not a book: give the dump as --dump \(its index beside it is found\) or this file as --index/],
    ['wiki_00.txt', '<doc id="12" url="https://en.wikipedia.org/wiki?curid=12" title="Anarchism">\nAnarchism\n\nAnarchism is a political philosophy.\n</doc>\n', /wiki_00\.txt: the output of WikiExtractor \(<doc id=… title=…> documents\), not a book: give the dump it was extracted from as --dump/],
    ['dump.txt', '<mediawiki xmlns="http://www.mediawiki.org/xml/export-0.10/">\n<siteinfo>\n', /dump\.txt: XML \(a MediaWiki dump\?\) saved as \.txt, not a book: rename it to \.xml/],
    ['docs.txt', '{"id": "1", "title": "A", "text": "B"}\n', /docs\.txt: JSON Lines saved as \.txt, not a book: rename it to \.jsonl/],
  ];
  for (const [name, text, message] of cases) {
    writeFileSync(join(d, name), text);
    const r = await cli(['ingest', '--dump', join(d, name), '--db', join(d, 'x.duckdb')]);
    assert.equal(r.code, 1, name);
    assert.match(r.stderr, message);
    assert.ok(!existsSync(join(d, 'x.duckdb')), `${name}: no database made`);
  }
  // in a folder of books too, before the books before it are read
  const dir = join(d, 'books');
  mkdirSync(dir);
  writeFileSync(join(dir, 'a-book.txt'), chapter('mill', 1));
  writeFileSync(join(dir, 'b-index.txt'), cases[0]![1]);
  const r = await cli(['ingest', '--dump', dir, '--db', join(d, 'y.duckdb')]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /b-index\.txt: a multistream index/);
  assert.ok(!existsSync(join(d, 'y.duckdb')));
  const p = await cli(['plan', '--out', join(d, 'plan'), '--dump', join(d, 'wiki_00.txt')]);
  assert.equal(p.code, 1);
  assert.match(p.stderr, /wiki_00\.txt: the output of WikiExtractor/);
  // a book that mentions such lines further in is a book
  writeFileSync(join(d, 'book.txt'), `${chapter('river', 1)}\n\n597:10:AccessibleComputing\n<doc id="1" title="x">\n`);
  assert.equal((await cli(['ingest', '--dump', join(d, 'book.txt'), '--db', join(d, 'z.duckdb')])).code, 0);
});

test('the real akwiki multistream index, given as --dump, is refused as an index', { skip: NO_SHARED }, async () => {
  const d = tmp();
  writeFileSync(join(d, 'akwiki-index.txt'), execFileSync('bzip2', ['-dc', join(SHARED, 'dumps/akwiki-20230301-pages-articles-multistream-index.txt.bz2')]));
  const r = await cli(['ingest', '--dump', join(d, 'akwiki-index.txt'), '--db', join(d, 'x.duckdb')]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /akwiki-index\.txt: a multistream index/);
});
