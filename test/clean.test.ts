import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { defaultSiteInfo } from '../src/dump/siteinfo.ts';
import { cleanArticle } from '../src/wiki/clean.ts';
import { Titles } from '../src/wiki/title.ts';
import { NO_SHARED, SAMPLE, SHARED } from './helpers.ts';

const titles = new Titles(defaultSiteInfo());
const cps = (s: string) => Array.from(s);
/** The text at a code-point offset, as SQL's substr() sees it. */
const at = (text: string, offset: number, len: number) => cps(text).slice(offset, offset + len).join('');

test('paragraphs of sentences, with sentence spans that recover each sentence', () => {
  const a = cleanArticle('Foo', "'''Foo''' is a [[bar]]. It has two sentences.\n\nA second paragraph here.\n* first item\n* second item", titles);
  const sentences = a.sentStart.map((s, i) => at(a.text, s, a.sentLen[i]!));
  assert.deepEqual(sentences, ['Foo is a bar.', 'It has two sentences.', 'A second paragraph here.', 'first item', 'second item']);
  assert.deepEqual(a.paraFirst, [0, 2, 3]);
  assert.equal(a.text, 'Foo is a bar. It has two sentences.\n\nA second paragraph here.\n\nfirst item\nsecond item');
});

test('every placed link has its anchor at its offset, counted in code points', () => {
  const a = cleanArticle('Emoji', 'The 🦅 bird and 𝔸 sign precede [[Eagle|the eagle]]. Then [[C|the letter C]] and [[port_Wren]].', titles);
  const placed = a.links.filter((l) => l.offset !== null);
  assert.equal(placed.length, 3);
  for (const l of placed) assert.equal(at(a.text, l.offset!, cps(l.anchor).length), l.anchor);
  assert.deepEqual(a.links.map((l) => [l.target, l.anchor]), [
    ['Eagle', 'the eagle'],
    ['C', 'the letter C'], // wtf alone misreads a one-letter piped target
    ['Port Wren', 'port Wren'],
  ]);
});

test('links outside the clean text keep a null offset and their origin', () => {
  const a = cleanArticle(
    'Town',
    '{{Infobox settlement|river=[[Amber River]]}}\nThe town.<ref>[[Source book]]</ref> It has a [[harbour]].\n[[File:A.jpg|thumb|The [[Quay]]]]\n\n== See also ==\n* [[Other town]]',
    titles,
  );
  const byTarget = Object.fromEntries(a.links.map((l) => [l.target, [l.offset === null ? null : 'placed', l.origin]]));
  assert.deepEqual(byTarget, {
    'Amber River': [null, 'infobox'],
    'Source book': [null, 'ref'],
    Harbour: ['placed', 'text'],
    Quay: [null, 'caption'],
    'Other town': [null, 'text'], // "See also" is apparatus, left out of the text
  });
  assert.ok(!a.text.includes('Other town'));
});

test('the same anchor twice is placed at each occurrence', () => {
  const a = cleanArticle('X', 'A [[Wren]] sang. Another [[Wren (bird)|Wren]] sang.', titles);
  const offsets = a.links.map((l) => l.offset);
  assert.deepEqual(offsets, [2, 21]);
});

test('a section link points to the page itself; disambiguation pages are flagged', () => {
  const a = cleanArticle('Wren (disambiguation)', "'''Wren''' may be:\n* [[Wren (bird)]]\n* [[#Other|other uses]]\n\n{{disambiguation}}", titles);
  assert.equal(a.disambiguation, true);
  assert.deepEqual(a.links.map((l) => [l.target, l.fragment]), [
    ['Wren (bird)', null],
    ['Wren (disambiguation)', 'Other'],
  ]);
  assert.equal(cleanArticle('Plain', 'Just text.', titles).disambiguation, false);
});

/** Every article of a dump's XML, as [title, wikitext]. */
function articlesOf(xml: string): [string, string][] {
  const out: [string, string][] = [];
  for (const page of xml.split('<page>').slice(1)) {
    if (!page.includes('<ns>0</ns>') || page.includes('<redirect')) continue;
    const title = /<title>(.*?)<\/title>/.exec(page)![1]!;
    const text = /<text[^>]*>([\s\S]*?)<\/text>/.exec(page)![1]!.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&amp;/g, '&');
    if (!/^#redirect/i.test(text)) out.push([title, text]);
  }
  return out;
}

function assertSameClean(title: string, wikitext: string): boolean {
  const full = cleanArticle(title, wikitext, titles, { strip: false });
  const stripped = cleanArticle(title, wikitext, titles);
  // where wtf itself fails to remove a ref, the stripped text is the cleaner one
  if (full.text.includes('<ref')) return assert.ok(!stripped.text.includes('<ref'), title), false;
  assert.equal(stripped.text, full.text, title);
  // wtf splits a few more sentences when a ref no longer stands between them; never fewer
  const starts = new Set(stripped.sentStart);
  assert.ok(full.sentStart.every((s) => starts.has(s)), `${title}: every sentence start is kept`);
  assert.ok(stripped.sentStart.length <= full.sentStart.length * 1.02, `${title}: about the same sentences`);
  assert.deepEqual(stripped.links.filter((l) => l.offset !== null), full.links.filter((l) => l.offset !== null), title);
  assert.deepEqual(stripped.links.map((l) => l.target), full.links.map((l) => l.target), title);
  return true;
}

test('leaving non-prose regions out before wtf parses changes neither text nor links (sample)', () => {
  const arts = articlesOf(readFileSync(SAMPLE, 'utf8'));
  assert.equal(arts.length, 42);
  for (const [t, w] of arts) assert.ok(assertSameClean(t, w));
});

test('leaving non-prose regions out changes neither text nor links (71 real articles)', { skip: NO_SHARED }, () => {
  const dir = join(SHARED, 'wikitext');
  let same = 0;
  const files = readdirSync(dir);
  for (const f of files) if (assertSameClean(f, readFileSync(join(dir, f), 'utf8'))) same++;
  assert.ok(same >= files.length - 2, `${same}/${files.length} identical`);
});
