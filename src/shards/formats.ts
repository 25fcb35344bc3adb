/**
 * Trainer formats besides Parquet, holding exactly the rows of the Parquet shards:
 * - TFRecord of `tf.train.Example`, as Google BERT's create_pretraining_data.py writes them and
 *   run_pretraining.py reads them: int64 input_ids, input_mask, segment_ids (zero-padded to
 *   max_seq_len), masked_lm_positions, masked_lm_ids (zero-padded to max_predictions_per_seq),
 *   float masked_lm_weights (1.0 real, 0.0 padding), int64 next_sentence_labels (0/1/2). Each
 *   record framed as TFRecord does: length (uint64 LE), masked CRC32C of the length, data, masked
 *   CRC32C of the data. protobufjs encodes, @aws-crypto/crc32c checksums.
 * - HDF5, as NVIDIA's BERT pretraining data: datasets input_ids (int32), input_mask (int8),
 *   segment_ids (int8) [rows, max_seq_len], masked_lm_positions, masked_lm_ids (int32)
 *   [rows, max_predictions], next_sentence_labels (int8) [rows], gzip-compressed; written by the
 *   HDF5 library itself (h5wasm).
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { crc32c } from '@aws-crypto/crc32c';
import protobuf from 'protobufjs';

export type ShardFormat = 'parquet' | 'tfrecord' | 'hdf5';
export const SHARD_FORMATS: ShardFormat[] = ['parquet', 'tfrecord', 'hdf5'];
export const EXTENSION: Record<ShardFormat, string> = { parquet: 'parquet', tfrecord: 'tfrecord', hdf5: 'hdf5' };

/** One training row as the shards hold it (no padding). */
export interface TrainerRow {
  input_ids: number[];
  token_type_ids: number[];
  masked_lm_positions: number[];
  masked_lm_ids: number[];
  next_sentence_label: number;
}

export interface RowWriter {
  write(rows: TrainerRow[]): void;
  close(): void;
}

/** The columns of each format, for the manifest. */
export const FORMAT_COLUMNS: Record<Exclude<ShardFormat, 'parquet'>, Record<string, string>> = {
  tfrecord: {
    input_ids: 'int64 [max_seq_len]: [CLS] A [SEP] B [SEP], masked, zero-padded',
    input_mask: 'int64 [max_seq_len]: 1 for tokens, 0 for padding',
    segment_ids: 'int64 [max_seq_len]: 0 for [CLS] A [SEP], 1 for B [SEP], 0 for padding',
    masked_lm_positions: 'int64 [max_predictions_per_seq]: masked positions, zero-padded',
    masked_lm_ids: 'int64 [max_predictions_per_seq]: original ids there, zero-padded',
    masked_lm_weights: 'float [max_predictions_per_seq]: 1.0 for a prediction, 0.0 for padding',
    next_sentence_labels: 'int64 [1]: document relation: 0 contiguous, 1 random, 2 linked',
  },
  hdf5: {
    input_ids: 'int32 [rows, max_seq_len]: [CLS] A [SEP] B [SEP], masked, zero-padded',
    input_mask: 'int8 [rows, max_seq_len]: 1 for tokens, 0 for padding',
    segment_ids: 'int8 [rows, max_seq_len]: 0 for [CLS] A [SEP], 1 for B [SEP], 0 for padding',
    masked_lm_positions: 'int32 [rows, max_predictions_per_seq]: masked positions, zero-padded',
    masked_lm_ids: 'int32 [rows, max_predictions_per_seq]: original ids there, zero-padded',
    next_sentence_labels: 'int8 [rows]: document relation: 0 contiguous, 1 random, 2 linked',
  },
};

// tf.train.Example (tensorflow/core/example/{example,feature}.proto)
const EXAMPLE = protobuf.Root.fromJSON({
  nested: {
    tensorflow: {
      nested: {
        BytesList: { fields: { value: { rule: 'repeated', type: 'bytes', id: 1 } } },
        FloatList: { fields: { value: { rule: 'repeated', type: 'float', id: 1, options: { packed: true } } } },
        Int64List: { fields: { value: { rule: 'repeated', type: 'int64', id: 1, options: { packed: true } } } },
        Feature: {
          oneofs: { kind: { oneof: ['bytesList', 'floatList', 'int64List'] } },
          fields: { bytesList: { type: 'BytesList', id: 1 }, floatList: { type: 'FloatList', id: 2 }, int64List: { type: 'Int64List', id: 3 } },
        },
        Features: { fields: { feature: { keyType: 'string', type: 'Feature', id: 1 } as protobuf.IMapField } },
        Example: { fields: { features: { type: 'Features', id: 1 } } },
      },
    },
  },
}).lookupType('tensorflow.Example');

/** `n` values: the row's, then zeros. */
function padded(values: number[], n: number): number[] {
  if (values.length > n) throw new Error(`internal error: ${values.length} values for ${n} places`);
  const out = values.slice();
  while (out.length < n) out.push(0);
  return out;
}

/** TFRecord's masked CRC32C. */
function maskedCrc(b: Uint8Array): number {
  const c = crc32c(b) >>> 0;
  return ((((c >>> 15) | (c << 17)) >>> 0) + 0xa282ead8) >>> 0;
}

export function tfrecordWriter(file: string, maxSeqLen: number, maxPredictions: number): RowWriter {
  const fd = openSync(file, 'w');
  const int64 = (value: number[]) => ({ int64List: { value } });
  return {
    write(rows) {
      const parts: Buffer[] = [];
      for (const r of rows) {
        const n = r.input_ids.length;
        const k = r.masked_lm_positions.length;
        const example = EXAMPLE.fromObject({
          features: {
            feature: {
              input_ids: int64(padded(r.input_ids, maxSeqLen)),
              input_mask: int64(padded(new Array<number>(n).fill(1), maxSeqLen)),
              segment_ids: int64(padded(r.token_type_ids, maxSeqLen)),
              masked_lm_positions: int64(padded(r.masked_lm_positions, maxPredictions)),
              masked_lm_ids: int64(padded(r.masked_lm_ids, maxPredictions)),
              masked_lm_weights: { floatList: { value: padded(new Array<number>(k).fill(1), maxPredictions) } },
              next_sentence_labels: int64([r.next_sentence_label]),
            },
          },
        });
        const data = Buffer.from(EXAMPLE.encode(example).finish());
        const head = Buffer.alloc(12);
        head.writeBigUInt64LE(BigInt(data.length), 0);
        head.writeUInt32LE(maskedCrc(head.subarray(0, 8)), 8);
        const tail = Buffer.alloc(4);
        tail.writeUInt32LE(maskedCrc(data), 0);
        parts.push(head, data, tail);
      }
      writeSync(fd, Buffer.concat(parts));
    },
    close() {
      closeSync(fd);
    },
  };
}

type H5 = typeof import('h5wasm/node');
let h5: H5 | null = null;
/** The HDF5 library (a WebAssembly build), loaded once. */
export async function loadHdf5(): Promise<void> {
  if (h5) return;
  const m = (await import('h5wasm/node')) as H5;
  await m.ready;
  h5 = m;
}

/**
 * HDF5 writer for `rows` rows, written a batch at a time into datasets of their final shape. HDF5
 * stamps objects with the time they were written: the clock reads 0 meanwhile, so the same rows
 * give the same bytes.
 */
export function hdf5Writer(file: string, rows: number, maxSeqLen: number, maxPredictions: number): RowWriter {
  if (!h5) throw new Error('internal error: loadHdf5() first');
  const realNow = Date.now;
  Date.now = () => 0;
  try {
    const f = new h5.File(file, 'w');
    const chunk = (w: number) => [Math.max(1, Math.min(rows, Math.ceil(65536 / w))), w];
    const dataset = (name: string, width: number, dtype: string, Arr: Int8ArrayConstructor | Int32ArrayConstructor) =>
      // grown as rows come (a shard's rows are never all in memory at once)
      f.create_dataset({ name, data: new Arr(0), shape: width ? [0, width] : [0], maxshape: width ? [null, width] : [null], dtype, chunks: width ? chunk(width) : [Math.max(1, Math.min(rows, 65536))], compression: 'gzip', compression_opts: 4 });
    const sets = {
      input_ids: [dataset('input_ids', maxSeqLen, '<i4', Int32Array), maxSeqLen, Int32Array],
      input_mask: [dataset('input_mask', maxSeqLen, '<b', Int8Array), maxSeqLen, Int8Array],
      segment_ids: [dataset('segment_ids', maxSeqLen, '<b', Int8Array), maxSeqLen, Int8Array],
      masked_lm_positions: [dataset('masked_lm_positions', maxPredictions, '<i4', Int32Array), maxPredictions, Int32Array],
      masked_lm_ids: [dataset('masked_lm_ids', maxPredictions, '<i4', Int32Array), maxPredictions, Int32Array],
      next_sentence_labels: [dataset('next_sentence_labels', 0, '<b', Int8Array), 1, Int8Array],
    } as const;
    let at = 0;
    return {
      write(batch) {
        if (!batch.length) return;
        Date.now = () => 0;
        try {
          const n = batch.length;
          const fill = (name: keyof typeof sets, values: (r: TrainerRow) => ArrayLike<number>) => {
            const [d, w, Arr] = sets[name];
            const a = new Arr(n * w);
            batch.forEach((r, i) => a.set(values(r), i * w));
            const flat = name === 'next_sentence_labels';
            d.resize(flat ? [at + n] : [at + n, w]);
            d.write_slice(flat ? [[at, at + n]] : [[at, at + n], [0, w]], a);
          };
          fill('input_ids', (r) => r.input_ids);
          fill('input_mask', (r) => new Int8Array(r.input_ids.length).fill(1));
          fill('segment_ids', (r) => r.token_type_ids);
          fill('masked_lm_positions', (r) => r.masked_lm_positions);
          fill('masked_lm_ids', (r) => r.masked_lm_ids);
          fill('next_sentence_labels', (r) => [r.next_sentence_label]);
          at += n;
        } finally {
          Date.now = realNow;
        }
      },
      close() {
        Date.now = () => 0;
        try {
          if (at !== rows) throw new Error(`internal error: ${at} rows written to ${file}, ${rows} expected`);
          f.close();
        } finally {
          Date.now = realNow;
        }
      },
    };
  } finally {
    Date.now = realNow;
  }
}
