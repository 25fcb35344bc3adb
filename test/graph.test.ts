import assert from 'node:assert/strict';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { DuckDBInstance } from '@duckdb/node-api';
import { graph, type GraphSummary } from '../src/graph/graph.ts';
import { ingest } from '../src/ingest/ingest.ts';
import { query, SAMPLE, tmp } from './helpers.ts';

const db = join(tmp(), 'g.duckdb'); // made at top level: removed after all tests of the file
let g: GraphSummary;
before(async () => {
  await ingest({ dump: SAMPLE, db });
  g = await graph({ db });
});

const outNeighbours = async (title: string) =>
  (await query<{ t: string }>(db, `SELECT b.title AS t FROM edges e JOIN articles a ON a.seq = e.src JOIN articles b ON b.seq = e.dst WHERE a.title = '${title.replace(/'/g, "''")}' ORDER BY 1`)).map((r) => r.t);

test('reconciliation: every link is direct, via a redirect, dangling, a self-link or to another namespace', () => {
  assert.equal(g.links, g.direct + g.via_redirect + g.dangling + g.self + g.non_article);
  assert.deepEqual(
    { links: g.links, direct: g.direct, via_redirect: g.via_redirect, dangling: g.dangling, self: g.self, non_article: g.non_article },
    { links: 220, direct: 207, via_redirect: 6, dangling: 3, self: 2, non_article: 2 },
  );
});

test('exact edges: redirects, chains and text-only redirects resolve to the final article', async () => {
  // [[Wren Harbour]] → Port Wren; [[Old Port]] → Wren Harbour → Port Wren; [[Kestrel Isles]] has only #REDIRECT text
  assert.deepEqual(await outNeighbours('Tomas Reed'), ['Copper mine of Saltmarsh', 'Elinor Vance', 'Harbour Railway', 'Kestrel Islands', 'Port Wren', 'Port Wren Museum', 'Wren Lighthouse']);
  assert.ok((await outNeighbours('Elinor Vance')).includes('Port Wren'));
  assert.deepEqual(await outNeighbours('Oatcake'), ['Island cuisine', 'Kestrel Islands']);
  // [[Loop A]] runs into a cycle: no edge; [[Q line]] → the one-letter article Q
  assert.deepEqual(await outNeighbours('Island cuisine'), ['Kelp forest', 'Kestrel Islands', 'Oatcake', 'Peat cutting', 'Port Wren']);
  assert.ok((await outNeighbours('Kestrel Ferry Company')).includes('Q'));
  // n counts links, n_text those placed in the text; no self edges
  const [e] = await query<{ n: number; n_text: number }>(db, `SELECT n, n_text FROM edges e JOIN articles a ON a.seq = e.src JOIN articles b ON b.seq = e.dst WHERE a.title = 'Kestrel Islands' AND b.title = 'Port Wren'`);
  assert.deepEqual(e, { n: 4, n_text: 3 });
  assert.deepEqual(await query(db, 'SELECT * FROM edges WHERE src = dst'), []);
});

test('redirect chains and a cycle', async () => {
  const chains = await query(db, `SELECT title, final, hops, status FROM redirect_chains ORDER BY title`);
  assert.deepEqual(chains, [
    { title: 'Amber river', final: 'Amber River', hops: 1, status: 'article' },
    { title: 'Kestrel Isles', final: 'Kestrel Islands', hops: 1, status: 'article' },
    { title: 'Loop A', final: 'Loop A', hops: 2, status: 'cycle' },
    { title: 'Loop B', final: 'Loop B', hops: 2, status: 'cycle' },
    { title: 'Old Port', final: 'Port Wren', hops: 2, status: 'article' },
    { title: 'Puffins', final: 'Puffin colony of Greyhaven', hops: 1, status: 'article' },
    { title: 'Q line', final: 'Q', hops: 1, status: 'article' },
    { title: 'Wren Harbour', final: 'Port Wren', hops: 1, status: 'article' },
  ]);
  assert.equal(g.redirect_cycles, 2);
  assert.equal(g.redirect_chains, 1);
});

test('edges and degrees agree with an independent resolution of the raw tables', async () => {
  const pages = await query<{ seq: number; norm_title: string; kind: string }>(db, 'SELECT seq, norm_title, kind FROM pages ORDER BY seq');
  const redirects = new Map((await query<{ seq: number; target: string }>(db, 'SELECT seq, target FROM redirects')).map((r) => [r.seq, r.target]));
  const byTitle = new Map<string, { seq: number; kind: string }>();
  for (const p of pages) if (!byTitle.has(p.norm_title)) byTitle.set(p.norm_title, p);
  const resolve = (t: string): number | null => {
    const seen = new Set<string>();
    for (let hop = 0; hop < 40; hop++) {
      const n = byTitle.get(t);
      if (!n) return null;
      if (n.kind === 'article') return n.seq;
      if (n.kind !== 'redirect' || seen.has(t)) return null;
      seen.add(t);
      t = redirects.get(n.seq)!;
    }
    return null;
  };
  const expected = new Map<string, number>();
  for (const l of await query<{ src: number; target: string }>(db, 'SELECT src, target FROM links')) {
    const dst = resolve(l.target);
    if (dst === null || dst === l.src) continue;
    expected.set(`${l.src}>${dst}`, (expected.get(`${l.src}>${dst}`) ?? 0) + 1);
  }
  const edges = await query<{ src: number; dst: number; n: number }>(db, 'SELECT src, dst, n FROM edges');
  assert.deepEqual(new Map(edges.map((e) => [`${e.src}>${e.dst}`, e.n])), expected);
  const indeg = new Map<number, number>();
  for (const k of expected.keys()) {
    const dst = Number(k.split('>')[1]);
    indeg.set(dst, (indeg.get(dst) ?? 0) + 1);
  }
  for (const d of await query<{ article: number; in_degree: number }>(db, 'SELECT article, in_degree FROM degrees')) assert.equal(d.in_degree, indeg.get(d.article) ?? 0);
  assert.equal((await query(db, 'SELECT * FROM degrees')).length, 42);
});

test('a rerun is idempotent: skipped when complete, identical when forced', async () => {
  const snapshot = () => query(db, `SELECT (SELECT md5(string_agg(e::VARCHAR, ',' ORDER BY src, dst)) FROM edges e) AS e, (SELECT md5(string_agg(d::VARCHAR, ',' ORDER BY article)) FROM degrees d) AS d`);
  const before = await snapshot();
  const again = await graph({ db });
  assert.equal(again.already_done, true);
  const forced = await graph({ db, force: true });
  assert.equal(forced.already_done, false);
  assert.equal(forced.edges, g.edges);
  assert.deepEqual(await snapshot(), before);
});

test('edges aggregated a range of src at a time are the table of one aggregate, in (src, dst) order', async () => {
  const table = () => query<{ src: number; dst: number; n: number; n_text: number }>(db, 'SELECT * FROM edges'); // in stored order
  const degrees = () => query(db, 'SELECT * FROM degrees');
  const one = await graph({ db, force: true, linksPerRange: 1e9 });
  const whole = await table();
  const wholeDegrees = await degrees();
  assert.ok(whole.length > 50);
  const many = await graph({ db, force: true, linksPerRange: 7 }); // dozens of ranges, some empty
  assert.ok(one.links / 7 > 30);
  assert.deepEqual(await table(), whole);
  assert.deepEqual(await degrees(), wholeDegrees);
  assert.deepEqual({ ...many, seconds: 0 }, { ...one, seconds: 0 });
  const sorted = [...whole].sort((a, b) => a.src - b.src || a.dst - b.dst);
  assert.deepEqual(whole, sorted);
});

test('graph before a complete ingest is a clear error', async () => {
  await assert.rejects(graph({ db: join(tmp(), 'none.duckdb') }), /none\.duckdb: no such database \(run `linkbert ingest/);
  const empty = join(tmp(), 'empty.duckdb');
  (await DuckDBInstance.create(empty)).closeSync();
  await assert.rejects(graph({ db: empty }), /holds no ingested dump: run `linkbert ingest/);
});
