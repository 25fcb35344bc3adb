import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createDeflateRaw, deflateRawSync } from 'node:zlib';
import { test } from 'node:test';
import ort from 'onnxruntime-node';
import { loadBert, randomBert, saveBert, type BertConfig } from '../src/onnx/bert.ts';
import { exportBert } from '../src/onnx/export.ts';
import { ReferenceBert } from '../src/onnx/forward.ts';
import { readSafetensors, writeSafetensors } from '../src/onnx/safetensors.ts';
import { readTorchBin } from '../src/onnx/torchbin.ts';
import { rng, randInt } from '../src/util/rng.ts';
import { cli, ROOT, tmp } from './helpers.ts';

const config: BertConfig = { vocab_size: 97, hidden_size: 24, num_hidden_layers: 2, num_attention_heads: 3, intermediate_size: 48, max_position_embeddings: 40, type_vocab_size: 2, layer_norm_eps: 1e-7, hidden_act: 'gelu' };
const dir = tmp();

test('safetensors: what is written is read back, with HF names; F16 and BF16 are widened', () => {
  const f = join(dir, 'x.safetensors');
  const t = new Map([
    ['a.weight', { shape: [2, 3], data: Float32Array.of(1, 2, 3, 4, 5, 6) }],
    ['b', { shape: [1], data: Float32Array.of(-0.5) }],
  ]);
  writeSafetensors(f, t);
  assert.deepEqual(readSafetensors(f), t);
  // a half-precision file, written by hand: 1.0 (0x3c00) and -2.0 (0xc000); bf16 1.5 (0x3fc0)
  const header = JSON.stringify({ h: { dtype: 'F16', shape: [2], data_offsets: [0, 4] }, g: { dtype: 'BF16', shape: [1], data_offsets: [4, 6] } });
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(header.length));
  const data = Buffer.alloc(6);
  data.writeUInt16LE(0x3c00, 0);
  data.writeUInt16LE(0xc000, 2);
  data.writeUInt16LE(0x3fc0, 4);
  writeFileSync(join(dir, 'h.safetensors'), Buffer.concat([len, Buffer.from(header), data]));
  const h = readSafetensors(join(dir, 'h.safetensors'));
  assert.deepEqual([...h.get('h')!.data], [1, -2]);
  assert.deepEqual([...h.get('g')!.data], [1.5]);
});

test('safetensors from an untrusted file: a tensor outside the file or larger than its bytes is refused, naming file and tensor', () => {
  const write = (name: string, header: unknown, dataBytes: number) => {
    const json = JSON.stringify(header);
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(Buffer.byteLength(json)));
    const f = join(dir, name);
    writeFileSync(f, Buffer.concat([len, Buffer.from(json), Buffer.alloc(dataBytes, 7)]));
    return f;
  };
  // declares 4,000 bytes of F32, stores 16: a reader without checks copies what follows the file
  const big = write('big.safetensors', { w: { dtype: 'F32', shape: [1000], data_offsets: [0, 4000] } }, 16);
  assert.throws(() => readSafetensors(big), /big\.safetensors: tensor w: data_offsets \[0,4000\] are not inside the 16 bytes of data/);
  const lying = write('lying.safetensors', { w: { dtype: 'F32', shape: [1000], data_offsets: [0, 16] } }, 16);
  assert.throws(() => readSafetensors(lying), /lying\.safetensors: tensor w: shape \[1000\] × F32 is 4000 bytes, data_offsets give 16/);
  const negative = write('neg.safetensors', { w: { dtype: 'F32', shape: [-4], data_offsets: [0, 16] } }, 16);
  assert.throws(() => readSafetensors(negative), /neg\.safetensors: tensor w: no valid shape/);
  const ints = write('ints.safetensors', { ids: { dtype: 'I64', shape: [2], data_offsets: [8, 64] } }, 16);
  assert.throws(() => readSafetensors(ints), /ints\.safetensors: tensor ids: data_offsets/);
  writeFileSync(join(dir, 'junk.safetensors'), Buffer.concat([Buffer.from([5, 0, 0, 0, 0, 0, 0, 0]), Buffer.from('{oops')]));
  assert.throws(() => readSafetensors(join(dir, 'junk.safetensors')), /junk\.safetensors: not a safetensors file \(its header is not JSON/);
});

/** A zip of one entry, by hand (local header, central directory, end record); sizes as given. */
function zipOf(name: string, method: 0 | 8, data: Buffer, declared: number): Buffer {
  return zipOfMany([{ name, method, data, declared }]);
}

/** A zip record: its signature, then little-endian fields at their offsets ([offset, value, bytes]). */
function zipRecord(size: number, signature: number, fields: [number, number, 2 | 4][]): Buffer {
  const b = Buffer.alloc(size);
  b.writeUInt32LE(signature, 0);
  for (const [at, v, w] of fields) {
    if (w === 2) b.writeUInt16LE(v, at);
    else b.writeUInt32LE(v, at);
  }
  return b;
}

function zipOfMany(entries: { name: string; method: 0 | 8; data: Buffer; declared: number }[]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let at = 0;
  for (const { name, method, data, declared } of entries) {
    const n = Buffer.from(name);
    const local = zipRecord(30, 0x04034b50, [[8, method, 2], [18, data.length, 4], [22, declared, 4], [26, n.length, 2]]);
    centrals.push(zipRecord(46, 0x02014b50, [[10, method, 2], [20, data.length, 4], [24, declared, 4], [28, n.length, 2], [42, at, 4]]), n);
    locals.push(local, n, data);
    at += local.length + n.length + data.length;
  }
  const cd = Buffer.concat(centrals);
  const end = zipRecord(22, 0x06054b50, [[8, entries.length, 2], [10, entries.length, 2], [12, cd.length, 4], [16, at, 4]]);
  return Buffer.concat([...locals, cd, end]);
}

/** The pickle torch.save writes for a state dict of one float tensor `w` of `numel` elements in storage "0". */
function statePickle(numel: number): Buffer {
  const u = (s: string) => {
    const b = Buffer.alloc(5);
    b[0] = 0x58; // BINUNICODE
    b.writeUInt32LE(Buffer.byteLength(s), 1);
    return Buffer.concat([b, Buffer.from(s)]);
  };
  const g = (m: string, n: string) => Buffer.from(`c${m}\n${n}\n`); // GLOBAL
  const int = (n: number) => Buffer.from([0x4a, n & 0xff, (n >> 8) & 0xff, (n >> 16) & 0xff, (n >>> 24) & 0xff]); // BININT
  return Buffer.concat([
    Buffer.from([0x80, 0x02]), g('collections', 'OrderedDict'), Buffer.from([0x29, 0x52]), // OrderedDict()
    u('w'), g('torch._utils', '_rebuild_tensor_v2'), Buffer.from([0x28]), // key, fn, MARK
    Buffer.from([0x28]), u('storage'), g('torch', 'FloatStorage'), u('0'), u('cpu'), int(numel), Buffer.from([0x74, 0x51]), // persistent id → storage
    int(0), int(numel), Buffer.from([0x85]), int(1), Buffer.from([0x85]), Buffer.from([0x89]), g('collections', 'OrderedDict'), Buffer.from([0x29, 0x52]), // offset, shape, stride, grad, hooks
    Buffer.from([0x74, 0x52, 0x73, 0x2e]), // TUPLE, REDUCE, SETITEM, STOP
  ]);
}

test('pytorch_model.bin from an untrusted file: a deflated entry cannot inflate past what it declares; entries past the end are refused', () => {
  // 64 MB of zeros deflate to ~64 kB; the entry declares 1,000 bytes
  const bomb = join(dir, 'bomb.bin');
  writeFileSync(bomb, zipOf('archive/data.pkl', 8, deflateRawSync(Buffer.alloc(64 << 20)), 1000));
  assert.throws(() => readTorchBin(bomb), /bomb\.bin: zip entry archive\/data\.pkl inflates past the 1000 bytes it declares: refused/);
  const huge = join(dir, 'huge.bin');
  writeFileSync(huge, zipOf('archive/data.pkl', 8, deflateRawSync(Buffer.alloc(10)), 0xfffffff0));
  assert.throws(() => readTorchBin(huge), /huge\.bin: zip entry archive\/data\.pkl declares \d+ bytes, over the 67108864 its contents can need: refused/);
  const short = zipOf('archive/data.pkl', 0, Buffer.from('0123456789'), 10);
  short.writeUInt32LE(5000, 30 + 16 + 10 + 20); // the central directory says 5,000 stored bytes
  writeFileSync(join(dir, 'short.bin'), short);
  assert.throws(() => readTorchBin(join(dir, 'short.bin')), /short\.bin: zip entry archive\/data\.pkl: 5000 bytes declared, the file ends before/);
});

test('model build on a pytorch_model.bin whose pickle is cut short: an error naming the file and what is wrong, no crash', async () => {
  const cases: [string, Buffer][] = [
    ['no-stop', Buffer.from([0x80, 0x02, 0x7d])], // PROTO 2, EMPTY_DICT, and the data ends
    ['cut-operand', Buffer.from([0x80, 0x02, 0x58, 0xff])], // BINUNICODE whose length runs past the end
  ];
  for (const [name, pickle] of cases) {
    const from = join(dir, name);
    mkdirSync(from, { recursive: true });
    writeFileSync(join(from, 'config.json'), JSON.stringify({ architectures: ['BertModel'], model_type: 'bert', ...config }));
    writeFileSync(join(from, 'pytorch_model.bin'), zipOf('archive/data.pkl', 0, pickle, pickle.length));
    const r = await cli(['model', 'build', '--from', from, '--out', join(dir, `${name}.onnx`)]);
    assert.equal(r.code, 1, name);
    assert.match(r.stderr, new RegExp(`${name}/pytorch_model\\.bin: its pickle ends .*cut short, or not a torch\\.save checkpoint`), r.stderr);
    assert.doesNotMatch(r.stderr, /Cannot read properties|RangeError/);
  }
});

test('pytorch_model.bin whose tensor entry inflates to 1 GiB (1 MB on disk): refused before inflating, from the storage size its pickle declares', async () => {
  const ok = join(dir, 'ok.bin');
  const floats = Buffer.alloc(40);
  for (let i = 0; i < 10; i++) floats.writeFloatLE(i / 2, i * 4);
  writeFileSync(ok, zipOfMany([{ name: 'archive/data.pkl', method: 0, data: statePickle(10), declared: 0 }, { name: 'archive/data/0', method: 8, data: deflateRawSync(floats), declared: 40 }]));
  assert.deepEqual([...readTorchBin(ok).get('w')!.data], [0, 0.5, 1, 1.5, 2, 2.5, 3, 3.5, 4, 4.5], 'the hand-made state dict reads');
  const bomb = join(dir, 'gib.bin');
  // 1 GiB of zeros deflated a MiB at a time (never held whole here either)
  const deflate = createDeflateRaw();
  const parts: Buffer[] = [];
  deflate.on('data', (b: Buffer) => parts.push(b));
  const ended = new Promise((r) => deflate.on('end', r));
  const zeros = Buffer.alloc(1 << 20);
  for (let i = 0; i < 1024; i++) if (!deflate.write(zeros)) await new Promise((r) => deflate.once('drain', r));
  deflate.end();
  await ended;
  writeFileSync(bomb, zipOfMany([{ name: 'archive/data.pkl', method: 0, data: statePickle(10), declared: 0 }, { name: 'archive/data/0', method: 8, data: Buffer.concat(parts), declared: 1 << 30 }]));
  const before = process.memoryUsage().rss;
  assert.throws(() => readTorchBin(bomb), /gib\.bin: zip entry archive\/data\/0 declares 1073741824 bytes, over the 40 its contents can need: refused/);
  assert.ok(process.memoryUsage().rss - before < 256 << 20, 'nothing was inflated');
});

test('models built from a checkpoint that transformers made (model.safetensors, and pytorch_model.bin by a real torch.save) give its outputs', async () => {
  // test/fixtures/bert-tiny: made by test/fixtures/make_bert_tiny.py with torch and transformers (versions in reference.json)
  const fixtures = join(ROOT, 'test/fixtures/bert-tiny');
  const ref = JSON.parse(readFileSync(join(fixtures, 'reference.json'), 'utf8')) as { inputs: Record<string, number[][]>; last_hidden_state: number[][][]; logits: number[][][] };
  const [batch, seq] = [ref.inputs.input_ids!.length, ref.inputs.input_ids![0]!.length];
  const int64 = (rows: number[][]) => new ort.Tensor('int64', BigInt64Array.from(rows.flat().map(BigInt)), [batch, seq]);
  for (const kind of ['safetensors', 'torch']) {
    const file = join(dir, `bert-tiny-${kind}.onnx`);
    const r = await cli(['model', 'build', '--from', join(fixtures, kind), '--out', file, '--head', 'mlm']);
    assert.equal(r.code, 0, r.stderr);
    const s = await ort.InferenceSession.create(file, { logSeverityLevel: 3 });
    const out = await s.run({ input_ids: int64(ref.inputs.input_ids!), token_type_ids: int64(ref.inputs.token_type_ids!), attention_mask: int64(ref.inputs.attention_mask!), masked_lm_positions: new ort.Tensor('int64', new BigInt64Array(0), [batch, 0]) });
    for (const name of ['last_hidden_state', 'logits'] as const) {
      const want = ref[name].flat(2);
      const got = out[name]!.data as Float32Array;
      assert.equal(got.length, want.length, `${kind} ${name}`);
      let worst = 0;
      want.forEach((w, i) => (worst = Math.max(worst, Math.abs(w - got[i]!))));
      assert.ok(worst < 1e-4, `${kind} ${name}: largest difference from transformers ${worst}`);
    }
  }
});

test('exactness: the ONNX export agrees with a plain TypeScript forward pass to 1e-4 on random inputs', async () => {
  const w = randomBert(config, { seed: 3, mlmHead: true });
  // make LayerNorm and biases non-trivial so that every parameter matters
  const r = rng(5);
  for (const [n, t] of w.tensors) if (/LayerNorm|bias/.test(n)) for (let i = 0; i < t.data.length; i++) t.data[i] = t.data[i]! + (r() - 0.5) * 0.2;
  const file = join(dir, 'm.onnx');
  writeFileSync(file, exportBert(w, { head: 'mlm' }));
  const s = await ort.InferenceSession.create(file, { logSeverityLevel: 3 });
  assert.deepEqual(s.inputNames, ['input_ids', 'attention_mask', 'token_type_ids', 'masked_lm_positions']);
  assert.deepEqual(s.outputNames, ['last_hidden_state', 'pooler_output', 'logits']);
  const ref = new ReferenceBert(w);
  let worst = 0;
  for (let trial = 0; trial < 6; trial++) {
    const rr = rng(trial, 'inputs');
    const b = 2;
    const n = randInt(rr, 3, 20);
    const seqs = Array.from({ length: b }, (_, k) => {
      const len = k === 0 ? n : randInt(rr, 2, n); // the second row padded
      const ids = Array.from({ length: n }, (_, j) => (j < len ? randInt(rr, 0, config.vocab_size - 1) : 0));
      const mask = Array.from({ length: n }, (_, j) => (j < len ? 1 : 0));
      const cut = randInt(rr, 1, len - 1);
      const types = Array.from({ length: n }, (_, j) => (j >= cut && j < len ? 1 : 0));
      return { ids, mask, types };
    });
    const T = (f: (x: (typeof seqs)[0]) => number[]) => new ort.Tensor('int64', BigInt64Array.from(seqs.flatMap((x) => f(x).map(BigInt))), [b, n]);
    // masked_lm_positions [batch, 0]: logits at every position
    const out = await s.run({ input_ids: T((x) => x.ids), attention_mask: T((x) => x.mask), token_type_ids: T((x) => x.types), masked_lm_positions: new ort.Tensor('int64', new BigInt64Array(0), [b, 0]) });
    seqs.forEach((x, k) => {
      const e = ref.run(x.ids, x.mask, x.types);
      const H = config.hidden_size;
      const V = config.vocab_size;
      x.mask.forEach((m, i) => {
        if (!m) return; // padded positions are not compared
        for (let j = 0; j < H; j++) worst = Math.max(worst, Math.abs(e.hidden[i]![j]! - (out.last_hidden_state!.data as Float32Array)[(k * n + i) * H + j]!));
        for (let j = 0; j < V; j++) worst = Math.max(worst, Math.abs(e.logits![i]![j]! - (out.logits!.data as Float32Array)[(k * n + i) * V + j]!));
      });
      for (let j = 0; j < H; j++) worst = Math.max(worst, Math.abs(e.pooled![j]! - (out.pooler_output!.data as Float32Array)[k * H + j]!));
    });
  }
  assert.ok(worst < 1e-4, `largest difference ${worst}`);
});

test('masked_lm_positions: logits [batch, predictions, vocab] equal the full logits at those positions', async () => {
  const w = randomBert(config, { seed: 4, mlmHead: true });
  const file = join(dir, 'gather.onnx');
  writeFileSync(file, exportBert(w, { head: 'mlm' }));
  const s = await ort.InferenceSession.create(file, { logSeverityLevel: 3 });
  const r = rng(9, 'gather');
  const b = 3;
  const n = 17;
  const k = 4;
  const T = (xs: number[], dims: number[]) => new ort.Tensor('int64', BigInt64Array.from(xs.map(BigInt)), dims);
  const feeds = {
    input_ids: T(Array.from({ length: b * n }, () => randInt(r, 0, config.vocab_size - 1)), [b, n]),
    attention_mask: T(Array.from({ length: b * n }, (_, i) => (i % n < n - (i < n ? 0 : 3) ? 1 : 0)), [b, n]),
    token_type_ids: T(Array.from({ length: b * n }, (_, i) => (i % n >= 8 ? 1 : 0)), [b, n]),
  };
  const full = await s.run({ ...feeds, masked_lm_positions: T([], [b, 0]) });
  assert.deepEqual(full.logits!.dims, [b, n, config.vocab_size]);
  // each row its own positions, in any order, repeats allowed (padding repeats position 0)
  const pos = Array.from({ length: b * k }, () => randInt(r, 0, n - 1));
  const got = await s.run({ ...feeds, masked_lm_positions: T(pos, [b, k]) });
  assert.deepEqual(got.logits!.dims, [b, k, config.vocab_size]);
  const V = config.vocab_size;
  const F = full.logits!.data as Float32Array;
  const G = got.logits!.data as Float32Array;
  let worst = 0;
  for (let i = 0; i < b; i++) for (let j = 0; j < k; j++) for (let v = 0; v < V; v++) worst = Math.max(worst, Math.abs(F[(i * n + pos[i * k + j]!) * V + v]! - G[(i * k + j) * V + v]!));
  assert.ok(worst < 1e-5, `largest difference ${worst}`);
  // the hidden states do not depend on which logits were asked for
  assert.deepEqual(got.last_hidden_state!.data, full.last_hidden_state!.data);
});

test('model build: a folder or a hub id (from the HF cache) → ONNX; refusals say why', async () => {
  const w = randomBert(config, { seed: 1, mlmHead: false });
  const folder = join(dir, 'bert-plain');
  saveBert(folder, w);
  const again = await loadBert(folder);
  assert.equal(again.hasMlmHead, false);
  assert.equal(again.tensors.size, w.tensors.size);
  const out = join(dir, 'plain.onnx');
  const r = await cli(['model', 'build', '--from', folder, '--out', out]);
  assert.equal(r.code, 0, r.stderr);
  const s = await ort.InferenceSession.create(out, { logSeverityLevel: 3 });
  assert.deepEqual(s.outputNames, ['last_hidden_state', 'pooler_output']);
  const noHead = await cli(['model', 'build', '--from', folder, '--out', join(dir, 'x.onnx'), '--head', 'mlm']);
  assert.equal(noHead.code, 1);
  assert.match(noHead.stderr, /no MLM head/);
  // the hub path, offline, through a cache laid out as huggingface_hub lays it out
  const cache = join(dir, 'hf');
  const snap = join(cache, 'models--someorg--tiny-linkbert', 'snapshots', 'c0ffee');
  mkdirSync(snap, { recursive: true });
  mkdirSync(join(cache, 'models--someorg--tiny-linkbert', 'refs'), { recursive: true });
  writeFileSync(join(cache, 'models--someorg--tiny-linkbert', 'refs', 'main'), 'c0ffee');
  cpSync(folder, snap, { recursive: true });
  const hub = await cli(['model', 'build', '--from', 'someorg/tiny-linkbert', '--out', join(dir, 'hub.onnx')], { HF_HUB_CACHE: cache, HF_HUB_OFFLINE: '1' });
  assert.equal(hub.code, 0, hub.stderr);
  const missing = await cli(['model', 'build', '--from', 'michiyasunaga/LinkBERT-large', '--out', join(dir, 'l.onnx'), '--revision', 'refs/pr/1'], { HF_HUB_CACHE: cache, HF_HUB_OFFLINE: '1' });
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /resolve\/refs%2Fpr%2F1\/config\.json/);
  // a checkpoint saved with the bert. prefix (BertForMaskedLM) and a head builds logits
  const mlm = join(dir, 'bert-mlm');
  saveBert(mlm, randomBert(config, { seed: 2, mlmHead: true }));
  assert.equal((await cli(['model', 'build', '--from', mlm, '--out', join(dir, 'mlm.onnx'), '--head', 'mlm'])).code, 0);
  assert.deepEqual((await ort.InferenceSession.create(join(dir, 'mlm.onnx'), { logSeverityLevel: 3 })).outputNames, ['last_hidden_state', 'pooler_output', 'logits']);
});

const HAVE_PYTHON = !spawnSync('python3', ['--version']).error;

test('pytorch_model.bin (torch.save zip, as the Python pickler writes it): same weights, same model', { skip: HAVE_PYTHON ? false : 'python3 is absent: cannot write the torch.save fixture' }, async () => {
  const w = randomBert(config, { seed: 8, mlmHead: true });
  const st = join(dir, 'from-safetensors');
  saveBert(st, w);
  const bin = join(dir, 'from-bin');
  mkdirSync(bin, { recursive: true });
  cpSync(join(st, 'config.json'), join(bin, 'config.json'));
  // float16 biases, a transposed query weight read through its strides, key/value sharing one storage
  execFileSync('python3', [join(ROOT, 'test/fixtures/torch_bin.py'), join(st, 'model.safetensors'), join(bin, 'pytorch_model.bin')]);
  const a = await loadBert(st);
  const b = await loadBert(bin);
  assert.deepEqual([...b.tensors.keys()].sort(), [...a.tensors.keys()].sort());
  for (const [name, t] of a.tensors) {
    const u = b.tensors.get(name)!;
    assert.deepEqual(u.shape, t.shape, name);
    const tol = name.endsWith('.bias') ? 2e-3 : 0;
    t.data.forEach((v, i) => assert.ok(Math.abs(v - u.data[i]!) <= tol * Math.max(1, Math.abs(v)), `${name}[${i}]: ${v} vs ${u.data[i]}`));
  }
  assert.equal((await cli(['model', 'build', '--from', bin, '--out', join(dir, 'bin.onnx'), '--head', 'mlm'])).code, 0);
  const s = await ort.InferenceSession.create(join(dir, 'bin.onnx'), { logSeverityLevel: 3 });
  assert.deepEqual(s.outputNames, ['last_hidden_state', 'pooler_output', 'logits']);
});

test('model build --from a folder that does not exist says so first (it reads as a hub id too)', async () => {
  const r = await cli(['model', 'build', '--from', 'typo-dir', '--out', join(dir, 'x.onnx')], { HF_HUB_OFFLINE: '1' });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /--from typo-dir: no such folder \(.*typo-dir\); as a hub model id: typo-dir: config\.json is not in the cache/);
});
