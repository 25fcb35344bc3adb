import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, test } from 'node:test';
import { bundledAsync, REPLACED } from '../src/util/bundle.js';
import { projectWorkers } from '../src/util/worker.ts';
import { tmp } from './helpers.ts';

async function answer(entry: string): Promise<unknown> {
  const w = (await projectWorkers(pathToFileURL(entry)))();
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
  const bundle = await bundledAsync(entry);
  assert.ok(bundle && existsSync(bundle), 'the bundle is cached');
  after(() => ['', '.json'].forEach((x) => rmSync(bundle + x, { force: true })));
  writeFileSync(join(d, 'dep.ts'), 'export const v: number = 22;\n');
  assert.equal(await answer(entry), 22);
  assert.equal(await bundledAsync(entry), bundle, 'same place, new content');
});

test("the command's bundle: each module's import.meta.url is its own file, dynamic imports stay lazy chunks, rebuilt when a source changes", async () => {
  const d = tmp();
  const entry = join(d, 'cli.ts');
  writeFileSync(entry, "export const here: string = import.meta.url;\nexport const stage = () => import('./stage.ts');\n");
  writeFileSync(join(d, 'stage.ts'), "export const beside: string = new URL('./sql/x.sql', import.meta.url).href;\nexport const v: number = 1;\n");
  const bundle = await bundledAsync(entry, { prefix: 'test-cli', splitting: true, packages: 'external' });
  assert.ok(bundle && existsSync(bundle));
  after(() => rmSync(dirname(bundle), { recursive: true, force: true }));
  assert.notEqual(dirname(bundle), d, 'built elsewhere');
  const m = (await import(pathToFileURL(bundle).href)) as { here: string; stage: () => Promise<{ beside: string; v: number }> };
  assert.equal(m.here, pathToFileURL(entry).href);
  const s = await m.stage();
  assert.equal(s.beside, pathToFileURL(join(d, 'sql/x.sql')).href);
  assert.ok(readdirSync(dirname(bundle)).filter((f) => f.endsWith('.mjs')).length === 2, 'the dynamically imported module is a chunk of its own');
  assert.equal(await bundledAsync(entry, { prefix: 'test-cli', splitting: true, packages: 'external' }), bundle, 'up to date: the same file');
  writeFileSync(join(d, 'stage.ts'), "export const beside: string = '';\nexport const v: number = 2;\n");
  const again = await bundledAsync(entry, { prefix: 'test-cli', splitting: true, packages: 'external' });
  const m2 = (await import(`${pathToFileURL(again!).href}?2`)) as { stage: () => Promise<{ v: number }> };
  assert.equal((await m2.stage()).v, 2);
});

test("a bundle with a file missing from the cache is built again", async () => {
  const d = tmp();
  const entry = join(d, 'cli.ts');
  writeFileSync(entry, "export const stage = () => import('./stage.ts');\n");
  writeFileSync(join(d, 'stage.ts'), 'export const v: number = 3;\n');
  const bundle = (await bundledAsync(entry, { prefix: 'test-cli2', splitting: true, packages: 'external' }))!;
  after(() => rmSync(dirname(bundle), { recursive: true, force: true }));
  const chunk = readdirSync(dirname(bundle)).find((f) => f.startsWith('stage-'))!;
  rmSync(join(dirname(bundle), chunk));
  assert.equal(await bundledAsync(entry, { prefix: 'test-cli2', splitting: true, packages: 'external' }), bundle);
  assert.ok(existsSync(join(dirname(bundle), chunk)), 'the missing chunk is written again');
  const m = (await import(pathToFileURL(bundle).href)) as { stage: () => Promise<{ v: number }> };
  assert.equal((await m.stage()).v, 3);
});

test("ingest's worker bundle takes every one of wtf_wikipedia's replaced modules from this project (same results: test/wtf-replaced.test.ts)", async () => {
  const entry = new URL('../src/ingest/worker.ts', import.meta.url).pathname;
  const bundle = await bundledAsync(entry);
  assert.ok(bundle, 'esbuild is installed with the dev dependencies');
  const inputs = Object.keys((JSON.parse(readFileSync(`${bundle}.json`, 'utf8')) as { inputs: Record<string, unknown> }).inputs);
  assert.equal(REPLACED.length, 11);
  for (const r of REPLACED) assert.ok(inputs.includes(r.by), `${r.by} is in the bundle`);
  assert.ok(!inputs.some((f) => f.endsWith('wtf_wikipedia/src/image/nested_find.js')), 'nested_find: not the package one');
  assert.ok(inputs.some((f) => f.endsWith('wtf_wikipedia/src/image/index.js')), "the rest of wtf's image parse is the package's");
  assert.ok(inputs.some((f) => f.endsWith('wtf_wikipedia/src/01-document/preProcess/kill_xml.js')), 'our kill_xml hands texts with tags on to the package one');
});

test('a replaced module that is not where the bundle expects it in wtf_wikipedia (renamed upstream) fails the build: it never drops out unseen', async () => {
  const entry = new URL('../src/ingest/worker.ts', import.meta.url).pathname;
  const renamed = REPLACED.map((r) => (r.by === 'src/wiki/wtf/kill-xml.ts' ? { ...r, module: r.module.replace('kill_xml.js', 'killXml.js') } : r));
  await assert.rejects(bundledAsync(entry, { prefix: `renamed-${process.pid}-${Date.now()}`, replaced: renamed }), /01-document\/preProcess\/killXml\.js \(replaced by src\/wiki\/wtf\/kill-xml\.ts\) is not in wtf_wikipedia 10\.4\.2/);
  // a replacement of a module that exists but that no part of the package imports by that path (here the
  // package's entry, which the worker imports by name) is not in the bundle: an error too
  const unused = [...REPLACED, { module: 'node_modules/wtf_wikipedia/src/index.js', by: 'src/stage/kernel.ts' }];
  await assert.rejects(bundledAsync(entry, { prefix: `unused-${process.pid}-${Date.now()}`, replaced: unused }), /src\/stage\/kernel\.ts did not take the place of their module/);
});
