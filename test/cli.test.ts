import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { cli, ROOT, SAMPLE, tmp } from './helpers.ts';

test('linkbert --help lists the stages; each stage has --help', async () => {
  const r = await cli(['--help']);
  assert.equal(r.code, 0);
  for (const s of ['ingest', 'graph', 'sql', 'tokenize', 'segment', 'pairs', 'shards', 'verify', 'model', 'vocab', 'run']) assert.match(r.stdout, new RegExp(`^  ${s} `, 'm'));
  const h = await cli(['ingest', '--help']);
  assert.equal(h.code, 0);
  for (const f of ['--dump', '--db', '--workers', '--json', '--index']) assert.ok(h.stdout.includes(f), f);
});

test('usage errors exit 2 with the stage help; a missing dump names the file', async () => {
  const r = await cli(['ingest', '--bogus']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /linkbert ingest: unknown flag --bogus\n/);
  assert.match(r.stderr, /usage: linkbert ingest --dump FILE/);
  for (const [args, meant] of [[['ingest', '--dupm', 'x'], 'dump'], [['segment', '--tokeniser', 'x'], 'tokenizer'], [['shards', '--shard_rows', '5'], 'shard-rows'], [['shards', '--maskedlm-prob=0.2'], 'masked-lm-prob']] as const) {
    const t = await cli([...args]);
    assert.equal(t.code, 2, args.join(' '));
    assert.match(t.stderr, new RegExp(`unknown flag ${args[1]!.split('=')[0]}; did you mean --${meant}\\?`), args.join(' '));
  }
  const m = await cli(['ingest', '--dump', '/nonexistent/x.xml', '--db', join(tmp(), 'x.duckdb')]);
  assert.equal(m.code, 1);
  assert.match(m.stderr, /\/nonexistent\/x\.xml/);
  assert.doesNotMatch(m.stderr, /at .*\.ts:\d+/); // no stack trace
});

test('numeric flags out of range are usage errors before any work, naming the flag and the range', async () => {
  const cases: [string[], RegExp][] = [
    [['shards', '--masked-lm-prob', '2'], /--masked-lm-prob must be > 0, < 1, not 2/],
    [['shards', '--dupe-factor', '1.5'], /--dupe-factor must be a whole number, ≥ 1, not 1\.5/],
    [['segment', '--short-seq-prob=-0.1'], /--short-seq-prob must be ≥ 0, ≤ 1, not -0\.1/],
    [['segment', '--max-seq-len', '4'], /--max-seq-len must be a whole number, ≥ 8, not 4/],
    [['ingest', '--workers', '0'], /--workers must be a whole number, ≥ 1, not 0/],
    [['ingest', '--page-timeout', '0'], /--page-timeout must be > 0, not 0/],
    [['pairs', '--seed=-3'], /--seed must be a whole number, ≥ 0, not -3/],
    [['verify', '--samples', '0'], /--samples must be a whole number, ≥ 1, not 0/],
    [['run', '--batch', '0'], /--batch must be a whole number, ≥ 1, not 0/],
  ];
  for (const [args, why] of cases) {
    const r = await cli(args);
    assert.equal(r.code, 2, args.join(' '));
    assert.match(r.stderr, why, args.join(' '));
  }
  const help = await cli(['shards', '--help']);
  assert.match(help.stdout, /--masked-lm-prob N +share of tokens to predict \(default: 0\.15\) \[> 0, < 1\]/);
});

test('the ingest summary names links in prose the clean text leaves out as such', async () => {
  const d = tmp();
  const xml = readFileSync(SAMPLE, 'utf8').replace(/(<title>Greyhaven<\/title>[\s\S]*?)(<\/text>)/, '$1\n\n== See also ==\nThe [[Amber River]] flows nearby.$2');
  writeFileSync(join(d, 'a.xml'), xml);
  const r = await cli(['ingest', '--dump', join(d, 'a.xml'), '--db', join(d, 'a.duckdb')]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /elsewhere +.*prose left out: 1/);
});

test('vocab --json prints one JSON object naming the vocabulary it wrote', async () => {
  const d = tmp();
  const db = join(d, 'v.duckdb');
  assert.equal((await cli(['ingest', '--dump', SAMPLE, '--db', db])).code, 0);
  const r = await cli(['vocab', '--db', db, '--out', join(d, 'tok'), '--size', '500', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const s = JSON.parse(r.stdout);
  assert.equal(s.stage, 'vocab');
  assert.equal(s.vocab, join(d, 'tok', 'vocab.txt'));
  assert.equal(readFileSync(s.vocab, 'utf8').trim().split('\n').length, s.size);
});

test('ingest --json prints exactly one JSON object with the summary keys on stdout', async () => {
  const r = await cli(['ingest', '--dump', SAMPLE, '--db', join(tmp(), 'j.duckdb'), '--json']);
  assert.equal(r.code, 0, r.stderr);
  const s = JSON.parse(r.stdout);
  for (const k of ['stage', 'pages', 'namespaces', 'articles', 'redirects', 'disambiguations', 'links', 'skipped', 'seconds']) assert.ok(k in s, k);
  assert.equal(s.stage, 'ingest');
  assert.deepEqual(s.namespaces, { '0': 50, '1': 1, '4': 1, '6': 1, '10': 2, '14': 2 });
});

test('npm start (linkbert run on the embedded sample) runs every stage and says where the outputs are', async () => {
  const out = tmp();
  const start = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).scripts.start as string;
  const args = start.replace(/^node bin\/linkbert\.js /, '').split(' ');
  const r = await cli([...args, '--out', out]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /pages read\s+57/);
  for (const stage of ['ingest:', 'graph:', 'segment:', 'pairs:', 'shards:', 'verify:']) assert.ok(r.stdout.includes(stage), stage);
  assert.ok(r.stdout.includes(join(out, 'linkbert.duckdb')));
  assert.ok(r.stdout.includes(join(out, 'shards')));
  const j = await cli([...args, '--out', out, '--json']);
  const s = JSON.parse(j.stdout);
  // complete for the same input and settings: not redone
  for (const stage of ['ingest', 'graph', 'segment', 'pairs', 'shards']) assert.equal(s[stage].already_done, true, stage);
  assert.equal(s.ingest.articles, 42);
  assert.equal(s.segment.settings.max_seq_len, 128);
  assert.ok(s.shards.rows > 0);
  assert.equal(s.verify.conformance.ok, true);
  assert.ok(s.verify.mlm && s.verify.probe);
});

test('npm runs in this project without a config warning, and onnxruntime-node never tries to download (allowScripts)', async () => {
  const { spawnSync } = await import('node:child_process');
  const r = spawnSync('npm', ['pkg', 'get', 'name'], { cwd: ROOT, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.doesNotMatch(r.stderr, /Unknown (project|user|env) config/);
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { allowScripts?: Record<string, boolean> };
  assert.equal(pkg.allowScripts?.['onnxruntime-node'], false, 'its install script would fetch binaries from the network');
});
