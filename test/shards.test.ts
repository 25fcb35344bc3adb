import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { appendFileSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { asyncBufferFromFile, parquetMetadataAsync, parquetReadObjects } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';
import { layout, maskTokens, truncatePair } from '../src/mlm/instance.ts';
import { pairs } from '../src/pairs/pairs.ts';
import { shards } from '../src/shards/shards.ts';
import { loadTokenizer } from '../src/tokenize/tokenizer.ts';
import { rng } from '../src/util/rng.ts';
import { cli, prepare, query, SAMPLE, tmp } from './helpers.ts';

type Row = { input_ids: number[]; token_type_ids: number[]; attention_mask: number[]; length: number; masked_lm_positions?: number[]; masked_lm_ids?: number[]; next_sentence_label: number; pair_id: bigint };

/** Every row of every shard in a folder, read with hyparquet (an independent Parquet reader). */
async function readShards(out: string): Promise<{ files: string[]; rows: Row[][] }> {
  const files = readdirSync(out).filter((f) => f.endsWith('.parquet')).sort();
  const rows: Row[][] = [];
  for (const f of files) rows.push((await parquetReadObjects({ file: await asyncBufferFromFile(join(out, f)), compressors })) as Row[]);
  return { files, rows };
}

const dir = tmp();
let db: string;
const special = { cls: 2, sep: 3, mask: 4 };
before(async () => {
  db = await prepare(SAMPLE, dir);
  await pairs({ db, seed: 3, instancesPerSegment: 10 });
});

test('truncation follows BERT: the longer side loses a token at a random end until the pair fits', () => {
  const a = Array.from({ length: 10 }, (_, i) => i);
  const b = Array.from({ length: 4 }, (_, i) => 100 + i);
  const [x, y] = truncatePair(a, b, 9, rng(1));
  assert.deepEqual(y, b);
  assert.equal(x.length, 5);
  assert.ok(a.join(',').includes(x.join(',')), 'a contiguous run of A is kept');
  const ends = new Set<string>();
  for (let s = 0; s < 40; s++) {
    const [t] = truncatePair(a, [], 8, rng(s));
    ends.add(`${t[0]}-${t[t.length - 1]}`);
  }
  assert.ok(ends.size > 1, 'tokens go from both ends');
  const [p, q] = truncatePair([1, 2, 3], [4, 5, 6], 4, rng(2));
  assert.equal(p.length + q.length, 4);
  assert.deepEqual(layout([7, 8], [9], 2, 3), { input_ids: [2, 7, 8, 3, 9, 3], token_type_ids: [0, 0, 0, 0, 1, 1] });
});

test('masking: 15% of non-special tokens, 80% [MASK] / 10% random / 10% kept, whole words when asked', () => {
  const ids = Array.from({ length: 120 }, (_, i) => 10 + (i % 50));
  let masked = 0;
  let asMask = 0;
  let kept = 0;
  let replaced = 0;
  for (let s = 0; s < 400; s++) {
    const x = [special.cls, ...ids, special.sep];
    const { positions, labels } = maskTokens(x, (p) => p === 0 || p === x.length - 1, { maskedLmProb: 0.15, maxPredictions: 100, wholeWord: false, isContinuation: () => false, maskId: 4, replacementIds: Int32Array.from({ length: 90 }, (_, i) => 1000 + i) }, rng(s));
    assert.equal(positions.length, 18); // round(120 × 0.15)
    assert.ok(!positions.includes(0) && !positions.includes(x.length - 1));
    positions.forEach((p, k) => {
      assert.equal(labels[k], ids[p - 1]);
      if (x[p] === 4) asMask++;
      else if (x[p] === labels[k]) kept++;
      else replaced++;
    });
    masked += positions.length;
  }
  assert.ok(Math.abs(asMask / masked - 0.8) < 0.02, `${asMask / masked}`);
  assert.ok(Math.abs(kept / masked - 0.1) < 0.015, `${kept / masked}`);
  assert.ok(Math.abs(replaced / masked - 0.1) < 0.015, `${replaced / masked}`);
  // max_predictions caps; whole words: a word's pieces are masked together
  const capped = [2, ...ids, 3];
  assert.equal(maskTokens(capped, (p) => p === 0 || p === capped.length - 1, { maskedLmProb: 0.15, maxPredictions: 5, wholeWord: false, isContinuation: () => false, maskId: 4, replacementIds: Int32Array.of(1000) }, rng(1)).positions.length, 5);
  for (let s = 0; s < 50; s++) {
    const w = [2, 10, 900, 901, 11, 902, 12, 13, 903, 904, 905, 14, 15, 16, 17, 18, 19, 20, 21, 22, 3]; // 9xx continue a word
    const orig = w.slice();
    const { positions } = maskTokens(w, (p) => p === 0 || p === w.length - 1, { maskedLmProb: 0.3, maxPredictions: 20, wholeWord: true, isContinuation: (id) => id >= 900, maskId: 4, replacementIds: Int32Array.of(1000) }, rng(s));
    const set = new Set(positions);
    for (let p = 1; p < orig.length - 1; p++) {
      if (orig[p]! >= 900 && set.has(p) !== set.has(p - 1)) assert.fail(`word split at ${p} (seed ${s})`);
    }
  }
});

test('shards: equal sizes, shuffled, columns as trainers expect, rows that match their pairs', async () => {
  const out = join(dir, 'static');
  const s = await shards({ db, out, shardRows: 100, seed: 8, dupeFactor: 2 });
  const pairsRows = await query<{ id: number; label: number; a_ids: number[]; b_ids: number[] }>(db, `SELECT p.id, p.label, sa.ids AS a_ids, sb.ids AS b_ids FROM pairs p JOIN segments sa ON sa.article = p.a_article AND sa.idx = p.a_idx JOIN segments sb ON sb.article = p.b_article AND sb.idx = p.b_idx`);
  assert.equal(s.rows, pairsRows.length * 2);
  const { files, rows } = await readShards(out);
  assert.deepEqual(files, s.files.map((f) => f.split('/').pop()).sort());
  assert.equal(files.length, Math.ceil(s.rows / 100));
  const sizes = rows.map((r) => r.length);
  assert.ok(Math.max(...sizes) - Math.min(...sizes) <= 1, `${sizes}`);
  const meta = await parquetMetadataAsync(await asyncBufferFromFile(join(out, files[0]!)));
  const leaves = meta.schema.filter((c) => c.type).map((c) => c.name);
  assert.deepEqual(meta.schema.filter((c) => c.converted_type === 'LIST' || (c.type && !['list', 'element'].includes(c.name))).map((c) => c.name), ['input_ids', 'token_type_ids', 'attention_mask', 'length', 'masked_lm_positions', 'masked_lm_ids', 'next_sentence_label', 'pair_id']);
  // the stored integer widths (in column order): ids int16 for a vocabulary under 32,768, token types
  // and mask int8, length and positions int16, the label int8, the pair id int64
  assert.deepEqual(meta.schema.filter((c) => c.type).map((c) => `${c.type}/${c.converted_type}`), ['INT32/INT_16', 'INT32/INT_8', 'INT32/INT_8', 'INT32/INT_16', 'INT32/INT_16', 'INT32/INT_16', 'INT32/INT_8', 'INT64/INT_64']);
  assert.equal(leaves.length, 8);
  const byId = new Map(pairsRows.map((p) => [p.id, p]));
  const all = rows.flat();
  const seen = new Map<number, number>();
  let maskedTotal = 0;
  let maskTokensSeen = 0;
  for (const r of all) {
    const p = byId.get(Number(r.pair_id))!;
    seen.set(p.id, (seen.get(p.id) ?? 0) + 1);
    assert.equal(r.next_sentence_label, p.label);
    const n = p.a_ids.length + p.b_ids.length + 3;
    assert.equal(r.length, n);
    assert.equal(r.input_ids.length, n);
    assert.deepEqual(r.attention_mask, new Array(n).fill(1));
    assert.equal(r.input_ids[0], special.cls);
    assert.equal(r.input_ids[p.a_ids.length + 1], special.sep);
    assert.equal(r.input_ids[n - 1], special.sep);
    assert.deepEqual(r.token_type_ids, [...new Array(p.a_ids.length + 2).fill(0), ...new Array(p.b_ids.length + 1).fill(1)]);
    // unmasking the row gives back [CLS] A [SEP] B [SEP]
    const restored = r.input_ids.slice();
    r.masked_lm_positions!.forEach((pos, k) => (restored[pos] = r.masked_lm_ids![k]!));
    assert.deepEqual(restored, [special.cls, ...p.a_ids, special.sep, ...p.b_ids, special.sep]);
    assert.equal(r.masked_lm_positions!.length, Math.min(19, Math.max(1, Math.round((n - 3) * 0.15))));
    maskedTotal += r.masked_lm_positions!.length;
    maskTokensSeen += r.masked_lm_positions!.filter((pos) => r.input_ids[pos] === special.mask).length;
  }
  assert.ok([...seen.values()].every((c) => c === 2), 'each pair twice (dupe factor 2)');
  assert.ok(Math.abs(maskTokensSeen / maskedTotal - 0.8) < 0.03, `${maskTokensSeen / maskedTotal}`);
  // the two copies of a pair got different masks
  const copies = all.filter((r) => Number(r.pair_id) === pairsRows[0]!.id);
  assert.notDeepEqual(copies[0]!.masked_lm_positions, copies[1]!.masked_lm_positions);
  // shuffled across the whole dataset: not in pair order, labels mixed in every shard
  assert.notDeepEqual(all.map((r) => Number(r.pair_id)), [...all.map((r) => Number(r.pair_id))].sort((x, y) => x - y));
  for (const shard of rows) assert.equal(new Set(shard.map((r) => r.next_sentence_label)).size, 3);

  const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8'));
  assert.equal(manifest.rows, s.rows);
  assert.deepEqual(manifest.labels, s.labels);
  assert.equal(manifest.settings.dupe_factor, 2);
  assert.equal(manifest.settings.max_seq_len, 128);
  assert.equal(manifest.tokenizer.kind, 'vocab.txt');
  assert.equal(manifest.shards.reduce((a: number, f: { rows: number }) => a + f.rows, 0), s.rows);
  assert.equal(manifest.tokens, all.reduce((a, r) => a + r.length, 0));
  assert.equal(manifest.source.dbname, 'samplewiki');
  // the mix of instances: anchors with a linked B (three relations) and without (two, --unlinked nsp)
  assert.equal(manifest.pairs.unlinked, 'nsp');
  assert.ok(manifest.pairs.labels_by_anchor.linkable['2'] > 0 && 'unlinked' in manifest.pairs.labels_by_anchor);
  // the dump as given to ingest, with its size and SHA-256
  assert.equal(manifest.source.dump, SAMPLE);
  assert.equal(manifest.source.dump_bytes, statSync(SAMPLE).size);
  assert.equal(manifest.source.dump_sha256, createHash('sha256').update(readFileSync(SAMPLE)).digest('hex'));
});

test('same DB + seed → byte-identical shard files; dynamic masking stores unmasked ids', async () => {
  const a = join(dir, 'a');
  const b = join(dir, 'b');
  await shards({ db, out: a, shardRows: 150, seed: 4 });
  await shards({ db, out: b, shardRows: 150, seed: 4, force: true });
  for (const f of readdirSync(a)) assert.ok(readFileSync(join(a, f)).equals(readFileSync(join(b, f))), f);
  assert.equal((await shards({ db, out: b, shardRows: 150, seed: 4 })).already_done, true);
  // the manifest's hashes are the files' own; a shard changed since is written again, not trusted
  const manifest = JSON.parse(readFileSync(join(b, 'manifest.json'), 'utf8')) as { shards: { file: string; sha256: string }[] };
  for (const s of manifest.shards) assert.equal(s.sha256, createHash('sha256').update(readFileSync(join(b, s.file))).digest('hex'), s.file);
  const first = join(b, manifest.shards[0]!.file);
  appendFileSync(first, 'x');
  assert.equal((await shards({ db, out: b, shardRows: 150, seed: 4 })).already_done, false);
  assert.ok(readFileSync(first).equals(readFileSync(join(a, manifest.shards[0]!.file))));
  // the id tables put in row order a range of row groups at a time (as at a small --memory): the same bytes
  const whole = await shards({ db, out: join(dir, 'whole'), shardRows: 1500, seed: 4, dupeFactor: 100, rowGroupRows: 2048 });
  assert.ok(whole.rows > 2 * 2048, `${whole.rows} rows: too few for three ranges`);
  await shards({ db, out: join(dir, 'ranged'), shardRows: 1500, seed: 4, dupeFactor: 100, rowGroupRows: 2048, sortBytes: 300 });
  for (const f of readdirSync(join(dir, 'whole'))) assert.ok(readFileSync(join(dir, 'whole', f)).equals(readFileSync(join(dir, 'ranged', f))), f);
  // and a budget large enough for neither ranges nor the allocator's flush while writing: the same bytes
  await shards({ db, out: join(dir, 'roomy'), shardRows: 1500, seed: 4, dupeFactor: 100, rowGroupRows: 2048, memory: 1e9 });
  for (const f of readdirSync(join(dir, 'whole'))) assert.ok(readFileSync(join(dir, 'whole', f)).equals(readFileSync(join(dir, 'roomy', f))), f);
  // one shard of all those rows: Parquet row groups of exactly 4,096 rows (the last one shorter)
  await shards({ db, out: join(dir, 'groups'), shardRows: 1e6, seed: 4, dupeFactor: 100 });
  const [one] = readdirSync(join(dir, 'groups')).filter((f) => f.endsWith('.parquet'));
  const groups = (await parquetMetadataAsync(await asyncBufferFromFile(join(dir, 'groups', one!)))).row_groups.map((g) => Number(g.num_rows));
  assert.ok(groups.length > 1 && groups.slice(0, -1).every((g) => g === 4096) && groups.at(-1)! <= 4096, `${groups}`);
  assert.equal(groups.reduce((a, b) => a + b), whole.rows);

  const d = join(dir, 'dynamic');
  const s = await shards({ db, out: d, masking: 'dynamic', shardRows: 1000 });
  const { rows } = await readShards(d);
  assert.equal(rows.flat().length, s.rows);
  for (const r of rows.flat()) {
    assert.equal(r.masked_lm_positions, undefined);
    assert.ok(!r.input_ids.includes(special.mask));
  }
  const tok = await loadTokenizer(join(dir, 'tok'));
  const text = await tok.tokenizer.decode(rows[0]![0]!.input_ids, true);
  assert.ok(text.length > 20);
  await assert.rejects(shards({ db, out: d, masking: 'dynamic', dupeFactor: 2 }), /dupe-factor needs static masking/);
});

test('linkbert shards --json and the DuckDB view of the shards', async () => {
  const out = join(dir, 'cli');
  const r = await cli(['shards', '--db', db, '--out', out, '--shard-rows', '200', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const s = JSON.parse(r.stdout);
  for (const k of ['stage', 'rows', 'shards', 'files', 'labels', 'seconds']) assert.ok(k in s, k);
  // DuckDB itself reads them (`linkbert sql` reaches nothing outside its database file)
  const q = await query<{ n: number }>(db, `SELECT next_sentence_label AS label, count(*)::INT AS n FROM read_parquet('${out}/*.parquet') GROUP BY 1 ORDER BY 1`);
  assert.deepEqual(q.map((x) => x.n), [s.labels['0'], s.labels['1'], s.labels['2']]);
});

test('the rows stand in the documented shuffled order: by hash(seed, "order", pair, copy), across all shards', async () => {
  const out = join(dir, 'order');
  const s = await shards({ db, out, shardRows: 250, seed: 21 });
  const { rows } = await readShards(out);
  const ids = rows.flat().map((r) => Number(r.pair_id));
  assert.equal(ids.length, s.rows);
  // the key as DuckDB computes it, for every pair (copy 0: dupe factor 1)
  const keys = new Map(
    (await query<{ id: number; k: string }>(db, `SET VARIABLE seed = 21; SELECT id, hash(getvariable('seed'), 'order', id, 0::BIGINT)::VARCHAR AS k FROM pairs`)).map((r) => [r.id, BigInt(r.k)]),
  );
  assert.equal(keys.size, ids.length);
  assert.ok(ids.every((id) => keys.has(id)));
  let inversions = 0;
  for (let i = 1; i < ids.length; i++) if (keys.get(ids[i]!)! < keys.get(ids[i - 1]!)!) inversions++;
  assert.equal(inversions, 0);
  assert.ok(rows.length > 1, 'several shards');
});

test('shards never deletes what it did not write: foreign files and another dataset in --out are refused; its own are replaced', async () => {
  const out = join(dir, 'own');
  const first = await shards({ db, out, shardRows: 100, seed: 5 });
  // a rerun with other settings replaces its own files, fewer of them this time
  const second = await shards({ db, out, shardRows: 1000, seed: 6 });
  assert.ok(second.shards < first.shards);
  assert.deepEqual(readdirSync(out).sort(), ['README.md', 'manifest.json', ...second.files.map((f) => f.split('/').pop()!)].sort());

  const other = join(dir, 'other-dataset');
  mkdirSync(other);
  writeFileSync(join(other, 'train-00000-of-00001.parquet'), 'not ours');
  writeFileSync(join(other, 'notes.txt'), 'mine');
  writeFileSync(join(other, 'README.md'), '# my notes');
  await assert.rejects(shards({ db, out: other }), /other-dataset holds files that linkbert shards did not write \(README\.md, notes\.txt, train-00000-of-00001\.parquet\); choose an empty or new --out/);
  assert.equal(readFileSync(join(other, 'train-00000-of-00001.parquet'), 'utf8'), 'not ours');
  assert.equal(readFileSync(join(other, 'README.md'), 'utf8'), '# my notes', 'a card is never written over a README of the user');

  // shards of another dump's database, with their manifest
  const foreign = join(dir, 'foreign');
  mkdirSync(foreign);
  const m = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8'));
  writeFileSync(join(foreign, 'manifest.json'), JSON.stringify({ ...m, source: { ...m.source, fingerprint: 'another', dump: 'enwiki.xml.bz2' } }));
  await assert.rejects(shards({ db, out: foreign }), /holds the shards of another dataset \(from enwiki\.xml\.bz2\)/);

  // a run killed while writing: its manifest listed the files first, so the rerun takes them over
  const killed = join(dir, 'killed');
  mkdirSync(killed);
  writeFileSync(join(killed, 'manifest.json'), JSON.stringify({ format: 'linkbert-shards/1', writing: true, source: m.source, shards: [{ file: 'train-00000-of-00003.parquet' }] }));
  writeFileSync(join(killed, 'train-00000-of-00003.parquet'), 'half written');
  const redone = await shards({ db, out: killed, seed: 5 });
  assert.deepEqual(readdirSync(killed).sort(), ['README.md', 'manifest.json', ...redone.files.map((f) => f.split('/').pop()!)].sort());
});

test('shards settings out of range are refused before any work', async () => {
  const out = join(dir, 'never');
  await assert.rejects(shards({ db, out, maskedLmProb: 2 }), /--masked-lm-prob must be between 0 and 1 \(BERT: 0\.15\), not 2/);
  await assert.rejects(shards({ db, out, maskedLmProb: 0 }), /--masked-lm-prob must be between 0 and 1/);
  await assert.rejects(shards({ db, out, maxPredictions: 0 }), /--max-predictions must be a whole number ≥ 1/);
  await assert.rejects(shards({ db, out, seed: -1 }), /--seed must be a whole number ≥ 0/);
  const r = await cli(['shards', '--db', db, '--out', out, '--masked-lm-prob', '2']);
  assert.equal(r.code, 2, 'a usage error');
  assert.match(r.stderr, /--masked-lm-prob must be > 0, < 1, not 2/);
  assert.deepEqual(readdirSync(dir).includes('never'), false);
});

test('rows built in DuckDB equal the reference built in JS: truncation, static masks, whole words', async () => {
  // A copy of the database whose segments are longer than the model takes, so pairs must be cut
  // (the pipeline packs segments to fit; a hand-built or other-tool DB need not).
  const own = tmp();
  const db2 = join(own, 'long.duckdb');
  writeFileSync(db2, readFileSync(db));
  const tok = await loadTokenizer(join(dir, 'tok')); // the one prepare() made
  const vocab = tok.tokenizer.getVocab(true);
  const { DuckDBInstance } = await import('@duckdb/node-api');
  const inst = await DuckDBInstance.create(db2);
  const conn = await inst.connect();
  // every third segment doubled (its ids twice over): about half the pairs go over 125 tokens
  await conn.run(`UPDATE segments SET ids = list_concat(ids, ids), n_tokens = 2 * n_tokens WHERE idx % 3 = 0`);
  conn.closeSync();
  inst.closeSync();
  const specials = new Set([tok.special.cls, tok.special.sep, tok.special.mask, tok.special.pad, tok.special.unk]);
  const replacementIds = Int32Array.from(Object.values(vocab).filter((i) => !specials.has(i) && !/^\[unused\d+\]$/.test(tok.tokenizer.idToToken(i) ?? '')).sort((a, b) => a - b));
  const continuation = new Set(Object.entries(vocab).filter(([t]) => t.startsWith('##')).map(([, i]) => i));
  const pairsRows = await query<{ id: number; a_ids: number[]; b_ids: number[] }>(db2, `SELECT p.id, sa.ids AS a_ids, sb.ids AS b_ids FROM pairs p JOIN segments sa ON sa.article = p.a_article AND sa.idx = p.a_idx JOIN segments sb ON sb.article = p.b_article AND sb.idx = p.b_idx`);
  const byId = new Map(pairsRows.map((p) => [p.id, p]));
  for (const wholeWord of [false, true]) {
    const out = join(own, `ww-${wholeWord}`);
    const s = await shards({ db: db2, out, seed: 5, dupeFactor: 2, wholeWord });
    assert.ok(s.truncated > s.rows / 4, `pairs cut: ${s.truncated} of ${s.rows}`);
    const { rows } = await readShards(out);
    const copies = new Map<number, number>();
    for (const r of rows.flat()) {
      const id = Number(r.pair_id);
      // the copy of this pair is the order its rows come in (rows are in hash order, copy 0 and 1 of a pair both present)
      const p = byId.get(id)!;
      const candidates = [0, 1].map((copy) => {
        const random = rng(5, 'row', id, copy);
        const [a, b] = truncatePair(p.a_ids, p.b_ids, 125, random);
        const { input_ids } = layout(a, b, tok.special.cls, tok.special.sep);
        const sepAt = a.length + 1;
        const m = maskTokens(input_ids, (x) => x === 0 || x === sepAt || x === input_ids.length - 1, { maskedLmProb: 0.15, maxPredictions: 19, wholeWord, isContinuation: (x) => continuation.has(x), maskId: tok.special.mask, replacementIds }, random);
        return { input_ids, positions: m.positions, labels: m.labels, a: a.length, b: b.length };
      });
      const match = candidates.findIndex((c) => JSON.stringify(c.input_ids) === JSON.stringify(r.input_ids) && JSON.stringify(c.positions) === JSON.stringify(r.masked_lm_positions) && JSON.stringify(c.labels) === JSON.stringify(r.masked_lm_ids));
      assert.ok(match >= 0, `pair ${id} (whole words: ${wholeWord}): row differs from the reference`);
      copies.set(id, (copies.get(id) ?? 0) | (1 << match));
      const c = candidates[match]!;
      assert.ok(r.length <= 128);
      assert.deepEqual(r.token_type_ids, [...new Array(c.a + 2).fill(0), ...new Array(c.b + 1).fill(1)]);
    }
    assert.ok([...copies.values()].every((v) => v === 3), 'each pair once per copy');
  }
});
