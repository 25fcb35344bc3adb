import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { pairs } from '../src/pairs/pairs.ts';
import { cli, prepare, query, replicateSample, SAMPLE, tmp } from './helpers.ts';
import { chiSquarePValue, homogeneity } from './stats.ts';

const dir = tmp();
let db: string;
before(async () => {
  db = await prepare(SAMPLE, dir);
});

interface Pair { id: number; a_article: number; a_idx: number; b_article: number; b_idx: number; label: number; n_a: number; n_b: number }
const allPairs = (d: string) =>
  query<Pair>(d, `SELECT p.*, na.n AS n_a, nb.n AS n_b FROM pairs p
    JOIN (SELECT article, count(*) AS n FROM segments GROUP BY 1) na ON na.article = p.a_article
    JOIN (SELECT article, count(*) AS n FROM segments GROUP BY 1) nb ON nb.article = p.b_article ORDER BY id`);

test('each label means what it says, checked against the graph and the segments', async () => {
  const s = await pairs({ db, seed: 5, instancesPerSegment: 4 });
  assert.equal(s.fallbacks, 0);
  const edges = new Set((await query<{ src: number; dst: number }>(db, 'SELECT src, dst FROM edges')).map((e) => `${e.src}>${e.dst}`));
  const ps = await allPairs(db);
  assert.equal(ps.length, s.pairs);
  for (const p of ps) {
    assert.ok(p.a_idx < p.n_a - 1, 'every anchor has a next segment');
    assert.ok(p.b_idx >= 1 && p.b_idx < p.n_b, 'B is never a first segment');
    if (p.label === 0) assert.deepEqual([p.b_article, p.b_idx], [p.a_article, p.a_idx + 1], 'contiguous: the next segment');
    else if (p.label === 1) assert.notEqual(p.b_article, p.a_article, 'random: another article');
    else {
      assert.equal(p.label, 2);
      assert.ok(edges.has(`${p.a_article}>${p.b_article}`), 'linked: an out-neighbour of A’s article');
    }
  }
  // every anchor used K times
  const perAnchor = await query<{ n: number }>(db, 'SELECT count(*) AS n FROM pairs GROUP BY a_article, a_idx');
  assert.ok(perAnchor.every((r) => r.n === 4));
});

test('coverage: the share of articles, segments and tokens in an instance, counted independently', async () => {
  const s = await pairs({ db, seed: 5, force: true });
  const [c] = await query<{ articles: number; segments: number; tokens: number; all_articles: number; all_segments: number; all_tokens: number }>(
    db,
    `WITH used AS (SELECT DISTINCT a_article AS article, a_idx AS idx FROM pairs UNION SELECT b_article, b_idx FROM pairs)
     SELECT count(DISTINCT u.article)::INT articles, count(*)::INT segments, sum(s.n_tokens)::INT tokens,
            (SELECT count(*) FROM articles)::INT all_articles, (SELECT count(*) FROM segments)::INT all_segments, (SELECT sum(n_tokens) FROM segments)::INT all_tokens
     FROM used u JOIN segments s USING (article, idx)`,
  );
  assert.ok(Math.abs(s.coverage.articles - c!.articles / c!.all_articles) < 1e-4);
  assert.ok(Math.abs(s.coverage.segments - c!.segments / c!.all_segments) < 1e-4);
  assert.ok(Math.abs(s.coverage.tokens - c!.tokens / c!.all_tokens) < 1e-4);
  assert.ok(s.coverage.articles > 0 && s.coverage.articles < 1);
  assert.equal(s.b_segments, 'non-lead');
  assert.equal(s.lead_b, 0);
});

test('--b-segments any: a random or linked B may be a first segment, and one-segment articles are reached', async () => {
  // the same settings but --b-segments: were the policy not in the run's key, this would be "already done"
  const nonLead = await pairs({ db, seed: 5, instancesPerSegment: 4 });
  const lead = await pairs({ db, seed: 5, instancesPerSegment: 4, bSegments: 'any' });
  assert.equal(lead.b_segments, 'any');
  assert.equal(lead.already_done, false, 'another policy is another run');
  const ps = await allPairs(db);
  assert.ok(ps.some((p) => p.label !== 0 && p.b_idx === 0), 'some B is a first segment');
  assert.ok(ps.some((p) => p.label !== 0 && p.n_b === 1), 'some B comes from an article of one segment');
  for (const p of ps) assert.ok(p.b_idx >= 0 && p.b_idx < p.n_b);
  assert.equal(lead.lead_b, ps.filter((p) => p.label !== 0 && p.b_idx === 0).length);
  assert.ok(lead.coverage.articles >= nonLead.coverage.articles);
  await assert.rejects(pairs({ db, bSegments: 'first' as never }), /--b-segments must be non-lead or any/);
});

test('labels are balanced within each kind of anchor: a third each where a linked B exists, half contiguous/random where not', async () => {
  for (const k of [1, 2, 7]) {
    const s = await pairs({ db, seed: 11, instancesPerSegment: k, force: true });
    const three = Object.values(s.labels_by_anchor.linkable);
    const two = Object.values(s.labels_by_anchor.unlinked);
    assert.ok(Math.max(...three) - Math.min(...three) <= 1, JSON.stringify(s.labels_by_anchor));
    assert.ok(Math.max(...two) - Math.min(...two) <= 1, JSON.stringify(s.labels_by_anchor));
    assert.ok(two.reduce((a, b) => a + b, 0) > 0, 'the sample has an article that links nowhere it can draw from');
    assert.equal(s.labels['0'], s.labels_by_anchor.linkable['0'] + s.labels_by_anchor.unlinked['0']);
    assert.equal(s.labels['1'], s.labels_by_anchor.linkable['1'] + s.labels_by_anchor.unlinked['1']);
    assert.equal(s.labels['2'], s.labels_by_anchor.linkable['2']);
    assert.equal(Object.values(s.labels).reduce((a, b) => a + b, 0), s.pairs);
  }
});

test('--unlinked: nsp gives anchors without a linked B contiguous/random only; skip leaves them out', async () => {
  const nsp = await pairs({ db, seed: 11, force: true });
  const linkable = new Set((await query<{ src: number }>(db, `SELECT DISTINCT e.src FROM edges e WHERE e.dst IN (SELECT article FROM segments GROUP BY article HAVING count(*) >= 2)`)).map((r) => r.src));
  const ps = await allPairs(db);
  const without = ps.filter((p) => !linkable.has(p.a_article));
  assert.ok(without.length > 0);
  for (const p of without) assert.ok(p.label === 0 || p.label === 1, 'no linked B for an article that links to none');
  assert.equal(nsp.not_anchors.no_linked_candidate, 0);
  const [{ n }] = (await query<{ n: number }>(db, `SELECT count(*)::INT n FROM segments s JOIN (SELECT article, count(*) AS c FROM segments GROUP BY 1) t USING (article) WHERE s.idx < t.c - 1`)) as [{ n: number }];
  assert.equal(nsp.anchors, n, 'every segment with a next one is an anchor');
  const skip = await pairs({ db, seed: 11, unlinked: 'skip' });
  assert.equal(skip.already_done, false);
  assert.equal(skip.pairs, nsp.pairs - without.length);
  assert.ok(skip.not_anchors.no_linked_candidate > 0);
  assert.deepEqual(skip.labels_by_anchor.unlinked, { '0': 0, '1': 0 });
  await assert.rejects(pairs({ db, unlinked: 'maybe' as never }), /--unlinked must be nsp or skip/);
});

test('same seed, same pairs; another seed, other pairs; a complete run is not redone', async () => {
  const digest = async () => (await query<{ d: string }>(db, `SELECT md5(string_agg(p::VARCHAR, ',' ORDER BY id)) AS d FROM pairs p`))[0]!.d;
  await pairs({ db, seed: 21, instancesPerSegment: 3, force: true });
  const a = await digest();
  await pairs({ db, seed: 21, instancesPerSegment: 3, force: true });
  assert.equal(await digest(), a);
  assert.equal((await pairs({ db, seed: 21, instancesPerSegment: 3 })).already_done, true);
  await pairs({ db, seed: 22, instancesPerSegment: 3 });
  assert.notEqual(await digest(), a);
});

test('named queries: label balance and linked examples with titles', async () => {
  const s = await pairs({ db, seed: 1, instancesPerSegment: 3, force: true });
  const r = await cli(['sql', '--db', db, '--query', 'label-balance', '--format', 'json']);
  const rows = JSON.parse(r.stdout) as { label: number; relation: string; pairs: number }[];
  assert.deepEqual(rows.map((x) => x.relation), ['contiguous', 'random', 'linked']);
  assert.deepEqual(rows.map((x) => x.pairs), [s.labels['0'], s.labels['1'], s.labels['2']]);
  assert.equal(s.labels['2'], 48);
  const ex = JSON.parse((await cli(['sql', '--db', db, '--query', 'linked-examples', '--param', 'limit=5', '--format', 'json'])).stdout) as { a_title: string; b_title: string; b_text: string }[];
  assert.equal(ex.length, 5);
  const links = await query<{ a: string; b: string }>(db, `SELECT a.title AS a, b.title AS b FROM edges e JOIN articles a ON a.seq = e.src JOIN articles b ON b.seq = e.dst`);
  for (const e of ex) assert.ok(links.some((l) => l.a === e.a_title && l.b === e.b_title), `${e.a_title} → ${e.b_title}`);
});

test('statistics on a larger generated corpus: linked ∝ 1/in-degree, random uniform, anchor lengths alike across labels', async () => {
  const d = tmp();
  writeFileSync(join(d, 'big.xml'), replicateSample(4));
  const big = await prepare(join(d, 'big.xml'), d);
  // the three-way draw itself: anchors that allow all three relations (--unlinked skip)
  await pairs({ db: big, seed: 99, instancesPerSegment: 150, unlinked: 'skip' });
  const ps = await allPairs(big);

  // linked: per anchor article, the drawn article against 1/in-degree over its out-neighbours that have a B to give
  const cands = await query<{ src: number; dst: number; w: number }>(big, `SELECT e.src, e.dst, 1.0 / d.in_degree AS w FROM edges e JOIN degrees d ON d.article = e.dst WHERE e.dst IN (SELECT article FROM segments GROUP BY article HAVING count(*) >= 2)`);
  let stat = 0;
  let df = 0;
  for (const src of new Set(ps.filter((p) => p.label === 2).map((p) => p.a_article))) {
    const mine = cands.filter((c) => c.src === src);
    const total = mine.reduce((a, c) => a + c.w, 0);
    const drawn = ps.filter((p) => p.label === 2 && p.a_article === src);
    // cells with an expected count under 5 are pooled, as the χ² approximation asks
    let pooledO = 0;
    let pooledE = 0;
    const cells: [number, number][] = [];
    for (const c of mine) {
      const e = (drawn.length * c.w) / total;
      const o = drawn.filter((p) => p.b_article === c.dst).length;
      if (e < 5) {
        pooledO += o;
        pooledE += e;
      } else cells.push([o, e]);
    }
    if (pooledE > 0) cells.push([pooledO, pooledE]);
    for (const [o, e] of cells) stat += (o - e) ** 2 / e;
    df += cells.length - 1;
    assert.equal(drawn.filter((p) => !mine.some((c) => c.dst === p.b_article)).length, 0);
  }
  const pLinked = chiSquarePValue(stat, df);
  assert.ok(df > 50 && pLinked > 0.01, `linked vs 1/in-degree: χ²=${stat.toFixed(1)}, df=${df}, p=${pLinked}`);

  // random: uniform over the other articles that can give a B
  const bArticles = (await query<{ article: number }>(big, 'SELECT article FROM segments GROUP BY article HAVING count(*) >= 2')).map((r) => r.article);
  const random = ps.filter((p) => p.label === 1);
  const expected = new Map(bArticles.map((a) => [a, 0]));
  for (const p of random) for (const a of bArticles) if (a !== p.a_article) expected.set(a, expected.get(a)! + 1 / (bArticles.length - (bArticles.includes(p.a_article) ? 1 : 0)));
  let rs = 0;
  for (const a of bArticles) rs += (random.filter((p) => p.b_article === a).length - expected.get(a)!) ** 2 / expected.get(a)!;
  const pRandom = chiSquarePValue(rs, bArticles.length - 1);
  assert.ok(pRandom > 0.01, `random uniformity: p=${pRandom}`);

  // the anchor's length says nothing about the label
  const lengths = await query<{ label: number; bucket: number; n: number }>(big, `SELECT p.label, (s.n_tokens - 1) // 8 AS bucket, count(*) AS n FROM pairs p JOIN segments s ON s.article = p.a_article AND s.idx = p.a_idx GROUP BY 1, 2`);
  const buckets = [...new Set(lengths.map((r) => r.bucket))].sort((x, y) => x - y);
  const h = homogeneity([0, 1, 2].map((l) => buckets.map((b) => lengths.find((r) => r.label === l && r.bucket === b)?.n ?? 0)));
  assert.ok(h.p > 0.01, `anchor lengths by label: p=${h.p}`);
});
