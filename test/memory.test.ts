import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { memoryBytes } from '../src/db/duckdb.ts';
import { cli, SAMPLE, tmp } from './helpers.ts';

const dir = tmp();
const db = join(dir, 'm.duckdb');

test('--memory sets the DuckDB memory limit of every stage (the one asked for, as DuckDB reads it)', async () => {
  const i = await cli(['ingest', '--dump', SAMPLE, '--db', db, '--memory', '300MB', '--json']);
  assert.equal(i.code, 0, i.stderr);
  const is = JSON.parse(i.stdout) as { memory_limit: string };
  // DuckDB answers in binary units ("286.1 MiB"): the same number of bytes, to its rounding
  assert.ok(Math.abs(memoryBytes(is.memory_limit) - 300e6) < 0.001 * 300e6, is.memory_limit);
  const g = await cli(['graph', '--db', db, '--memory', '2GiB', '--json']);
  assert.equal(g.code, 0, g.stderr);
  assert.equal(memoryBytes((JSON.parse(g.stdout) as { memory_limit: string }).memory_limit), 2 * 2 ** 30);
  // the default budget is 512MB, not DuckDB's 80% of the machine
  const again = await cli(['graph', '--db', db, '--force', '--json']);
  assert.ok(Math.abs(memoryBytes((JSON.parse(again.stdout) as { memory_limit: string }).memory_limit) - 512e6) < 1e6);
});

test('--memory that is not a size is refused before anything runs', async () => {
  for (const bad of ['lots', '12', '10MB']) {
    const r = await cli(['graph', '--db', db, '--memory', bad]);
    assert.equal(r.code, 1, bad);
    assert.match(r.stderr, new RegExp(`--memory ${bad}: (not a size|at least 64MB)`));
  }
});
