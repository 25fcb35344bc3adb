import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { graph } from '../src/graph/graph.ts';
import { ingest } from '../src/ingest/ingest.ts';
import { cli, NO_SHARED, query, SHARED, tableDigests, tmp } from './helpers.ts';

const article = (pmid: string, title: string, abstract: string, refs: string[], version = 1) => `
<PubmedArticle><MedlineCitation Status="MEDLINE"><PMID Version="${version}">${pmid}</PMID>
<Article><ArticleTitle>${title}</ArticleTitle>${abstract ? `<Abstract>${abstract}</Abstract>` : ''}</Article>
<CommentsCorrectionsList><CommentsCorrections RefType="Cites"><PMID Version="1">999</PMID></CommentsCorrections></CommentsCorrectionsList>
</MedlineCitation><PubmedData><ArticleIdList><ArticleId IdType="pubmed">${pmid}</ArticleId></ArticleIdList>
<ReferenceList>${refs.map((r) => `<Reference><Citation>Ref.</Citation><ArticleIdList><ArticleId IdType="doi">10.1/x</ArticleId><ArticleId IdType="pubmed">${r}</ArticleId></ArticleIdList></Reference>`).join('')}</ReferenceList>
</PubmedData></PubmedArticle>`;

const SAMPLE_PUBMED = `<?xml version="1.0" ?>
<!DOCTYPE PubmedArticleSet PUBLIC "-//NLM//DTD PubMedArticle, 1st January 2024//EN" "https://dtd.nlm.nih.gov/ncbi/pubmed/out/pubmed_240101.dtd">
<PubmedArticleSet>
${article('101', 'Aspirin lowers fever.', '<AbstractText>Aspirin was given. Fever fell in 2 h.</AbstractText>', ['102', '103', '555', '101', '102'])}
${article('102', 'Old title.', '<AbstractText>First version.</AbstractText>', ['101'])}
${article('103', 'Structured <i>abstracts</i> keep their sections.', '<AbstractText Label="BACKGROUND">Pain is common.</AbstractText><AbstractText Label="METHODS">We used <i>E. coli</i> assays.</AbstractText>', ['101'])}
${article('104', 'A record without an abstract.', '', ['101'])}
${article('102', 'New title.', '<AbstractText>Second version wins.</AbstractText>', ['103'], 2)}
${article('105', 'Deleted later in the file.', '<AbstractText>Gone.</AbstractText>', ['101'])}
<DeleteCitation><PMID Version="1">105</PMID></DeleteCitation>
</PubmedArticleSet>
`;

test('PubMed XML: a document per PMID (title + abstract sections), citations as links, versions and deletes applied, no-abstract records skipped', async () => {
  const d = tmp();
  const file = join(d, 'pubmed26n0001.xml');
  writeFileSync(file, SAMPLE_PUBMED);
  const s = await ingest({ dump: file, db: join(d, 'p.duckdb') });
  assert.equal(s.articles, 3);
  assert.deepEqual(s.skipped_reasons, { 'no abstract': 1 });
  const db = join(d, 'p.duckdb');
  // in file order, the winning version where it stands (104 took seq 2: it is listed in skipped)
  assert.deepEqual(await query(db, `SELECT seq, page_id, title, norm_title, rev_id FROM pages ORDER BY seq`), [
    { seq: 0, page_id: 101, title: 'Aspirin lowers fever.', norm_title: '101', rev_id: 1 },
    { seq: 1, page_id: 103, title: 'Structured abstracts keep their sections.', norm_title: '103', rev_id: 1 },
    { seq: 3, page_id: 102, title: 'New title.', norm_title: '102', rev_id: 2 },
  ]);
  assert.deepEqual(await query(db, `SELECT seq, page_id, reason FROM skipped`), [{ seq: 2, page_id: 104, reason: 'no abstract' }]);
  assert.deepEqual(await query(db, `SELECT text, para_first FROM articles WHERE seq = 1`), [{ text: 'Structured abstracts keep their sections.\n\nPain is common.\n\nWe used E. coli assays.', para_first: [0, 1, 2] }]);
  // citations: distinct, not to itself (CommentsCorrections are not references)
  assert.deepEqual(await query(db, `SELECT src, target, origin, "offset" FROM links ORDER BY src, idx`), [
    { src: 0, target: '102', origin: 'citation', offset: null },
    { src: 0, target: '103', origin: 'citation', offset: null },
    { src: 0, target: '555', origin: 'citation', offset: null },
    { src: 1, target: '101', origin: 'citation', offset: null },
    { src: 3, target: '103', origin: 'citation', offset: null },
  ]);
  const g = await graph({ db });
  assert.equal(g.edges, 4);
  assert.equal(g.dangling, 1); // 555, not in the corpus
  // the old MedlineCitationSet format
  const old = join(d, 'medline16n0001.xml');
  writeFileSync(old, `<?xml version="1.0"?>\n<MedlineCitationSet>\n<MedlineCitation Owner="NLM"><PMID Version="1">7</PMID><Article><ArticleTitle>Old format.</ArticleTitle><Abstract><AbstractText>It is read too.</AbstractText></Abstract></Article></MedlineCitation>\n</MedlineCitationSet>\n`);
  const o = await ingest({ dump: old, db: join(d, 'o.duckdb') });
  assert.equal(o.articles, 1);
  assert.deepEqual(await query(join(d, 'o.duckdb'), `SELECT text FROM articles`), [{ text: 'Old format.\n\nIt is read too.' }]);
});

test('an .md5 sidecar is checked before anything is read: a mismatch is a clear error, no database made', async () => {
  const d = tmp();
  const file = join(d, 'pubmed26n0002.xml');
  writeFileSync(file, SAMPLE_PUBMED);
  writeFileSync(`${file}.md5`, `MD5(pubmed26n0002.xml)= ${createHash('md5').update(SAMPLE_PUBMED).digest('hex')}\n`);
  assert.equal((await ingest({ dump: file, db: join(d, 'ok.duckdb') })).articles, 3);
  writeFileSync(`${file}.md5`, `MD5(pubmed26n0002.xml)= ${'0'.repeat(32)}\n`);
  const r = await cli(['ingest', '--dump', file, '--db', join(d, 'bad.duckdb')]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /pubmed26n0002\.xml: MD5 is [0-9a-f]{32}, but .*pubmed26n0002\.xml\.md5 says 0{32}: the file is damaged/);
  assert.ok(!existsSync(join(d, 'bad.duckdb')));
});

test('shared PubMed files: documents, versions, the old format, and citation edges equal to an independent count', { skip: NO_SHARED }, async () => {
  const d = tmp();
  const P = join(SHARED, 'pubmed');
  // an independent reading of a search export whose records cite each other
  const name = 'xs-stmz-methodology__pubmed_result_pvz.xml.gz';
  const xml = gunzipSync(readFileSync(join(P, name))).toString('utf8');
  const recs = xml.split('<PubmedArticle>').slice(1).map((a) => ({
    pmid: /<PMID[^>]*>(\d+)<\/PMID>/.exec(a)![1]!,
    abstract: /<AbstractText/.test(a),
    refs: [...(a.split('<ReferenceList>')[1] ?? '').matchAll(/<ArticleId IdType="pubmed">(\d+)<\/ArticleId>/g)].map((m) => m[1]!),
  }));
  const kept = new Set(recs.filter((r) => r.abstract).map((r) => r.pmid));
  const expected = new Set(recs.filter((r) => kept.has(r.pmid)).flatMap((r) => r.refs.filter((x) => kept.has(x) && x !== r.pmid).map((x) => `${r.pmid}>${x}`)));
  const db = join(d, 'x.duckdb');
  const s = await ingest({ dump: join(P, name), db });
  assert.equal(s.articles, kept.size);
  assert.equal(s.skipped_reasons['no abstract'], recs.length - kept.size);
  const g = await graph({ db });
  assert.equal(g.edges, expected.size);
  assert.ok(expected.size > 50);
  const edges = await query<{ e: string }>(db, `SELECT s.norm_title || '>' || t.norm_title AS e FROM edges JOIN pages s ON s.seq = edges.src JOIN pages t ON t.seq = edges.dst`);
  assert.deepEqual(new Set(edges.map((r) => r.e)), expected);
  // versioned records (33 records, 28 PMIDs; its .md5 checked), and the pre-2017 format (604 records)
  const v = await ingest({ dump: join(P, 'pubmed22n1114.xml.gz'), db: join(d, 'v.duckdb') });
  assert.equal(v.pages, 28);
  const m = await ingest({ dump: join(P, 'medline16n0902.xml.gz'), db: join(d, 'm.duckdb') });
  assert.equal(m.pages, 604);
});

test('a PubMed baseline file and an update file in one database: the update replaces newer versions and deletes across files', async () => {
  const d = tmp();
  const head = '<?xml version="1.0" ?>\n<PubmedArticleSet>\n';
  writeFileSync(join(d, 'pubmed26n0001.xml'), head + [
    article('201', 'Base one.', '<AbstractText>One.</AbstractText>', ['202', '203']),
    article('202', 'Base two, old.', '<AbstractText>Two.</AbstractText>', ['201']),
    article('203', 'Base three.', '<AbstractText>Three.</AbstractText>', ['201']),
    article('204', 'Base four.', '<AbstractText>Four.</AbstractText>', []),
  ].join('') + '</PubmedArticleSet>\n');
  writeFileSync(join(d, 'pubmed26n0002.xml'), head + [
    article('202', 'Base two, revised.', '<AbstractText>Two again.</AbstractText>', ['204'], 2),
    article('205', 'New five.', '<AbstractText>Five.</AbstractText>', ['203', '201']),
  ].join('') + '<DeleteCitation><PMID Version="1">203</PMID></DeleteCitation>\n</PubmedArticleSet>\n');
  const db = join(d, 'u.duckdb');
  const s = await ingest({ dump: [join(d, 'pubmed26n0001.xml'), join(d, 'pubmed26n0002.xml')], db });
  // each input with its size and SHA-256, as the shards' card lists them
  const digest = (f: string) => ({ bytes: readFileSync(f).length, sha256: createHash('sha256').update(readFileSync(f)).digest('hex') });
  assert.deepEqual(s.inputs, [
    { file: join(d, 'pubmed26n0001.xml'), kind: 'pubmed', first_seq: 0, end_seq: 4, ...digest(join(d, 'pubmed26n0001.xml')) },
    { file: join(d, 'pubmed26n0002.xml'), kind: 'pubmed', first_seq: 4, end_seq: 6, ...digest(join(d, 'pubmed26n0002.xml')) },
  ]);
  assert.deepEqual(await query(db, `SELECT seq, norm_title, title FROM pages ORDER BY seq`), [
    { seq: 0, norm_title: '201', title: 'Base one.' },
    { seq: 3, norm_title: '204', title: 'Base four.' },
    { seq: 4, norm_title: '202', title: 'Base two, revised.' },
    { seq: 5, norm_title: '205', title: 'New five.' },
  ]);
  assert.deepEqual(await query(db, `SELECT count(*)::INTEGER AS n FROM articles`), [{ n: 4 }]);
  const g = await graph({ db });
  assert.equal(g.edges, 3); // 201→202, 202→204, 205→201; 201→203 and 205→203 dangle (deleted)
  assert.equal(g.dangling, 2);
  // the folder holding both (and a checksum file, not an input): the same inputs, in name order
  writeFileSync(join(d, 'pubmed26n0001.xml.md5'), `MD5(pubmed26n0001.xml)= ${createHash('md5').update(readFileSync(join(d, 'pubmed26n0001.xml'))).digest('hex')}\n`);
  const folder = join(d, 'folder');
  mkdirSync(folder);
  for (const f of ['pubmed26n0001.xml', 'pubmed26n0001.xml.md5', 'pubmed26n0002.xml']) writeFileSync(join(folder, f), readFileSync(join(d, f)));
  const viaFolder = await ingest({ dump: folder, db: join(d, 'f.duckdb') });
  assert.deepEqual(viaFolder.inputs!.map((i) => i.file), [join(folder, 'pubmed26n0001.xml'), join(folder, 'pubmed26n0002.xml')]);
  assert.deepEqual(await tableDigests(join(d, 'f.duckdb')), await tableDigests(db));
  // the same inputs again: complete, nothing read
  assert.equal((await ingest({ dump: [join(d, 'pubmed26n0001.xml'), join(d, 'pubmed26n0002.xml')], db })).already_done, true);
});

const JATS = `<?xml version="1.0"?>
<!DOCTYPE article PUBLIC "-//NLM//DTD JATS (Z39.96) Journal Archiving and Interchange DTD v1.0 20120330//EN" "JATS-archivearticle1.dtd">
<article xmlns:xlink="http://www.w3.org/1999/xlink" article-type="research-article"><front><article-meta>
<article-id pub-id-type="pmid">301</article-id><article-id pub-id-type="pmc">9001</article-id>
<title-group><article-title>Phage lysis <italic>timing</italic></article-title></title-group>
<abstract><sec><title>Background</title><p>Lysis time varies [<xref ref-type="bibr" rid="B1">1</xref>-<xref ref-type="bibr" rid="B2">2</xref>].</p></sec></abstract>
</article-meta></front>
<body><sec><title>Results</title><p>Holin sets the time (<xref ref-type="bibr" rid="B1">1</xref>; <xref ref-type="bibr" rid="B3">3</xref>). See Figure <xref ref-type="fig" rid="F1">1</xref>.</p>
<fig id="F1"><caption><p>A figure caption.</p></caption></fig>
<table-wrap id="T1"><table><tr><td><p>cell text</p></td></tr></table></table-wrap>
<p>The rate <inline-formula><mml:math xmlns:mml="http://www.w3.org/1998/Math/MathML"><mml:mi>k</mml:mi></mml:math></inline-formula> was fixed.</p></sec></body>
<back><ref-list><ref id="B1"><mixed-citation>A. <pub-id pub-id-type="pmid">302</pub-id></mixed-citation></ref>
<ref id="B2"><mixed-citation>B. <pub-id pub-id-type="doi">10.1/x</pub-id></mixed-citation></ref>
<ref id="B3"><mixed-citation>C. <pub-id pub-id-type="pmid">303</pub-id></mixed-citation></ref></ref-list></back></article>
`;

test('a PMC full text (JATS): title, abstract and body paragraphs without floats, formulas or citation markers; reference PMIDs as links', async () => {
  const d = tmp();
  writeFileSync(join(d, 'a.nxml'), JATS);
  const db = join(d, 'j.duckdb');
  const s = await ingest({ dump: join(d, 'a.nxml'), db });
  assert.equal(s.articles, 1);
  assert.deepEqual(await query(db, `SELECT p.norm_title, p.title, a.text FROM pages p JOIN articles a USING (seq)`), [
    { norm_title: '301', title: 'Phage lysis timing', text: 'Phage lysis timing\n\nLysis time varies.\n\nHolin sets the time. See Figure 1.\n\nThe rate was fixed.' },
  ]);
  assert.deepEqual(await query(db, `SELECT target, origin FROM links ORDER BY idx`), [
    { target: '302', origin: 'citation' },
    { target: '303', origin: 'citation' },
  ]);
});

test('the shared PMC full texts, as several inputs of one database: 9 articles, their 287 reference PMIDs', { skip: NO_SHARED }, async () => {
  const d = tmp();
  const dir = join(SHARED, 'pubmed', 'pmc');
  const files = readdirSync(dir).filter((f) => f.endsWith('.nxml')).sort().map((f) => join(dir, f));
  const s = await ingest({ dump: files, db: join(d, 'pmc.duckdb') });
  assert.equal(s.articles, 9);
  // the folder itself: its files, in name order, each an input
  const f = await ingest({ dump: dir, db: join(d, 'folder.duckdb') });
  assert.deepEqual(f.inputs!.map((i) => [i.file, i.kind]), files.map((x) => [x, 'pmc']));
  assert.deepEqual(await tableDigests(join(d, 'folder.duckdb')), await tableDigests(join(d, 'pmc.duckdb')));
  assert.equal(s.links, 287);
  assert.deepEqual(await query(join(d, 'pmc.duckdb'), `SELECT count(*)::INTEGER AS n FROM articles WHERE contains(text, '[-]') OR contains(text, '[,]')`), [{ n: 0 }]);
});
