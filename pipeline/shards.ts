import { JSON_FLAG, MEMORY_FLAG, memoryOf, type Command, type ParsedArgs } from '../src/cli/args.js';
import { counts, table, withProgress } from '../src/cli/report.js';
import type { ShardFormat } from '../src/shards/formats.js';
import { shards, type Masking, type ShardsSummary } from '../src/shards/shards.js';
import { DEFAULT_DB } from './ingest.js';

export function printShards(s: ShardsSummary): void {
  console.log(`shards: ${s.out}${s.already_done ? ' (already complete for these settings; --force redoes it)' : ''}`);
  console.log(
    table([
      ['rows written', `${s.rows.toLocaleString('en')} in ${s.shards} shard(s) + manifest.json and README.md (the dataset card)`],
      ['  labels', counts({ contiguous: s.labels['0'], random: s.labels['1'], linked: s.labels['2'] })],
      ...(s.splits ? (['train', 'validation'] as const).map((k) => [`  ${k}`, `${s.splits![k]!.rows.toLocaleString('en')} rows in ${s.splits![k]!.shards} file(s) (${counts({ contiguous: s.splits![k]!.labels['0'], random: s.splits![k]!.labels['1'], linked: s.splits![k]!.labels['2'] })})`] as [string, string]) : []),
      ['tokens', s.tokens],
      ['masked tokens', s.masked],
      ['truncated pairs', s.truncated],
      ['time', `${s.seconds}s`],
    ]),
  );
}

/** The shards options the flags give (shared with `run`, which sets out). */
export function shardsOptions(flags: ParsedArgs['flags']) {
  return {
    db: flags.db as string,
    out: flags.out as string,
    masking: flags.masking as Masking,
    format: flags.format as ShardFormat,
    dupeFactor: flags['dupe-factor'] as number,
    shardRows: flags['shard-rows'] as number,
    seed: flags.seed as number,
    maskedLmProb: flags['masked-lm-prob'] as number,
    maxPredictions: flags['max-predictions'] as number | undefined,
    wholeWord: Boolean(flags['whole-word']),
    force: Boolean(flags.force),
    memory: memoryOf(flags),
  };
}

export const command: Command = {
  name: 'shards',
  summary: 'mask and write the pairs as shuffled shards (+ manifest.json and a dataset card), a validation split beside train where pairs held one out: Parquet for Hugging Face datasets, TFRecord or HDF5 for Google or NVIDIA BERT',
  flags: [
    { name: 'db', type: 'string', placeholder: 'FILE', default: DEFAULT_DB, help: 'DuckDB file with pairs' },
    { name: 'out', type: 'string', placeholder: 'DIR', default: 'out/shards', help: 'folder for the shards and manifest.json' },
    { name: 'format', type: 'string', placeholder: 'FORMAT', default: 'parquet', help: 'parquet (Hugging Face datasets), tfrecord (Google BERT run_pretraining.py) or hdf5 (NVIDIA BERT): the same rows in each; tfrecord and hdf5 hold masked rows (static masking)' },
    { name: 'masking', type: 'string', placeholder: 'MODE', default: 'static', help: 'static (masks in the shards, as BERT) or dynamic (unmasked; the collator masks)' },
    { name: 'dupe-factor', type: 'number', range: { integer: true, min: 1 }, default: 1, help: 'copies of each pair with different masks (static masking)' },
    { name: 'shard-rows', type: 'number', range: { integer: true, min: 1 }, default: 100000, help: 'rows per shard at most (shards get equal counts ±1)' },
    { name: 'seed', type: 'number', range: { integer: true, min: 0 }, default: 12345, help: 'random seed (shuffle, truncation, masks)' },
    { name: 'masked-lm-prob', type: 'number', range: { above: 0, below: 1 }, default: 0.15, help: 'share of tokens to predict' },
    { name: 'max-predictions', type: 'number', range: { integer: true, min: 1 }, help: 'most predictions per row (default: masked-lm-prob × max_seq_len, rounded)' },
    { name: 'whole-word', type: 'boolean', help: 'mask whole words (a token with its ## continuations)' },
    { name: 'force', type: 'boolean', help: 'redo even when complete for these settings' },
    MEMORY_FLAG,
    JSON_FLAG,
  ],
  async run({ flags }) {
    const s = await withProgress('shards', 'rows', (tick) => shards({
      ...shardsOptions(flags),
      onProgress: (p) => tick({ done: p.rows, seconds: p.seconds, total: p.total }),
    }));
    if (flags.json) console.log(JSON.stringify(s));
    else printShards(s);
    return 0;
  },
};
