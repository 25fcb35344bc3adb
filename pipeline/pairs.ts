import { JSON_FLAG, MEMORY_FLAG, memoryOf, type Command, type Flag, type ParsedArgs } from '../src/cli/args.js';
import { counts, table } from '../src/cli/report.js';
import { pairs, type BSegments, type PairsSummary, type Unlinked } from '../src/pairs/pairs.js';
import { DEFAULT_DB } from './ingest.js';

const pc = (x: number) => `${(100 * x).toFixed(1)}%`;

/** Shared with `run`. */
export const B_SEGMENTS_FLAG: Flag = { name: 'b-segments', type: 'string', placeholder: 'POLICY', default: 'non-lead', help: "non-lead: a random or linked B is never an article's first segment (as a contiguous B cannot be); any: it may be, so one-segment articles are reached too" };

/** Shared with `run` and `plan`. */
export const VALIDATION_FLAG: Flag = { name: 'validation', type: 'number', range: { min: 0 }, placeholder: 'SHARE', help: 'hold out this share of the articles (0.01: 1%; none by default) as a validation split: its pairs draw B only from held-out articles, so no article is on both sides' };

export function printPairs(s: PairsSummary): void {
  console.log(`pairs: ${s.db}${s.already_done ? ' (already complete for these settings; --force redoes it)' : ''}`);
  console.log(
    table([
      ['segments read', s.segments],
      ['anchors', `${s.anchors.toLocaleString('en')} × ${s.instances_per_segment} instance(s) each`],
      ['  not anchors', `last segment of an article: ${s.not_anchors.last_segment}, article of one segment: ${s.not_anchors.single_segment_article}, no linked article with a segment to draw: ${s.not_anchors.no_linked_candidate}`],
      ['pairs written', s.pairs],
      ['  labels', `${counts({ contiguous: s.labels['0'], random: s.labels['1'], linked: s.labels['2'] })}`],
      ['  by anchor', `that allow a linked B: ${counts({ contiguous: s.labels_by_anchor.linkable['0'], random: s.labels_by_anchor.linkable['1'], linked: s.labels_by_anchor.linkable['2'] })}; that do not (--unlinked ${s.unlinked}): ${counts({ contiguous: s.labels_by_anchor.unlinked['0'], random: s.labels_by_anchor.unlinked['1'] })}`],
      ...(s.labels_by_input ?? []).map((i) => [`  from ${i.file}`, counts({ contiguous: i.labels['0'], random: i.labels['1'], linked: i.labels['2'] })] as [string, string]),
      ['  fallbacks', `${s.fallbacks} (every anchor allows all three relations)`],
      ['  B segments', `${s.b_segments}${s.b_segments === 'any' ? ` (${s.lead_b} random or linked B are an article's first segment)` : " (a random or linked B is never an article's first segment)"}`],
      ...(s.splits ? (['train', 'validation'] as const).map((k) => [`  ${k}`, `${s.splits![k].pairs.toLocaleString('en')} pairs (${counts({ contiguous: s.splits![k].labels['0'], random: s.splits![k].labels['1'], linked: s.splits![k].labels['2'] })}) from ${s.splits![k].articles.toLocaleString('en')} articles`] as [string, string]) : []),
      ['coverage', `articles ${pc(s.coverage.articles)}, segments ${pc(s.coverage.segments)}, tokens ${pc(s.coverage.tokens)} appear in an instance (as A or B)`],
      ['  articles without segments', s.coverage.articles_without_segments],
      ['time', `${s.seconds}s, seed ${s.seed}`],
    ]),
  );
}

/** The pairs options the flags give (shared with `run`). */
export function pairsOptions(flags: ParsedArgs['flags']) {
  return { db: flags.db as string, seed: flags.seed as number, instancesPerSegment: flags['instances-per-segment'] as number, bSegments: flags['b-segments'] as BSegments, unlinked: flags.unlinked as Unlinked, validation: flags.validation as number, force: Boolean(flags.force), memory: memoryOf(flags) };
}

export const command: Command = {
  name: 'pairs',
  summary: 'sample LinkBERT instances: A with a contiguous, random or linked B (a third each where A\'s article links to one with a segment to draw; else contiguous or random, 50/50)',
  flags: [
    { name: 'db', type: 'string', placeholder: 'FILE', default: DEFAULT_DB, help: 'DuckDB file with graph and segments' },
    { name: 'seed', type: 'number', range: { integer: true, min: 0 }, default: 12345, help: 'random seed' },
    { name: 'instances-per-segment', type: 'number', range: { integer: true, min: 1 }, default: 1, help: 'instances drawn per anchor segment' },
    B_SEGMENTS_FLAG,
    { name: 'unlinked', type: 'string', placeholder: 'POLICY', default: 'nsp', help: 'anchors in articles that link to no article with a segment to draw: nsp gives them contiguous/random 50/50 (as LinkBERT did with books); skip leaves them out' },
    VALIDATION_FLAG,
    { name: 'force', type: 'boolean', help: 'redo even when complete for these settings' },
    MEMORY_FLAG,
    JSON_FLAG,
  ],
  async run({ flags }) {
    const s = await pairs(pairsOptions(flags));
    if (flags.json) console.log(JSON.stringify(s));
    else printPairs(s);
    return 0;
  },
};
