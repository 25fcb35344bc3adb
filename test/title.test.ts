import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { defaultSiteInfo, type SiteInfo } from '../src/dump/siteinfo.ts';
import { decodeEntities, Titles } from '../src/wiki/title.ts';

const en = new Titles(defaultSiteInfo());

test('first-letter wikis: first letter upper-cased, underscores and runs of spaces folded', () => {
  assert.equal(en.title('port_Wren'), 'Port Wren');
  assert.equal(en.title('  amber   river '), 'Amber river');
  assert.equal(en.title('\u00e9cole\u00a0normale'), '\u00c9cole normale');
  assert.equal(en.title('iPod'), 'IPod');
});

test('leading colon and #fragment are removed; the fragment is kept apart', () => {
  assert.deepEqual(en.normalize(':Port Wren#History'), { title: 'Port Wren', ns: 0, fragment: 'History' });
  assert.deepEqual(en.normalize('#Early_life'), { title: '', ns: 0, fragment: 'Early life' });
});

test('HTML entities are decoded', () => {
  assert.equal(en.title('AT&amp;T'), 'AT&T');
  assert.equal(en.title('Caf&#233;&#x20;Royal'), 'Café Royal');
  assert.equal(decodeEntities('a&nbsp;b &unknown;'), 'a\u00a0b &unknown;');
});

test('namespace prefixes are canonicalised, aliases included, and the rest first-lettered', () => {
  assert.deepEqual(en.normalize('category:towns_of X'), { title: 'Category:Towns of X', ns: 14, fragment: null });
  assert.deepEqual(en.normalize('Image:harbour.jpg'), { title: 'File:Harbour.jpg', ns: 6, fragment: null });
  assert.equal(en.namespaceOf('Wikipedia:About'), 4);
  assert.equal(en.namespaceOf('Star Wars: A New Hope'), 0);
  assert.equal(en.title('Star Wars: a New Hope'), 'Star Wars: a New Hope');
});

test('case-sensitive wikis keep the first letter; localised namespace names are known', () => {
  const site: SiteInfo = {
    ...defaultSiteInfo(),
    case: 'case-sensitive',
    namespaces: [
      { key: 0, name: '', case: 'case-sensitive' },
      { key: 14, name: 'Kategorie', case: 'first-letter' },
    ],
  };
  const t = new Titles(site);
  assert.equal(t.title('iPhone_case'), 'iPhone case');
  assert.equal(t.title('kategorie:foo'), 'Kategorie:Foo');
  assert.equal(t.title('Category:foo'), 'Kategorie:Foo'); // the English name works on every wiki
});

test('astral first letters are upper-cased whole', () => {
  assert.equal(en.title('\u{10428}x'), '\u{10400}x'); // Deseret small → capital
});

test('normalised titles are remembered: the same answer, not to be changed, and still right past the cache size', () => {
  const titles = new Titles(defaultSiteInfo());
  const a = titles.normalize('category:foo_bar#Top');
  assert.equal(titles.normalize('category:foo_bar#Top'), a, 'the same object again');
  assert.deepEqual(a, { title: 'Category:Foo bar', ns: 14, fragment: 'Top' });
  assert.throws(() => ((a as { title: string }).title = 'x'), TypeError);
  for (let k = 0; k < 60_000; k++) assert.equal(titles.normalize(`t_${k}`).title, `T ${k}`);
  assert.deepEqual(titles.normalize('category:foo_bar#Top'), a);
});

test('a remembered title does not keep the text it was cut from alive', () => {
  // in a process of its own, to collect garbage on demand
  const code = `
    import { Titles } from ${JSON.stringify(new URL('../src/wiki/title.ts', import.meta.url).href)};
    import { defaultSiteInfo } from ${JSON.stringify(new URL('../src/dump/siteinfo.ts', import.meta.url).href)};
    const titles = new Titles(defaultSiteInfo());
    globalThis.gc();
    const before = process.memoryUsage().heapUsed;
    for (let k = 0; k < 40; k++) {
      const article = ['x'.repeat(1 << 20), ' [[some_link_target_', k, '|a]] ', 'y'.repeat(1 << 20)].join('');
      const at = article.indexOf('[[') + 2;
      titles.normalize(article.slice(at, article.indexOf('|', at))); // a substring, as the link scanner cuts it
    }
    globalThis.gc();
    console.log(Math.round((process.memoryUsage().heapUsed - before) / 2 ** 20));`;
  const r = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', '--input-type=module', '-e', code], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  // the 40 articles of 2 MiB would be 80 MiB
  assert.ok(Number(r.stdout.trim()) < 20, `heap grew by ${r.stdout.trim()} MiB`);
});
