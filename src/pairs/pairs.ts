/**
 * The pairs stage: LinkBERT instances (anchor A, segment B, relation label), sampled in SQL
 * (sql/pairs.sql) so that DuckDB does the large joins, and stored for inspection.
 *
 * Policy where a relation is impossible: only segments for which all three are possible become
 * anchors (they have a next segment, and their article links to an article with a segment to draw),
 * so no label ever falls back to another; the segments left out are counted by reason.
 */
import { memoryLimit, openDb, rows, sqlFile } from '../db/duckdb.js';
import { completedIngest, completedRun, finishRun, requireStage, startRun } from '../db/runs.js';

export interface PairsSummary {
  stage: 'pairs';
  db: string;
  pairs: number;
  labels: { '0': number; '1': number; '2': number };
  /** instances whose drawn relation was impossible and was replaced: none, by the anchor policy */
  fallbacks: number;
  anchors: number;
  segments: number;
  not_anchors: { last_segment: number; single_segment_article: number; no_linked_candidate: number };
  /** anchors in articles that cannot give a linked B: contiguous/random 50/50 (`nsp`) or none (`skip`) */
  unlinked: Unlinked;
  /** labels of the anchors that allow all three relations, and of those that allow two (nsp) */
  labels_by_anchor: { linkable: { '0': number; '1': number; '2': number }; unlinked: { '0': number; '1': number } };
  /** with several ingest inputs in the database: the labels of the anchors from each */
  labels_by_input?: { file: string; labels: { '0': number; '1': number; '2': number } }[];
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

const share = (part: number, whole: number) => (whole ? Math.round((1e4 * part) / whole) / 1e4 : 0);

export type Unlinked = 'nsp' | 'skip';
export const UNLINKED: Unlinked[] = ['nsp', 'skip'];
export type BSegments = 'non-lead' | 'any';
export const B_SEGMENTS: BSegments[] = ['non-lead', 'any'];

export async function pairs(opts: { db: string; seed?: number; instancesPerSegment?: number; bSegments?: BSegments; unlinked?: Unlinked; force?: boolean; memory?: string }): Promise<PairsSummary> {
  const t0 = performance.now();
  const seed = opts.seed ?? 12345;
  const k = opts.instancesPerSegment ?? 1;
  if (!Number.isInteger(k) || k < 1) throw new Error('--instances-per-segment must be a whole number ≥ 1');
  if (!Number.isInteger(seed)) throw new Error('--seed must be a whole number');
  const bSegments = opts.bSegments ?? 'non-lead';
  if (!B_SEGMENTS.includes(bSegments)) throw new Error(`--b-segments must be ${B_SEGMENTS.join(' or ')}, not ${bSegments}`);
  const unlinked = opts.unlinked ?? 'nsp';
  if (!UNLINKED.includes(unlinked)) throw new Error(`--unlinked must be ${UNLINKED.join(' or ')}, not ${unlinked}`);
  const db = await openDb(opts.db, { mustExist: true, memory: opts.memory });
  try {
    const ingest = await completedIngest(db);
    await requireStage(db, 'graph', ingest.fingerprint, 'linkbert graph');
    const seg = await requireStage(db, 'segment', ingest.fingerprint, 'linkbert segment --tokenizer X');
    // the pairs depend on the segments they were drawn from, so the segment run is part of the key
    const key = JSON.stringify({ seed, instances_per_segment: k, b_segments: bSegments, unlinked, segments: seg.settings });
    const done = opts.force ? null : await completedRun<PairsSummary>(db, 'pairs', ingest.fingerprint, key);
    if (done) return { ...done, already_done: true, seconds: Math.round(performance.now() - t0) / 1000 };
    await startRun(db, 'pairs', { source: ingest.source, fingerprint: ingest.fingerprint, settings: key });
    await db.conn.run(`SET VARIABLE seed = ${seed}; SET VARIABLE instances = ${k}; SET VARIABLE b_lead = ${bSegments === 'any' ? 1 : 0}; SET VARIABLE unlinked = '${unlinked}'`);
    await db.conn.run(await sqlFile('pairs.sql'));
    const [c] = await rows<Record<string, number>>(db.conn, await sqlFile('pairs-summary.sql'));
    const s: PairsSummary = {
      stage: 'pairs',
      db: db.path,
      pairs: c!.pairs!,
      labels: { '0': c!.contiguous!, '1': c!.random!, '2': c!.linked! },
      fallbacks: 0,
      anchors: c!.anchors!,
      segments: c!.segments!,
      not_anchors: { last_segment: c!.last_segments!, single_segment_article: c!.single_segment_articles!, no_linked_candidate: c!.segments_without_linked_candidate! },
      unlinked,
      labels_by_anchor: { linkable: { '0': c!.linkable_0!, '1': c!.linkable_1!, '2': c!.linkable_2! }, unlinked: { '0': c!.unlinked_0!, '1': c!.unlinked_1! } },
      b_segments: bSegments,
      lead_b: c!.lead_b!,
      coverage: {
        articles: share(c!.covered_articles!, c!.corpus_articles!),
        segments: share(c!.covered_segments!, c!.segments!),
        tokens: share(c!.covered_tokens!, c!.tokens!),
        articles_without_segments: c!.corpus_articles! - c!.segmented_articles!,
      },
      seed,
      instances_per_segment: k,
      memory_limit: await memoryLimit(db),
      already_done: false,
      seconds: Math.round(performance.now() - t0) / 1000,
    };
    const inputs = (JSON.parse((await rows<{ s: string | null }>(db.conn, `SELECT settings AS s FROM runs WHERE stage = 'ingest'`))[0]?.s ?? '{}') as { inputs?: { file: string; first_seq: number; end_seq: number }[] }).inputs;
    if (inputs?.length) {
      s.labels_by_input = [];
      for (const i of inputs) {
        const [l] = await rows<Record<string, number>>(db.conn, `SELECT count(*) FILTER (label = 0) AS "0", count(*) FILTER (label = 1) AS "1", count(*) FILTER (label = 2) AS "2" FROM pairs WHERE a_article >= ${i.first_seq} AND a_article < ${i.end_seq}`);
        s.labels_by_input.push({ file: i.file, labels: { '0': l!['0']!, '1': l!['1']!, '2': l!['2']! } });
      }
    }
    if (!s.pairs) throw new Error(`${db.path}: no segment can be an anchor (${JSON.stringify(s.not_anchors)}); LinkBERT pairs need articles of two segments or more that link to such articles`);
    await finishRun(db, 'pairs', s);
    return s;
  } finally {
    db.close();
  }
}
