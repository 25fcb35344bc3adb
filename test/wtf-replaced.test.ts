import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { test } from 'node:test';
import wtf from 'wtf_wikipedia';
import { defaultSiteInfo } from '../src/dump/siteinfo.ts';
import { bundledAsync } from '../src/util/bundle.js';
import { Titles } from '../src/wiki/title.ts';
import { scanLinks } from '../src/wiki/wikilinks.ts';
import killXml from '../src/wiki/wtf/kill-xml.ts';
import nestedFind from '../src/wiki/wtf/nested-find.ts';
import formatting from '../src/wiki/wtf/formatting.ts';
import { trim_whitespace } from '../src/wiki/wtf/helpers.ts';
import getLinks from '../src/wiki/wtf/sentence-links.ts';
import sentenceParser from '../src/wiki/wtf/sentence-split.ts';
import { byParagraph, fromText } from '../src/wiki/wtf/sentence.ts';
import { upstream } from '../src/wiki/wtf/upstream.ts';
import { cli, NO_SHARED, ROOT, SAMPLE, SHARED, tableDigests, tmp } from './helpers.ts';

// wtf_wikipedia's own modules, from wherever the package is installed (it exports only its entry)
const wtfModule = async <T>(path: string): Promise<T> => (await upstream(path)) as T;
const { default: wtfNestedFind } = await wtfModule<{ default: (s: string) => string[] }>('image/nested_find.js');
const { default: wtfKillXml } = await wtfModule<{ default: (s: string) => string }>('01-document/preProcess/kill_xml.js');
const { default: wtfFormatting } = await wtfModule<{ default: (o: object) => object }>('04-sentence/formatting.js');
const { trim_whitespace: wtfTrim } = await wtfModule<{ trim_whitespace: (s: unknown) => string }>('_lib/helpers.js');
const { default: wtfGetLinks } = await wtfModule<{ default: (d: { text: string; links?: { data: object }[] }) => void }>('link/index.js');
const { default: wtfSentenceParser } = await wtfModule<{ default: (s: unknown) => string[] }>('04-sentence/parse.js');
const wtfSentence = await wtfModule<{ fromText: (s: string) => { data: object }; byParagraph: (p: { wiki: string; sentences?: { data: object }[] }) => void }>('04-sentence/index.js');
const titles = new Titles(defaultSiteInfo());

/** wtf_wikipedia as ingest's workers run it: bundled with the replacements. */
const bundle = await bundledAsync(join(ROOT, 'test/fixtures/wtf-bundled.ts'), { prefix: 'test' });
const replacedWtf = bundle ? ((await import(pathToFileURL(bundle).href)) as { default: typeof wtf }).default : null;

/** The article, what wtf is given of it (links rewritten to markers), and each of their lines. */
function inputs(wikitext: string): string[] {
  const rewritten = scanLinks(wikitext, titles).rewritten;
  return [wikitext, rewritten, ...wikitext.split('\n'), ...rewritten.split('\n\n')];
}

/** A sentence's links and text after getLinks (links as the data they hold). */
function linked(get: (d: { text: string; links?: { data: object }[] }) => void, text: string): unknown {
  const d: { text: string; links?: { data: object }[] } = { text };
  get(d);
  return { text: d.text, links: d.links!.map((l) => l.data) };
}

function assertSame(texts: string[], label: string): void {
  for (const t of texts) {
    const at = `${label}: ${JSON.stringify(t.slice(0, 80))}`;
    assert.deepEqual(nestedFind(t), wtfNestedFind(t), `nested_find, ${at}`);
    assert.equal(killXml(t), wtfKillXml(t), `kill_xml, ${at}`);
    assert.equal(trim_whitespace(t), wtfTrim(t), `trim_whitespace, ${at}`);
    assert.deepEqual(formatting({ text: t }), wtfFormatting({ text: t }), `formatting, ${at}`);
    assert.deepEqual(linked(getLinks as never, t), linked(wtfGetLinks, t), `links, ${at}`);
    assert.deepEqual(sentenceParser(t), wtfSentenceParser(t), `sentence split, ${at}`);
    assert.deepEqual((fromText(t) as unknown as { data: object }).data, wtfSentence.fromText(t).data, `sentence, ${at}`);
    const [a, b] = [{ wiki: t, sentences: [] as unknown[] }, { wiki: t, sentences: [] as { data: object }[] }];
    byParagraph(a as never);
    wtfSentence.byParagraph(b);
    assert.deepEqual(
      (a.sentences as { data: object }[]).map((x) => x.data),
      b.sentences!.map((x) => x.data),
      `paragraph, ${at}`,
    );
  }
}

/** Whole documents: what wtf makes of each text, with the replacements and without. */
function assertSameDocuments(texts: string[], label: string): void {
  assert.ok(replacedWtf, 'esbuild bundles wtf_wikipedia with the replacements');
  const replaced: typeof wtf = replacedWtf;
  const sentences = (d: ReturnType<typeof wtf>) => d.sentences().map((s) => [s.text(), s.links().map((l) => [l.page(), l.text()])]);
  for (const t of texts) {
    const a = replaced(t, { title: 'T' });
    const b = wtf(t, { title: 'T' });
    assert.equal(JSON.stringify(a.json()), JSON.stringify(b.json()), `document, ${label}: ${JSON.stringify(t.slice(0, 80))}`);
    assert.deepEqual(sentences(a), sentences(b), `sentences, ${label}`);
  }
}

function randomTexts(pieces: string[], count: number, seed: number): string[] {
  const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const texts = [''];
  for (let k = 0; k < count; k++) {
    let s = '';
    for (let n = Math.floor(next() * 30); n > 0; n--) s += pieces[Math.floor(next() * pieces.length)];
    texts.push(s);
  }
  return texts;
}

test("the replacements of wtf_wikipedia's modules give what its own give: random strings", () => {
  const brackets = ['[', ']', '[[', ']]', 'a', ' ', 'é', '\n', '😀', '|', 'File:x', '<', '>', '<br />', '<i>', '</i>', '<span a="b">', '<table>', '</table>', '\u00a0', '\t'];
  const sentences = ['. ', '.', '! ', '?"', '"', '...', '... ', ' c. ', ' J. ', 'Dr. ', 'etc.', "'A", 'x]y]. ', '(', ')', '(; ', ' ; ', ',', 'Aa', '\n\n', '[[Lk1|', '[[Lk23|', '[[Lk4|Lk4]]', ']]', 'ab', 'Z', ' ', '  ', ', ', ' , ', '\n', '\t', '\u3000', '\u00a0', '\ufeff', '\u180e', '\u200b', '\u2028', '|', '[', ']', ':', '$&', '$1', "$'", '$$', "''", "'''", 'Lk1', '#', 'é', '[http://a.b c]', '[[x]]', '[[File:f.png|t]]'];
  assertSame(randomTexts(brackets, 50_000, 7), 'random');
  assertSame(randomTexts(sentences, 50_000, 11), 'random sentences');
  // the cases that decide their shape
  assert.deepEqual(nestedFind('a ] b [[x]] c [y [z]] ] [open'), [']', '[[x]]', '[y [z]]', ']']);
  assert.deepEqual(nestedFind('no brackets'), []);
  // without a tag only the ends are trimmed; with one, wtf's own passes run
  assert.equal(killXml('  plain text \n'), 'plain text');
  assert.notEqual(killXml('a <i>b</i>'), 'a <i>b</i>', 'the tag is rewritten');
  assert.equal(trim_whitespace(' a  b  c \n, d , e '), 'a b  c , d , e'); // only the first of each
  // a marker's link as wtf makes it: its number as the page, its anchor and trail as the text
  assert.deepEqual(linked(getLinks as never, 'The [[Lk3|cat]]s and [[Lk4|:dog]].'), {
    text: 'The cats and dog.',
    links: [
      { type: 'internal', page: 'Lk3', raw: '[[Lk3|cat]]s', text: 'cats' },
      { type: 'internal', page: 'Lk4', raw: '[[Lk4|:dog]]', text: 'dog' },
    ],
  });
});

test('the replacements give the same whole documents: random wikitext', () => {
  const pieces = ['\n', '\n\n', '== H ==\n', 'Some text. ', 'Dr. No. ', '[[Lk1|a b]]', '[[Lk2|c]]d', '{{t|x}}', '{{', '}}', '{|\n|a\n|}\n', '<ref>r</ref>', '<ref name="n"/>', '<math>x</math>', '<', "''i''", "'''b'''", '* item\n', '(; x)', '  ', ' , ', '[[File:f.png|thumb|cap]]', '[http://x.org y]', '&nbsp;', '<!-- c -->'];
  assertSameDocuments(randomTexts(pieces, 3000, 5), 'random');
});

test("the replacements give what wtf_wikipedia's give: every article of the sample", () => {
  const xml = readFileSync(SAMPLE, 'utf8');
  const texts = [...xml.matchAll(/<text[^>]*>([\s\S]*?)<\/text>/g)].map((m) => m[1]!.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&amp;/g, '&'));
  assert.ok(texts.length > 40);
  for (const t of texts) {
    assertSame(inputs(t), 'sample');
    assertSameDocuments([t, scanLinks(t, titles).rewritten], 'sample');
  }
});

test("the replacements give what wtf_wikipedia's give: 71 real articles", { skip: NO_SHARED }, () => {
  const dir = join(SHARED, 'wikitext');
  const files = readdirSync(dir);
  assert.ok(files.length >= 71);
  for (const f of files) {
    const t = readFileSync(join(dir, f), 'utf8');
    assertSame(inputs(t), f);
    assertSameDocuments([t, scanLinks(t, titles).rewritten], f);
  }
});

test('ingest through the sources (tsx, the package\'s own wtf modules) and through the bundles (the replacements) writes the same rows', { skip: NO_SHARED }, async () => {
  const dir = tmp();
  const dump = join(SHARED, 'dumps/enwiki-latest-pages-articles1.xml-p000000010p000030302-shortened.bz2');
  const bundled = await cli(['ingest', '--dump', dump, '--db', join(dir, 'b.duckdb'), '--json']);
  assert.equal(bundled.code, 0, bundled.stderr);
  const sources = await cli(['ingest', '--dump', dump, '--db', join(dir, 's.duckdb'), '--json'], { LINKBERT_NO_BUNDLE: '1' });
  assert.equal(sources.code, 0, sources.stderr);
  const digests = await tableDigests(join(dir, 'b.duckdb'));
  assert.match(digests.articles!, /^[1-9]\d*:/);
  assert.deepEqual(await tableDigests(join(dir, 's.duckdb')), digests);
});

test('the sample through the sources and through the bundles: the same rows', async () => {
  const dir = tmp();
  const bundled = await cli(['ingest', '--dump', SAMPLE, '--db', join(dir, 'b.duckdb'), '--json']);
  assert.equal(bundled.code, 0, bundled.stderr);
  const sources = await cli(['ingest', '--dump', SAMPLE, '--db', join(dir, 's.duckdb'), '--json'], { LINKBERT_NO_BUNDLE: '1' });
  assert.equal(sources.code, 0, sources.stderr);
  assert.deepEqual(await tableDigests(join(dir, 's.duckdb')), await tableDigests(join(dir, 'b.duckdb')));
});
