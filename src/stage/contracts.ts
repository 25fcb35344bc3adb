/**
 * What one stage hands the next, in one place: each stage's summary (recorded in `runs` as JSON)
 * and the settings a later stage reads back. Records are checked when read: a field a later stage
 * needs that is missing or of another type names the stage to rerun, instead of surfacing as an
 * `undefined` deep inside the next stage.
 */
import type { TokenizerIdentity } from '../tokenize/tokenizer.js';

export type StageName = 'ingest' | 'graph' | 'segment' | 'pairs' | 'shards';

export type Labels = { '0': number; '1': number; '2': number };

/** Where one of several inputs' pages are in the database: seq first_seq … end_seq - 1. */
export interface InputRange {
  file: string;
  /** what it was read as: wiki (a MediaWiki dump), pubmed, pmc, jsonl or books */
  kind: string;
  first_seq: number;
  end_seq: number;
  /** its size and SHA-256, in the summary of a complete ingest */
  bytes?: number;
  sha256?: string;
}

export interface IngestSettings {
  index: string | null;
  keep_lists: boolean;
  /** --max-record, where it is not the default */
  max_record?: number;
  /** --lang, where it was given */
  lang?: string;
  /** with several inputs: those complete so far, in order */
  inputs?: InputRange[];
}

export interface IngestSummary {
  stage: 'ingest';
  dump: string; // as given
  /** the dump file's size and SHA-256 (of the whole file, taken once its pages are all read) */
  dump_bytes: number;
  dump_sha256: string | null;
  /** each input (the one, or several) as it was read, and where its pages are (the page_inputs view) */
  inputs?: InputRange[];
  db: string;
  dbname: string | null;
  pages: number;
  namespaces: Record<string, number>;
  articles: number;
  redirects: number;
  disambiguations: number;
  links: number;
  links_in_text: number;
  links_elsewhere: Record<string, number>;
  skipped: number;
  skipped_reasons: Record<string, number>;
  /** what the user should know though the ingest completed (a truncated input read with --on-damage skip) */
  warnings?: string[];
  multistream_index: string | null;
  decompressor: string | null;
  workers: number;
  resumed_at: number | null;
  already_done: boolean;
  wikitext_mb: number;
  /** peak resident memory of this process, worker threads included */
  peak_rss_mb: number;
  memory_limit: string;
  seconds: number;
}

export interface GraphSummary {
  stage: 'graph';
  db: string;
  links: number;
  direct: number;
  via_redirect: number;
  dangling: number;
  self: number;
  non_article: number;
  edges: number;
  articles: number;
  redirects: number;
  redirects_to_articles: number;
  redirect_chains: number; // redirects that take more than one hop
  redirect_cycles: number;
  redirect_too_long: number;
  redirects_dangling: number;
  redirects_non_article: number;
  duplicate_titles: number;
  orphans: number;
  dead_ends: number;
  memory_limit: string;
  already_done: boolean;
  seconds: number;
}

export interface SegmentSettings {
  max_seq_len: number;
  max_segment_tokens: number;
  short_seq_prob: number;
  seed: number;
  disambiguation: boolean;
}

export interface SegmentSummary {
  stage: 'segment';
  db: string;
  articles: number;
  articles_without_segments: number;
  /** disambiguation pages not segmented (all of them unless settings.disambiguation) */
  disambiguation_left_out: number;
  segments: number;
  tokens: number;
  unk_rate: number;
  /** what a user should know before training on these segments (e.g. a tokenizer that does not fit the text) */
  warnings: string[];
  /** segment lengths in buckets of bucket_size tokens: key = bucket start */
  length_histogram: Record<string, number>;
  bucket_size: number;
  settings: SegmentSettings;
  tokenizer: TokenizerIdentity;
  memory_limit: string;
  already_done: boolean;
  tokens_per_s: number;
  seconds: number;
}

export type Unlinked = 'nsp' | 'skip';
export const UNLINKED: Unlinked[] = ['nsp', 'skip'];
export type BSegments = 'non-lead' | 'any';
export const B_SEGMENTS: BSegments[] = ['non-lead', 'any'];

export interface PairsSettings {
  seed: number;
  instances_per_segment: number;
  b_segments: BSegments;
  unlinked: Unlinked;
  /** the share of articles held out for validation (recorded only when above 0) */
  validation?: number;
}

/** What each split holds: its pairs, their labels, and the articles they come from. */
export interface SplitCounts {
  pairs: number;
  labels: Labels;
  /** articles of the split with an anchor (A) */
  articles: number;
  /** articles of the split with a segment, anchors or not */
  articles_with_segments: number;
}

export interface PairsSummary {
  stage: 'pairs';
  db: string;
  pairs: number;
  labels: Labels;
  /** instances whose drawn relation was impossible and was replaced: none, by the anchor policy */
  fallbacks: number;
  anchors: number;
  segments: number;
  not_anchors: { last_segment: number; single_segment_article: number; no_linked_candidate: number };
  /** anchors in articles that cannot give a linked B: contiguous/random 50/50 (`nsp`) or none (`skip`) */
  unlinked: Unlinked;
  /** labels of the anchors that allow all three relations, and of those that allow two (nsp) */
  labels_by_anchor: { linkable: Labels; unlinked: { '0': number; '1': number } };
  /** with several ingest inputs in the database: the labels of the anchors from each */
  labels_by_input?: { file: string; labels: Labels }[];
  /** with --validation: the train and validation splits (no article on both sides) */
  splits?: { train: SplitCounts; validation: SplitCounts };
  /** whether a random or linked B may be an article's first segment (`any`) or not (`non-lead`) */
  b_segments: BSegments;
  /** random or linked instances whose B is an article's first segment (0 with non-lead) */
  lead_b: number;
  /** the share of the corpus that appears in at least one instance, as A or B, and what keeps the rest out */
  coverage: {
    articles: number; // share of the articles
    segments: number;
    tokens: number;
    articles_without_segments: number; // no text to segment (or disambiguation pages, left out by segment)
  };
  seed: number;
  instances_per_segment: number;
  memory_limit: string;
  already_done: boolean;
  seconds: number;
}

export interface ShardsSummary {
  stage: 'shards';
  out: string;
  rows: number;
  shards: number;
  files: string[];
  labels: Labels;
  /** with a validation split: each split's rows, labels and files */
  splits?: { train: { rows: number; labels: Labels; shards: number }; validation?: { rows: number; labels: Labels; shards: number } };
  tokens: number;
  masked: number;
  truncated: number;
  memory_limit: string;
  already_done: boolean;
  seconds: number;
}

export interface Summaries {
  ingest: IngestSummary;
  graph: GraphSummary;
  segment: SegmentSummary;
  pairs: PairsSummary;
  shards: ShardsSummary;
}

/** Each stage's own settings, as recorded (derived stages: beside the keys of the stages they read). */
export interface Settings {
  ingest: IngestSettings;
  graph: Record<string, never>;
  segment: { settings: SegmentSettings; tokenizer: string; lowercase: boolean };
  pairs: PairsSettings;
  shards: Record<string, unknown>;
}

/** A shape to check a record against: a type name (`?` allows null or absence), or an object of shapes. */
type Shape = 'number' | 'string' | 'boolean' | 'object' | 'array' | 'string?' | 'number?' | 'array?' | 'object?' | { [key: string]: Shape };

const TOKENIZER: Shape = { source: 'string', file: 'string', kind: 'string', sha256: 'string', vocab_size: 'number', lowercase: 'boolean' };
const LABELS: Shape = { '0': 'number', '1': 'number', '2': 'number' };

/** What later stages read of each stage's record: its settings and its summary. */
const SHAPES: { [S in StageName]: { settings: Shape; summary: Shape } } = {
  ingest: {
    settings: { keep_lists: 'boolean', inputs: 'array?', max_record: 'number?', lang: 'string?' },
    summary: { dump: 'string', dump_bytes: 'number', dump_sha256: 'string?', inputs: 'array?' },
  },
  graph: { settings: 'object', summary: { edges: 'number', articles: 'number' } },
  segment: {
    settings: { settings: 'object', tokenizer: 'string', lowercase: 'boolean' },
    summary: { settings: { max_seq_len: 'number', max_segment_tokens: 'number', seed: 'number' }, tokenizer: TOKENIZER, warnings: 'array' },
  },
  pairs: {
    settings: { seed: 'number', instances_per_segment: 'number', b_segments: 'string', unlinked: 'string' },
    summary: { pairs: 'number', labels: LABELS, labels_by_anchor: { linkable: LABELS, unlinked: 'object' }, labels_by_input: 'array?' },
  },
  shards: { settings: 'object', summary: { rows: 'number', files: 'array' } },
};

/** Why `value` does not have `shape` (the first field that differs), or null when it does. */
function mismatch(value: unknown, shape: Shape, path: string): string | null {
  if (typeof shape === 'object') {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) return `${path || 'the record'} is not an object`;
    for (const [k, s] of Object.entries(shape)) {
      const why = mismatch((value as Record<string, unknown>)[k], s, path ? `${path}.${k}` : k);
      if (why) return why;
    }
    return null;
  }
  const optional = shape.endsWith('?');
  if (optional && (value === null || value === undefined)) return null;
  const want = optional ? shape.slice(0, -1) : shape;
  const got = value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value;
  return got === want ? null : `${path} is ${value === undefined ? 'missing' : got}, not ${want === 'array' ? 'an array' : `a ${want}`}`;
}

export class ContractError extends Error {}

/**
 * A stage's recorded settings and summary, checked against what later stages read of them.
 * `where` names the database in the message; the stage to rerun is named from `stage`.
 */
export function readRecord<S extends StageName>(stage: S, record: { settings: string | null; summary: string | null }, where: string): { settings: Settings[S]; summary: Summaries[S] } {
  const parse = (text: string | null, what: string): unknown => {
    try {
      return JSON.parse(text ?? 'null');
    } catch {
      throw new ContractError(`${where}: the ${stage} stage's recorded ${what} is not JSON: rerun \`linkbert ${stage}\` (--force)`);
    }
  };
  const raw = parse(record.settings, 'settings');
  // a derived stage records its own settings beside the keys of the stages it read (kernel.ts)
  const settings = stage !== 'ingest' && raw && typeof raw === 'object' && 'own' in raw ? (raw as { own: unknown }).own : raw;
  const summary = parse(record.summary, 'summary');
  const why = mismatch(settings, SHAPES[stage].settings, 'settings') ?? mismatch(summary, SHAPES[stage].summary, 'summary');
  if (why) throw new ContractError(`${where}: the ${stage} stage's record is not what this version of linkbert reads (${why}): rerun \`linkbert ${stage}\` with --force`);
  return { settings: settings as Settings[S], summary: summary as Summaries[S] };
}

/** A stage's recorded settings alone (a run still in progress has no summary yet), checked likewise. */
export function readSettings<S extends StageName>(stage: S, text: string | null, where: string): Settings[S] {
  let raw: unknown;
  try {
    raw = JSON.parse(text ?? 'null');
  } catch {
    throw new ContractError(`${where}: the ${stage} stage's recorded settings are not JSON: rerun \`linkbert ${stage}\` with --force`);
  }
  const settings = stage !== 'ingest' && raw && typeof raw === 'object' && 'own' in raw ? (raw as { own: unknown }).own : raw;
  const why = mismatch(settings, SHAPES[stage].settings, 'settings');
  if (why) throw new ContractError(`${where}: the ${stage} stage's record is not what this version of linkbert reads (${why}): rerun \`linkbert ${stage}\` with --force`);
  return settings as Settings[S];
}
