/** The real dumps in ../shared/fixtures (skipped, with a message, when that folder is absent). */
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { graph } from '../src/graph/graph.ts';
import { ingest } from '../src/ingest/ingest.ts';
import { dumpXml, HAVE_SHARED, namespaceCounts, NO_SHARED, query, SHARED, sorted, tableDigests, tmp } from './helpers.ts';

const dumps = HAVE_SHARED ? readdirSync(join(SHARED, 'dumps')).filter((f) => !f.includes('-index.')) : [];

test('every shared dump: page counts per namespace equal the dump, the DB holds them, anchors sit at their offsets', { skip: NO_SHARED }, async (t) => {
  for (const name of dumps) {
    await t.test(name, async () => {
      const file = join(SHARED, 'dumps', name);
      const db = join(tmp(), 'd.duckdb');
      const expected = namespaceCounts(dumpXml(file));
      const s = await ingest({ dump: file, db, index: null });
      assert.deepEqual(sorted(s.namespaces), sorted(expected));
      assert.equal(s.pages, Object.values(expected).reduce((a, b) => a + b, 0));
      assert.equal(s.skipped, 0);
      const held = await query<{ ns: string; n: number }>(db, `SELECT ns::VARCHAR ns, count(*)::INT n FROM pages GROUP BY ns`);
      assert.deepEqual(sorted(Object.fromEntries(held.map((r) => [r.ns, r.n]))), sorted(expected));
      const [c] = await query<Record<string, number>>(
        db,
        `SELECT count(*) FILTER ("offset" IS NOT NULL AND substr(a.text, "offset" + 1, length(anchor)) <> anchor)::INT wrong,
                (SELECT count(*) FROM articles)::INT articles, (SELECT count(*) FROM redirects)::INT redirects
         FROM links l JOIN articles a ON a.seq = l.src`,
      );
      assert.equal(c!.wrong, 0);
      // no markup in the clean text: links, templates, tables, character references, markers, tags,
      // italic or bold marks (two apostrophes or more: `''` in an SQL string is one)
      const markup = String.raw`\[\[|\]\]|\{\{|\}\}|\{\||\|\}|&[a-zA-Z]+;|&#x?[0-9a-fA-F]+;|\bLk[0-9]+\b|''{2}|(?i)</?(ref|br|div|span|small|sup|sub|center|font|table|tr|td|th|h[1-6]|templatestyles|blockquote|references|gallery|nowiki|pre|math|poem)\b[^<>]*>`;
      const dirty = await query<{ title: string; bit: string }>(db, `SELECT title, regexp_extract(text, '.{0,40}(${markup}).{0,40}') AS bit FROM articles WHERE regexp_matches(text, '${markup}') LIMIT 3`);
      assert.deepEqual(dirty, [], 'markup left in the clean text');
      assert.equal(c!.articles, s.articles);
      assert.equal(c!.redirects, s.redirects);
    });
  }
});

test('known facts of the shared dumps', { skip: NO_SHARED }, async () => {
  const d = tmp();
  const en = await ingest({ dump: join(SHARED, 'dumps/enwiki-latest-pages-articles1.xml-p000000010p000030302-shortened.bz2'), db: join(d, 'en.duckdb') });
  assert.equal(en.redirects, 100);
  assert.equal(en.dbname, 'enwiki');
  const r = await query(join(d, 'en.duckdb'), `SELECT target FROM redirects WHERE title = 'AccessibleComputing'`);
  assert.deepEqual(r, [{ target: 'Computer accessibility' }]);
  const links = await query<{ n: number }>(join(d, 'en.duckdb'), `SELECT count(*)::INT n FROM links l JOIN articles a ON a.seq = l.src WHERE a.title = 'Anarchism' AND l.target = 'Pierre-Joseph Proudhon' AND l."offset" IS NOT NULL`);
  assert.ok(links[0]!.n >= 1);
  // tinywiki: a redirect only in the text, and a disambiguation page
  const tiny = await ingest({ dump: join(SHARED, 'dumps/tinywiki-latest-pages-articles.xml'), db: join(d, 't.duckdb') });
  assert.equal(tiny.redirects, 1);
  assert.equal(tiny.disambiguations, 1);
  const tr = await query(join(d, 't.duckdb'), `SELECT source FROM redirects`);
  assert.deepEqual(tr, [{ source: 'text' }]);
  // bgwiki is UTF-16LE inside the bz2
  await ingest({ dump: join(SHARED, 'dumps/bgwiki-latest-pages-articles-shortened.xml.bz2'), db: join(d, 'bg.duckdb') });
  const bg = await query<{ title: string }>(join(d, 'bg.duckdb'), `SELECT title FROM pages WHERE ns = 0`);
  assert.match(bg[0]!.title, /^[\u0400-\u04ff]/);
});

test('akwiki multistream: through its index, the same rows as read whole', { skip: NO_SHARED }, async () => {
  const d = tmp();
  const dump = join(SHARED, 'dumps/akwiki-20230301-pages-articles-multistream.xml.bz2');
  const a = await ingest({ dump, db: join(d, 'i.duckdb') });
  assert.match(a.multistream_index ?? '', /akwiki-20230301-pages-articles-multistream-index\.txt\.bz2$/);
  const b = await ingest({ dump, db: join(d, 'w.duckdb'), index: null });
  assert.equal(a.pages, 1201);
  assert.deepEqual(a.namespaces, b.namespaces);
  assert.deepEqual(await tableDigests(join(d, 'i.duckdb')), await tableDigests(join(d, 'w.duckdb')));
});

test('damaged zhwiki pages: no <title> is skipped and counted, no <ns> is taken from the title; intact pages kept', { skip: NO_SHARED }, async () => {
  const d = tmp();
  const one = await ingest({ dump: join(SHARED, 'bad/zhwiki-broken-1.xml'), db: join(d, '1.duckdb') });
  assert.equal(one.pages, 3);
  assert.deepEqual(one.skipped_reasons, { 'no title': 1 });
  assert.deepEqual(await query(join(d, '1.duckdb'), 'SELECT page_id::INT id, ns FROM pages ORDER BY seq'), [
    { id: 1, ns: 4 },
    { id: 2, ns: 4 },
  ]);
  const two = await ingest({ dump: join(SHARED, 'bad/zhwiki-broken-2.xml'), db: join(d, '2.duckdb') });
  assert.equal(two.pages, 3);
  assert.equal(two.skipped, 0);
  assert.deepEqual(await query(join(d, '2.duckdb'), `SELECT ns, kind FROM pages WHERE title = '数学'`), [{ ns: 0, kind: 'article' }]);
});

/** Where each shared dump's links end (reviewed: the excerpts hold few of the articles they link to). */
const RESOLUTION: Record<string, Record<string, number>> = {
  'akwiki-20230301-pages-articles-multistream.xml.bz2': { links: 1992, direct: 701, via_redirect: 24, dangling: 1254, self: 4, non_article: 9, edges: 618 },
  'bgwiki-latest-pages-articles-shortened.xml.bz2': { links: 104, direct: 0, via_redirect: 0, dangling: 104, self: 0, non_article: 0, edges: 0 },
  'enwiki-10k.xml.bz2': { links: 2677, direct: 19, via_redirect: 0, dangling: 2657, self: 1, non_article: 0, edges: 11 },
  'enwiki-latest-pages-articles1.xml-p000000010p000030302-shortened.bz2': { links: 30255, direct: 116, via_redirect: 0, dangling: 30081, self: 52, non_article: 6, edges: 87 },
  'enwiki-table-markup.xml.bz2': { links: 2839, direct: 0, via_redirect: 0, dangling: 2833, self: 6, non_article: 0, edges: 0 },
  'simplewiki.xml': { links: 1367, direct: 0, via_redirect: 0, dangling: 1367, self: 0, non_article: 0, edges: 0 },
  'testcorpus.xml.bz2': { links: 3, direct: 0, via_redirect: 0, dangling: 3, self: 0, non_article: 0, edges: 0 },
  'tinywiki-latest-pages-articles.xml': { links: 147, direct: 2, via_redirect: 0, dangling: 144, self: 0, non_article: 1, edges: 1 },
};

test('graph on every shared dump: where its links end, as recorded, and edges join articles', { skip: NO_SHARED }, async (t) => {
  for (const name of dumps) {
    await t.test(name, async () => {
      const db = join(tmp(), 'g.duckdb');
      await ingest({ dump: join(SHARED, 'dumps', name), db, index: null });
      const g = await graph({ db });
      assert.deepEqual({ links: g.links, direct: g.direct, via_redirect: g.via_redirect, dangling: g.dangling, self: g.self, non_article: g.non_article, edges: g.edges }, RESOLUTION[name], `${name}: a new shared dump needs its line in RESOLUTION`);
      const [c] = await query<Record<string, number>>(
        db,
        `SELECT (SELECT count(*) FROM links) AS links,
                (SELECT count(*) FROM edges e LEFT JOIN articles a ON a.seq = e.src LEFT JOIN articles b ON b.seq = e.dst WHERE a.seq IS NULL OR b.seq IS NULL) AS not_articles,
                (SELECT coalesce(sum(n), 0) FROM edges) AS edge_links`,
      );
      assert.equal(c!.links, g.links);
      assert.equal(c!.not_articles, 0);
      assert.equal(c!.edge_links, g.direct + g.via_redirect);
    });
  }
});

test('links to redirect pages resolve to the redirect’s target (akwiki, gensim enwiki)', { skip: NO_SHARED }, async () => {
  const d = tmp();
  const ak = join(d, 'ak.duckdb');
  await ingest({ dump: join(SHARED, 'dumps/akwiki-20230301-pages-articles-multistream.xml.bz2'), db: ak });
  const g = await graph({ db: ak });
  assert.ok(g.via_redirect > 0);
  // every link that names a redirect ends at the article its redirect names (chains are one hop here)
  const via = await query<{ target: string; redirect_to: string; reached: string }>(
    ak,
    `SELECT r.target, rd.target AS redirect_to, a.title AS reached
     FROM link_resolution r JOIN redirects rd ON rd.title = r.target JOIN articles a ON a.seq = r.dst
     WHERE r.resolution = 'via_redirect'`,
  );
  assert.equal(via.length, g.via_redirect);
  for (const v of via) assert.equal(v.reached, v.redirect_to, v.target);
  // gensim's excerpt: its one link to a redirect names a redirect whose target is not in the excerpt
  const en = join(d, 'en.duckdb');
  await ingest({ dump: join(SHARED, 'dumps/enwiki-latest-pages-articles1.xml-p000000010p000030302-shortened.bz2'), db: en });
  await graph({ db: en });
  const toRedirect = await query<{ resolution: string; final: string; redirect_to: string; exists: boolean }>(
    en,
    `SELECT r.resolution, c.final, rd.target AS redirect_to, EXISTS (SELECT 1 FROM pages p WHERE p.norm_title = c.final) AS exists
     FROM link_resolution r JOIN redirects rd ON rd.title = r.target JOIN redirect_chains c ON c.title = r.target`,
  );
  assert.ok(toRedirect.length >= 1);
  for (const x of toRedirect) {
    assert.equal(x.final, x.redirect_to);
    assert.equal(x.resolution, x.exists ? 'via_redirect' : 'dangling');
  }
  // its redirect pages resolve to their targets: e.g. AccessibleComputing → Computer accessibility
  const [ac] = await query(en, `SELECT final, status FROM redirect_chains WHERE title = 'AccessibleComputing'`);
  assert.deepEqual(ac, { final: 'Computer accessibility', status: 'dangling' });
  const [ab] = await query(en, `SELECT c.final, c.status, a.title FROM redirect_chains c JOIN articles a ON a.seq = c.article WHERE c.title = 'AbacuS'`);
  assert.deepEqual(ab, { final: 'Abacus', status: 'article', title: 'Abacus' });
});
