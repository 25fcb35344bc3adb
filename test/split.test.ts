import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { PageSplitter, type PageRun } from '../src/dump/split.ts';
import { replicateSample, SAMPLE } from './helpers.ts';

/** Feeds `xml` in chunks of `chunk` bytes; returns the header, the runs and the trailer. */
function split(xml: string, chunk: number, size: number): { header: Buffer; runs: PageRun[]; trailer: Buffer } {
  const bytes = Buffer.from(xml);
  const s = new PageSplitter(0, size);
  const header: Buffer[] = [];
  const runs: PageRun[] = [];
  for (let i = 0; i < bytes.length; i += chunk) {
    const r = s.push(bytes.subarray(i, i + chunk));
    if (r.header) header.push(r.header);
    runs.push(...r.runs);
  }
  const e = s.end();
  if (e.header) header.push(e.header);
  runs.push(...e.runs);
  return { header: Buffer.concat(header), runs, trailer: e.trailer };
}

const xml = readFileSync(SAMPLE, 'utf8');

test('split: header + runs + trailer are the dump byte for byte; runs hold whole pages, numbered and placed as in the dump', () => {
  const pages = xml.split('<page>').length - 1;
  for (const [chunk, size] of [[65536, 1 << 20], [1000, 3000], [7, 500], [1, 1]] as const) {
    const { header, runs, trailer } = split(xml, chunk, size);
    const label = `chunks of ${chunk}, runs of ${size}`;
    assert.equal(Buffer.concat([header, ...runs.map((r) => r.bytes), trailer]).toString(), xml, label);
    assert.equal(header.toString(), xml.slice(0, xml.indexOf('<page>')), label);
    assert.equal(trailer.toString().trim(), '</mediawiki>', label);
    let seq = 0;
    let at = header.length;
    for (const r of runs) {
      const text = Buffer.from(r.bytes).toString();
      assert.equal(r.pages, text.split('</page>').length - 1, label);
      assert.equal(text.split('<page>').length - 1, r.pages, `${label}: whole pages only`);
      assert.ok(text.trimEnd().endsWith('</page>'), label);
      assert.equal(r.seq, seq, label);
      const before = Buffer.from(xml).subarray(0, at); // columns count bytes
      assert.equal(r.line, before.toString().split('\n').length, label);
      assert.equal(r.column, before.length - before.lastIndexOf(0x0a) - 1, label);
      seq += r.pages;
      at += r.bytes.length;
    }
    assert.equal(seq, pages, label);
    if (size > 1) assert.ok(runs.length >= Math.min(pages, Math.floor(Buffer.byteLength(xml) / size / 2)), `${label}: ${runs.length} runs`);
  }
});

test('split: a page far longer than the run size arrives whole; a dump without pages is all header', () => {
  const big = replicateSample(3).replace(/(<text[^>]*>)/, `$1${'x'.repeat(300_000)}`);
  const { header, runs, trailer } = split(big, 4096, 10_000);
  assert.equal(Buffer.concat([header, ...runs.map((r) => r.bytes), trailer]).toString(), big);
  assert.ok(runs[0]!.bytes.length > 300_000);
  assert.equal(runs[1]!.seq, runs[0]!.pages);
  const none = '<mediawiki><siteinfo><sitename>X</sitename></siteinfo>\n</mediawiki>\n';
  const r = split(none, 3, 100);
  assert.equal(r.header.toString(), none);
  assert.equal(r.runs.length, 0);
  assert.equal(r.trailer.length, 0);
});

test("split: a run's shared memory holds new runs once every run cut from it is done, and no run changes while it is not", () => {
  const bytes = Buffer.from(xml);
  const s = new PageSplitter(0, 3000);
  const held: { run: PageRun; text: string }[] = [];
  const seen = new Set<ArrayBufferLike>();
  let reused = 0;
  let out = '';
  for (let i = 0; i < bytes.length; i += 2000) {
    for (const run of s.push(bytes.subarray(i, i + 2000)).runs) {
      assert.ok(run.bytes.buffer instanceof SharedArrayBuffer, 'a view of shared memory: posted to a worker, not copied');
      if (seen.has(run.bytes.buffer)) reused++;
      seen.add(run.bytes.buffer);
      held.push({ run, text: Buffer.from(run.bytes).toString() });
    }
    // the oldest runs are done, the two latest still out with their workers
    while (held.length > 2) {
      const { run, text } = held.shift()!;
      assert.equal(Buffer.from(run.bytes).toString(), text, 'unchanged until done');
      out += text;
      s.done(run);
    }
  }
  for (const { run, text } of held) {
    assert.equal(Buffer.from(run.bytes).toString(), text);
    out += text;
  }
  out += s.end().runs.map((r) => Buffer.from(r.bytes).toString()).join('');
  assert.ok(reused > 0, 'buffers are reused');
  assert.equal(out, xml.slice(xml.indexOf('<page>'), xml.lastIndexOf('</page>') + '</page>'.length), 'the runs are the pages byte for byte');
});
