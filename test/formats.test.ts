/**
 * TFRecord and HDF5 shards hold exactly the Parquet shards' rows, read back by independent readers
 * (Python: Google's protobuf runtime with a CRC-32C of its own; h5py). Skipped, with a message,
 * where no Python with those modules is installed (`apt-get install python3-protobuf python3-h5py`).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { asyncBufferFromFile, parquetReadObjects } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';
import { pairs } from '../src/pairs/pairs.ts';
import { shards } from '../src/shards/shards.ts';
import { prepare, ROOT, SAMPLE, tmp } from './helpers.ts';

/** A Python that can import `module`, or null. */
function pythonWith(module: string): string | null {
  for (const py of ['python3', '/usr/bin/python3']) {
    if (spawnSync(py, ['-c', `import ${module}`], { stdio: 'ignore' }).status === 0) return py;
  }
  return null;
}
const PB = pythonWith('google.protobuf');
const H5 = pythonWith('h5py');

const dir = tmp();
let db: string;
interface Row { input_ids: number[]; token_type_ids: number[]; masked_lm_positions: number[]; masked_lm_ids: number[]; next_sentence_label: number }
let parquetRows: Row[];
before(async () => {
  db = await prepare(SAMPLE, dir);
  await pairs({ db, seed: 3 });
  const s = await shards({ db, out: join(dir, 'parquet'), seed: 4, shardRows: 20 });
  parquetRows = [];
  for (const f of s.files) parquetRows.push(...((await parquetReadObjects({ file: await asyncBufferFromFile(f), compressors })) as unknown as Row[]));
});

function readBack(py: string, format: string, files: string[]): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (const f of files) {
    const r = spawnSync(py, [join(ROOT, 'test/py/read_formats.py'), format, f], { encoding: 'utf8', maxBuffer: 1 << 28 });
    assert.equal(r.status, 0, r.stderr);
    out.push(...r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>));
  }
  return out;
}

function assertSameRows(read: Record<string, unknown>[], maxSeqLen: number, maxPredictions: number): void {
  assert.equal(read.length, parquetRows.length);
  read.forEach((r, i) => {
    const p = parquetRows[i]!;
    assert.deepEqual(r.input_ids, Array.from(p.input_ids), `row ${i}: input_ids`);
    assert.deepEqual(r.token_type_ids, Array.from(p.token_type_ids), `row ${i}: segment ids`);
    assert.deepEqual(r.masked_lm_positions, Array.from(p.masked_lm_positions), `row ${i}: masked positions`);
    assert.deepEqual(r.masked_lm_ids, Array.from(p.masked_lm_ids), `row ${i}: masked ids`);
    assert.equal(r.next_sentence_label, p.next_sentence_label, `row ${i}: label`);
    assert.equal(r.padding_ok, true, `row ${i}: zero padding, mask 1 for tokens only`);
    assert.deepEqual(r.widths, [maxSeqLen, maxPredictions]);
  });
}

test('TFRecord: tf.train.Example rows, framed with masked CRC-32C, equal to the Parquet rows', { skip: PB ? false : 'no Python with google.protobuf (apt-get install python3-protobuf)' }, async () => {
  const s = await shards({ db, out: join(dir, 'tfrecord'), seed: 4, shardRows: 20, format: 'tfrecord' });
  assert.ok(s.files.every((f) => f.endsWith('.tfrecord')));
  const read = readBack(PB!, 'tfrecord', s.files);
  const manifest = JSON.parse(readFileSync(join(dir, 'tfrecord', 'manifest.json'), 'utf8'));
  assertSameRows(read, manifest.settings.max_seq_len, manifest.settings.max_predictions_per_seq);
  for (const r of read) assert.deepEqual(r.weights, [...new Array((r.masked_lm_positions as number[]).length).fill(1), ...new Array(manifest.settings.max_predictions_per_seq - (r.masked_lm_positions as number[]).length).fill(0)]);
  assert.equal(manifest.settings.format, 'tfrecord');
  assert.ok('masked_lm_weights' in manifest.columns);
});

test('HDF5: NVIDIA BERT datasets and dtypes, equal to the Parquet rows, byte-identical run to run', { skip: H5 ? false : 'no Python with h5py (apt-get install python3-h5py)' }, async () => {
  const out = join(dir, 'hdf5');
  const s = await shards({ db, out, seed: 4, shardRows: 20, format: 'hdf5' });
  const read = readBack(H5!, 'hdf5', s.files);
  const dtypes = read.filter((r) => 'dtypes' in r);
  assert.equal(dtypes.length, s.files.length);
  assert.deepEqual(dtypes[0]!.dtypes, { input_ids: 'int32', input_mask: 'int8', segment_ids: 'int8', masked_lm_positions: 'int32', masked_lm_ids: 'int32', next_sentence_labels: 'int8' });
  // gzip-compressed, as the manual says, in h5py's reading
  for (const d of dtypes) assert.deepEqual(new Set(Object.values(d.compression as Record<string, string | null>)), new Set(['gzip']));
  const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8'));
  assertSameRows(read.filter((r) => !('dtypes' in r)), manifest.settings.max_seq_len, manifest.settings.max_predictions_per_seq);
  const digest = () => s.files.map((f) => createHash('sha256').update(readFileSync(f)).digest('hex'));
  const first = digest();
  await new Promise((r) => setTimeout(r, 1100)); // HDF5 stamps objects with the time: a second later, still the same bytes
  await shards({ db, out, seed: 4, shardRows: 20, format: 'hdf5', force: true });
  assert.deepEqual(digest(), first);
});

test('tfrecord and hdf5 hold masked rows: dynamic masking is refused for them, with the reason', async () => {
  await assert.rejects(shards({ db, out: join(dir, 'dyn'), format: 'tfrecord', masking: 'dynamic' }), /--format tfrecord holds masked instances.*--masking static, or --format parquet/);
  await assert.rejects(shards({ db, out: join(dir, 'dyn'), format: 'csv' as never }), /--format must be parquet, tfrecord, hdf5/);
});
