/**
 * What the README and the manual say a user can do, each done as a user does it (the CLI, files
 * made here): compressed JSON Lines, an index named elsewhere, an .md5 beside a wiki dump, the
 * workers without a bundle, run with TFRecord shards, report and verify flags.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { bzip2, cli, makeMultistream, query, replicateSample, SAMPLE, tableDigests, tmp } from './helpers.ts';

const docs = ['{"id": "a", "text": "The first document. It links on.", "links": ["b"]}', '{"id": "b", "text": "The second one. It links back.", "links": ["a"]}', '{"id": "c", "text": "A third. Nothing links here."}'].join('\n') + '\n';

test('JSON Lines read plain, as .gz and as .bz2: the same rows', async () => {
  const d = tmp();
  const files = { plain: join(d, 'docs.jsonl'), gz: join(d, 'docs.jsonl.gz'), bz2: join(d, 'docs.jsonl.bz2') };
  writeFileSync(files.plain, docs);
  writeFileSync(files.gz, gzipSync(docs));
  writeFileSync(files.bz2, bzip2(docs));
  const digests: Record<string, string>[] = [];
  for (const [kind, f] of Object.entries(files)) {
    const db = join(d, `${kind}.duckdb`);
    const r = await cli(['ingest', '--dump', f, '--db', db, '--json']);
    assert.equal(r.code, 0, `${kind}: ${r.stderr}`);
    assert.equal((JSON.parse(r.stdout) as { articles: number }).articles, 3, kind);
    digests.push(await tableDigests(db));
  }
  assert.deepEqual(digests[1], digests[0]);
  assert.deepEqual(digests[2], digests[0]);
});

test('--index FILE names an index that is not beside the dump; an .md5 beside a wiki dump is checked', async () => {
  const d = tmp();
  mkdirSync(join(d, 'dumps'));
  mkdirSync(join(d, 'indexes'));
  const dump = join(d, 'dumps/six.xml.bz2');
  const index = join(d, 'indexes/six-index.txt.bz2');
  makeMultistream(replicateSample(6), 20, dump, index);
  const whole = await cli(['ingest', '--dump', dump, '--db', join(d, 'whole.duckdb'), '--json']);
  const indexed = await cli(['ingest', '--dump', dump, '--index', index, '--db', join(d, 'indexed.duckdb'), '--json']);
  assert.equal(indexed.code, 0, indexed.stderr);
  assert.equal((JSON.parse(indexed.stdout) as { multistream_index: string }).multistream_index, index);
  assert.equal((JSON.parse(whole.stdout) as { multistream_index: string | null }).multistream_index, null);
  assert.deepEqual(await tableDigests(join(d, 'indexed.duckdb')), await tableDigests(join(d, 'whole.duckdb')));
  // an .md5 sidecar, md5sum's format
  const copy = join(d, 'samplewiki.xml');
  copyFileSync(SAMPLE, copy);
  writeFileSync(`${copy}.md5`, `${'0'.repeat(32)}  samplewiki.xml\n`);
  const bad = await cli(['ingest', '--dump', copy, '--db', join(d, 'md5.duckdb')]);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /samplewiki\.xml: MD5 is [0-9a-f]{32}, but .* says 0{32}/);
  writeFileSync(`${copy}.md5`, `${createHash('md5').update(readFileSync(copy)).digest('hex')}  samplewiki.xml\n`);
  assert.equal((await cli(['ingest', '--dump', copy, '--db', join(d, 'md5.duckdb')])).code, 0);
});

test('LINKBERT_NO_BUNDLE=1: the workers run from the sources, with the same rows', async () => {
  const d = tmp();
  assert.equal((await cli(['ingest', '--dump', SAMPLE, '--db', join(d, 'bundle.duckdb')])).code, 0);
  const r = await cli(['ingest', '--dump', SAMPLE, '--db', join(d, 'sources.duckdb')], { LINKBERT_NO_BUNDLE: '1' });
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(await tableDigests(join(d, 'sources.duckdb')), await tableDigests(join(d, 'bundle.duckdb')));
});

test('run --format tfrecord skips verify and says so; report --examples N and verify --mlm-positions N do what they say', async () => {
  const d = tmp();
  const tf = await cli(['run', '--out', join(d, 'tf'), '--format', 'tfrecord', '--json']);
  assert.equal(tf.code, 0, tf.stderr);
  assert.match(tf.stderr, /verify skipped: it reads Parquet shards, and --format tfrecord wrote tfrecord/);
  assert.equal((JSON.parse(tf.stdout) as { verify: unknown }).verify, null);
  const out = join(d, 'pq');
  assert.equal((await cli(['run', '--out', out])).code, 0);
  const rep = await cli(['report', '--db', join(out, 'linkbert.duckdb'), '--out', join(d, 'r.html'), '--examples', '1', '--json']);
  assert.equal(rep.code, 0, rep.stderr);
  assert.equal((JSON.parse(rep.stdout) as { examples: number }).examples, 3, 'one example per relation');
  assert.equal(readFileSync(join(d, 'r.html'), 'utf8').match(/<div class="pair">/g)!.length, 3);
  const v = await cli(['verify', '--model', join(out, 'tiny-model/model.onnx'), '--shards', join(out, 'shards'), '--samples', '8', '--mlm-positions', '2', '--json']);
  assert.equal(v.code, 0, v.stderr);
  const mlm = (JSON.parse(v.stdout) as { mlm: { positions_per_row: number; masked_tokens: number } }).mlm;
  assert.equal(mlm.positions_per_row, 2);
  assert.ok(mlm.masked_tokens <= 16 && mlm.masked_tokens > 0, `${mlm.masked_tokens} masked tokens scored`);
  const db = await query<{ n: number }>(join(out, 'linkbert.duckdb'), 'SELECT count(*)::INTEGER AS n FROM pairs');
  assert.ok(db[0]!.n > 0);
});
