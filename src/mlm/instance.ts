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

/** BERT's truncate_seq_pair: drop a token from the longer side, from the front or the back at random. */
export function truncatePair(a: number[], b: number[], maxTokens: number, random: () => number): [number[], number[]] {
  if (a.length + b.length <= maxTokens) return [a, b]; // the usual case: segments are packed to fit
  const x = a.slice();
  const y = b.slice();
  while (x.length + y.length > maxTokens) {
    const t = x.length > y.length ? x : y;
    if (random() < 0.5) t.shift();
    else t.pop();
  }
  return [x, y];
}

export function layout(a: number[], b: number[], cls: number, sep: number): { input_ids: number[]; token_type_ids: number[] } {
  return {
    input_ids: [cls, ...a, sep, ...b, sep],
    token_type_ids: [...new Array<number>(a.length + 2).fill(0), ...new Array<number>(b.length + 1).fill(1)],
  };
}

/** Masks `ids` in place; returns the masked positions (ascending) and their original ids. */
export function maskTokens(ids: number[], special: (pos: number) => boolean, o: MaskingOptions, random: () => number): { positions: number[]; labels: number[] } {
  if (!o.wholeWord) return maskPositions(ids, special, o, random);
  // candidate units: whole words (a token and its ## continuations)
  const units: number[][] = [];
  for (let p = 0; p < ids.length; p++) {
    if (special(p)) continue;
    const last = units[units.length - 1];
    if (o.wholeWord && last && o.isContinuation(ids[p]!) && last[last.length - 1] === p - 1) last.push(p);
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
  return replace(ids, chosen, o, random);
}

/** maskTokens with single-token units: the same draws and result, without an array per unit. */
function maskPositions(ids: number[], special: (pos: number) => boolean, o: MaskingOptions, random: () => number): { positions: number[]; labels: number[] } {
  const units = new Int32Array(ids.length);
  let n = 0;
  for (let p = 0; p < ids.length; p++) if (!special(p)) units[n++] = p;
  for (let i = n - 1; i > 0; i--) {
    const j = randInt(random, 0, i);
    const t = units[i]!;
    units[i] = units[j]!;
    units[j] = t;
  }
  const toPredict = Math.min(o.maxPredictions, Math.max(1, Math.round(n * o.maskedLmProb)));
  const chosen = Array.from(units.subarray(0, Math.min(toPredict, n))).sort((x, y) => x - y);
  return replace(ids, chosen, o, random);
}

/** 80% [MASK], 10% a random token, 10% unchanged, at each chosen position (ascending). */
function replace(ids: number[], chosen: number[], o: MaskingOptions, random: () => number): { positions: number[]; labels: number[] } {
  const labels = chosen.map((p) => ids[p]!);
  for (const p of chosen) {
    const r = random();
    if (r < 0.8) ids[p] = o.maskId;
    else if (r >= 0.9) ids[p] = o.replacementIds[randInt(random, 0, o.replacementIds.length - 1)]!;
    // else (10%): keep the original token
  }
  return { positions: chosen, labels };
}
