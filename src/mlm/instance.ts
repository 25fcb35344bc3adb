/**
 * One training input from a pair, as BERT's create_pretraining_data builds it: truncate the pair to
 * fit, lay out [CLS] A [SEP] B [SEP] with token types, then (static masking) choose the masked
 * positions: 15% of the non-special tokens (at most max_predictions), each replaced by [MASK] 80% of
 * the time, by a random token 10%, and left as it is 10%.
 */
import { randInt } from '../util/rng.js';

export interface MaskingOptions {
  maskedLmProb: number;
  maxPredictions: number;
  wholeWord: boolean;
  /** ids that continue a word (WordPiece `##…`), for whole-word masking */
  isContinuation: (id: number) => boolean;
  maskId: number;
  /** ids a random replacement is drawn from (the vocabulary without special tokens) */
  replacementIds: Int32Array;
}

export interface TrainingRow {
  input_ids: number[];
  token_type_ids: number[];
  masked_lm_positions: number[];
  masked_lm_ids: number[];
}

/** Where a truncated pair's A and B start in the original segments, and how many tokens each keeps. */
export interface Truncation {
  aOff: number;
  aLen: number;
  bOff: number;
  bLen: number;
}

/**
 * BERT's truncate_seq_pair on lengths alone: drop a token from the longer side (B on a tie), from
 * the front or the back at random. Needs no token ids, so SQL can cut the ids themselves.
 */
export function truncateLengths(aLen: number, bLen: number, maxTokens: number, random: () => number): Truncation {
  const t = { aOff: 0, aLen, bOff: 0, bLen };
  while (t.aLen + t.bLen > maxTokens) {
    const front = random() < 0.5;
    if (t.aLen > t.bLen) {
      if (front) t.aOff++;
      t.aLen--;
    } else {
      if (front) t.bOff++;
      t.bLen--;
    }
  }
  return t;
}

/** truncateLengths applied to the ids (the same draws). */
export function truncatePair(a: number[], b: number[], maxTokens: number, random: () => number): [number[], number[]] {
  if (a.length + b.length <= maxTokens) return [a, b]; // the usual case: segments are packed to fit
  const t = truncateLengths(a.length, b.length, maxTokens, random);
  return [a.slice(t.aOff, t.aOff + t.aLen), b.slice(t.bOff, t.bOff + t.bLen)];
}

export function layout(a: number[], b: number[], cls: number, sep: number): { input_ids: number[]; token_type_ids: number[] } {
  return {
    input_ids: [cls, ...a, sep, ...b, sep],
    token_type_ids: [...new Array<number>(a.length + 2).fill(0), ...new Array<number>(b.length + 1).fill(1)],
  };
}

/**
 * Which positions to mask and what each becomes: `replacements[k]` is the id put at `positions[k]`,
 * or -1 where the token stays as it is. Only whole-word masking needs the ids (to find words);
 * otherwise the length alone decides, so the ids can stay in the database.
 */
export interface MaskPlan {
  positions: number[];
  replacements: number[];
}

export function planMasks(length: number, special: (pos: number) => boolean, o: MaskingOptions, random: () => number, ids?: ArrayLike<number>): MaskPlan {
  if (!o.wholeWord) return planPositions(length, special, o, random);
  if (!ids) throw new Error('internal error: whole-word masking needs the token ids');
  // candidate units: whole words (a token and its ## continuations)
  const units: number[][] = [];
  for (let p = 0; p < length; p++) {
    if (special(p)) continue;
    const last = units[units.length - 1];
    if (last && o.isContinuation(ids[p]!) && last[last.length - 1] === p - 1) last.push(p);
    else units.push([p]);
  }
  for (let i = units.length - 1; i > 0; i--) {
    const j = randInt(random, 0, i);
    [units[i], units[j]] = [units[j]!, units[i]!];
  }
  const candidates = units.reduce((n, u) => n + u.length, 0);
  const toPredict = Math.min(o.maxPredictions, Math.max(1, Math.round(candidates * o.maskedLmProb)));
  const chosen: number[] = [];
  for (const unit of units) {
    if (chosen.length >= toPredict) break;
    if (chosen.length + unit.length > toPredict) continue;
    chosen.push(...unit);
  }
  chosen.sort((x, y) => x - y);
  return replacements(chosen, o, random);
}

/** planMasks with single-token units: the same draws and result, without an array per unit. */
function planPositions(length: number, special: (pos: number) => boolean, o: MaskingOptions, random: () => number): MaskPlan {
  const units = new Int32Array(length);
  let n = 0;
  for (let p = 0; p < length; p++) if (!special(p)) units[n++] = p;
  for (let i = n - 1; i > 0; i--) {
    const j = randInt(random, 0, i);
    const t = units[i]!;
    units[i] = units[j]!;
    units[j] = t;
  }
  const toPredict = Math.min(o.maxPredictions, Math.max(1, Math.round(n * o.maskedLmProb)));
  const chosen = Array.from(units.subarray(0, Math.min(toPredict, n))).sort((x, y) => x - y);
  return replacements(chosen, o, random);
}

/** 80% [MASK], 10% a random token, 10% unchanged (-1), at each chosen position (ascending). */
function replacements(chosen: number[], o: MaskingOptions, random: () => number): MaskPlan {
  const out = chosen.map(() => {
    const r = random();
    if (r < 0.8) return o.maskId;
    if (r >= 0.9) return o.replacementIds[randInt(random, 0, o.replacementIds.length - 1)]!;
    return -1;
  });
  return { positions: chosen, replacements: out };
}

/** Masks `ids` in place; returns the masked positions (ascending) and their original ids. */
export function maskTokens(ids: number[], special: (pos: number) => boolean, o: MaskingOptions, random: () => number): { positions: number[]; labels: number[] } {
  const plan = planMasks(ids.length, special, o, random, ids);
  const labels = plan.positions.map((p) => ids[p]!);
  plan.positions.forEach((p, k) => {
    const r = plan.replacements[k]!;
    if (r >= 0) ids[p] = r;
  });
  return { positions: plan.positions, labels };
}
