/**
 * The package as a user installs it: `npm pack`, then the tarball installed into an empty project and
 * globally into a prefix, and `linkbert run` on the embedded sample from each. The project installs
 * offline, from npm's cache alone (its lockfile made from this one's); the global install resolves
 * versions, for which npm may ask the registry what its cache lacks (--prefer-offline).
 * from there. And what the tarball holds: what runs, no tests, bench data or outputs.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { ROOT, tmp } from './helpers.ts';

const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm';
// onnxruntime-node's own install script downloads its GPU binaries: not wanted offline (as in .ci/run)
const env = { ...process.env, ONNXRUNTIME_NODE_INSTALL: 'skip', npm_config_audit: 'false', npm_config_fund: 'false', npm_config_update_notifier: 'false' };

function npm(args: string[], cwd: string): { code: number | null; out: string } {
  const r = spawnSync(NPM, args, { cwd, env, encoding: 'utf8', maxBuffer: 1 << 26, timeout: 600_000 });
  return { code: r.status, out: `${r.stdout}\n${r.stderr}` };
}

/** A lockfile for a project whose one dependency is the tarball, from this project's lockfile. */
function consumerLock(tarball: string): unknown {
  const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, { dev?: boolean; dependencies?: unknown; bin?: unknown; engines?: unknown; version?: string }> };
  const root = lock.packages['']!;
  const packages: Record<string, unknown> = {
    '': { name: 'a-users-project', version: '1.0.0', dependencies: { 'linkbert-pipeline': `file:${tarball}` } },
    'node_modules/linkbert-pipeline': { version: root.version, resolved: `file:${tarball}`, integrity: `sha512-${createHash('sha512').update(readFileSync(tarball)).digest('base64')}`, license: 'MIT', dependencies: root.dependencies, bin: root.bin, engines: root.engines },
  };
  for (const [k, v] of Object.entries(lock.packages)) if (k && !v.dev) packages[k] = v;
  return { name: 'a-users-project', version: '1.0.0', lockfileVersion: 3, requires: true, packages };
}

function pack(dir: string): string {
  const r = npm(['pack', '--json', '--pack-destination', dir, ROOT], dir);
  assert.equal(r.code, 0, r.out);
  const file = readdirSync(dir).find((f) => f.endsWith('.tgz'));
  assert.ok(file, 'npm pack made a tarball');
  return join(dir, file);
}

test('the tarball holds what runs (bin, pipeline, src, sql, the sample, docs, licence) and no tests, bench data or outputs', () => {
  const r = spawnSync(NPM, ['pack', '--dry-run', '--json'], { cwd: ROOT, env, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const files = (JSON.parse(r.stdout) as { files: { path: string }[] }[])[0]!.files.map((f) => f.path);
  for (const need of ['bin/linkbert.js', 'pipeline/cli.ts', 'src/util/bundle.js', 'sql/schema.sql', 'data/sample/samplewiki.xml', 'README.md', 'LICENSE', 'package.json', 'examples/train_linkbert.py', 'src/wiki/data/namespaces.json']) assert.ok(files.includes(need), need);
  for (const f of files) assert.doesNotMatch(f, /^(test|bench|out|node_modules)\//, f);
  assert.ok(!files.some((f) => f.endsWith('.png')), 'no images');
});

test('installed from the tarball into a project (offline) and globally, `linkbert run` works on the embedded sample from each', async () => {
  const d = tmp();
  const tarball = pack(d);
  // as a dependency of a project of the user's
  const project = join(d, 'project');
  spawnSync('mkdir', ['-p', project]);
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'a-users-project', version: '1.0.0', private: true, dependencies: { 'linkbert-pipeline': `file:${tarball}` } }));
  // the project's lockfile: the tarball, and this project's own locked dependencies (so that npm
  // installs from its cache alone, without the registry's metadata)
  writeFileSync(join(project, 'package-lock.json'), JSON.stringify(consumerLock(tarball)));
  const inst = npm(['ci', '--offline', '--no-audit', '--no-fund'], project);
  assert.equal(inst.code, 0, inst.out);
  assert.doesNotMatch(inst.out, /warn.*linkbert/i, 'no warning of ours');
  assert.ok(existsSync(join(project, 'node_modules/wtf_wikipedia')), 'its dependencies hoisted beside it');
  const run = spawnSync(join(project, 'node_modules/.bin/linkbert'), ['run', '--out', 'out', '--json'], { cwd: project, env, encoding: 'utf8', timeout: 600_000 });
  assert.equal(run.status, 0, run.stderr);
  const s = JSON.parse(run.stdout) as { ingest: { articles: number }; shards: { rows: number }; verify: { conformance: { ok: boolean } } };
  assert.equal(s.ingest.articles, 42);
  assert.ok(s.shards.rows > 0);
  assert.equal(s.verify.conformance.ok, true);
  assert.ok(existsSync(join(project, 'out/shards/manifest.json')) && existsSync(join(project, 'out/report.html')));
  // the namespace table travels with the package: a language's names, in the command and in its workers
  const de = spawnSync(join(project, 'node_modules/.bin/linkbert'), ['ingest', '--dump', join(ROOT, 'data/sample/samplewiki.xml'), '--db', 'de.duckdb', '--lang', 'de', '--json'], { cwd: project, env, encoding: 'utf8', timeout: 600_000 });
  assert.equal(de.status, 0, de.stderr);
  assert.equal((JSON.parse(de.stdout) as { skipped: number }).skipped, 0);
  // installed globally into a prefix of its own
  const prefix = join(d, 'global');
  const g = npm(['install', '-g', '--prefer-offline', '--prefix', prefix, tarball], d);
  assert.equal(g.code, 0, g.out);
  const work = join(d, 'work');
  spawnSync('mkdir', ['-p', work]);
  const grun = spawnSync(join(prefix, 'bin/linkbert'), ['run', '--out', 'out', '--json'], { cwd: work, env, encoding: 'utf8', timeout: 600_000 });
  assert.equal(grun.status, 0, grun.stderr);
  assert.equal((JSON.parse(grun.stdout) as { ingest: { articles: number } }).ingest.articles, 42);
  assert.deepEqual(readFileSync(join(work, 'out/shards/manifest.json'), 'utf8').length > 0, true);
});
