import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { DuckDBInstance } from '@duckdb/node-api';
import { graph } from '../src/graph/graph.ts';
import { ingest } from '../src/ingest/ingest.ts';
import { namedQueries } from '../src/sql/named.ts';
import { cli, query, SAMPLE, tmp, userDb } from './helpers.ts';

const db = join(tmp(), 'q.duckdb');
before(async () => {
  await ingest({ dump: SAMPLE, db });
  await graph({ db });
});

async function named(name: string, ...params: string[]): Promise<Record<string, unknown>[]> {
  const r = await cli(['sql', '--db', db, '--query', name, ...params.flatMap((p) => ['--param', p]), '--format', 'json']);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout);
}

test('--list names every query file with its description and parameters', async () => {
  const r = await cli(['sql', '--list']);
  assert.equal(r.code, 0);
  const names = namedQueries().map((q) => q.name);
  for (const n of ['top-in-degree', 'top-out-degree', 'orphans', 'dead-ends', 'wanted', 'reciprocal', 'degree-histogram', 'links-of', 'backlinks']) assert.ok(names.includes(n), n);
  assert.equal(r.stdout.trim().split('\n').length, names.length);
  assert.match(r.stdout, /^backlinks\s+The articles that link to one article.*params: title=…$/m);
});

test('degree queries', async () => {
  const top = await named('top-in-degree', 'limit=2');
  assert.deepEqual(top, [
    { title: 'Kestrel Islands', in_degree: 35, out_degree: 17 },
    { title: 'Port Wren', in_degree: 28, out_degree: 10 },
  ]);
  assert.deepEqual((await named('top-out-degree', 'limit=1'))[0], { title: 'Kestrel Islands', out_degree: 17, in_degree: 35 });
  assert.deepEqual((await named('orphans')).map((r) => r.title), ['Kestrel Islands (film)', 'Kestrel pony', 'Wren (disambiguation)']);
  assert.deepEqual(await named('dead-ends'), [{ title: 'Tidal mill', in_degree: 1, text_chars: 286 }]);
  const hist = await named('degree-histogram');
  assert.equal(hist.reduce((s, r) => s + (r.articles_with_in_degree as number), 0), 42);
  assert.equal(hist.reduce((s, r) => s + (r.articles_with_out_degree as number), 0), 42);
  assert.deepEqual(hist.find((r) => r.degree === 35), { degree: 35, articles_with_in_degree: 1, articles_with_out_degree: 0 });
});

test('wanted, reciprocal, links-of, backlinks, redirects-to', async () => {
  assert.deepEqual(await named('wanted'), [
    { target: 'Gull', links: 1, articles: 1 },
    { target: 'Loop A', links: 1, articles: 1 },
    { target: 'Northern Lighthouse Board', links: 1, articles: 1 },
  ]);
  const rec = await named('reciprocal');
  assert.ok(rec.some((r) => r.article_a === 'Amber River' && r.article_b === 'Lake Orla'));
  assert.ok(rec.every((r) => (r.article_a as string) !== (r.article_b as string)));
  // a redirect's title leads to its article; titles are normalised as the wiki does
  const links = await named('links-of', 'title=old_Port');
  assert.equal(links.length, 14);
  assert.deepEqual(links.find((l) => l.anchor === 'history'), { idx: 4, target: 'Port Wren', anchor: 'history', offset: 178, origin: 'text', resolution: 'self', resolves_to: 'Port Wren' });
  const back = await named('backlinks', 'title=Wren Harbour');
  assert.equal(back.length, 28);
  assert.ok(back.some((b) => b.title === 'Tomas Reed') && back.some((b) => b.title === 'Elinor Vance'));
  assert.deepEqual(await named('redirects-to', 'title=Port Wren'), [
    { redirect: 'Wren Harbour', hops: 1 },
    { redirect: 'Old Port', hops: 2 },
  ]);
  // named by one of its redirects (normalised), the same article's redirects
  assert.deepEqual(await named('redirects-to', 'title=old_Port'), await named('redirects-to', 'title=Port Wren'));
});

test('own SQL: csv and table output; a bad query shows DuckDB’s error and exits non-zero', async () => {
  const csv = await cli(['sql', '--db', db, '--format', 'csv', "SELECT title, 'a,b' AS x FROM articles WHERE title = 'Oatcake'"]);
  assert.equal(csv.stdout, 'title,x\nOatcake,"a,b"\n');
  const t = await cli(['sql', '--db', db, '--format', 'table', 'SELECT 7 AS n, NULL::VARCHAR AS v']);
  assert.equal(t.stdout, 'n  v\n─  ────\n7  NULL\n(1 row)\n');
  const bad = await cli(['sql', '--db', db, 'SELECT * FROM no_such_table']);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /Catalog Error: Table with name no_such_table does not exist/);
  const missing = await cli(['sql', '--db', db, '--query', 'backlinks']);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /needs --param title=VALUE/);
});

test('a query that outgrows --memory says so, and how to give it more', async () => {
  // a list aggregate cannot spill: 30M integers do not fit in 64MB
  const r = await cli(['sql', '--db', db, '--memory', '64MB', 'SELECT len(list(range)) AS n FROM range(30000000)']);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /^linkbert sql: Out of Memory Error: .*\nThis step needs more memory than --memory 64MB gives DuckDB: rerun with a larger --memory/);
  assert.doesNotMatch(r.stderr, /SET memory_limit/); // DuckDB's advice to its SQL users is not ours
  const ok = await cli(['sql', '--db', db, '--memory', '1GB', '--format', 'csv', 'SELECT len(list(range)) AS n FROM range(30000000)']);
  assert.equal(ok.code, 0, ok.stderr);
  assert.equal(ok.stdout.trim(), 'n\n30000000');
});

test('inspection is read-only, and a DB held by a writer gets a clear message', async () => {
  const w = await cli(['sql', '--db', db, 'DELETE FROM pages']);
  assert.equal(w.code, 1);
  assert.match(w.stderr, /read-only/i);
  const held = await DuckDBInstance.create(db); // this process now holds the write lock
  try {
    const r = await cli(['sql', '--db', db, 'SELECT 1']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /q\.duckdb is in use by another process/);
    assert.doesNotMatch(r.stderr, /\n\s+at /);
  } finally {
    held.closeSync();
  }
  const ok = await cli(['sql', '--db', db, '--format', 'json', 'SELECT count(*) AS n FROM pages']);
  assert.deepEqual(JSON.parse(ok.stdout), [{ n: 57 }]);
});

test('sql is read-only and reaches nothing outside its database: writes, other files, extensions and settings are refused', async () => {
  const d = tmp();
  const other = join(d, 'other.duckdb');
  await userDb(other, 'CREATE TABLE links AS SELECT 1 AS x');
  const before = readFileSync(db);
  writeFileSync(join(d, 'secret.csv'), 'a,b\n1,2\n');
  const attacks: [string, RegExp][] = [
    [`COPY (SELECT 1) TO '${db}'`, /disabled by configuration/],
    [`COPY (SELECT 1) TO '${join(d, 'out.csv')}'`, /disabled by configuration/],
    [`EXPORT DATABASE '${join(d, 'exp')}'`, /disabled by configuration/],
    [`ATTACH '${other}' AS o (READ_WRITE)`, /disabled by configuration/],
    [`SELECT * FROM read_csv('${join(d, 'secret.csv')}')`, /disabled by configuration/],
    [`SELECT * FROM read_text('${join(d, 'secret.csv')}')`, /disabled by configuration/],
    ['INSTALL httpfs', /disabled by configuration/],
    ['LOAD httpfs', /disabled through configuration/],
    ['SET enable_external_access = true', /configuration has been locked/],
    ["SET memory_limit = '8GB'", /configuration has been locked/],
    ['DROP TABLE links', /read-only/i],
  ];
  for (const [sql, why] of attacks) {
    const r = await cli(['sql', '--db', db, '--format', 'json', sql]);
    assert.equal(r.code, 1, `${sql} must fail`);
    assert.match(r.stderr, why, sql);
  }
  assert.ok(readFileSync(db).equals(before), 'the database file is untouched');
  assert.ok(!existsSync(join(d, 'out.csv')) && !existsSync(join(d, 'exp')), 'nothing written outside it');
  assert.deepEqual(await query(other, 'SELECT count(*)::INT n FROM links'), [{ n: 1 }], 'the other database is untouched');
  const ok = await cli(['sql', '--db', db, '--format', 'json', 'SELECT count(*)::INT AS n FROM links']);
  assert.equal(ok.code, 0, ok.stderr);
});
