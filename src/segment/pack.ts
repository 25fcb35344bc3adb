/**
 * Packing an article's sentences into segments, as BERT's create_pretraining_data does for the
 * first segment of a pair: whole sentences are added while they fit the target length; the target is
 * max_tokens, or with probability short_seq_prob a shorter one drawn uniformly from [2, max_tokens].
 * A sentence longer than max_tokens is cut at token boundaries into pieces of max_tokens.
 * The same rule for every article, so a segment's length says nothing about how it is used later.
 */
import { randInt } from '../util/rng.js';

export interface TokenizedSentence {
  ids: number[];
  /** [start, end) of the sentence in the article's text, code points */
  start: number;
  end: number;
  /** [start, end) of each token (asked for only when the sentence must be cut) */
  tokenSpans: () => [number, number][];
}

export interface Segment {
  idx: number; // position within the article
  ids: number[];
  charStart: number;
  charEnd: number;
  firstSentence: number;
  sentences: number; // sentences it touches
}

/** Largest segment so that any two fit one input with [CLS] A [SEP] B [SEP]. */
export function maxSegmentTokens(maxSeqLen: number): number {
  return Math.floor((maxSeqLen - 3) / 2);
}

export function packSegments(sentences: TokenizedSentence[], maxTokens: number, shortSeqProb: number, random: () => number): Segment[] {
  const target = () => (random() < shortSeqProb ? randInt(random, 2, maxTokens) : maxTokens);
  const out: Segment[] = [];
  let cur: { ids: number[]; start: number; end: number; first: number; last: number } | null = null;
  let goal = target();
  const emit = () => {
    if (cur && cur.ids.length) out.push({ idx: out.length, ids: cur.ids, charStart: cur.start, charEnd: cur.end, firstSentence: cur.first, sentences: cur.last - cur.first + 1 });
    cur = null;
    goal = target();
  };
  sentences.forEach((s, si) => {
    const spans = s.ids.length > maxTokens ? s.tokenSpans() : null;
    for (let p = 0; p < s.ids.length; p += maxTokens) {
      const ids = p === 0 && !spans ? s.ids : s.ids.slice(p, p + maxTokens);
      // a whole sentence spans its text; a piece of a cut one, its tokens
      const start = spans ? (p === 0 ? s.start : spans[p]![0]) : s.start;
      const end = spans && p + maxTokens < s.ids.length ? spans[p + maxTokens - 1]![1] : s.end;
      if (cur && cur.ids.length + ids.length > goal) emit();
      if (!cur) cur = { ids: [], start, end, first: si, last: si };
      for (const id of ids) cur.ids.push(id);
      cur.end = end;
      cur.last = si;
      // a piece alone may exceed a short goal; it never exceeds maxTokens
    }
  });
  emit();
  return out;
}
