import assert from 'node:assert/strict';
import { test } from 'node:test';
import { defaultSiteInfo } from '../src/dump/siteinfo.ts';
import { Titles } from '../src/wiki/title.ts';
import { scanLinks } from '../src/wiki/wikilinks.ts';

const titles = new Titles(defaultSiteInfo());
const scan = (s: string) => scanLinks(s, titles);

test('each internal link is numbered in the rewritten text, with its anchor and origin', () => {
  const r = scan('A [[Foo|bar]] and [[Baz]] and [[C|the letter]].');
  assert.equal(r.rewritten, 'A [[Lk0|bar]] and [[Lk1|Baz]] and [[Lk2|the letter]].');
  assert.deepEqual(r.links, [
    { target: 'Foo', anchor: 'bar', origin: 'text' },
    { target: 'Baz', anchor: 'Baz', origin: 'text' },
    { target: 'C', anchor: 'the letter', origin: 'text' },
  ]);
});

test('link trail, pipe trick and underscores in the shown text', () => {
  const r = scan('[[bus]]es, [[Paris (city)|]] and [[port_Wren]]');
  assert.deepEqual(r.links.map((l) => l.anchor), ['buses', 'Paris', 'port Wren']);
});

test('origins: template, infobox, ref, file caption, gallery, table', () => {
  const r = scan(
    [
      '{{Infobox town|seat=[[Seat]]|x={{flag|[[Flagged]]}}}}',
      '{{main|x}} {{nowrap|[[Wrapped]]}}',
      'Text<ref>See [[Source]].</ref> <ref name="a"/> [[After]]',
      '[[File:X.jpg|thumb|A [[Pictured]] thing]] [[Image:Y.png|[[Old image]]]]',
      '<gallery>\nZ.jpg|[[In gallery]]\n</gallery>',
      '{| class="wikitable"\n| [[In table]]\n|}',
      'end [[Last]]',
    ].join('\n'),
  );
  assert.deepEqual(
    r.links.map((l) => [l.target, l.origin]),
    [
      ['Seat', 'infobox'],
      ['Flagged', 'infobox'],
      ['Wrapped', 'template'],
      ['Source', 'ref'],
      ['After', 'text'],
      ['Pictured', 'caption'],
      ['Old image', 'caption'],
      ['In gallery', 'gallery'],
      ['In table', 'table'],
      ['Last', 'text'],
    ],
  );
});

test('categories, interlanguage and interwiki links, comments and nowiki are not links', () => {
  const r = scan('[[Category:Towns]] [[fr:Paris]] [[wikt:word]] <!-- [[Hidden]] --> <nowiki>[[Raw]]</nowiki> [[Wikipedia:About|about]] [[:Category:Towns|towns]]');
  assert.deepEqual(r.links.map((l) => l.target), ['Wikipedia:About', ':Category:Towns']);
  assert.ok(r.rewritten.startsWith('  [[wikt:word]]')); // the category link and the interlanguage link show nothing
  assert.ok(scanLinks('[[Category:Towns]] x', titles, { strip: false }).rewritten.startsWith('[[Category:Towns]]'));
});

test('malformed brackets are left alone', () => {
  const r = scan('[[unclosed and [[ok]] and [[bad{target}]]');
  assert.deepEqual(r.links.map((l) => l.target), ['ok']);
});

test('strip leaves out refs, tables, galleries, infoboxes, files, categories and comments, keeping their links', () => {
  const src = 'A{{Infobox x|a=[[In box]]}}B<ref name="n">[[R]]</ref>C<ref name="n"/>D<!-- c -->E[[File:F.jpg|[[Cap]]]]F\n{|\n|[[T]]\n|}\n<gallery>\nG.jpg|[[Gal]]\n</gallery>G{{lang|fr|[[Mot]]}}H[[Category:K]]';
  const r = scanLinks(src, titles);
  assert.equal(r.rewritten, 'AB C DEF\nG{{lang|fr|[[Lk5|Mot]]}}H'); // a ref reads as a space; whole-line regions go with their line
  assert.deepEqual(r.links.map((l) => [l.target, l.origin]), [
    ['In box', 'infobox'],
    ['R', 'ref'],
    ['Cap', 'caption'],
    ['T', 'table'],
    ['Gal', 'gallery'],
    ['Mot', 'template'],
  ]);
  // an unclosed ref or table does not swallow the rest of the page
  assert.equal(scanLinks('a<ref>b [[L]] c', titles).rewritten, 'a b [[Lk0|L]] c');
  assert.equal(scanLinks('{| x\n[[L]]', titles).rewritten, '{| x\n[[Lk0|L]]');
});

test('apparatus sections (with their subsections) are cut up to the next heading of their level; their links are kept', () => {
  const src = 'Intro [[A]].\n== History ==\nOld [[B]].\n== See also ==\n* [[C]]<ref>[[D]]</ref>\n=== Lists ===\n* [[E]]\n== Legacy ==\nNew [[F]].\n== External links ==\n* [[G]]';
  const r = scanLinks(src, titles);
  assert.equal(r.rewritten, 'Intro [[Lk0|A]].\n== History ==\nOld [[Lk1|B]].\n== Legacy ==\nNew [[Lk5|F]].\n');
  assert.deepEqual(r.links.map((l) => [l.target, l.origin]), [
    ['A', 'text'],
    ['B', 'text'],
    ['C', 'text'],
    ['D', 'ref'],
    ['E', 'text'],
    ['F', 'text'],
    ['G', 'text'],
  ]);
});
