import { JSON_FLAG, MEMORY_FLAG, memoryOf, type Command, type ParsedArgs } from '../src/cli/args.js';
import { counts, log, table, withProgress } from '../src/cli/report.js';
import { verify, type VerifyReport } from '../src/verify/verify.js';

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;

export function printVerify(r: VerifyReport): void {
  const c = r.conformance;
  console.log(`verify: ${r.model.file} on ${r.samples} rows of ${r.shards}`);
  const lines: [string, string | number][] = [
    ['model', `inputs ${r.model.inputs.join(', ')}; outputs ${r.model.outputs.map((o) => `${o.name} [${o.shape.join(', ')}]`).join(', ')}`],
    ['conformance', c.ok ? `ok (${c.rows_checked} rows: [CLS]/[SEP] placement, token types, ids, lengths ≤ ${c.max_length})` : `FAILED: ${counts(c.failures)}`],
    ['  [UNK] rate', pct(c.unk_rate)],
  ];
  if (c.roundtrip) lines.push(['  tokenizer round trip', `${c.roundtrip.matched}/${c.roundtrip.checked} rows re-encode to the same ids`]);
  if (r.mlm) {
    const m = r.mlm;
    lines.push(['masked LM', `top-1 ${pct(m.top1)}, top-5 ${pct(m.top5)}, loss ${m.loss.toFixed(3)} over ${m.masked_tokens} masked tokens${m.positions_per_row ? ` (≤ ${m.positions_per_row} per row)` : ""} (masks ${m.masking})`]);
    lines.push(['  unigram baseline', `top-1 ${pct(m.unigram_baseline.top1)}, top-5 ${pct(m.unigram_baseline.top5)}, loss ${m.unigram_baseline.loss.toFixed(3)}`]);
    for (const [l, a] of Object.entries(m.per_label)) lines.push([`  label ${l}`, `top-1 ${pct(a.top1)}, top-5 ${pct(a.top5)}, loss ${a.loss.toFixed(3)} (${a.masked_tokens} tokens)`]);
  } else lines.push(['masked LM', 'not measured (the model outputs no vocabulary logits)']);
  if (r.probe) {
    const p = r.probe;
    lines.push(['relation probe', `accuracy ${pct(p.accuracy)} (${p.folds}-fold, ${p.samples} rows); majority baseline ${pct(p.majority_baseline)}; shuffled-label control ${pct(p.shuffled_control)}`]);
    lines.push(['  per label', counts(Object.fromEntries(Object.entries(p.per_label_accuracy).map(([k, v]) => [k, Math.round(v * 1000) / 10])))]);
    lines.push(['  confusion', p.confusion.map((row) => `[${row.join(' ')}]`).join(' ')]);
    lines.push(['  reading', p.reading]);
  } else lines.push(['relation probe', `not run: ${r.probe_not_run ?? 'no per-token hidden states'}`]);
  lines.push(['throughput', `${r.seq_per_s.toLocaleString('en')} sequences/s`], ['time', `${r.seconds}s`]);
  console.log(table(lines));
  for (const w of r.warnings) log(`warning: ${w}`);
}

/** The verify options the flags give (shared with `run`, which sets model, shards and tokenizer). */
export function verifyOptions(flags: ParsedArgs['flags']) {
  return {
    model: flags.model as string,
    shards: flags.shards as string,
    tokenizer: flags.tokenizer as string | undefined,
    samples: flags.samples as number,
    batch: flags.batch as number,
    mlmPositions: flags['mlm-positions'] as number | undefined,
    seed: flags.seed as number,
    memory: memoryOf(flags),
  };
}

export const command: Command = {
  name: 'verify',
  summary: 'run a BERT ONNX model over shard samples: conformance, masked-LM accuracy, a relation probe',
  flags: [
    { name: 'model', type: 'string', required: true, placeholder: 'FILE', help: 'ONNX model (inputs input_ids, attention_mask, token_type_ids as the model declares)' },
    { name: 'shards', type: 'string', placeholder: 'DIR', default: 'out/shards', help: 'shard folder (with manifest.json) or one .parquet file' },
    { name: 'tokenizer', type: 'string', placeholder: 'X', help: 'also check that decoding and re-encoding reproduces the ids' },
    { name: 'samples', type: 'number', range: { integer: true, min: 1 }, default: 512, help: 'rows to check' },
    { name: 'batch', type: 'number', range: { integer: true, min: 1 }, default: 16, help: 'rows per inference batch' },
    { name: 'mlm-positions', type: 'number', range: { integer: true, min: 1 }, help: "score the masked LM at up to N of each row's masked positions (a seeded subset; default: all)" },
    { name: 'seed', type: 'number', range: { integer: true, min: 0 }, default: 1, help: 'seed for folds, controls and dynamic masks' },
    MEMORY_FLAG,
    JSON_FLAG,
  ],
  async run({ flags }) {
    if (!flags.model) throw new Error('--model FILE.onnx is required');
    const r = await withProgress('verify', 'rows', (tick) => verify({
      ...verifyOptions(flags),
      onProgress: (p) => tick({ done: p.done, seconds: p.seconds, total: p.total }),
    }));
    if (flags.json) console.log(JSON.stringify(r));
    else printVerify(r);
    return r.conformance.ok ? 0 : 1;
  },
};
