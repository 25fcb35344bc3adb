import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { DuckDBInstance } from '@duckdb/node-api';
import { MEMORY_FLAG } from '../src/cli/args.ts';
import { DEFAULT_MEMORY, memoryBytes, outOfMemory, sideBySide } from '../src/db/duckdb.ts';
import { sortedInHalves } from '../src/shards/shards.ts';
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
  // the default budget is 128MB (as --help says), not DuckDB's 80% of the machine
  const again = await cli(['graph', '--db', db, '--force', '--json']);
  assert.ok(Math.abs(memoryBytes((JSON.parse(again.stdout) as { memory_limit: string }).memory_limit) - 128e6) < 1e6);
  assert.equal(MEMORY_FLAG.default, DEFAULT_MEMORY);
});

test('--memory that is not a size is a usage error when the flags are read, before anything runs', async () => {
  for (const bad of ['lots', '12', '10MB']) {
    // ingest of a dump that does not exist: refused for --memory before the input is looked at
    const r = await cli(['ingest', '--dump', '/nonexistent/dump.xml', '--db', db, '--memory', bad]);
    assert.equal(r.code, 2, bad);
    assert.match(r.stderr, new RegExp(`--memory ${bad}: (not a size|at least 64MB)`));
    assert.doesNotMatch(r.stderr, /nonexistent/);
  }
});

test('two jobs side by side under one budget: the one that runs out of memory runs again, alone, after the other', async () => {
  // a real out-of-memory error: a list aggregate cannot spill, and 16MB cannot hold 20M integers
  const instance = await DuckDBInstance.create(':memory:', { memory_limit: '16MB' });
  const conn = await instance.connect();
  const oom = await conn.run('SELECT list(range) FROM range(20000000)').then(() => null, (e: Error) => e);
  assert.ok(oom && outOfMemory(oom), `expected DuckDB to run out of memory, got ${oom?.message}`);
  // the appender words the same failure without DuckDB's "Out of Memory" prefix (seen in shards)
  assert.ok(outOfMemory(new Error('Failed to append: failed to pin block of size 256.0 KiB (122.1 MiB/122.0 MiB used)')));
  // and an appender's commit that finds no block free (seen in shards at 60k pages, 128MB): a real
  // one, from an in-memory table that may not spill
  const small = await DuckDBInstance.create(':memory:', { memory_limit: '16MB', temp_directory: '' });
  const sc = await small.connect();
  await sc.run('CREATE TABLE t (s VARCHAR)');
  const appender = await sc.createAppender('t');
  const appendOom = await (async () => {
    for (let k = 0; k < 100_000; k++) {
      appender.appendVarchar(`${k}`.padEnd(1000, 'x'));
      appender.endRow();
      if (k % 2048 === 0) appender.flushSync();
    }
    appender.closeSync();
  })().then(() => null, (e: Error) => e);
  // the job starts over on the same connection (as shards' plan does when sideBySide runs it again)
  await sc.run('CREATE OR REPLACE TABLE t (s VARCHAR)');
  const again = await sc.createAppender('t');
  for (let k = 0; k < 10; k++) {
    again.appendVarchar(`${k}`);
    again.endRow();
  }
  again.closeSync();
  assert.equal(Number((await sc.runAndReadAll('SELECT count(*) FROM t')).getRows()[0]![0]), 10);
  sc.closeSync();
  small.closeSync();
  assert.ok(appendOom && /could not allocate block/.test(appendOom.message) && outOfMemory(appendOom), `expected the appender to run out of memory, got ${appendOom?.message}`);
  assert.ok(!outOfMemory(new Error('Binder Error: column "x" not found')));

  const log: string[] = [];
  let firstCalls = 0;
  const first = async () => {
    firstCalls++;
    log.push(`first ${firstCalls} starts`);
    if (firstCalls === 1) await conn.run('SELECT list(range) FROM range(20000000)'); // fails
    const r = await conn.runAndReadAll('SELECT 42');
    log.push(`first ${firstCalls} done`);
    return Number(r.getRows()[0]![0]);
  };
  const second = async () => {
    log.push('second starts');
    await new Promise((r) => setTimeout(r, 50));
    log.push('second done');
    return 'ids';
  };
  assert.deepEqual(await sideBySide(first, second), [42, 'ids']);
  assert.equal(firstCalls, 2);
  // the second try began only after the other job had finished
  assert.ok(log.indexOf('first 2 starts') > log.indexOf('second done'), log.join(', '));

  // both out of memory: run again one after the other
  let a = 0;
  let b = 0;
  const order: string[] = [];
  const jobA = async () => {
    if (++a === 1) await conn.run('SELECT list(range) FROM range(20000000)');
    order.push('a');
    return a;
  };
  const jobB = async () => {
    if (++b === 1) await conn.run('SELECT list(range) FROM range(20000000)');
    order.push('b');
    return b;
  };
  assert.deepEqual(await sideBySide(jobA, jobB), [2, 2]);
  assert.deepEqual(order, ['a', 'b']);

  // any other error is the caller's, once both have settled (their connections can then be closed)
  let slowDone = false;
  const failing = async () => {
    await conn.run('SELECT * FROM no_such_table');
  };
  const slow = async () => {
    await new Promise((r) => setTimeout(r, 50));
    slowDone = true;
  };
  await assert.rejects(sideBySide(failing, slow), /no_such_table/);
  assert.ok(slowDone, 'the other job had settled when the error came');
  conn.closeSync();
  instance.closeSync();
});

test('a sorted insert that runs out of memory goes in by halves of its range, in order', async () => {
  // a real out-of-memory error past ~1M rows: a list aggregate cannot spill, and 16MB cannot hold 2M integers
  const instance = await DuckDBInstance.create(':memory:', { memory_limit: '16MB' });
  const conn = await instance.connect();
  await conn.run('CREATE TABLE t (x BIGINT)');
  const ranges: number[][] = [];
  await sortedInHalves(conn, (from, to) => {
    ranges.push([from, to]);
    return `INSERT INTO t SELECT unnest(list(range ORDER BY range)) AS x FROM range(${from}, ${to})`;
  }, 0, 2_000_000, 2048);
  assert.ok(ranges.length > 3, `expected the range to be halved, tried ${JSON.stringify(ranges)}`);
  const got = await conn.runAndReadAll('SELECT count(*)::INTEGER AS n, bool_and(x = r) AS ordered FROM (SELECT x, row_number() OVER () - 1 AS r FROM t)');
  assert.deepEqual(got.getRowObjectsJS(), [{ n: 2_000_000, ordered: true }]);
  // another error is not retried
  await assert.rejects(sortedInHalves(conn, () => 'INSERT INTO t SELECT * FROM no_such_table', 0, 100_000, 2048), /no_such_table/);
  conn.closeSync();
  instance.closeSync();
});
