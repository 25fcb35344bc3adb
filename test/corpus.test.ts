import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { plainText } from '../src/corpus/jsonl.ts';
import { graph } from '../src/graph/graph.ts';
import { ingest } from '../src/ingest/ingest.ts';
import { pairs } from '../src/pairs/pairs.ts';
import { cli, prepare, query, tmp } from './helpers.ts';

/** A small linked corpus: document k cites the documents in `cites[k]` (ids), some of them outside it. */
function corpus(n: number): { lines: string[]; cites: number[][] } {
  const cites: number[][] = [];
  const lines: string[] = [];
  for (let k = 1; k <= n; k++) {
    const c = [(k % n) + 1, ((k * 7) % n) + 1, 1000 + k].filter((x) => x !== k);
    cites.push(c);
    const sentences = Array.from({ length: 12 }, (_, s) => `Study ${k} found effect number ${s} in the cohort of patients treated with compound ${k * s}.`);
    const text = `${sentences.slice(0, 6).join(' ')}\r\n\r\n${sentences.slice(6).join('\n')}`;
    lines.push(JSON.stringify({ id: k, title: `Paper ${k}`, text, links: c }));
  }
  return { lines, cites };
}

test('plain text: paragraphs by blank lines (any line ends), sentences by the Wikipedia splitter, offsets in code points', () => {
  const t = plainText('Dr. Smith went home. It rained.\r\n\r\nA second\nparagraph with 𝒳 in it. Yes.\r\r\n\n');
  assert.equal(t.text, 'Dr. Smith went home. It rained.\n\nA second paragraph with 𝒳 in it. Yes.');
  assert.deepEqual(t.paraFirst, [0, 2]);
  const cps = [...t.text];
  const sentences = t.sentStart.map((s, i) => cps.slice(s, s + t.sentLen[i]!).join(''));
  assert.deepEqual(sentences, ['Dr. Smith went home.', 'It rained.', 'A second paragraph with 𝒳 in it.', 'Yes.']);
});

test('a JSON Lines corpus: one document per line, links by id resolved in graph (the rest dangling), then segments and linked pairs', async () => {
  const d = tmp();
  const { lines, cites } = corpus(30);
  const file = join(d, 'corpus.jsonl');
  writeFileSync(file, [...lines.slice(0, 10), '', ...lines.slice(10), JSON.stringify({ id: 'empty', text: '  ' })].join('\n') + '\n');
  const db = await prepare(file, d);
  const docs = await query<{ seq: number; page_id: number | null; title: string; norm_title: string }>(db, `SELECT seq, page_id, title, norm_title FROM pages ORDER BY seq`);
  assert.equal(docs.length, 30);
  assert.deepEqual(docs[4], { seq: 4, page_id: 5, title: 'Paper 5', norm_title: '5' });
  assert.deepEqual(await query(db, `SELECT title, reason FROM skipped`), [{ title: 'empty', reason: 'empty text' }]);
  // every citation a link; those between documents of the corpus are edges, the rest dangling
  const inCorpus = new Set(cites.flatMap((c, k) => c.filter((x) => x <= 30).map((x) => `${k + 1}>${x}`)));
  assert.deepEqual(await query(db, `SELECT count(*)::INTEGER AS n FROM links WHERE origin = 'document' AND "offset" IS NULL`), [{ n: cites.flat().length }]);
  const edges = await query<{ e: string }>(db, `SELECT (s.norm_title || '>' || t.norm_title) AS e FROM edges JOIN pages s ON s.seq = edges.src JOIN pages t ON t.seq = edges.dst`);
  assert.deepEqual(new Set(edges.map((r) => r.e)), inCorpus);
  const g = await graph({ db });
  assert.equal(g.dangling, 30);
  // text: two paragraphs of six sentences each
  const [a] = await query<{ n: number; p: number[] }>(db, `SELECT len(sent_start)::INTEGER AS n, para_first AS p FROM articles WHERE seq = 0`);
  assert.deepEqual(a, { n: 12, p: [0, 6] });
  const pr = await pairs({ db, seed: 1, instancesPerSegment: 4 });
  assert.ok(pr.labels['2'] > 0, 'linked pairs drawn from citations');
  const linked = await query<{ ok: boolean }>(db, `SELECT bool_and(EXISTS (SELECT 1 FROM edges e WHERE e.src = p.a_article AND e.dst = p.b_article)) AS ok FROM pairs p WHERE label = 2`);
  assert.deepEqual(linked, [{ ok: true }]);
});

test('a bad JSON line is an error naming the file and line; the documents before it are kept', async () => {
  const d = tmp();
  const file = join(d, 'bad.jsonl');
  const { lines } = corpus(5);
  writeFileSync(file, [lines[0], lines[1], '{"id": 3, "title": "x"}', lines[3]].join('\n'));
  const r = await cli(['ingest', '--dump', file, '--db', join(d, 'b.duckdb')]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /bad\.jsonl: line 3: "text" must be a string/);
  assert.deepEqual(await query(join(d, 'b.duckdb'), `SELECT count(*)::INTEGER AS n FROM pages`), [{ n: 2 }]);
  writeFileSync(file, [lines[0], '{"id": 2, "text": "ok", "links": [{"x": 1}]}'].join('\n'));
  await assert.rejects(ingest({ dump: file, db: join(d, 'c.duckdb') }), /bad\.jsonl: line 2: "links" must be a list of ids/);
  writeFileSync(file, [lines[0], '{"id": 2, "text": "ok"'].join('\n'));
  await assert.rejects(ingest({ dump: file, db: join(d, 'e.duckdb') }), /bad\.jsonl: line 2: not JSON/);
});
