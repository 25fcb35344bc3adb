import assert from 'node:assert/strict';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, test } from 'node:test';
import { bundled, projectWorker } from '../src/util/worker.ts';
import { tmp } from './helpers.ts';

function answer(entry: string): Promise<unknown> {
  const w = projectWorker(pathToFileURL(entry));
  return new Promise((resolve, reject) => {
    w.once('message', (m) => void w.terminate().then(() => resolve(m)));
    w.once('error', reject);
  });
}

test('a TypeScript worker runs from a cached bundle, rebuilt when a file it imports changes', async () => {
  const d = tmp();
  const entry = join(d, 'entry.ts');
  writeFileSync(entry, "import { parentPort } from 'node:worker_threads';\nimport { v } from './dep.ts';\nconst n: number = v;\nparentPort!.postMessage(n);\n");
  writeFileSync(join(d, 'dep.ts'), 'export const v: number = 1;\n');
  assert.equal(await answer(entry), 1);
  const bundle = bundled(entry);
  assert.ok(bundle && existsSync(bundle), 'the bundle is cached');
  after(() => ['', '.json'].forEach((x) => rmSync(bundle + x, { force: true })));
  writeFileSync(join(d, 'dep.ts'), 'export const v: number = 22;\n');
  assert.equal(await answer(entry), 22);
  assert.equal(bundled(entry), bundle, 'same place, new content');
});
