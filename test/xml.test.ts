import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { PageReader, type DumpPage } from '../src/dump/xml.ts';
import { SAMPLE } from './helpers.ts';

function readAll(xml: string, chunk = 65536): { pages: DumpPage[]; reader: PageReader } {
  const reader = new PageReader('mem.xml');
  const pages: DumpPage[] = [];
  for (let i = 0; i < xml.length; i += chunk) {
    reader.write(xml.slice(i, i + chunk));
    pages.push(...reader.take());
  }
  reader.end();
  pages.push(...reader.take());
  return { pages, reader };
}

const sample = readFileSync(SAMPLE, 'utf8');

test('siteinfo and every page field of the sample (schema 0.11)', () => {
  const { pages, reader } = readAll(sample);
  assert.equal(pages.length, 57);
  const site = reader.siteinfo!;
  assert.equal(site.dbname, 'samplewiki');
  assert.equal(site.case, 'first-letter');
  assert.equal(site.namespaces.find((n) => n.key === 14)?.name, 'Category');
  assert.equal(site.namespaces.find((n) => n.key === 0)?.name, '');
  const p = pages[0]!;
  assert.deepEqual({ ...p, text: p.text!.slice(0, 20) }, { seq: 0, title: 'Kestrel Islands', ns: 0, id: 100, redirect: null, revId: 5000, timestamp: '2024-01-01T00:00:00Z', text: '{{Infobox islands\n| ', line: sample.slice(0, sample.indexOf('<page>')).split('\n').length });
  assert.equal(pages.find((x) => x.title === 'Wren Harbour')!.redirect, 'Port Wren');
  assert.equal(pages.find((x) => x.title === 'Kestrel Isles')!.redirect, null);
  assert.deepEqual(pages.map((x) => x.seq), pages.map((_, i) => i));
});

test('the same pages whatever the chunk boundaries', () => {
  const whole = readAll(sample).pages;
  for (const chunk of [1, 7, 4096]) assert.deepEqual(readAll(sample, chunk).pages, whole, `chunk ${chunk}`);
});

test('an old-schema dump without <siteinfo> or <ns> still reads, with English defaults', () => {
  const xml = '<mediawiki><page><title>Talk:X</title><id>3</id><revision><id>9</id><text>hi</text></revision></page></mediawiki>';
  const { pages, reader } = readAll(xml);
  assert.equal(pages[0]!.ns, null);
  assert.equal(pages[0]!.text, 'hi');
  assert.equal(reader.siteinfo!.fromDump, false);
  assert.equal(reader.siteinfo!.case, 'first-letter');
});

test('full-history pages keep the newest revision, wherever it stands; deleted text reads as missing', () => {
  const xml = '<mediawiki><page><title>A</title><ns>0</ns><id>1</id><revision><id>1</id><text>old</text></revision><revision><id>2</id><text>new</text></revision></page><page><title>B</title><ns>0</ns><id>2</id><revision><id>3</id><text deleted="deleted" /></revision></page></mediawiki>';
  const { pages } = readAll(xml);
  assert.deepEqual(pages.map((p) => [p.revId, p.text]), [[2, 'new'], [3, null]]);
  const rev = (id: number, ts: string, text: string) => `<revision><id>${id}</id><timestamp>${ts}</timestamp><text>${text}</text></revision>`;
  const shuffled = `<mediawiki><page><title>C</title><ns>0</ns><id>3</id>${rev(7, '2024-05-01T00:00:00Z', 'newest')}${rev(5, '2020-01-01T00:00:00Z', 'oldest')}${rev(6, '2022-01-01T00:00:00Z', 'middle')}</page></mediawiki>`;
  assert.deepEqual(readAll(shuffled).pages.map((p) => [p.revId, p.timestamp, p.text]), [[7, '2024-05-01T00:00:00Z', 'newest']]);
});

test('malformed XML: an error naming the file, line and column; pages before it were delivered', () => {
  const xml = sample.replace('<title>Amber River</title>', '<title>Amber River</titel>');
  const reader = new PageReader('broken.xml');
  let delivered = 0;
  assert.throws(() => {
    for (let i = 0; i < xml.length; i += 1000) {
      reader.write(xml.slice(i, i + 1000));
      delivered += reader.take().length;
    }
  }, /^DumpSyntaxError: broken\.xml: malformed XML at line \d+, column \d+: /);
  assert.ok(delivered >= 2, `pages before the damage were delivered (${delivered})`);
});

test('a dump cut off inside a page is an error naming where that page began', () => {
  const cut = sample.slice(0, sample.indexOf('<title>Saltmarsh</title>') + 30);
  assert.throws(() => readAll(cut), /mem\.xml: .*line \d+/);
});
