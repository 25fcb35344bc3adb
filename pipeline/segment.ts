import { JSON_FLAG, MEMORY_FLAG, memoryOf, type Command, type ParsedArgs } from '../src/cli/args.js';
import { counts, table, withProgress } from '../src/cli/report.js';
import { segment, type SegmentSummary } from '../src/segment/segment.js';
import { DEFAULT_DB } from './ingest.js';
import { TOKENIZER_FLAGS } from './tokenize.js';

export function printSegment(s: SegmentSummary): void {
  console.log(`segment: ${s.db}${s.already_done ? ' (already complete for these settings; --force redoes it)' : ''}`);
  console.log(
    table([
      ['tokenizer', `${s.tokenizer.source} (${s.tokenizer.kind}, ${s.tokenizer.vocab_size} ids, ${s.tokenizer.lowercase ? 'uncased' : 'cased'}, sha256 ${s.tokenizer.sha256.slice(0, 12)}…)`],
      ['articles read', s.articles],
      ['  without text', s.articles_without_segments],
      ['  disambiguation pages left out', s.disambiguation_left_out],
      ['segments written', `${s.segments.toLocaleString('en')} (≤ ${s.settings.max_segment_tokens} tokens each, max_seq_len ${s.settings.max_seq_len})`],
      ['tokens', s.tokens],
      ['[UNK] rate', `${(s.unk_rate * 100).toFixed(3)}%`],
      [`lengths (by ${s.bucket_size})`, counts(s.length_histogram)],
      ['time', `${s.seconds}s, ${s.tokens_per_s.toLocaleString('en')} tokens/s`],
    ]),
  );
}

/** The segment options the flags give (shared with `run`). */
export function segmentOptions(flags: ParsedArgs['flags']) {
  return {
    db: flags.db as string,
    tokenizer: flags.tokenizer as string,
    lowercase: flags.lowercase as boolean | undefined,
    revision: flags.revision as string | undefined,
    maxSeqLen: flags['max-seq-len'] as number,
    shortSeqProb: flags['short-seq-prob'] as number,
    disambiguation: Boolean(flags.disambiguation),
    seed: flags.seed as number,
    force: Boolean(flags.force),
    memory: memoryOf(flags),
  };
}

export const command: Command = {
  name: 'segment',
  summary: 'tokenize every article once and pack its sentences into segments',
  flags: [
    { name: 'db', type: 'string', placeholder: 'FILE', default: DEFAULT_DB, help: 'DuckDB file written by ingest' },
    ...TOKENIZER_FLAGS.map((f) => (f.name === 'tokenizer' ? { ...f, required: true } : f)),
    { name: 'max-seq-len', type: 'number', range: { integer: true, min: 8 }, default: 512, help: 'model input length; segments get at most (N - 3) / 2 tokens' },
    { name: 'short-seq-prob', type: 'number', range: { min: 0, max: 1 }, default: 0.1, help: 'chance that a segment aims at a shorter, random length' },
    { name: 'disambiguation', type: 'boolean', help: 'segment disambiguation pages too (left out by default: lists of links, no text passage)' },
    { name: 'seed', type: 'number', range: { integer: true, min: 0 }, default: 12345, help: 'random seed' },
    { name: 'force', type: 'boolean', help: 'redo even when complete for these settings' },
    MEMORY_FLAG,
    JSON_FLAG,
  ],
  async run({ flags }) {
    if (!flags.tokenizer) throw new Error('--tokenizer X is required');
    const s = await withProgress('segment', 'articles', (tick) => segment({
      ...segmentOptions(flags),
      onProgress: (p) => tick({ done: p.articles, seconds: p.seconds, total: p.total, extra: `${p.tokens.toLocaleString('en')} tokens` }),
    }));
    if (flags.json) console.log(JSON.stringify(s));
    else printSegment(s);
    for (const w of s.warnings ?? []) console.error(`linkbert segment: warning: ${w}`);
    return 0;
  },
};
