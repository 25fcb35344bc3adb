/**
 * examples/train_linkbert.py on the sample's shards: a few steps of MLM + 3-way DRP with a tiny
 * random BERT. Runs where a Python with torch, transformers and pyarrow is installed; says it
 * skipped otherwise.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { pairs } from '../src/pairs/pairs.ts';
import { shards } from '../src/shards/shards.ts';
import { prepare, ROOT, SAMPLE, tmp } from './helpers.ts';

const PY = ['python3', '/usr/bin/python3'].find((py) => spawnSync(py, ['-c', 'import torch, transformers, pyarrow'], { stdio: 'ignore' }).status === 0);

test('examples/train_linkbert.py --tiny: the MLM loss falls over 30 steps, the DRP loss is finite', { skip: PY ? false : 'no Python with torch, transformers and pyarrow', timeout: 300_000 }, async () => {
  const dir = tmp();
  const db = await prepare(SAMPLE, dir);
  await pairs({ db, seed: 3, instancesPerSegment: 2 });
  const out = join(dir, 'shards');
  await shards({ db, out, seed: 4 });
  const r = spawnSync(PY!, [join(ROOT, 'examples/train_linkbert.py'), '--shards', out, '--tiny', '--steps', '30', '--log-every', '5'], { encoding: 'utf8', timeout: 280_000 });
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { step: number; split: string; mlm_loss: number; drp_loss: number; drp_acc: number });
  assert.ok(lines.every((l) => l.split === 'train'), 'no validation split: no validation lines');
  assert.deepEqual(lines.map((l) => l.step), [5, 10, 15, 20, 25, 30]);
  assert.ok(lines.at(-1)!.mlm_loss < lines[0]!.mlm_loss - 0.5, `MLM loss falls: ${lines.map((l) => l.mlm_loss).join(' → ')}`);
  for (const l of lines) {
    assert.ok(Number.isFinite(l.drp_loss) && l.drp_loss > 0);
    assert.ok(l.drp_acc >= 0 && l.drp_acc <= 1);
  }
});

test('examples/train_linkbert.py reads the validation split where there is one: its MLM loss and DRP accuracy every --eval-every steps', { skip: PY ? false : 'no Python with torch, transformers and pyarrow', timeout: 300_000 }, async () => {
  const dir = tmp();
  const db = await prepare(SAMPLE, dir);
  await pairs({ db, seed: 3, instancesPerSegment: 2, validation: 0.2 });
  const out = join(dir, 'shards');
  const h = await shards({ db, out, seed: 4 });
  const r = spawnSync(PY!, [join(ROOT, 'examples/train_linkbert.py'), '--shards', out, '--tiny', '--steps', '20', '--log-every', '10', '--eval-every', '10'], { encoding: 'utf8', timeout: 280_000 });
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { step: number; split: string; mlm_loss: number; drp_loss: number; drp_acc: number; rows?: number });
  const v = lines.filter((l) => l.split === 'validation');
  assert.deepEqual(v.map((l) => l.step), [10, 20]);
  for (const l of v) {
    assert.equal(l.rows, h.splits!.validation!.rows);
    assert.ok(Number.isFinite(l.mlm_loss) && l.mlm_loss > 0 && Number.isFinite(l.drp_loss));
    assert.ok(l.drp_acc >= 0 && l.drp_acc <= 1);
  }
  assert.ok(v[1]!.mlm_loss < v[0]!.mlm_loss, `validation MLM loss falls as the model trains: ${v.map((l) => l.mlm_loss).join(' → ')}`);
});
