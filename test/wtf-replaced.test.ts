import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { defaultSiteInfo } from '../src/dump/siteinfo.ts';
import { Titles } from '../src/wiki/title.ts';
import { scanLinks } from '../src/wiki/wikilinks.ts';
import killXml from '../src/wiki/wtf-kill-xml.ts';
import nestedFind from '../src/wiki/wtf-nested-find.ts';
import { NO_SHARED, ROOT, SAMPLE, SHARED } from './helpers.ts';

// wtf_wikipedia's own modules, imported by their files (the package exports only its entry)
const { default: wtfNestedFind } = (await import(join(ROOT, 'node_modules/wtf_wikipedia/src/image/nested_find.js'))) as { default: (s: string) => string[] };
const { default: wtfKillXml } = (await import(join(ROOT, 'node_modules/wtf_wikipedia/src/01-document/preProcess/kill_xml.js'))) as { default: (s: string) => string };
const titles = new Titles(defaultSiteInfo());

/** The article, what wtf is given of it (links rewritten to markers), and each of their lines. */
function inputs(wikitext: string): string[] {
  const rewritten = scanLinks(wikitext, titles).rewritten;
  return [wikitext, rewritten, ...wikitext.split('\n'), ...rewritten.split('\n\n')];
}

function assertSame(texts: string[], label: string): void {
  for (const t of texts) {
    assert.deepEqual(nestedFind(t), wtfNestedFind(t), `nested_find, ${label}: ${JSON.stringify(t.slice(0, 80))}`);
    assert.equal(killXml(t), wtfKillXml(t), `kill_xml, ${label}: ${JSON.stringify(t.slice(0, 80))}`);
  }
}

test("the replacements of nested_find and kill_xml give what wtf_wikipedia's give: random strings of brackets and tags", () => {
  let seed = 7;
  const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const pieces = ['[', ']', '[[', ']]', 'a', ' ', 'é', '\n', '😀', '|', 'File:x', '<', '>', '<br />', '<i>', '</i>', '<span a="b">', '<table>', '</table>', '\u00a0', '\t'];
  const texts = [''];
  for (let k = 0; k < 50_000; k++) {
    let s = '';
    for (let n = Math.floor(next() * 30); n > 0; n--) s += pieces[Math.floor(next() * pieces.length)];
    texts.push(s);
  }
  assertSame(texts, 'random');
  // the cases that decide its shape
  assert.deepEqual(nestedFind('a ] b [[x]] c [y [z]] ] [open'), [']', '[[x]]', '[y [z]]', ']']);
  assert.deepEqual(nestedFind('no brackets'), []);
  // without a tag only the ends are trimmed; with one, wtf's own passes run
  assert.equal(killXml('  plain text \n'), 'plain text');
  assert.equal(killXml(' a<br />b '), wtfKillXml(' a<br />b '));
  assert.notEqual(killXml('a <i>b</i>'), 'a <i>b</i>', 'the tag is rewritten');
});

test("the replacements give what wtf_wikipedia's give: every article of the sample", () => {
  const xml = readFileSync(SAMPLE, 'utf8');
  const texts = [...xml.matchAll(/<text[^>]*>([\s\S]*?)<\/text>/g)].map((m) => m[1]!.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&amp;/g, '&'));
  assert.ok(texts.length > 40);
  for (const t of texts) assertSame(inputs(t), 'sample');
});

test("the replacements give what wtf_wikipedia's give: 71 real articles", { skip: NO_SHARED }, () => {
  const dir = join(SHARED, 'wikitext');
  const files = readdirSync(dir);
  assert.ok(files.length >= 71);
  for (const f of files) assertSame(inputs(readFileSync(join(dir, f), 'utf8')), f);
});
