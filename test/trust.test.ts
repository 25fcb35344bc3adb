/**
 * What a user's files and data can count on (as a user runs the commands, on real files): a failing
 * input never costs the database that was there, no command replaces a file it did not make, every
 * stage's warnings reach the user, and the messages name what went wrong.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { test } from 'node:test';
import { spawnSync } from 'node:child_process';
import { progressLine, type ProgressState } from '../src/cli/report.ts';
import { ingest } from '../src/ingest/ingest.ts';
import { readProbe } from '../src/verify/probe.ts';
import { cli, query, replicateSample, ROOT, SAMPLE, tmp, userDb } from './helpers.ts';

test('ingest --force with several inputs, one failing: the complete database that was there is kept, every stage of it', async () => {
  const d = tmp();
  const out = join(d, 'tw');
  assert.equal((await cli(['run', '--dump', SAMPLE, '--out', out, '--max-seq-len', '128'])).code, 0);
  const db = join(out, 'linkbert.duckdb');
  const before = await query(db, 'SELECT stage, status FROM runs ORDER BY stage');
  const pairs = await query<{ n: number }>(db, 'SELECT count(*)::INTEGER AS n FROM pairs');
  const empty = join(d, 'empty.xml');
  writeFileSync(empty, '');
  for (const dumps of [[SAMPLE, empty], [empty, SAMPLE]]) {
    const r = await cli(['ingest', ...dumps.flatMap((f) => ['--dump', f]), '--db', db, '--force']);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, new RegExp(`${empty.replaceAll('.', '\\.')}`), 'the failing input is named');
    assert.match(r.stderr, /is left as it was/);
    assert.deepEqual(await query(db, 'SELECT stage, status FROM runs ORDER BY stage'), before);
    assert.deepEqual(await query(db, 'SELECT count(*)::INTEGER AS n FROM pairs'), pairs);
  }
});

test('the errors of PubMed, PMC and JSON Lines inputs say what they are, not "not a MediaWiki XML dump"', async () => {
  const d = tmp();
  const cases: [string, string, RegExp][] = [
    ['bad.jsonl', '{"id": "a", "text": "fine"}\n{"id": "b", "text": \n', /bad\.jsonl.*line 2/],
    ['pubmed.xml', '<?xml version="1.0"?>\n<PubmedArticleSet>\n<PubmedArticle><MedlineCitation><PMID>1</PMID>\n</PubmedArticleSet>\n', /pubmed\.xml.*line 4/],
    ['pmc.xml', '<?xml version="1.0"?>\n<!DOCTYPE article PUBLIC "-//NLM//DTD JATS (Z39.96) Journal Archiving and Interchange DTD v1.2 20190208//EN" "JATS-archivearticle1.dtd">\n<article xmlns:xlink="http://www.w3.org/1999/xlink"><front></article>\n', /pmc\.xml.*line 3/],
  ];
  for (const [name, text, named] of cases) {
    writeFileSync(join(d, name), text);
    const r = await cli(['ingest', '--dump', join(d, name), '--db', join(d, `${name}.duckdb`)]);
    assert.equal(r.code, 1, name);
    assert.match(r.stderr, named, name);
    assert.doesNotMatch(r.stderr, /MediaWiki/, name);
  }
});

test('every command that writes a file refuses to replace one it did not write, naming it and --overwrite; its own files it replaces', async () => {
  const d = tmp();
  const out = join(d, 'run');
  assert.equal((await cli(['run', '--dump', SAMPLE, '--out', out, '--max-seq-len', '128'])).code, 0);
  const db = join(out, 'linkbert.duckdb');
  const user = 'a file of the user’s\n';
  // each command, a file of the user's where it writes, and the flag that lets it replace that file
  const cases: { args: string[]; file: string; flag: string }[] = [
    { args: ['vocab', '--db', db, '--out', join(d, 'v')], file: join(d, 'v/vocab.txt'), flag: '--overwrite' },
    { args: ['vocab', '--db', db, '--out', join(d, 'v2')], file: join(d, 'v2/tokenizer_config.json'), flag: '--overwrite' },
    { args: ['model', 'init', '--out', join(d, 'm'), '--tokenizer', join(out, 'demo-tokenizer')], file: join(d, 'm/config.json'), flag: '--overwrite' },
    { args: ['model', 'init', '--out', join(d, 'm2'), '--tokenizer', join(out, 'demo-tokenizer')], file: join(d, 'm2/model.safetensors'), flag: '--overwrite' },
    { args: ['model', 'build', '--from', join(out, 'tiny-model'), '--out', join(d, 'model.onnx')], file: join(d, 'model.onnx'), flag: '--overwrite' },
    { args: ['report', '--db', db, '--out', join(d, 'report.html')], file: join(d, 'report.html'), flag: '--overwrite' },
    { args: ['run', '--dump', SAMPLE, '--out', join(d, 'r1'), '--max-seq-len', '128'], file: join(d, 'r1/report.html'), flag: '--overwrite' },
    { args: ['run', '--dump', SAMPLE, '--out', join(d, 'r2'), '--max-seq-len', '128'], file: join(d, 'r2/demo-tokenizer/vocab.txt'), flag: '--overwrite' },
    { args: ['run', '--dump', SAMPLE, '--out', join(d, 'r3'), '--max-seq-len', '128'], file: join(d, 'r3/tiny-model/model.safetensors'), flag: '--overwrite' },
    { args: ['shards', '--db', db, '--out', join(d, 's')], file: join(d, 's/notes.txt'), flag: '' },
  ];
  for (const c of cases) {
    mkdirSync(dirname(c.file), { recursive: true });
    writeFileSync(c.file, user);
    const r = await cli(c.args);
    assert.equal(r.code, 1, `${c.args.join(' ')}: ${r.stderr}`);
    assert.ok(r.stderr.includes(c.file) || (r.stderr.includes(dirname(c.file)) && r.stderr.includes(basename(c.file))), `${c.args[0]} names ${c.file}: ${r.stderr}`);
    if (c.flag) assert.ok(r.stderr.includes(c.flag), `${c.args[0]} names ${c.flag}`);
    assert.equal(readFileSync(c.file, 'utf8'), user, `${c.file} is untouched`);
    if (c.args[0] === 'run') assert.ok(!existsSync(join(dirname(c.file).replace(/\/(demo-tokenizer|tiny-model)$/, ''), 'linkbert.duckdb')), 'run refuses before its first stage');
    if (!c.flag) continue;
    const again = await cli([...c.args, c.flag]);
    assert.equal(again.code, 0, `${c.args.join(' ')} ${c.flag}: ${again.stderr}`);
    assert.notEqual(readFileSync(c.file, 'utf8'), user);
    // what it wrote is its own: the same command replaces it without the flag
    const third = await cli(c.args);
    assert.equal(third.code, 0, `${c.args.join(' ')} over its own files: ${third.stderr}`);
  }
  // a file of its own that the user has changed since is the user's now
  writeFileSync(join(d, 'v/vocab.txt'), readFileSync(join(d, 'v/vocab.txt'), 'utf8') + 'myword\n');
  assert.equal((await cli(['vocab', '--db', db, '--out', join(d, 'v')])).code, 1);
  // ingest: a DuckDB file that is not the pipeline's
  const theirs = join(d, 'theirs.duckdb');
  await userDb(theirs, 'CREATE TABLE mine AS SELECT 42 AS answer');
  const i = await cli(['ingest', '--dump', SAMPLE, '--db', theirs]);
  assert.equal(i.code, 1);
  assert.match(i.stderr, /not a linkbert-pipeline database .*--force/);
  assert.deepEqual(await query(theirs, 'SELECT answer FROM mine'), [{ answer: 42 }]);
});

test('books: a link out of the folder and a dangling link are skipped and counted; a link inside it is read', async () => {
  const d = tmp();
  const books = join(d, 'books');
  mkdirSync(join(books, 'sub'), { recursive: true });
  writeFileSync(join(books, 'a.txt'), 'The first book. It has a sentence or two.\n\nAnd a paragraph.\n');
  writeFileSync(join(books, 'sub', 'b-source.txt'), 'A second book, reached through a link. It is short.\n');
  writeFileSync(join(d, 'secret.txt'), 'a file outside the books folder\n');
  symlinkSync(join(books, 'sub', 'b-source.txt'), join(books, 'b.txt'));
  symlinkSync(join(d, 'secret.txt'), join(books, 'passwd.txt'));
  symlinkSync(join(d, 'nowhere.txt'), join(books, 'gone.txt'));
  const db = join(d, 'b.duckdb');
  const r = await cli(['ingest', '--dump', books, '--db', db, '--json']);
  assert.equal(r.code, 0, r.stderr);
  const s = JSON.parse(r.stdout) as { articles: number; skipped: number; skipped_reasons: Record<string, number> };
  assert.equal(s.articles, 2);
  assert.deepEqual(s.skipped_reasons, { 'dangling link': 1, 'link out of the folder': 1 });
  assert.deepEqual(await query(db, 'SELECT title FROM articles ORDER BY seq'), [{ title: 'a' }, { title: 'b' }]);
  assert.deepEqual(await query(db, 'SELECT title, reason FROM skipped ORDER BY seq'), [{ title: 'gone', reason: 'dangling link' }, { title: 'passwd', reason: 'link out of the folder' }]);
  const text = await query<{ t: string }>(db, "SELECT string_agg(text, ' ') AS t FROM articles");
  assert.doesNotMatch(text[0]!.t, /outside the books folder/);
});

test('run shows every stage’s warnings: segment’s [UNK] rate on stderr and in --json', async () => {
  const d = tmp();
  assert.equal((await cli(['run', '--dump', SAMPLE, '--out', join(d, 'a'), '--max-seq-len', '128'])).code, 0);
  // the demo vocabulary without any token holding a capital: an uncased vocabulary on cased text
  const uncased = join(d, 'uncased');
  mkdirSync(uncased);
  writeFileSync(join(uncased, 'vocab.txt'), readFileSync(join(d, 'a/demo-tokenizer/vocab.txt'), 'utf8').split('\n').filter((t) => t && (/^\[[A-Z]+\]$/.test(t) || !/[A-Z]/.test(t))).join('\n') + '\n');
  for (const json of [false, true]) {
    const r = await cli(['run', '--dump', SAMPLE, '--out', join(d, `b${json}`), '--tokenizer', uncased, '--max-seq-len', '128', ...(json ? ['--json'] : [])]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /warning \(segment\): [\d.]+% of the tokens are \[UNK\]/);
    if (json) {
      const w = (JSON.parse(r.stdout) as { warnings: { stage: string; warning: string }[] }).warnings;
      assert.ok(w.some((x) => x.stage === 'segment' && /\[UNK\]/.test(x.warning)), JSON.stringify(w));
    }
  }
});

test('run checks the tokenizer, the model and every --dump before its first stage', async () => {
  const d = tmp();
  const notOnnx = join(d, 'model.onnx');
  writeFileSync(notOnnx, 'not a model\n');
  const cases: [string[], RegExp][] = [
    [['--tokenizer', join(d, 'no-such-tokenizer')], /--tokenizer .*no-such-tokenizer: no such file or folder/],
    [['--model', join(d, 'missing.onnx')], /missing\.onnx: no such model file/],
    [['--model', notOnnx], /model\.onnx: onnxruntime cannot load it/],
    [['--dump', SAMPLE, '--dump', join(d, 'missing.xml')], /--dump .*missing\.xml: no such file or folder/],
  ];
  for (const [args, message] of cases) {
    const out = join(d, 'out');
    const r = await cli(['run', '--out', out, ...args]);
    assert.equal(r.code, 1, args.join(' '));
    assert.match(r.stderr, message);
    assert.ok(!existsSync(join(out, 'linkbert.duckdb')), `${args.join(' ')}: refused before ingest`);
  }
  const i = await cli(['ingest', '--dump', join(d, 'missing.xml'), '--db', join(d, 'x.duckdb')]);
  assert.match(i.stderr, /missing\.xml: no such file or folder/);
  assert.doesNotMatch(i.stderr, /ENOENT/);
});

test('sql takes one statement: several are refused (they printed the first result only), and logging to a file cannot abort it', async () => {
  const d = tmp();
  const out = join(d, 'o');
  assert.equal((await cli(['run', '--dump', SAMPLE, '--out', out, '--max-seq-len', '128'])).code, 0);
  const db = join(out, 'linkbert.duckdb');
  const two = await cli(['sql', '--db', db, '--format', 'csv', 'SELECT 1 AS a; SELECT 2 AS b']);
  assert.equal(two.code, 2);
  assert.match(two.stderr, /one SQL statement at a time: this holds 2/);
  const log = await cli(['sql', '--db', db, "CALL enable_logging(storage='file', storage_path='logs'); SELECT 1"], {});
  assert.equal(log.code, 2, log.stderr);
  assert.ok(!existsSync(join(ROOT, 'logs')), 'no log folder written');
  const one = await cli(['sql', '--db', db, '--format', 'csv', 'SELECT count(*) AS n FROM articles;']);
  assert.equal(one.code, 0, one.stderr);
  assert.equal(one.stdout, 'n\n42\n');
  const bad = await cli(['sql', '--db', db, 'SELEC 1']);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /^linkbert sql: Parser Error: syntax error at or near "SELEC"/);
});

test('the ingest progress line of a single-stream bz2 never reads 100% while pages are still coming', async () => {
  const d = tmp();
  const dump = join(d, 'six.xml.bz2');
  writeFileSync(dump, spawnSync('bzip2', ['-c'], { input: replicateSample(6), maxBuffer: 1 << 28 }).stdout);
  const states: ProgressState[] = [];
  const s = await ingest({ dump, db: join(d, 'x.duckdb'), workers: 1, onProgress: (p) => states.push({ done: p.pages, unit: 'pages', seconds: p.seconds, bytesRead: p.bytesRead, totalBytes: p.totalBytes }) });
  assert.ok(states.length > 1);
  const early = states.filter((p) => p.done < s.pages);
  assert.ok(early.some((p) => p.bytesRead! >= p.totalBytes!), 'the decompressor has read the whole file before the last pages (else this test shows nothing)');
  for (const p of early) assert.doesNotMatch(progressLine('ingest', p), /100%|ETA 0s/, `at page ${p.done} of ${s.pages}`);
  assert.match(progressLine('ingest', early.at(-1)!), /input read/);
});

test('the summary of several inputs keeps its values in one column whatever the length of their paths', async () => {
  const d = tmp();
  const deep = join(d, 'a-folder-with-a-rather-long-name', 'and-another-one-below-it');
  mkdirSync(deep, { recursive: true });
  const jsonl = join(deep, 'documents-with-a-long-file-name.jsonl');
  writeFileSync(jsonl, '{"id": "d1", "text": "A document. It is short.", "links": []}\n');
  const r = await cli(['ingest', '--dump', SAMPLE, '--dump', jsonl, '--db', join(d, 'x.duckdb')]);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.split('\n').filter((l) => /^ {2}\S/.test(l) || /^ {4}\S/.test(l));
  const column = (l: string) => /^\s*\S+(?: \S+)*?\s{2,}/.exec(l)![0].length;
  assert.ok(lines.length > 5);
  for (const l of lines) assert.ok(column(l) <= 24, `the value starts by column 24: ${l}`);
  assert.match(r.stdout, /\n {4}2 +jsonl, 1 page \(seq 57–57\): .*documents-with-a-long-file-name\.jsonl\n/);
});

test('messages a user meets: a misspelled stage, a negative number, more predictions than a row holds, too few samples for the probe', async () => {
  const stage = await cli(['segmnet']);
  assert.equal(stage.code, 2);
  assert.match(stage.stderr, /unknown stage 'segmnet'; did you mean segment\?/);
  const negative = await cli(['shards', '--shard-rows', '-5']);
  assert.equal(negative.code, 2);
  assert.match(negative.stderr, /--shard-rows must be a whole number, ≥ 1, not -5/);
  const d = tmp();
  const out = join(d, 'o');
  const many = await cli(['run', '--out', out, '--max-predictions', '500']);
  assert.equal(many.code, 2);
  assert.match(many.stderr, /--max-predictions 500 is more than a row of --max-seq-len 128 can hold \(125 tokens of A and B\)/);
  assert.ok(!existsSync(join(out, 'linkbert.duckdb')));
  const few = await cli(['run', '--out', out, '--samples', '16']);
  assert.equal(few.code, 0, few.stderr);
  assert.match(few.stdout, /relation probe +not run: too few samples \(16; it needs 30 or more: --samples\)/);
  assert.doesNotMatch(few.stdout, /no per-token hidden states/);
  const shards = await cli(['shards', '--db', join(out, 'linkbert.duckdb'), '--out', join(d, 's'), '--max-predictions', '200']);
  assert.equal(shards.code, 1);
  assert.match(shards.stderr, /--max-predictions 200 is more than a row can hold: the segments were made with max_seq_len 128/);
});

test('the report: link resolutions on a log axis (every bar visible), degree-0 articles said, not dropped; the probe and pairs --help say what the labels are', async () => {
  const d = tmp();
  const out = join(d, 'o');
  assert.equal((await cli(['run', '--dump', SAMPLE, '--out', out, '--max-seq-len', '128'])).code, 0);
  const db = join(out, 'linkbert.duckdb');
  const html = readFileSync(join(out, 'report.html'), 'utf8');
  const [zero] = await query<{ i: number; o: number }>(db, 'SELECT count(*) FILTER (WHERE in_degree = 0)::INTEGER AS i, count(*) FILTER (WHERE out_degree = 0)::INTEGER AS o FROM degrees');
  assert.ok(zero!.i > 0, 'the sample has articles of in-degree 0');
  assert.ok(html.includes(`not shown: ${zero!.i} articles with in-degree 0, ${zero!.o} with out-degree 0`));
  // the bars of "Where the links end": the smallest count is under a tenth of the largest, its bar is not
  const counts = (await query<{ n: number }>(db, 'SELECT count(*)::INTEGER AS n FROM link_resolution GROUP BY resolution ORDER BY n')).map((r) => r.n);
  assert.ok(counts[0]! < counts.at(-1)! / 10, `counts ${counts}: a linear axis would hide the smallest`);
  const svg = [...html.matchAll(/<svg[\s\S]*?<\/svg>/g)][1]![0];
  const widths = [...svg.matchAll(/<g class="mark-rect[^"]*"[^>]*>([\s\S]*?)<\/g>/g)].flatMap((g) => [...g[1]!.matchAll(/d="M[\d.-]+,[\d.-]+h([\d.]+)/g)].map((m) => Number(m[1])));
  assert.equal(widths.length, counts.length);
  assert.ok(Math.min(...widths) > Math.max(...widths) / 10, `bar widths ${widths}`);
  assert.match(svg, /<text[^>]*>[^<]*1,?\d*<\/text>/, 'each bar labelled with its count');
  assert.doesNotMatch(readProbe(0.3, 0.5, 0.52, 0.05), /third/);
  assert.match(readProbe(0.3, 0.5, 0.52, 0.05), /the most common one is 52\.0% of them/);
  const help = await cli(['pairs', '--help']);
  assert.doesNotMatch(help.stdout, /1\/3 each/);
  assert.match(help.stdout, /a third each where A's article links to one with a segment to draw; else contiguous or random, 50\/50/);
});
