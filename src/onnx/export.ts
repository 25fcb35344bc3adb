/**
 * A BERT ONNX graph from Hugging Face weights, with optimum's input and output names: inputs
 * input_ids, attention_mask, token_type_ids (int64, dynamic batch and sequence); outputs
 * last_hidden_state, pooler_output (when the weights have a pooler) and logits (with an MLM head,
 * which also takes masked_lm_positions: logits only at those positions, or all with [batch, 0]).
 * Opset 17 (LayerNormalization); attention with the additive mask (1 − mask) × float32 min, exact GELU.
 */
import type { BertWeights } from './bert.js';
import { layerNames } from './bert.js';
import { DataType, encodeModel, type Node, type Tensor } from './proto.js';

export const MASK_MIN = -3.4028234663852886e38;
/** The MLM head's input: positions to compute vocabulary logits at ([batch, 0]: every position). */
export const MASKED_LM_POSITIONS = 'masked_lm_positions';

export function exportBert(w: BertWeights, opts: { head: 'none' | 'mlm' }): Uint8Array {
  if (opts.head === 'mlm' && !w.hasMlmHead) throw new Error('--head mlm: these weights have no MLM head (cls.predictions.*); the released LinkBERT checkpoints do not');
  const c = w.config;
  const nodes: Node[] = [];
  const inits: Tensor[] = [];
  let n = 0;
  const node = (op: string, inputs: string[], attributes?: Node['attributes'], out?: string): string => {
    const o = out ?? `${op.toLowerCase()}_${n}`;
    nodes.push({ op, inputs, outputs: [o], name: `${op}_${n++}`, attributes });
    return o;
  };
  const f32 = (name: string, dims: number[], data: Float32Array) => {
    inits.push({ name, dims, type: DataType.FLOAT, data });
    return name;
  };
  const i64 = (name: string, values: number[], dims = [values.length]) => {
    inits.push({ name, dims, type: DataType.INT64, data: BigInt64Array.from(values.map(BigInt)) });
    return name;
  };
  const weight = (name: string) => {
    const t = w.tensors.get(name);
    if (!t) throw new Error(`missing tensor ${name}`);
    return f32(name, t.shape, t.data);
  };
  // HF Linear weights are [out, in]; MatMul wants [in, out]
  const linear = (x: string, name: string) => {
    const t = w.tensors.get(`${name}.weight`)!;
    const [o, i] = t.shape as [number, number];
    const tr = new Float32Array(o * i);
    for (let r = 0; r < o; r++) for (let k = 0; k < i; k++) tr[k * o + r] = t.data[r * i + k]!;
    return node('Add', [node('MatMul', [x, f32(`${name}.weight.T`, [i, o], tr)]), weight(`${name}.bias`)]);
  };
  const layerNorm = (x: string, name: string) => node('LayerNormalization', [x, weight(`${name}.weight`), weight(`${name}.bias`)], [{ name: 'axis', i: -1 }, { name: 'epsilon', f: c.layer_norm_eps }]);
  const scalar = (name: string, v: number) => f32(name, [], Float32Array.of(v));
  const gelu = (x: string) => node('Mul', [node('Mul', [x, scalar(`half_${n}`, 0.5)]), node('Add', [scalar(`one_${n}`, 1), node('Erf', [node('Div', [x, scalar(`sqrt2_${n}`, Math.SQRT2)])])])]);

  // embeddings
  const words = node('Gather', [weight('embeddings.word_embeddings.weight'), 'input_ids']);
  const seqLen = node('Gather', [node('Shape', ['input_ids']), i64('one_i', [1], [])], [{ name: 'axis', i: 0 }]);
  const positions = node('Range', [i64('zero_i', [0], []), seqLen, 'one_i']);
  const pos = node('Gather', [weight('embeddings.position_embeddings.weight'), positions]);
  const types = node('Gather', [weight('embeddings.token_type_embeddings.weight'), 'token_type_ids']);
  let h = layerNorm(node('Add', [node('Add', [words, pos]), types]), 'embeddings.LayerNorm');

  // additive mask [batch, 1, 1, seq]
  const keep = node('Cast', ['attention_mask'], [{ name: 'to', i: DataType.FLOAT }]);
  const mask = node('Unsqueeze', [node('Mul', [node('Sub', [scalar('one_f', 1), keep]), scalar('mask_min', MASK_MIN)]), i64('axes_12', [1, 2])]);
  const heads = c.num_attention_heads;
  const dh = c.hidden_size / heads;
  const splitShape = i64('split_heads', [0, 0, heads, dh]);
  const mergeShape = i64('merge_heads', [0, 0, c.hidden_size]);
  const scale = scalar('attention_scale', 1 / Math.sqrt(dh));
  for (let l = 0; l < c.num_hidden_layers; l++) {
    const L = layerNames(l);
    const split = (x: string, perm: number[]) => node('Transpose', [node('Reshape', [x, splitShape])], [{ name: 'perm', ints: perm }]);
    const q = split(linear(h, L.q!), [0, 2, 1, 3]);
    const k = split(linear(h, L.k!), [0, 2, 3, 1]);
    const v = split(linear(h, L.v!), [0, 2, 1, 3]);
    const probs = node('Softmax', [node('Add', [node('Mul', [node('MatMul', [q, k]), scale]), mask])], [{ name: 'axis', i: -1 }]);
    const ctx = node('Reshape', [node('Transpose', [node('MatMul', [probs, v])], [{ name: 'perm', ints: [0, 2, 1, 3] }]), mergeShape]);
    const a = layerNorm(node('Add', [linear(ctx, L.ao!), h]), L.aln!);
    const ff = linear(gelu(linear(a, L.i!)), L.o!);
    h = layerNorm(node('Add', [ff, a]), L.oln!);
  }
  nodes[nodes.length - 1]!.outputs = ['last_hidden_state'];
  h = 'last_hidden_state';
  const outputs = [{ name: 'last_hidden_state', type: DataType.FLOAT, shape: ['batch_size', 'sequence_length', c.hidden_size] as (number | string)[] }];
  if (w.hasPooler) {
    const cls = node('Gather', [h, 'zero_i'], [{ name: 'axis', i: 1 }]);
    node('Tanh', [linear(cls, 'pooler.dense')], undefined, 'pooler_output');
    outputs.push({ name: 'pooler_output', type: DataType.FLOAT, shape: ['batch_size', c.hidden_size] });
  }
  if (opts.head === 'mlm') {
    const t = layerNorm(gelu(linear(h, 'cls.predictions.transform.dense')), 'cls.predictions.transform.LayerNorm');
    // the decoder is tied to the word embeddings unless the checkpoint has its own
    const dec = w.tensors.get('cls.predictions.decoder.weight') ?? w.tensors.get('embeddings.word_embeddings.weight')!;
    const [vocab, hid] = dec.shape as [number, number];
    const tr = new Float32Array(vocab * hid);
    for (let r = 0; r < vocab; r++) for (let k = 0; k < hid; k++) tr[k * vocab + r] = dec.data[r * hid + k]!;
    // masked_lm_positions [batch, predictions]: the head runs at those positions only, as BERT's
    // pretraining graph gathers them, and logits are [batch, predictions, vocab]; an empty one
    // ([batch, 0]) asks for every position. (A graph input with a default initializer would be
    // optional, but onnxruntime-node neither lists nor feeds such inputs.)
    const none = node('Equal', [node('Size', [MASKED_LM_POSITIONS]), 'zero_i']);
    const branch = (name: string, nodes: Node[], out: string) => ({
      name,
      nodes,
      initializers: [],
      inputs: [],
      outputs: [{ name: out, type: DataType.FLOAT, shape: ['batch_size', 'positions', hid] }],
    });
    const gathered = branch('gathered', [
      { op: 'Unsqueeze', inputs: [MASKED_LM_POSITIONS, 'minus_one_i'], outputs: ['mlm_index'], name: 'mlm_index' },
      { op: 'GatherND', inputs: [t, 'mlm_index'], outputs: ['mlm_gathered'], name: 'mlm_gather', attributes: [{ name: 'batch_dims', i: 1 }] },
    ], 'mlm_gathered');
    const every = branch('every', [{ op: 'Identity', inputs: [t], outputs: ['mlm_every'], name: 'mlm_every' }], 'mlm_every');
    i64('minus_one_i', [-1]);
    const at = node('If', [none], [{ name: 'then_branch', g: every }, { name: 'else_branch', g: gathered }]);
    node('Add', [node('MatMul', [at, f32('cls.predictions.decoder.weight.T', [hid, vocab], tr)]), weight('cls.predictions.bias')], undefined, 'logits');
    outputs.push({ name: 'logits', type: DataType.FLOAT, shape: ['batch_size', 'positions', vocab] });
  }
  const int = (name: string, len = 'sequence_length') => ({ name, type: DataType.INT64, shape: ['batch_size', len] as (number | string)[] });
  const inputs = [int('input_ids'), int('attention_mask'), int('token_type_ids')];
  if (opts.head === 'mlm') inputs.push(int(MASKED_LM_POSITIONS, 'predictions'));
  return encodeModel(
    { name: 'bert', nodes, initializers: inits, inputs, outputs },
    { opset: 17, producer: 'linkbert-pipeline', metadata: { vocab_size: String(c.vocab_size), max_position_embeddings: String(c.max_position_embeddings), hidden_size: String(c.hidden_size), ...(opts.head === 'mlm' ? { masked_lm_positions: 'logits at these positions only; [batch, 0] for every position' } : {}) } },
  );
}
