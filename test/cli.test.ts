import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { cli, NO_SHARED, ROOT, SAMPLE, SHARED, tmp } from './helpers.ts';

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

test('run accepts every flag of every stage it runs (declared once, in the stage) and passes it through', async () => {
  const { command: run } = await import('../pipeline/run.ts');
  const runFlags = new Map(run.flags.map((f) => [f.name, f]));
  for (const stage of ['ingest', 'graph', 'segment', 'pairs', 'shards', 'verify']) {
    const c = ((await import(`../pipeline/${stage}.ts`)) as { command: import('../src/cli/args.ts').Command }).command;
    for (const f of c.flags) {
      if (f.name === 'out' || f.name === 'shards') continue; // run sets where each stage's output goes
      assert.ok(runFlags.has(f.name), `run lacks ${stage} --${f.name}`);
      assert.equal(runFlags.get(f.name)!.type, f.type, `--${f.name}: same type in run and ${stage}`);
    }
  }
  const out = tmp();
  const db = join(tmp(), 'elsewhere.duckdb');
  const r = await cli(['run', '--out', out, '--db', db, '--keep-lists', '--disambiguation', '--b-segments', 'any', '--whole-word', '--masked-lm-prob', '0.2', '--max-predictions', '9', '--batch', '8', '--samples', '16', '--batch-pages', '7', '--no-index', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const s = JSON.parse(r.stdout);
  assert.equal(s.outputs.db, db);
  assert.equal(s.segment.settings.disambiguation, true);
  assert.equal(s.pairs.b_segments, 'any');
  const manifest = JSON.parse(readFileSync(join(out, 'shards', 'manifest.json'), 'utf8'));
  assert.equal(manifest.settings.whole_word_masking, true);
  assert.equal(manifest.settings.masked_lm_prob, 0.2);
  assert.equal(manifest.settings.max_predictions_per_seq, 9);
  assert.equal(s.verify.samples, 16);
  assert.equal(s.verify.batch, 8);
  const { query } = await import('./helpers.ts');
  const [run1] = await query<{ s: string }>(db, `SELECT settings::VARCHAR AS s FROM runs WHERE stage = 'ingest'`);
  assert.equal(JSON.parse(run1!.s).keep_lists, true);
});

/** Flags of a synopsis (`linkbert X --a N [--b] …`), each with whether it stands outside brackets (required). */
function synopsisFlags(text: string): Map<string, boolean> {
  const flags = new Map<string, boolean>();
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '[') depth++;
    else if (c === ']') depth--;
    else if (c === '-' && text[i + 1] === '-' && /\s|\[|\|/.test(text[i - 1] ?? ' ')) {
      const name = /^--([a-z0-9-]+)/.exec(text.slice(i))![1]!;
      flags.set(name, depth === 0);
      i += name.length + 1;
    }
  }
  return flags;
}

test('each stage: --help, its flags and the README synopsis name the same flags, required ones alike', async () => {
  const readme = readFileSync(join(ROOT, 'docs/stages.md'), 'utf8'); // the stages' manual, where their synopses are
  // the code blocks, fence by fence (a fence may name a language)
  const blocks: string[] = [];
  let open: string[] | null = null;
  for (const line of readme.split('\n')) {
    if (line.startsWith('```')) {
      if (open) blocks.push(open.join('\n'));
      open = open ? null : [];
    } else open?.push(line);
  }
  for (const stage of ['ingest', 'graph', 'segment', 'pairs', 'shards', 'report', 'verify']) {
    const c = ((await import(`../pipeline/${stage}.ts`)) as { command: import('../src/cli/args.ts').Command }).command;
    // the README's synopsis: the line `linkbert STAGE …` and the indented lines after it
    let synopsis = '';
    for (const b of blocks) {
      const lines = b.split('\n');
      const at = lines.findIndex((l) => l.startsWith(`linkbert ${stage} `));
      if (at < 0) continue;
      synopsis = lines[at]!;
      for (let k = at + 1; k < lines.length && /^\s+\[?--/.test(lines[k]!); k++) synopsis += ' ' + lines[k]!;
      break;
    }
    assert.ok(synopsis, `README has a synopsis of ${stage}`);
    const inReadme = synopsisFlags(synopsis.replace(/^linkbert \S+/, ''));
    const help = await cli([stage, '--help']);
    const usage = /^usage: (.*)$/m.exec(help.stdout)![1]!;
    const inUsage = synopsisFlags(usage);
    const declared = new Map(c.flags.map((f) => [f.name, Boolean(f.required)]));
    assert.deepEqual([...inReadme.keys()].sort(), [...declared.keys()].sort(), `${stage}: README synopsis vs declared flags`);
    assert.deepEqual([...inUsage.keys()].sort(), [...declared.keys()].sort(), `${stage}: usage line vs declared flags`);
    for (const [name, required] of declared) {
      assert.equal(inReadme.get(name), required, `${stage} --${name}: required in the README exactly when declared so`);
      assert.equal(inUsage.get(name), required, `${stage} --${name}: required in the usage line exactly when declared so`);
      const f = c.flags.find((x) => x.name === name)!;
      if (f.default !== undefined) assert.equal(required, false, `${stage} --${name} has a default, so it is not required`);
      assert.ok(help.stdout.includes(`--${name}`), `${stage} --help lists --${name}`);
    }
  }
});

test('run reads every --dump given, as ingest does; a flag given twice where its stage takes one value is a usage error', { skip: NO_SHARED }, async () => {
  const d = tmp();
  const pubmed = ['pubmed20n1016.xml.gz', 'pubmed22n1114.xml.gz'].map((f) => join(SHARED, 'pubmed', f));
  const ing = await cli(['ingest', ...pubmed.flatMap((f) => ['--dump', f]), '--db', join(d, 'i.duckdb'), '--json']);
  assert.equal(ing.code, 0, ing.stderr);
  const run = await cli(['run', ...pubmed.flatMap((f) => ['--dump', f]), '--out', join(d, 'run'), '--max-seq-len', '128', '--json']);
  assert.equal(run.code, 0, run.stderr);
  const i = JSON.parse(ing.stdout) as { articles: number; inputs: { file: string }[] };
  const r = (JSON.parse(run.stdout) as { ingest: { articles: number; inputs: { file: string }[] } }).ingest;
  assert.equal(r.articles, i.articles);
  assert.deepEqual(r.inputs.map((x) => x.file), pubmed);
  const last = await cli(['ingest', '--dump', pubmed[1]!, '--db', join(d, 'last.duckdb'), '--json']);
  assert.ok(r.articles > (JSON.parse(last.stdout) as { articles: number }).articles, 'more than the last input alone');
});

test('a flag given twice where it takes one value is refused, naming both values', async () => {
  const r = await cli(['graph', '--db', 'a.duckdb', '--db', 'b.duckdb']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--db is given 2 times \("a\.duckdb", "b\.duckdb"\); it takes one value/);
  const s = await cli(['run', '--seed', '1', '--seed', '2']);
  assert.equal(s.code, 2);
  assert.match(s.stderr, /--seed is given 2 times/);
});

test('run reads every --dump given: the sample and a JSON Lines corpus, both in the database', async () => {
  const d = tmp();
  const jsonl = join(d, 'docs.jsonl');
  writeFileSync(jsonl, ['{"id": "d1", "text": "A first document. It has two sentences.\\n\\nAnd a second paragraph.", "links": ["d2"]}', '{"id": "d2", "text": "The second document links back. It is short.", "links": ["d1"]}'].join('\n') + '\n');
  const run = await cli(['run', '--dump', SAMPLE, '--dump', jsonl, '--out', join(d, 'out'), '--max-seq-len', '128', '--json']);
  assert.equal(run.code, 0, run.stderr);
  const i = (JSON.parse(run.stdout) as { ingest: { articles: number; inputs: { file: string; kind: string }[] } }).ingest;
  assert.deepEqual(i.inputs.map((x) => x.kind), ['wiki', 'jsonl']);
  assert.equal(i.articles, 42 + 2);
});
