import { join } from 'node:path';
import { checkWritable, writeOwned } from '../src/util/own-files.js';
import { OVERWRITE_FLAG, UsageError, type Command } from '../src/cli/args.js';
import { log } from '../src/cli/report.js';
import { loadBert, randomBert, saveBert } from '../src/onnx/bert.js';
import { exportBert } from '../src/onnx/export.js';
import { loadTokenizer } from '../src/tokenize/tokenizer.js';

/** Tiny random BERT weights (HF names, safetensors) sized to a tokenizer: the demo and test models. */
export const tinyModelFiles = (dir: string) => [join(dir, 'config.json'), join(dir, 'model.safetensors')];

export async function initTinyModel(out: string, tokenizer: string, o: { hidden?: number; layers?: number; heads?: number; maxPositions?: number; seed?: number; head?: 'mlm' | 'none'; overwrite?: boolean } = {}): Promise<void> {
  checkWritable(tinyModelFiles(out), { allowed: o.overwrite, flag: '--overwrite' });
  const tok = await loadTokenizer(tokenizer);
  const hidden = o.hidden ?? 32;
  const w = randomBert(
    { vocab_size: tok.identity.vocab_size, hidden_size: hidden, num_hidden_layers: o.layers ?? 2, num_attention_heads: o.heads ?? 4, intermediate_size: hidden * 4, max_position_embeddings: o.maxPositions ?? 512, type_vocab_size: 2, layer_norm_eps: 1e-12, hidden_act: 'gelu' },
    { seed: o.seed ?? 7, mlmHead: (o.head ?? 'mlm') === 'mlm' },
  );
  saveBert(out, w, writeOwned);
}

export async function buildModel(from: string, out: string, head: 'none' | 'mlm', o: { revision?: string; overwrite?: boolean } = {}): Promise<{ vocab: number; hidden: number; layers: number; outputs: string[] }> {
  checkWritable([out], { allowed: o.overwrite, flag: '--overwrite' });
  const w = await loadBert(from, { revision: o.revision });
  writeOwned(out, exportBert(w, { head }));
  return { vocab: w.config.vocab_size, hidden: w.config.hidden_size, layers: w.config.num_hidden_layers, outputs: ['last_hidden_state', ...(w.hasPooler ? ['pooler_output'] : []), ...(head === 'mlm' ? ['logits'] : [])] };
}

export const command: Command = {
  name: 'model',
  summary: 'BERT in ONNX from Hugging Face weights (build), or tiny random weights for demos and tests (init)',
  usage: 'linkbert model build --from DIR|MODEL_ID --out FILE.onnx [--head none|mlm] [--revision REV] [--overwrite]\n       linkbert model init --out DIR --tokenizer X [--hidden 32] [--layers 2] [--heads 4] [--max-positions 512] [--seed S] [--head mlm|none] [--overwrite]',
  positionals: true,
  flags: [
    { name: 'from', type: 'string', placeholder: 'DIR|ID', help: 'build: folder with config.json + model.safetensors (or pytorch_model.bin), or a hub model id' },
    { name: 'out', type: 'string', placeholder: 'PATH', help: 'build: the .onnx file; init: the folder for config.json + model.safetensors' },
    { name: 'head', type: 'string', placeholder: 'none|mlm', help: 'build: add the MLM head (logits) when the weights have one (default none); init: make one (default mlm)' },
    { name: 'revision', type: 'string', placeholder: 'REV', help: 'build: hub revision (default main)' },
    { name: 'tokenizer', type: 'string', placeholder: 'X', help: 'init: the tokenizer whose vocabulary size the model takes' },
    { name: 'hidden', type: 'number', range: { integer: true, min: 1 }, help: 'init: hidden size (default 32)' },
    { name: 'layers', type: 'number', range: { integer: true, min: 1 }, help: 'init: layers (default 2)' },
    { name: 'heads', type: 'number', range: { integer: true, min: 1 }, help: 'init: attention heads (default 4)' },
    { name: 'max-positions', type: 'number', range: { integer: true, min: 8 }, help: 'init: position embeddings (default 512)' },
    { name: 'seed', type: 'number', range: { integer: true, min: 0 }, help: 'init: random seed (default 7)' },
    OVERWRITE_FLAG,
  ],
  async run({ flags, positionals }) {
    const [action] = positionals;
    if (action === 'build') {
      if (!flags.from || !flags.out) throw new UsageError('model build needs --from and --out');
      const head = (flags.head as string | undefined) ?? 'none';
      if (head !== 'none' && head !== 'mlm') throw new UsageError('--head must be none or mlm');
      const r = await buildModel(flags.from as string, flags.out as string, head, { revision: flags.revision as string | undefined, overwrite: Boolean(flags.overwrite) });
      log(`model build: ${flags.from} → ${flags.out} (vocab ${r.vocab}, hidden ${r.hidden}, ${r.layers} layers; outputs ${r.outputs.join(', ')})`);
      return 0;
    }
    if (action === 'init') {
      if (!flags.out || !flags.tokenizer) throw new UsageError('model init needs --out and --tokenizer');
      const head = (flags.head as string | undefined) ?? 'mlm';
      if (head !== 'none' && head !== 'mlm') throw new UsageError('--head must be none or mlm');
      await initTinyModel(flags.out as string, flags.tokenizer as string, { hidden: flags.hidden as number | undefined, layers: flags.layers as number | undefined, heads: flags.heads as number | undefined, maxPositions: flags['max-positions'] as number | undefined, seed: flags.seed as number | undefined, head, overwrite: Boolean(flags.overwrite) });
      log(`model init: random tiny BERT (HF names, safetensors) → ${flags.out}`);
      return 0;
    }
    throw new UsageError(`model needs an action: build or init${action ? `, not '${action}'` : ''}`);
  },
};
