/**
 * The document-relation probe: multinomial logistic regression on [CLS] vectors, trained and scored
 * with k-fold cross-validation, beside the majority-class baseline and a shuffled-label control
 * (the same procedure on labels permuted at random, which no real signal survives).
 */
import { randInt, rng } from '../util/rng.js';

export interface ProbeResult {
  samples: number;
  folds: number;
  accuracy: number;
  per_label_accuracy: Record<string, number>;
  confusion: number[][]; // [true label][predicted label]
  majority_baseline: number;
  shuffled_control: number;
  beats_control: boolean;
  /** what the figures mean, in words (an accuracy under the majority baseline is not a bug) */
  reading: string;
}

const pc = (x: number) => `${(100 * x).toFixed(1)}%`;

/** The probe's figures read for a person: signal only where accuracy beats the shuffled-label control. */
export function readProbe(accuracy: number, control: number, majority: number, margin: number): string {
  if (accuracy > control + margin) return `the [CLS] vectors carry the document relation: ${pc(accuracy)} against ${pc(control)} with shuffled labels (margin ${pc(margin)})`;
  const below = accuracy < majority ? `; an accuracy under the majority baseline (${pc(majority)}) is expected then: with labels nearly balanced (the most common one is ${pc(majority)} of them), every held-out fold is short of the label its training folds hold most of, so a probe with nothing to learn predicts that label and misses` : '';
  return `no signal: ${pc(accuracy)} is within chance of the shuffled-label control (${pc(control)} ± ${pc(margin)}), as for a random or untrained model, whose [CLS] vectors carry none${below}`;
}

function standardize(train: Float64Array[], rows: Float64Array[]): Float64Array[] {
  const d = train[0]!.length;
  const mean = new Float64Array(d);
  const sd = new Float64Array(d);
  for (const r of train) for (let j = 0; j < d; j++) mean[j]! += r[j]! / train.length;
  for (const r of train) for (let j = 0; j < d; j++) sd[j]! += (r[j]! - mean[j]!) ** 2 / train.length;
  for (let j = 0; j < d; j++) sd[j] = Math.sqrt(sd[j]!) || 1;
  return rows.map((r) => r.map((v, j) => (v - mean[j]!) / sd[j]!));
}

/** Softmax regression by full-batch gradient descent with L2. Returns class scores of `test`. */
export function softmaxRegression(x: Float64Array[], y: number[], classes: number, test: Float64Array[], opts = { iterations: 300, rate: 0.5, l2: 1e-3 }): number[] {
  const xs = standardize(x, x);
  const ts = standardize(x, test);
  const d = xs[0]!.length;
  const W = Array.from({ length: classes }, () => new Float64Array(d + 1));
  const p = new Float64Array(classes);
  for (let it = 0; it < opts.iterations; it++) {
    const grad = Array.from({ length: classes }, () => new Float64Array(d + 1));
    for (let n = 0; n < xs.length; n++) {
      const r = xs[n]!;
      let m = -Infinity;
      for (let c = 0; c < classes; c++) {
        let s = W[c]![d]!;
        for (let j = 0; j < d; j++) s += W[c]![j]! * r[j]!;
        p[c] = s;
        m = Math.max(m, s);
      }
      let z = 0;
      for (let c = 0; c < classes; c++) z += p[c] = Math.exp(p[c]! - m);
      for (let c = 0; c < classes; c++) {
        const g = p[c]! / z - (y[n] === c ? 1 : 0);
        for (let j = 0; j < d; j++) grad[c]![j]! += g * r[j]!;
        grad[c]![d]! += g;
      }
    }
    for (let c = 0; c < classes; c++) for (let j = 0; j <= d; j++) W[c]![j]! -= opts.rate * (grad[c]![j]! / xs.length + (j < d ? opts.l2 * W[c]![j]! : 0));
  }
  return ts.map((r) => {
    let best = 0;
    let bestScore = -Infinity;
    for (let c = 0; c < classes; c++) {
      let s = W[c]![d]!;
      for (let j = 0; j < d; j++) s += W[c]![j]! * r[j]!;
      if (s > bestScore) [best, bestScore] = [c, s];
    }
    return best;
  });
}

function crossValidate(x: Float64Array[], y: number[], classes: number, folds: number, seed: number): number[] {
  const order = x.map((_, i) => i);
  const r = rng(seed, 'folds');
  for (let i = order.length - 1; i > 0; i--) {
    const j = randInt(r, 0, i);
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  const pred = new Array<number>(x.length).fill(0);
  for (let f = 0; f < folds; f++) {
    const test = order.filter((_, k) => k % folds === f);
    const train = order.filter((_, k) => k % folds !== f);
    const out = softmaxRegression(train.map((i) => x[i]!), train.map((i) => y[i]!), classes, test.map((i) => x[i]!));
    test.forEach((i, k) => (pred[i] = out[k]!));
  }
  return pred;
}

export function relationProbe(features: Float64Array[], labels: number[], opts: { folds?: number; seed?: number; classes?: number } = {}): ProbeResult {
  const classes = opts.classes ?? 3;
  const folds = Math.min(opts.folds ?? 5, labels.length);
  const seed = opts.seed ?? 1;
  const pred = crossValidate(features, labels, classes, folds, seed);
  const confusion = Array.from({ length: classes }, () => new Array<number>(classes).fill(0));
  labels.forEach((l, i) => confusion[l]![pred[i]!]!++);
  const accuracy = labels.filter((l, i) => l === pred[i]).length / labels.length;
  const per: Record<string, number> = {};
  for (let c = 0; c < classes; c++) {
    const n = confusion[c]!.reduce((a, b) => a + b, 0);
    per[String(c)] = n ? confusion[c]![c]! / n : 0;
  }
  const counts = new Array<number>(classes).fill(0);
  for (const l of labels) counts[l]!++;
  // control: the same procedure on shuffled labels, scored against them
  const shuffled = labels.slice();
  const r = rng(seed, 'shuffle');
  for (let i = shuffled.length - 1; i > 0; i--) {
    const j = randInt(r, 0, i);
    [shuffled[i], shuffled[j]] = [shuffled[j]!, shuffled[i]!];
  }
  const cpred = crossValidate(features, shuffled, classes, folds, seed);
  const control = shuffled.filter((l, i) => l === cpred[i]).length / labels.length;
  // beats the control by more than chance variation of an accuracy on this many samples
  const margin = 2 * Math.sqrt((1 / classes) * (1 - 1 / classes) / labels.length);
  return {
    samples: labels.length,
    folds,
    accuracy,
    per_label_accuracy: per,
    confusion,
    majority_baseline: Math.max(...counts) / labels.length,
    shuffled_control: control,
    beats_control: accuracy > control + margin,
    reading: readProbe(accuracy, control, Math.max(...counts) / labels.length, margin),
  };
}
