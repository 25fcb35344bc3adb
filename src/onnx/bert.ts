/**
 * BERT weights under Hugging Face's parameter names: read from a model folder or the hub
 * (config.json + model.safetensors or pytorch_model.bin), or made at random for tiny test/demo models.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { hubFile, isModelId } from '../tokenize/hub.js';
import { rng } from '../util/rng.js';
import { readSafetensors, safetensorsBytes, type NamedTensor } from './safetensors.js';
import { readTorchBin } from './torchbin.js';

export interface BertConfig {
  vocab_size: number;
  hidden_size: number;
  num_hidden_layers: number;
  num_attention_heads: number;
  intermediate_size: number;
  max_position_embeddings: number;
  type_vocab_size: number;
  layer_norm_eps: number;
  hidden_act: string;
}

export interface BertWeights {
  config: BertConfig;
  /** tensors by HF name without the `bert.` prefix; MLM head under `cls.predictions.…` */
  tensors: Map<string, NamedTensor>;
  hasMlmHead: boolean;
  hasPooler: boolean;
}

const LEGACY: [RegExp, string][] = [
  [/LayerNorm\.gamma$/, 'LayerNorm.weight'],
  [/LayerNorm\.beta$/, 'LayerNorm.bias'],
];

export function normalizeNames(raw: Map<string, NamedTensor>): Map<string, NamedTensor> {
  const out = new Map<string, NamedTensor>();
  for (const [name, t] of raw) {
    let n = name.replace(/^bert\./, '');
    for (const [re, to] of LEGACY) n = n.replace(re, to);
    out.set(n, t);
  }
  return out;
}

export function layerNames(l: number): Record<string, string> {
  const p = `encoder.layer.${l}.`;
  return {
    q: `${p}attention.self.query`,
    k: `${p}attention.self.key`,
    v: `${p}attention.self.value`,
    ao: `${p}attention.output.dense`,
    aln: `${p}attention.output.LayerNorm`,
    i: `${p}intermediate.dense`,
    o: `${p}output.dense`,
    oln: `${p}output.LayerNorm`,
  };
}

function check(config: BertConfig, tensors: Map<string, NamedTensor>, where: string): void {
  if (config.hidden_act !== 'gelu') throw new Error(`${where}: hidden_act ${config.hidden_act} is not supported (gelu only)`);
  if (config.hidden_size % config.num_attention_heads) throw new Error(`${where}: hidden_size is not a multiple of num_attention_heads`);
  const need = ['embeddings.word_embeddings.weight', 'embeddings.position_embeddings.weight', 'embeddings.token_type_embeddings.weight', 'embeddings.LayerNorm.weight', 'embeddings.LayerNorm.bias'];
  for (let l = 0; l < config.num_hidden_layers; l++) for (const n of Object.values(layerNames(l))) need.push(`${n}.weight`, `${n}.bias`);
  const missing = need.filter((n) => !tensors.has(n));
  if (missing.length) throw new Error(`${where}: not a BERT checkpoint: missing ${missing.slice(0, 3).join(', ')}${missing.length > 3 ? ` and ${missing.length - 3} more` : ''}`);
  const [v, h] = tensors.get('embeddings.word_embeddings.weight')!.shape;
  if (v !== config.vocab_size || h !== config.hidden_size) throw new Error(`${where}: word embeddings are ${v}×${h}, config says ${config.vocab_size}×${config.hidden_size}`);
}

export function fromTensors(configJson: Partial<BertConfig>, raw: Map<string, NamedTensor>, where: string): BertWeights {
  const config: BertConfig = { type_vocab_size: 2, layer_norm_eps: 1e-12, hidden_act: 'gelu', ...configJson } as BertConfig;
  const tensors = normalizeNames(raw);
  check(config, tensors, where);
  const hasMlmHead = ['cls.predictions.transform.dense.weight', 'cls.predictions.transform.LayerNorm.weight', 'cls.predictions.bias'].every((n) => tensors.has(n));
  return { config, tensors, hasMlmHead, hasPooler: tensors.has('pooler.dense.weight') };
}

/**
 * A model folder or a hub model id (same cache rules as tokenizers): config.json plus
 * model.safetensors, or pytorch_model.bin (torch.save's zip format) when there is no safetensors file.
 */
export async function loadBert(from: string, opts: { revision?: string } = {}): Promise<BertWeights> {
  let config: string;
  let weights: string;
  if (existsSync(from)) {
    config = join(from, 'config.json');
    if (!existsSync(config)) throw new Error(`${from}: no config.json`);
    weights = [join(from, 'model.safetensors'), join(from, 'pytorch_model.bin')].find((f) => existsSync(f)) ?? '';
    if (!weights) throw new Error(`${from}: neither model.safetensors nor pytorch_model.bin`);
  } else if (isModelId(from)) {
    try {
      config = (await hubFile(from, 'config.json', { revision: opts.revision }))!;
      weights = (await hubFile(from, 'model.safetensors', { revision: opts.revision, optional: true })) ?? (await hubFile(from, 'pytorch_model.bin', { revision: opts.revision }))!;
    } catch (e) {
      // a mistyped folder reads as a hub id too: say first that there is no such folder
      throw new Error(`--from ${from}: no such folder (${resolve(from)}); as a hub model id: ${(e as Error).message}`);
    }
  } else throw new Error(`--from ${from}: no such folder, and not a hub model id`);
  const tensors = weights.endsWith('.bin') ? readTorchBin(weights) : readSafetensors(weights);
  return fromTensors(JSON.parse(readFileSync(config, 'utf8')) as Partial<BertConfig>, tensors, from);
}

/** Random BERT weights (normal, std 0.02; LayerNorm 1/0), seeded: the project's tiny models. */
export function randomBert(config: BertConfig, opts: { seed: number; mlmHead: boolean; pooler?: boolean }): BertWeights {
  const r = rng(opts.seed, 'bert-init');
  const normal = () => {
    const u = Math.max(r(), 1e-12);
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * r());
  };
  const t = new Map<string, NamedTensor>();
  const mat = (name: string, shape: number[], std = 0.02) => t.set(name, { shape, data: Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => normal() * std) });
  const ln = (name: string, h: number) => {
    t.set(`${name}.weight`, { shape: [h], data: new Float32Array(h).fill(1) });
    t.set(`${name}.bias`, { shape: [h], data: new Float32Array(h) });
  };
  const { hidden_size: h, intermediate_size: i } = config;
  mat('embeddings.word_embeddings.weight', [config.vocab_size, h]);
  mat('embeddings.position_embeddings.weight', [config.max_position_embeddings, h]);
  mat('embeddings.token_type_embeddings.weight', [config.type_vocab_size, h]);
  ln('embeddings.LayerNorm', h);
  for (let l = 0; l < config.num_hidden_layers; l++) {
    const n = layerNames(l);
    for (const k of ['q', 'k', 'v', 'ao'] as const) {
      mat(`${n[k]}.weight`, [h, h]);
      mat(`${n[k]}.bias`, [h]);
    }
    mat(`${n.i}.weight`, [i, h]);
    mat(`${n.i}.bias`, [i]);
    mat(`${n.o}.weight`, [h, i]);
    mat(`${n.o}.bias`, [h]);
    ln(n.aln!, h);
    ln(n.oln!, h);
  }
  if (opts.pooler ?? true) {
    mat('pooler.dense.weight', [h, h]);
    mat('pooler.dense.bias', [h]);
  }
  if (opts.mlmHead) {
    mat('cls.predictions.transform.dense.weight', [h, h]);
    mat('cls.predictions.transform.dense.bias', [h]);
    ln('cls.predictions.transform.LayerNorm', h);
    mat('cls.predictions.bias', [config.vocab_size]);
  }
  return { config, tensors: t, hasMlmHead: opts.mlmHead, hasPooler: opts.pooler ?? true };
}

/** Writes config.json + model.safetensors as Hugging Face does (BertForMaskedLM names with a head). */
export function saveBert(dir: string, w: BertWeights, write: (file: string, bytes: string | Uint8Array) => void = writeFileSync): void {
  mkdirSync(dir, { recursive: true });
  const arch = w.hasMlmHead ? 'BertForMaskedLM' : 'BertModel';
  write(join(dir, 'config.json'), JSON.stringify({ architectures: [arch], model_type: 'bert', ...w.config }, null, 2) + '\n');
  const named = new Map<string, NamedTensor>();
  for (const [n, t] of w.tensors) named.set(w.hasMlmHead && !n.startsWith('cls.') ? `bert.${n}` : n, t);
  write(join(dir, 'model.safetensors'), safetensorsBytes(named));
}
