/**
 * An ONNX BERT-like model through onnxruntime-node: what it takes and gives, whether it can take the
 * shards' ids and lengths, and batched runs with padding.
 */
import { existsSync } from 'node:fs';
import ort from 'onnxruntime-node';

export interface ModelInfo {
  file: string;
  inputs: string[];
  outputs: { name: string; shape: (number | string)[] }[];
  /** vocabulary size when an output says it (vocabulary logits) */
  logits: string | null;
  vocab_size: number | null;
  /** a per-token output to take [CLS] features from */
  hidden: string | null;
  /** the model takes masked_lm_positions: its logits are [batch, predictions, vocab] */
  gathers: boolean;
}

const KNOWN_INPUTS = new Set(['input_ids', 'attention_mask', 'token_type_ids', 'masked_lm_positions']);

export class OnnxModel {
  private constructor(readonly session: ort.InferenceSession, readonly info: ModelInfo) {}

  static async load(file: string): Promise<OnnxModel> {
    if (!existsSync(file)) throw new Error(`${file}: no such model file`);
    let session: ort.InferenceSession;
    try {
      // fatal only: a failing kernel's message comes back in the error we raise (naming the model and
      // what it could not take); onnxruntime's own copy on stderr would only repeat it, in red
      session = await ort.InferenceSession.create(file, { logSeverityLevel: 4 });
    } catch (e) {
      throw new Error(`${file}: onnxruntime cannot load it (${(e as Error).message.split('\n')[0]})`);
    }
    const meta = (list: readonly unknown[] | undefined, names: readonly string[]) =>
      names.map((name, i) => ({ name, shape: ((list?.[i] as { shape?: (number | string)[] } | undefined)?.shape ?? []) as (number | string)[] }));
    const inputs = [...session.inputNames];
    if (!inputs.includes('input_ids')) throw new Error(`${file}: the model has no input_ids input (it takes ${inputs.join(', ')})`);
    const unknown = inputs.filter((i) => !KNOWN_INPUTS.has(i));
    if (unknown.length) throw new Error(`${file}: the model needs inputs the shards do not give: ${unknown.join(', ')}`);
    const outputs = meta((session as unknown as { outputMetadata?: unknown[] }).outputMetadata, session.outputNames);
    const last = (o: { shape: (number | string)[] }) => o.shape[o.shape.length - 1];
    const logits = outputs.find((o) => o.name === 'logits' && o.shape.length === 3) ?? null;
    const hidden = outputs.find((o) => o.name === 'last_hidden_state') ?? outputs.find((o) => o.shape.length === 3 && o !== logits) ?? null;
    return new OnnxModel(session, {
      file,
      inputs,
      outputs,
      logits: logits?.name ?? null,
      vocab_size: logits && typeof last(logits) === 'number' ? (last(logits) as number) : null,
      hidden: hidden?.name ?? null,
      gathers: inputs.includes('masked_lm_positions'),
    });
  }

  /**
   * Runs a batch (padded with `pad` to the longest row); the wanted outputs by name. A model that
   * gathers (info.gathers) gets each row's `positions`, padded with 0 to the most in the batch
   * (none given: every position).
   */
  async run(rows: { input_ids: number[]; token_type_ids: number[]; positions?: number[] }[], pad: number, wanted: string[]): Promise<Record<string, ort.Tensor>> {
    const n = Math.max(...rows.map((r) => r.input_ids.length));
    const b = rows.length;
    const ids = new BigInt64Array(b * n).fill(BigInt(pad));
    const mask = new BigInt64Array(b * n);
    const types = new BigInt64Array(b * n);
    rows.forEach((r, i) => {
      r.input_ids.forEach((v, j) => {
        ids[i * n + j] = BigInt(v);
        mask[i * n + j] = 1n;
        types[i * n + j] = BigInt(r.token_type_ids[j] ?? 0);
      });
    });
    const feeds: Record<string, ort.Tensor> = { input_ids: new ort.Tensor('int64', ids, [b, n]) };
    if (this.info.inputs.includes('attention_mask')) feeds.attention_mask = new ort.Tensor('int64', mask, [b, n]);
    if (this.info.inputs.includes('token_type_ids')) feeds.token_type_ids = new ort.Tensor('int64', types, [b, n]);
    if (this.info.gathers) {
      const k = Math.max(0, ...rows.map((r) => r.positions?.length ?? 0));
      const at = new BigInt64Array(b * k);
      rows.forEach((r, i) => r.positions?.forEach((p, j) => (at[i * k + j] = BigInt(p))));
      feeds.masked_lm_positions = new ort.Tensor('int64', at, [b, k]);
    }
    // every output: onnxruntime-node mislabels a subset of fetches (asked for logits alone, it
    // names the result after the first output)
    const out = await this.session.run(feeds);
    return Object.fromEntries(wanted.map((w) => [w, out[w]!]));
  }

  /**
   * Refuses, with a clear message, a model whose vocabulary is smaller than the shards' largest id
   * or whose position limit is shorter than their longest sequence: one small run of each.
   */
  async checkFits(maxId: number, maxLen: number, pad: number): Promise<void> {
    const out = [this.session.outputNames[0]!];
    if (this.info.vocab_size !== null && maxId >= this.info.vocab_size) throw new Error(`${this.info.file}: the model's vocabulary has ${this.info.vocab_size} ids, the shards use ids up to ${maxId}: not the tokenizer this model was trained with`);
    try {
      await this.run([{ input_ids: [maxId, maxId], token_type_ids: [0, 0], positions: [0] }], pad, out);
    } catch (e) {
      throw new Error(`${this.info.file}: the model cannot take id ${maxId}, the largest in the shards (its vocabulary is smaller: ${(e as Error).message.split('\n')[0]!.slice(0, 160)})`);
    }
    try {
      await this.run([{ input_ids: new Array<number>(maxLen).fill(pad), token_type_ids: new Array<number>(maxLen).fill(0), positions: [0] }], pad, out);
    } catch (e) {
      throw new Error(`${this.info.file}: the model cannot take ${maxLen} tokens, the longest sequence in the shards (its position limit is shorter: ${(e as Error).message.split('\n')[0]!.slice(0, 160)})`);
    }
  }
}
