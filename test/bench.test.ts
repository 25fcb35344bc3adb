import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { NO_SHARED, ROOT, SHARED, tmp } from './helpers.ts';

test('a bench dump is built with its progress shown, under a temporary name until complete', { skip: NO_SHARED }, () => {
  const dir = tmp();
  const dump = join(dir, 'bench-40.xml.bz2');
  const tool = join(SHARED, '..', 'tools', 'make-bench-dump');
  const r = spawnSync(process.execPath, ['--import', 'tsx', '-e', `import('./bench/dump.ts').then((m) => m.benchDump(${JSON.stringify(tool)}, 40, ${JSON.stringify(dump)}))`], { cwd: ROOT, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /making bench-40\.xml\.bz2 \(make-bench-dump --pages 40; cached for later runs\): \d+ of ~\d+ MB \(\d+%\), \d+ s/);
  assert.ok(existsSync(dump));
  assert.deepEqual(readdirSync(dir), ['bench-40.xml.bz2'], 'no partial file is left');
});
