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
  seed: number;
  instances_per_segment: number;
  memory_limit: string;
  already_done: boolean;
  seconds: number;
}

export async function pairs(opts: { db: string; seed?: number; instancesPerSegment?: number; force?: boolean; memory?: string }): Promise<PairsSummary> {
  const t0 = performance.now();
  const seed = opts.seed ?? 12345;
  const k = opts.instancesPerSegment ?? 1;
  if (!Number.isInteger(k) || k < 1) throw new Error('--instances-per-segment must be a whole number ≥ 1');
  if (!Number.isInteger(seed)) throw new Error('--seed must be a whole number');
  const db = await openDb(opts.db, { mustExist: true, memory: opts.memory });
  try {
    const ingest = await completedIngest(db);
    await requireStage(db, 'graph', ingest.fingerprint, 'linkbert graph');
    const seg = await requireStage(db, 'segment', ingest.fingerprint, 'linkbert segment --tokenizer X');
    // the pairs depend on the segments they were drawn from, so the segment run is part of the key
    const key = JSON.stringify({ seed, instances_per_segment: k, segments: seg.settings });
    const done = opts.force ? null : await completedRun<PairsSummary>(db, 'pairs', ingest.fingerprint, key);
    if (done) return { ...done, already_done: true, seconds: Math.round(performance.now() - t0) / 1000 };
    await startRun(db, 'pairs', { source: ingest.source, fingerprint: ingest.fingerprint, settings: key });
    await db.conn.run(`SET VARIABLE seed = ${seed}; SET VARIABLE instances = ${k}`);
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
      seed,
      instances_per_segment: k,
      memory_limit: await memoryLimit(db),
      already_done: false,
      seconds: Math.round(performance.now() - t0) / 1000,
    };
    if (!s.pairs) throw new Error(`${db.path}: no segment can be an anchor (${JSON.stringify(s.not_anchors)}); LinkBERT pairs need articles of two segments or more that link to such articles`);
    await finishRun(db, 'pairs', s);
    return s;
  } finally {
    db.close();
  }
}
