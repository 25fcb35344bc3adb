/**
 * The segment stage: every article's sentences tokenized once with the model's tokenizer and packed
 * into segments (pack.ts), written to the segments table. Articles are read from DuckDB in order,
 * tokenized in batches with encodeBatch (one batch at a time, shared out over the cores inside the
 * tokenizers library), and written in order; each article's packing draws from its own seeded
 * generator, so the rows are the same however the articles are batched.
 */
import { INTEGER, LIST } from '@duckdb/node-api';
import type { Encoding } from 'tokenizers';
import { ChunkAppender, list } from '../db/chunks.js';
import { memoryLimit, rows, sqlFile } from '../db/duckdb.js';
import type { SegmentSettings, SegmentSummary } from '../stage/contracts.js';
import { runStage } from '../stage/kernel.js';
import { loadTokenizer, type TokenizerOptions } from '../tokenize/tokenizer.js';
import { collectGarbage } from '../util/gc.js';
import { rng } from '../util/rng.js';
import { maxSegmentTokens, packSegments, type TokenizedSentence } from './pack.js';

export interface SegmentOptions extends TokenizerOptions {
  db: string;
  tokenizer: string;
  maxSeqLen?: number;
  shortSeqProb?: number;
  seed?: number;
  /** segment disambiguation pages too (left out by default: a list of links, no text passage) */
  disambiguation?: boolean;
  /** articles per tokenizer batch (the rows do not depend on it) */
  batchArticles?: number;
  force?: boolean;
  /** DuckDB's memory limit, bytes */
  memory?: number;
  onProgress?: (p: { articles: number; total: number; tokens: number; seconds: number }) => void;
}

export type { SegmentSettings, SegmentSummary };

interface ArticleIn {
  seq: number;
  text: string;
  sent_start: number[];
  sent_len: number[];
}

/**
 * Each sentence's text: offsets in the article count code points, JS strings UTF-16 units. Only an
 * article with astral characters needs converting, in one pass over its text.
 */
function sentenceTexts(text: string, starts: readonly number[], lens: readonly number[]): string[] {
  if (!/[\ud800-\udbff]/.test(text)) return starts.map((s, i) => text.slice(s, s + lens[i]!));
  const out: string[] = [];
  let cp = 0;
  let u = 0; // UTF-16 index of code point cp
  const to = (target: number) => {
    for (; cp < target; cp++) {
      const c = text.charCodeAt(u);
      u += c >= 0xd800 && c <= 0xdbff ? 2 : 1;
    }
    return u;
  };
  starts.forEach((s, i) => {
    const a = to(s); // sentences come in order, without overlap
    out.push(text.slice(a, to(s + lens[i]!)));
  });
  return out;
}

/** Articles per tokenizer batch (a few thousand sentences). */
const BATCH_ARTICLES = 128;
/** Pages (by seq) read from the articles table at once; the first range is smaller, so the
 * tokenizer starts sooner (reading and converting 1,024 articles takes 0.4 s on the 6k bench). */
const RANGE_PAGES = 1024;
const FIRST_RANGE_PAGES = 128;

export async function segment(opts: SegmentOptions): Promise<SegmentSummary> {
  const t0 = performance.now();
  const settings: SegmentSettings = {
    max_seq_len: opts.maxSeqLen ?? 512,
    max_segment_tokens: maxSegmentTokens(opts.maxSeqLen ?? 512),
    short_seq_prob: opts.shortSeqProb ?? 0.1,
    seed: opts.seed ?? 12345,
    disambiguation: opts.disambiguation ?? false,
  };
  if (settings.max_segment_tokens < 2) throw new Error(`--max-seq-len ${settings.max_seq_len} leaves no room for two segments`);
  if (!(settings.short_seq_prob >= 0 && settings.short_seq_prob <= 1)) throw new Error('--short-seq-prob must be between 0 and 1');
  const batchArticles = opts.batchArticles ?? BATCH_ARTICLES;
  if (!Number.isInteger(batchArticles) || batchArticles < 1) throw new Error('batchArticles must be a whole number ≥ 1');
  const tok = await loadTokenizer(opts.tokenizer, opts);
  return runStage<SegmentSummary>({
    stage: 'segment',
    db: opts.db,
    memory: opts.memory,
    force: opts.force,
    reads: [],
    settings: () => ({ settings, tokenizer: tok.identity.sha256, lowercase: tok.identity.lowercase }),
    async work({ db }) {
      await db.conn.run(await sqlFile('segments.sql'));

      // disambiguation pages: lists of links with no text passage, left out of training text by default
      const include = settings.disambiguation ? 'true' : 'NOT disambiguation';
      const [{ total, left_out, first, last }] = (await rows<{ total: number; left_out: number; first: number | null; last: number | null }>(db.conn, `SELECT count(*) FILTER (WHERE ${include}) AS total, count(*) FILTER (WHERE NOT (${include})) AS left_out, min(seq) AS first, max(seq) AS last FROM articles`)) as [{ total: number; left_out: number; first: number | null; last: number | null }];
      const reader = await db.instance.connect();
      // a DataChunk at a time: the ids go in as numbers (a list value per row through the Appender
      // costs 10×, and as '[1,2,3]' text DuckDB parses 3×)
      const appender = new ChunkAppender(await db.conn.createAppender('segments'), [INTEGER, INTEGER, INTEGER, LIST(INTEGER), INTEGER, INTEGER, INTEGER, INTEGER]);
      const bucket = settings.max_segment_tokens <= 64 ? 8 : 32;
      const hist = new Map<number, number>();
      let articles = 0;
      let empty = 0;
      let segments = 0;
      let tokens = 0;
      let unk = 0;

      // One batch in the tokenizer at a time (its own threads share a batch out over the cores), and
      // encodings are freed only while it is idle: each holds a dozen native allocations per token made
      // on the tokenizer's threads, and freeing them here while those threads allocate for the next batch
      // makes both wait on malloc's locks (measured: a fifth of this thread's time, and 250 MB more peak
      // RSS). Reading a batch's ids out, packing and appending it overlap the next batch's tokenizing.
      const texts = (batch: ArticleIn[]) => batch.flatMap((a) => sentenceTexts(a.text, a.sent_start, a.sent_len));
      // a batch's articles one at a time: each one's ids are read out, packed and appended before the
      // next one's are read, so they die young
      const write = (batch: ArticleIn[], enc: Encoding[]) => {
        let k = 0;
        for (const a of batch) {
          const sentences: TokenizedSentence[] = [];
          for (let i = 0; i < a.sent_start.length; i++, k++) {
            const e = enc[k]!;
            const ids = e.getIds();
            const base = a.sent_start[i]!;
            // a sentence longer than a segment is cut at token boundaries: its spans, read now
            const spans = ids.length > settings.max_segment_tokens ? e.getOffsets().map(([x, y]) => [base + x!, base + y!] as [number, number]) : [];
            sentences.push({ ids, start: base, end: base + a.sent_len[i]!, tokenSpans: () => spans });
          }
          const segs = packSegments(sentences, settings.max_segment_tokens, settings.short_seq_prob, rng(settings.seed, 'segment', a.seq));
          articles++;
          if (!segs.length) empty++;
          for (const s of segs) {
            appender.row([a.seq, s.idx, s.ids.length, list(s.ids), s.charStart, s.charEnd, s.firstSentence, s.sentences]);
            segments++;
            tokens += s.ids.length;
            for (const id of s.ids) if (id === tok.special.unk) unk++;
            const b = Math.floor((s.ids.length - 1) / bucket) * bucket;
            hist.set(b, (hist.get(b) ?? 0) + 1);
          }
        }
        opts.onProgress?.({ articles, total, tokens, seconds: (performance.now() - t0) / 1000 });
      };
      let inTokenizer: { batch: ArticleIn[]; enc: Promise<Encoding[]> } | null = null;
      // the encodings read out last, kept reachable until the tokenizer is idle again, so that no GC
      // frees them while it works
      const held: Encoding[][] = [];
      const next = async (batch: ArticleIn[] | null) => {
        let done: { batch: ArticleIn[]; enc: Encoding[] } | null = null;
        if (inTokenizer) {
          done = { batch: inTokenizer.batch, enc: await inTokenizer.enc };
          inTokenizer = null;
          // the tokenizer is idle: free the encodings read out before (their finalizers run on the next turn)
          held.length = 0;
          collectGarbage();
          await new Promise((r) => setImmediate(r));
        }
        if (batch) {
          const t = texts(batch);
          inTokenizer = { batch, enc: t.length ? tok.tokenizer.encodeBatch(t, { addSpecialTokens: false }) : Promise.resolve([]) };
        }
        if (done) {
          held.push(done.enc);
          write(done.batch, done.enc);
        }
      };
      let batch: ArticleIn[] = [];
      // Articles in seq order, a range of pages at a time: one ORDER BY over the whole table would
      // hold every article's text at once (the range's rows come from a row group or two).
      for (let from = first ?? 0, size = FIRST_RANGE_PAGES; last !== null && from <= last; from += size, size = RANGE_PAGES) {
        const result = await reader.runAndReadAll(`SELECT seq, text, sent_start, sent_len FROM articles WHERE seq >= ${from} AND seq < ${from + size} AND ${include} ORDER BY seq`);
        for (const r of result.getRowObjectsJS()) {
          batch.push(r as unknown as ArticleIn);
          if (batch.length === batchArticles) {
            await next(batch);
            batch = [];
          }
        }
        // An Appender holds ~200k rows before it writes them: flush each range's (a few thousand).
        appender.flushSync();
      }
      await next(batch.length ? batch : null);
      await next(null);
      held.length = 0;
      appender.closeSync();
      reader.closeSync();

      const seconds = Math.round(performance.now() - t0) / 1000;
      const summary: Omit<SegmentSummary, 'already_done' | 'seconds'> = {
        stage: 'segment',
        db: db.path,
        articles,
        articles_without_segments: empty,
        disambiguation_left_out: Number(left_out),
        segments,
        tokens,
        unk_rate: tokens ? unk / tokens : 0,
        warnings: unkWarning(tokens ? unk / tokens : 0, tok.identity.file),
        length_histogram: Object.fromEntries([...hist.entries()].sort((x, y) => x[0] - y[0]).map(([k, v]) => [String(k + 1), v])),
        bucket_size: bucket,
        settings,
        tokenizer: tok.identity,
        memory_limit: await memoryLimit(db),
        tokens_per_s: Math.round(tokens / Math.max(seconds, 1e-3)),
      };
      return summary;
    },
  });
}

/**
 * BERT's WordPiece vocabularies leave well under 1% of Wikipedia's tokens as [UNK]; a few percent
 * means the vocabulary does not cover the text (another script or language, or a cased text with a
 * vocabulary that lacks its characters), and a model would learn from [UNK]s.
 */
export const UNK_WARNING_RATE = 0.02;

export function unkWarning(rate: number, file: string): string[] {
  if (rate <= UNK_WARNING_RATE) return [];
  return [`${(rate * 100).toFixed(1)}% of the tokens are [UNK] (over ${UNK_WARNING_RATE * 100}%): the tokenizer ${file} does not fit this text; check its language and casing`];
}
