import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { test } from 'node:test';
import { openDump } from '../src/dump/source.ts';
import { readIndex } from '../src/dump/multistream.ts';
import { bzip2, makeMultistream, SAMPLE, tmp } from './helpers.ts';

async function text(file: string, opts?: Parameters<typeof openDump>[1]): Promise<string> {
  const src = await openDump(file, opts);
  const parts: Buffer[] = [];
  for await (const chunk of src.bytes) if (Buffer.isBuffer(chunk)) parts.push(chunk);
  return Buffer.concat(parts).toString('utf8');
}

const xml = readFileSync(SAMPLE, 'utf8');

test('plain XML, bz2, gzip and UTF-16 dumps decode to the same UTF-8 bytes, without a byte-order mark', async () => {
  const d = tmp();
  writeFileSync(join(d, 'a.xml.bz2'), bzip2(xml));
  writeFileSync(join(d, 'a.xml.gz'), gzipSync(xml));
  writeFileSync(join(d, 'a16.xml'), Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(xml, 'utf16le')]));
  writeFileSync(join(d, 'a8bom.xml'), Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(xml)]));
  for (const f of ['a.xml.bz2', 'a.xml.gz', 'a16.xml', 'a8bom.xml']) assert.equal(await text(join(d, f)), xml, f);
  assert.equal(await text(SAMPLE), xml);
});

test('the pure-JS bzip2 fallback decodes multistream files whole, like the child process', async () => {
  const d = tmp();
  makeMultistream(xml, 5, join(d, 'm.xml.bz2'), join(d, 'm-index.txt.bz2'));
  const prev = process.env.LINKBERT_BUNZIP;
  try {
    for (const tool of ['js', 'bzip2']) {
      process.env.LINKBERT_BUNZIP = tool;
      assert.equal(await text(join(d, 'm.xml.bz2')), xml, tool);
    }
  } finally {
    if (prev === undefined) delete process.env.LINKBERT_BUNZIP;
    else process.env.LINKBERT_BUNZIP = prev;
  }
});

test('a multistream index gives stream offsets; reading from a stream yields the header then those pages', async () => {
  const d = tmp();
  makeMultistream(xml, 5, join(d, 'm.xml.bz2'), join(d, 'm-index.txt.bz2'));
  const idx = await readIndex(join(d, 'm-index.txt.bz2'));
  assert.equal(idx.pages, 57);
  assert.equal(idx.offsets.length, 12);
  assert.deepEqual(idx.firstSeq.slice(0, 3), [0, 5, 10]);
  assert.equal(await text(join(d, 'm.xml.bz2'), { index: idx }), xml);
  const src = await openDump(join(d, 'm.xml.bz2'), { index: idx, fromSeq: 12 });
  assert.equal(src.firstSeq, 10);
  const parts: Buffer[] = [];
  for await (const c of src.bytes) if (Buffer.isBuffer(c)) parts.push(c);
  const s = Buffer.concat(parts).toString('utf8');
  const header = xml.slice(0, xml.indexOf('  <page>'));
  assert.ok(s.startsWith(header));
  assert.equal(s.slice(header.length, header.length + 200), xml.split(/(?=  <page>)/).slice(11).join('').slice(0, 200)); // page 10 is the 11th split part (part 0 is the header)
});

test('a truncated bz2 dump is an error naming the file, with either decompressor', async () => {
  const d = tmp();
  const bz = bzip2(xml);
  writeFileSync(join(d, 'cut.xml.bz2'), bz.subarray(0, Math.floor(bz.length * 0.6)));
  const prev = process.env.LINKBERT_BUNZIP;
  try {
    for (const tool of ['bzip2', 'js']) {
      process.env.LINKBERT_BUNZIP = tool;
      await assert.rejects(text(join(d, 'cut.xml.bz2')), (e: Error) => e.name === 'DecompressError' && e.message.includes('cut.xml.bz2') && /damaged after \d+ decompressed bytes/.test(e.message), tool);
    }
  } finally {
    if (prev === undefined) delete process.env.LINKBERT_BUNZIP;
    else process.env.LINKBERT_BUNZIP = prev;
  }
});

test('a cut gzip dump is reported as gzip damage naming the file, after the bytes before it', async () => {
  const d = tmp();
  const z = gzipSync(xml);
  writeFileSync(join(d, 'cut.xml.gz'), z.subarray(0, Math.floor(z.length * 0.6)));
  const src = await openDump(join(d, 'cut.xml.gz'));
  let got = 0;
  await assert.rejects(
    (async () => {
      for await (const b of src.bytes) if (Buffer.isBuffer(b)) got += b.length;
    })(),
    /cut\.xml\.gz: gzip data damaged after \d+ decompressed bytes \(the file ends inside the compressed data\)/,
  );
  assert.ok(got > 0);
});
