/**
 * The pairs stage: LinkBERT instances (anchor A, segment B, relation label), sampled in SQL
 * (sql/pairs.sql) so that DuckDB does the large joins, and stored for inspection.
 *
 * Policy where a relation is impossible: only segments for which all three are possible become
 * anchors (they have a next segment, and their article links to an article with a segment to draw),
 * so no label ever falls back to another; the segments left out are counted by reason.
 */
import { memoryLimit, rows, sqlFile } from '../db/duckdb.js';
import { B_SEGMENTS, UNLINKED, type BSegments, type PairsSettings, type PairsSummary, type SplitCounts, type Unlinked } from '../stage/contracts.js';
import { runStage } from '../stage/kernel.js';

export { B_SEGMENTS, UNLINKED, type BSegments, type PairsSummary, type Unlinked };

const share = (part: number, whole: number) => (whole ? Math.round((1e4 * part) / whole) / 1e4 : 0);

export async function pairs(opts: { db: string; seed?: number; instancesPerSegment?: number; bSegments?: BSegments; unlinked?: Unlinked; validation?: number; force?: boolean; memory?: number }): Promise<PairsSummary> {
  const seed = opts.seed ?? 12345;
  const k = opts.instancesPerSegment ?? 1;
  if (!Number.isInteger(k) || k < 1) throw new Error('--instances-per-segment must be a whole number ≥ 1');
  if (!Number.isInteger(seed)) throw new Error('--seed must be a whole number');
  const bSegments = opts.bSegments ?? 'non-lead';
  if (!B_SEGMENTS.includes(bSegments)) throw new Error(`--b-segments must be ${B_SEGMENTS.join(' or ')}, not ${bSegments}`);
  const unlinked = opts.unlinked ?? 'nsp';
  if (!UNLINKED.includes(unlinked)) throw new Error(`--unlinked must be ${UNLINKED.join(' or ')}, not ${unlinked}`);
  const validation = opts.validation ?? 0;
  if (!(validation >= 0 && validation < 1)) throw new Error(`--validation is the share of articles held out, at least 0 and below 1 (0.01 holds out 1%), not ${validation}`);
  // (recorded only when set: a run without it keeps the key it always had)
  const own: PairsSettings = { seed, instances_per_segment: k, b_segments: bSegments, unlinked, ...(validation > 0 ? { validation } : {}) };
  return runStage<PairsSummary, 'graph' | 'segment'>({
    stage: 'pairs',
    db: opts.db,
    memory: opts.memory,
    force: opts.force,
    // the pairs depend on the segments they were drawn from: the segment run is part of the key
    reads: ['graph', 'segment'],
    settings: () => own,
    async work({ db, ingest }) {
      await db.conn.run(`SET VARIABLE seed = ${seed}; SET VARIABLE instances = ${k}; SET VARIABLE b_lead = ${bSegments === 'any' ? 1 : 0}; SET VARIABLE unlinked = '${unlinked}'; SET VARIABLE validation = ${validation}::DOUBLE`);
      await db.conn.run(await sqlFile('pairs.sql'));
      const [c] = await rows<Record<string, number>>(db.conn, await sqlFile('pairs-summary.sql'));
      const s: Omit<PairsSummary, 'already_done' | 'seconds'> = {
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
      };
      const inputs = ingest.settings.inputs;
      if (inputs?.length) {
        s.labels_by_input = [];
        for (const i of inputs) {
          const [l] = await rows<Record<string, number>>(db.conn, `SELECT count(*) FILTER (label = 0) AS "0", count(*) FILTER (label = 1) AS "1", count(*) FILTER (label = 2) AS "2" FROM pairs WHERE a_article >= ${i.first_seq} AND a_article < ${i.end_seq}`);
          s.labels_by_input.push({ file: i.file, labels: { '0': l!['0']!, '1': l!['1']!, '2': l!['2']! } });
        }
      }
      if (validation > 0) s.splits = await splitCounts(db.conn, validation);
      if (!s.pairs) throw new Error(`${db.path}: no segment can be an anchor (${JSON.stringify(s.not_anchors)}); LinkBERT pairs need articles of two segments or more that link to such articles`);
      return s;
    },
  });
}

type Conn = Parameters<typeof rows>[0];

/**
 * Each split's pairs, labels and articles. Refuses a split that lost instances (too few articles
 * to draw a random B from: the draw skips the anchor's own) or a validation split left empty.
 */
async function splitCounts(conn: Conn, validation: number): Promise<{ train: SplitCounts; validation: SplitCounts }> {
  const got = await rows<{ split: string; pairs: number; anchors: number; l0: number; l1: number; l2: number; articles: number; articles_with_segments: number; b_articles: number }>(conn, await sqlFile('pairs-splits.sql'));
  const out: Record<string, SplitCounts> = {};
  for (const g of got) {
    if (g.pairs !== g.anchors) throw new Error(`--validation ${validation}: the ${g.split} split has ${g.b_articles} article(s) with a segment to draw as B, too few to draw a random B from (another article than the anchor's); hold out ${g.split === 'validation' ? 'more' : 'fewer'} articles`);
    out[g.split] = { pairs: g.pairs, labels: { '0': g.l0, '1': g.l1, '2': g.l2 }, articles: g.articles, articles_with_segments: g.articles_with_segments };
  }
  if (!out.validation!.pairs) throw new Error(`--validation ${validation} held out ${out.validation!.articles_with_segments} of ${out.validation!.articles_with_segments + out.train!.articles_with_segments} articles with segments, and no anchor among them: hold out a larger share`);
  return { train: out.train!, validation: out.validation! };
}
