/**
 * A plain forward pass of BERT in TypeScript (float64), written independently of the ONNX graph,
 * to check the exported model: embeddings, attention with the additive mask, exact GELU, LayerNorm
 * with the config's epsilon, pooler, MLM head.
 */
import type { BertWeights } from './bert.js';
import { layerNames } from './bert.js';

type Mat = Float64Array[]; // rows

function erf(x: number): number {
  // Abramowitz–Stegun 7.1.26 is too coarse for 1e-4 checks; use a series / continued fraction
  const t = Math.abs(x);
  if (t < 2.5) {
    let sum = x;
    let term = x;
    for (let n = 1; n < 60; n++) {
      term *= (-x * x) / n;
      sum += term / (2 * n + 1);
    }
    return (2 / Math.sqrt(Math.PI)) * sum;
  }
  // erfc continued fraction for large |x|
  let f = 0;
  for (let n = 60; n >= 1; n--) f = n / 2 / (t + f);
  const erfc = Math.exp(-t * t) / Math.sqrt(Math.PI) / (t + f);
  return Math.sign(x) * (1 - erfc);
}

export class ReferenceBert {
  constructor(private readonly w: BertWeights) {}

  private t(name: string) {
    const t = this.w.tensors.get(name);
    if (!t) throw new Error(`missing ${name}`);
    return t;
  }

  private linear(x: Mat, name: string): Mat {
    const W = this.t(`${name}.weight`);
    const b = this.t(`${name}.bias`).data;
    const [o, i] = W.shape as [number, number];
    return x.map((row) => {
      const out = new Float64Array(o);
      for (let r = 0; r < o; r++) {
        let s = b[r]!;
        for (let k = 0; k < i; k++) s += W.data[r * i + k]! * row[k]!;
        out[r] = s;
      }
      return out;
    });
  }

  private layerNorm(x: Mat, name: string): Mat {
    const g = this.t(`${name}.weight`).data;
    const b = this.t(`${name}.bias`).data;
    const eps = this.w.config.layer_norm_eps;
    return x.map((row) => {
      const mean = row.reduce((a, v) => a + v, 0) / row.length;
      const variance = row.reduce((a, v) => a + (v - mean) ** 2, 0) / row.length;
      return row.map((v, j) => ((v - mean) / Math.sqrt(variance + eps)) * g[j]! + b[j]!);
    });
  }

  private gelu(x: Mat): Mat {
    return x.map((row) => row.map((v) => 0.5 * v * (1 + erf(v / Math.SQRT2))));
  }

  /** One sequence: hidden states [seq][hidden], pooler output, MLM logits [seq][vocab]. */
  run(ids: number[], mask: number[], types: number[]): { hidden: Mat; pooled: Float64Array | null; logits: Mat | null } {
    const c = this.w.config;
    const H = c.hidden_size;
    const emb = (name: string, id: number) => this.t(name).data.subarray(id * H, (id + 1) * H);
    let h: Mat = ids.map((id, p) => {
      const row = new Float64Array(H);
      const a = emb('embeddings.word_embeddings.weight', id);
      const b = emb('embeddings.position_embeddings.weight', p);
      const d = emb('embeddings.token_type_embeddings.weight', types[p]!);
      for (let j = 0; j < H; j++) row[j] = a[j]! + b[j]! + d[j]!;
      return row;
    });
    h = this.layerNorm(h, 'embeddings.LayerNorm');
    const nh = c.num_attention_heads;
    const dh = H / nh;
    for (let l = 0; l < c.num_hidden_layers; l++) {
      const L = layerNames(l);
      const q = this.linear(h, L.q!);
      const k = this.linear(h, L.k!);
      const v = this.linear(h, L.v!);
      const ctx: Mat = h.map(() => new Float64Array(H));
      for (let head = 0; head < nh; head++) {
        for (let i = 0; i < h.length; i++) {
          const scores = h.map((_, j) => {
            let s = 0;
            for (let d = 0; d < dh; d++) s += q[i]![head * dh + d]! * k[j]![head * dh + d]!;
            return s / Math.sqrt(dh) + (1 - mask[j]!) * -3.4028234663852886e38;
          });
          const m = Math.max(...scores);
          const e = scores.map((s) => Math.exp(s - m));
          const z = e.reduce((a, b) => a + b, 0);
          for (let j = 0; j < h.length; j++) for (let d = 0; d < dh; d++) ctx[i]![head * dh + d]! += (e[j]! / z) * v[j]![head * dh + d]!;
        }
      }
      const ao = this.linear(ctx, L.ao!);
      const a = this.layerNorm(ao.map((row, i) => row.map((x, j) => x + h[i]![j]!)), L.aln!);
      const ff = this.linear(this.gelu(this.linear(a, L.i!)), L.o!);
      h = this.layerNorm(ff.map((row, i) => row.map((x, j) => x + a[i]![j]!)), L.oln!);
    }
    const pooled = this.w.hasPooler ? this.linear([h[0]!], 'pooler.dense')[0]!.map(Math.tanh) : null;
    let logits: Mat | null = null;
    if (this.w.hasMlmHead) {
      const t = this.layerNorm(this.gelu(this.linear(h, 'cls.predictions.transform.dense')), 'cls.predictions.transform.LayerNorm');
      const dec = this.w.tensors.get('cls.predictions.decoder.weight') ?? this.t('embeddings.word_embeddings.weight');
      const bias = this.t('cls.predictions.bias').data;
      const V = dec.shape[0]!;
      logits = t.map((row) => {
        const out = new Float64Array(V);
        for (let r = 0; r < V; r++) {
          let s = bias[r]!;
          for (let j = 0; j < H; j++) s += dec.data[r * H + j]! * row[j]!;
          out[r] = s;
        }
        return out;
      });
    }
    return { hidden: h, pooled, logits };
  }
}
