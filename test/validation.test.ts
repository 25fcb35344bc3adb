/**
 * The validation split (pairs --validation) and the dataset card: no article on both sides, labels
 * balanced within each split, the same bytes for the same seed, nothing changed at 0; the card's
 * counts are the files'. On the embedded sample (always) and a real dump (where ../shared is).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { pairs } from '../src/pairs/pairs.ts';
import { shards } from '../src/shards/shards.ts';
import type { Manifest } from '../src/shards/manifest.ts';
import { cli, HAVE_SHARED, NO_SHARED, prepare, query, SAMPLE, SHARED, tmp } from './helpers.ts';

const dir = tmp();
const db = await prepare(SAMPLE, dir);

/** Articles that appear (as A or B) in the pairs of both splits. */
async function onBothSides(file: string): Promise<number> {
  const [r] = await query<{ n: number }>(file, `WITH s AS (SELECT a_article AS a, split FROM pairs UNION SELECT b_article, split FROM pairs)
    SELECT count(*)::INTEGER AS n FROM (SELECT a FROM s GROUP BY a HAVING count(DISTINCT split) > 1)`);
  return r!.n;
}

/** Each split's rows in the shards, traced to their pairs: the articles (A and B) of each side, and their split in the database. */
async function shardSides(file: string, out: string): Promise<{ train: Set<number>; validation: Set<number>; mislabelled: number }> {
  const got = await query<{ side: string; a: number; b: number; split: string }>(file, `
    SELECT 'train' AS side, p.a_article AS a, p.b_article AS b, p.split FROM read_parquet('${join(out, 'train-*.parquet')}') r JOIN pairs p ON p.id = r.pair_id
    UNION ALL
    SELECT 'validation', p.a_article, p.b_article, p.split FROM read_parquet('${join(out, 'validation-*.parquet')}') r JOIN pairs p ON p.id = r.pair_id`);
  const sides = { train: new Set<number>(), validation: new Set<number>(), mislabelled: 0 };
  for (const r of got) {
    sides[r.side as 'train' | 'validation'].add(r.a).add(r.b);
    if (r.split !== r.side) sides.mislabelled++;
  }
  return sides;
}

const digest = async (file: string) => (await query<{ d: string }>(file, `SELECT md5(string_agg(p::VARCHAR, ',' ORDER BY id)) AS d FROM (SELECT * EXCLUDE (split) FROM pairs) p`))[0]!.d;
const filesOf = (out: string) => Object.fromEntries(readdirSync(out).sort().map((f) => [f, createHash('sha256').update(readFileSync(join(out, f))).digest('hex')]));

test('--validation 0.25: no article on both sides (in the pairs and in the shards traced back), every row in its split, validation rows written once', async () => {
  const p = await pairs({ db, seed: 7, validation: 0.25, force: true });
  assert.ok(p.splits, 'the summary gives the splits');
  const { train, validation } = p.splits!;
  assert.ok(validation.pairs > 0 && train.pairs > validation.pairs, JSON.stringify(p.splits));
  assert.equal(train.pairs + validation.pairs, p.pairs);
  assert.equal(await onBothSides(db), 0);
  // labels: contiguous and random differ by at most one within each kind of anchor, so by at most two in a split
  for (const s of [train, validation]) assert.ok(Math.abs(s.labels['0'] - s.labels['1']) <= 2, JSON.stringify(s.labels));

  const out = join(dir, 'v-shards');
  const h = await shards({ db, out, seed: 3, shardRows: 20, dupeFactor: 2 });
  const names = readdirSync(out).sort();
  assert.ok(names.includes('validation-00000-of-00001.parquet'), names.join(' '));
  assert.ok(names.filter((f) => f.startsWith('train-')).length >= 2);
  const sides = await shardSides(db, out);
  assert.equal(sides.mislabelled, 0, 'every row is in the split of its pair');
  assert.deepEqual([...sides.train].filter((a) => sides.validation.has(a)), [], 'no article in the rows of both splits');
  const m = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')) as Manifest;
  assert.equal(m.splits.train.rows, 2 * train.pairs, 'train: dupe factor 2');
  assert.equal(m.splits.validation!.rows, validation.pairs, 'validation: each pair once');
  assert.equal(h.rows, m.splits.train.rows + m.splits.validation!.rows);
  assert.deepEqual(m.splits.validation!.labels, validation.labels);
  for (const f of m.shards) assert.equal(f.split, f.file.split('-')[0]);
  assert.equal(m.pairs.validation, 0.25);
});

test('--validation with --unlinked skip: the three labels exactly balanced (±1) within each split', async () => {
  const p = await pairs({ db, seed: 11, validation: 0.3, unlinked: 'skip', force: true });
  for (const s of [p.splits!.train, p.splits!.validation]) {
    const l = Object.values(s.labels);
    assert.ok(Math.max(...l) - Math.min(...l) <= 1, JSON.stringify(s.labels));
  }
  assert.equal(await onBothSides(db), 0);
});

test('the same seed gives the same bytes (pairs, shards, card); --validation 0 gives the instances and shards of a run without it', async () => {
  const files = async (name: string, validation?: number) => {
    await pairs({ db, seed: 5, validation, force: true });
    const out = join(dir, name);
    await shards({ db, out, seed: 9, shardRows: 25 });
    return { pairs: await digest(db), files: filesOf(out) };
  };
  const a = await files('same-a', 0.2);
  const b = await files('same-b', 0.2);
  assert.deepEqual(a, b);
  assert.ok(Object.keys(a.files).some((f) => f.startsWith('validation-')));
  const none = await files('none');
  const zero = await files('zero', 0);
  assert.deepEqual(zero, none);
  assert.ok(!Object.keys(none.files).some((f) => f.startsWith('validation-')), 'no validation file without a validation split');
  assert.notEqual(a.pairs, none.pairs);
});

test('--validation is refused out of range, and when it holds out no anchor', async () => {
  await assert.rejects(pairs({ db, validation: 1, force: true }), /--validation is the share of articles held out, at least 0 and below 1/);
  await assert.rejects(pairs({ db, validation: -0.1, force: true }), /at least 0 and below 1/);
  await assert.rejects(pairs({ db, validation: 1e-6, force: true }), /--validation 0\.000001 held out 0 of \d+ articles with segments, and no anchor among them: hold out a larger share/);
  const r = await cli(['pairs', '--db', db, '--validation', 'lots']);
  assert.equal(r.code, 2);
});

/** The YAML header's split counts and file patterns (the card is written by this project: one line per field). */
function cardSplits(card: string): Record<string, { examples: number; path: string }> {
  const head = card.split('\n---\n')[0]!;
  const out: Record<string, { examples: number; path: string }> = {};
  for (const [, split, path] of head.matchAll(/- split: (\w+)\n\s+path: "([^"]+)"/g)) out[split!] = { examples: -1, path: path! };
  for (const [, split, n] of head.matchAll(/- name: (train|validation)\n\s+num_bytes: \d+\n\s+num_examples: (\d+)/g)) out[split!]!.examples = Number(n);
  return out;
}

test('the dataset card: Hub YAML with both splits whose counts are the files\', the inputs with size and SHA-256, every setting, the licence', async () => {
  await pairs({ db, seed: 5, validation: 0.2, force: true });
  const out = join(dir, 'card');
  await shards({ db, out, seed: 9, shardRows: 25 });
  const card = readFileSync(join(out, 'README.md'), 'utf8');
  const m = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')) as Manifest;
  assert.ok(card.startsWith('---\nlicense: cc-by-sa-4.0\n'), card.slice(0, 80));
  const splits = cardSplits(card);
  for (const s of ['train', 'validation'] as const) {
    const [{ n }] = (await query<{ n: number }>(db, `SELECT count(*)::INTEGER AS n FROM read_parquet('${join(out, `${s}-*.parquet`)}')`)) as [{ n: number }];
    assert.deepEqual(splits[s], { examples: n, path: `${s}-*.parquet` });
    assert.equal(m.splits[s]!.rows, n);
    assert.match(card, new RegExp(`\\| ${s} \\| ${n} \\| ${m.splits[s]!.labels['0']} \\| ${m.splits[s]!.labels['1']} \\| ${m.splits[s]!.labels['2']} \\| ${m.splits[s]!.shards} \\|`));
  }
  assert.match(card, new RegExp(`\\| \`samplewiki\\.xml\` \\| wiki \\| 47,741 \\| \`${m.source.dump_sha256}\` \\|`));
  assert.match(card, /- validation: 0\.2\n/);
  assert.match(card, /- masked_lm_prob: 0\.15\n/);
  assert.match(card, /`tok` \(vocab\.txt, vocabulary of [\d,]+, cased\), SHA-256 `[0-9a-f]{64}`/);
  assert.ok(!card.includes(dir), 'no path of the machine that made it');
  assert.equal(m.card, 'README.md');
});

const PY = ['python3', '/usr/bin/python3'].find((py) => spawnSync(py, ['-c', 'import datasets, yaml'], { stdio: 'ignore' }).status === 0);

test('datasets.load_dataset(SHARDS_DIR) yields train and validation with the card\'s features and counts', { skip: PY ? false : 'no Python with datasets (and yaml): pip install datasets', timeout: 300_000 }, async () => {
  await pairs({ db, seed: 5, validation: 0.2, force: true });
  const out = join(dir, 'hub');
  await shards({ db, out, seed: 9, shardRows: 25 });
  const script = `
import json, sys, yaml, datasets
out = sys.argv[1]
head = yaml.safe_load(open(out + "/README.md").read().split("\\n---\\n")[0][4:])
ds = datasets.load_dataset(out)
print(json.dumps({"splits": {k: len(v) for k, v in ds.items()}, "yaml": {s["name"]: s["num_examples"] for s in head["dataset_info"]["splits"]},
  "label": ds["validation"].features["next_sentence_label"].names, "ids": str(ds["train"].features["input_ids"].feature.dtype),
  "license": head["license"], "first": int(ds["validation"][0]["pair_id"])}))
`;
  const r = spawnSync(PY!, ['-c', script, out], { encoding: 'utf8', env: { ...process.env, HF_DATASETS_CACHE: join(dir, 'hf-cache'), HF_HUB_OFFLINE: '1' } });
  assert.equal(r.status, 0, r.stderr);
  const got = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { splits: Record<string, number>; yaml: Record<string, number>; label: string[]; ids: string; license: string; first: number };
  const m = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')) as Manifest;
  assert.deepEqual(got.splits, { train: m.splits.train.rows, validation: m.splits.validation!.rows });
  assert.deepEqual(got.yaml, got.splits);
  assert.deepEqual(got.label, ['contiguous', 'random', 'linked']);
  assert.equal(got.ids, 'int16');
  assert.equal(got.license, 'cc-by-sa-4.0');
  const [{ split }] = (await query<{ split: string }>(db, `SELECT split FROM pairs WHERE id = ${got.first}`)) as [{ split: string }];
  assert.equal(split, 'validation');
});

test('a real dump: `run --validation 0.1` keeps every article on one side, labels balanced per split, the card\'s counts the files\'', { skip: NO_SHARED, timeout: 600_000 }, async () => {
  if (!HAVE_SHARED) return;
  const d = tmp();
  const out = join(d, 'out');
  const r = await cli(['run', '--dump', join(SHARED, 'dumps/enwiki-10k.xml.bz2'), '--out', out, '--max-seq-len', '128', '--validation', '0.1', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const s = JSON.parse(r.stdout) as { pairs: { splits: { train: { pairs: number; labels: Record<string, number> }; validation: { pairs: number; labels: Record<string, number> } } } };
  const file = join(out, 'linkbert.duckdb');
  assert.equal(await onBothSides(file), 0);
  assert.ok(s.pairs.splits.validation.pairs > 20, JSON.stringify(s.pairs.splits));
  for (const x of Object.values(s.pairs.splits)) assert.ok(Math.abs(x.labels['0']! - x.labels['1']!) <= 2, JSON.stringify(x.labels));
  const sides = await shardSides(file, join(out, 'shards'));
  assert.equal(sides.mislabelled, 0);
  assert.deepEqual([...sides.train].filter((a) => sides.validation.has(a)), []);
  const splits = cardSplits(readFileSync(join(out, 'shards/README.md'), 'utf8'));
  assert.equal(splits.train!.examples, s.pairs.splits.train.pairs);
  assert.equal(splits.validation!.examples, s.pairs.splits.validation.pairs);
});
