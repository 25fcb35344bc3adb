/**
 * A plan on a real Slurm cluster (scripts/slurm-local.sh start makes a one-node one; .ci/run starts
 * it): the jobs' output is that of `linkbert run`, through scancel of an array task and a task killed
 * by hand, each followed by a resume. And the Kubernetes manifests of a plan, parsed.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { cli, HAVE_SHARED, makeMultistream, query, replicateSample, ROOT, SHARED, tmp } from './helpers.ts';

const sinfo = spawnSync('sinfo', ['-h', '-o', '%T'], { encoding: 'utf8', timeout: 10_000 });
const SLURM = sinfo.status === 0 && /idle|mixed|alloc/.test(sinfo.stdout);
const NO_SLURM = SLURM ? false : 'no Slurm cluster answers here (sinfo): start one with `scripts/slurm-local.sh start` (as root) to run these tests';

/** Each shard file's SHA-256 (the manifest's with the plan's own folder taken out). */
function shardDigests(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const f of readdirSync(join(dir, 'shards')).sort()) {
    const bytes = readFileSync(join(dir, 'shards', f));
    out[f] = createHash('sha256').update(f === 'manifest.json' ? Buffer.from(bytes.toString('utf8').replaceAll(dir, 'DIR')) : bytes).digest('hex');
  }
  return out;
}

async function pagesDigest(dir: string): Promise<string> {
  const [r] = await query<{ d: string }>(join(dir, 'linkbert.duckdb'), `SELECT count(*) || ':' || md5(string_agg(s::VARCHAR, ',' ORDER BY s)) AS d FROM (SELECT seq AS s FROM pages)`);
  return r!.d;
}

/** `linkbert run` into DIR, moved aside: what the plan in DIR must make. */
async function reference(dir: string, flags: string[]): Promise<Record<string, string>> {
  const r = await cli(['run', '--out', dir, ...flags]);
  assert.equal(r.code, 0, r.stderr);
  const ref = shardDigests(dir);
  renameSync(dir, `${dir}.run`);
  return ref;
}

function jobsOf(dir: string): { stage: string; job: string }[] {
  return existsSync(join(dir, 'slurm/jobs.json')) ? (JSON.parse(readFileSync(join(dir, 'slurm/jobs.json'), 'utf8')) as { stage: string; job: string }[]) : [];
}

/** Waits until Slurm holds none of the plan's jobs (finished, failed or cancelled); whether the plan is complete. */
async function settled(dir: string, limitMs = 300_000): Promise<boolean> {
  const t0 = Date.now();
  for (;;) {
    const ids = jobsOf(dir).map((j) => j.job);
    const q = spawnSync('squeue', ['-h', '-j', ids.join(','), '-o', '%i'], { encoding: 'utf8' });
    const st = await cli(['status', '--out', dir, '--json']);
    const complete = (JSON.parse(st.stdout) as { complete: boolean }).complete;
    if (complete) return true;
    if (q.status === 0 && !q.stdout.trim() && ids.length) return false;
    assert.ok(Date.now() - t0 < limitMs, `the jobs of ${dir} settle within ${limitMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** What a failed test shows: the plan's status and the tail of every Slurm log. */
function diagnosis(dir: string): string {
  const logs = join(dir, 'slurm/logs');
  const tails = existsSync(logs) ? readdirSync(logs).sort().map((f) => `--- ${f}\n${readFileSync(join(logs, f), 'utf8').split('\n').slice(-8).join('\n')}`) : [];
  const st = spawnSync(process.execPath, [join(ROOT, 'bin/linkbert.js'), 'status', '--out', dir], { encoding: 'utf8' });
  return [st.stdout, ...tails].join('\n');
}

/**
 * The first task of `stage` Slurm runs now, as `job_index`, waiting for one whose script has set its
 * traps (its log says `started`): Slurm marks a job RUNNING before its shell has read a line.
 */
async function runningTask(dir: string, stage: string): Promise<string> {
  const t0 = Date.now();
  for (;;) {
    const job = jobsOf(dir).find((j) => j.stage === stage)?.job;
    if (job) {
      const q = spawnSync('squeue', ['-h', '-r', '-j', job, '-t', 'RUNNING', '-o', '%i'], { encoding: 'utf8' });
      const log = (id: string) => join(dir, `slurm/logs/${stage}-${id.split('_')[1] ?? '0'}.log`);
      const started = q.stdout.trim().split('\n').filter(Boolean).find((id) => existsSync(log(id)) && /: started on /.test(readFileSync(log(id), 'utf8')));
      if (started) return started;
    }
    assert.ok(Date.now() - t0 < 120_000, `a ${stage} task runs within two minutes`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function sampleDump(d: string): string {
  const dump = join(d, 'six-multistream.xml.bz2');
  makeMultistream(replicateSample(6), 20, dump, join(d, 'six-multistream-index.txt.bz2'));
  return dump;
}

test('launch --executor slurm --workers 4: job arrays chained by dependencies make the shards of `linkbert run`', { skip: NO_SLURM }, async () => {
  const d = tmp();
  const flags = ['--dump', sampleDump(d), '--max-seq-len', '128', '--shard-rows', '60'];
  const ref = await reference(join(d, 'out'), flags);
  const dir = join(d, 'out');
  assert.equal((await cli(['plan', '--out', dir, ...flags, '--unit-streams', '6'])).code, 0);
  const l = await cli(['launch', '--executor', 'slurm', '--out', dir, '--workers', '4', '--json']);
  assert.equal(l.code, 0, l.stderr);
  const jobs = (JSON.parse(l.stdout) as { jobs: { stage: string; units: number[] }[] }).jobs;
  assert.deepEqual(jobs.map((j) => j.stage), ['ingest', 'graph', 'vocab', 'segment', 'pairs', 'order', 'continue']);
  assert.deepEqual(jobs[0]!.units, [0, 1, 2]);
  // the warning Slurm gives a job before its time limit (--signal=B:USR1@120), sent now to a running
  // ingest task: the task stops, what it wrote stays under temporary names, the job requeues itself
  const warned = await runningTask(dir, 'ingest');
  spawnSync('scancel', ['--signal=USR1', '--batch', warned]);
  assert.ok(await settled(dir), `the plan completes\n${diagnosis(dir)}`);
  const unit = warned.split('_')[1]!;
  const log = readFileSync(join(dir, `slurm/logs/ingest-${unit}.log`), 'utf8');
  // (a task that had finished when the signal came is not requeued: its unit is done all the same)
  if (/REQUEUE/.test(log)) assert.match(log, /task ingest unit \d+: (done|already done)/, 'the requeued task ran again and completed its unit');
  assert.deepEqual(shardDigests(dir), ref);
  assert.ok(existsSync(join(dir, 'slurm/ingest.sh')) && existsSync(join(dir, 'slurm/logs/ingest-2.log')), 'scripts and logs in DIR/slurm');
  assert.ok(jobsOf(dir).some((j) => j.stage === 'shards'), 'the continue job submitted the shards');
});

test('scancel of an array task mid-run, then resume: the same shards; a task killed with SIGKILL by hand leaves its unit missing, never half-written', { skip: NO_SLURM }, async () => {
  const d = tmp();
  const flags = ['--dump', sampleDump(d), '--max-seq-len', '128', '--shard-rows', '60'];
  const ref = await reference(join(d, 'ref'), flags);
  // scancel
  const a = join(d, 'ref');
  assert.equal((await cli(['plan', '--out', a, ...flags, '--unit-streams', '3'])).code, 0);
  assert.equal((await cli(['launch', '--executor', 'slurm', '--out', a, '--workers', '2'])).code, 0);
  const task = await runningTask(a, 'ingest');
  assert.equal(spawnSync('scancel', [task]).status, 0);
  // a cancelled array task fails the afterok dependency: the jobs after it are not run (the task may
  // have written its marker in the instant before the signal: then its unit is done all the same)
  if (!(await settled(a))) {
    const st = await cli(['status', '--out', a]);
    assert.match(st.stdout, /ingest\s+[0-6]\/6 done/);
    assert.match(st.stdout, /graph\s+0\/1 done/, 'the jobs after the cancelled one did not run');
    assert.match(st.stdout, /linkbert resume --out .* --executor slurm/);
  }
  assert.equal((await cli(['resume', '--executor', 'slurm', '--out', a, '--workers', '3'])).code, 0);
  assert.ok(await settled(a), `the resume completes the plan\n${diagnosis(a)}`);
  assert.deepEqual(shardDigests(a), ref);
  const [n] = await query<{ n: number; d: number }>(join(a, 'linkbert.duckdb'), 'SELECT count(*)::INTEGER AS n, count(DISTINCT seq)::INTEGER AS d FROM pages');
  assert.equal(n!.n, n!.d, 'no page twice');
  // SIGKILL by hand
  const b = join(d, 'killed');
  assert.equal((await cli(['plan', '--out', b, ...flags, '--unit-streams', '3'])).code, 0);
  assert.equal((await cli(['launch', '--executor', 'slurm', '--out', b, '--workers', '2'])).code, 0);
  let pid: number | null = null;
  let unit = -1;
  for (const t0 = Date.now(); pid === null; ) {
    const p = spawnSync('pgrep', ['-f', '-a', `task segment --out ${b} --unit`], { encoding: 'utf8' });
    const line = p.stdout.trim().split('\n').find((x) => x.includes('linkbert.js'));
    if (line) {
      pid = Number(line.split(' ')[0]);
      unit = Number(/--unit (\d+)/.exec(line)![1]);
    } else {
      assert.ok(Date.now() - t0 < 120_000, 'a segment task runs within two minutes');
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  process.kill(pid, 'SIGKILL');
  // (a task killed in the instant after its marker was written has done its unit)
  if (!(await settled(b)) && !existsSync(join(b, `tasks/segment/done/u0000${unit}.json`))) {
    assert.ok(!existsSync(join(b, `segment/segments/u0000${unit}.parquet`)), 'the killed unit has no output');
    const st2 = await cli(['status', '--out', b, '--json']);
    const seg = (JSON.parse(st2.stdout) as { stages: { stage: string; missingUnits: number[] }[] }).stages.find((s) => s.stage === 'segment')!;
    assert.ok(seg.missingUnits.includes(unit), 'status names it missing');
  }
  assert.equal((await cli(['resume', '--executor', 'slurm', '--out', b, '--workers', '2'])).code, 0);
  assert.ok(await settled(b), diagnosis(b));
  assert.deepEqual(shardDigests(b), ref);
  assert.equal(await pagesDigest(b), await pagesDigest(a));
});

test('the akwiki multistream dump on Slurm with 4 workers: the shards of `linkbert run`', { skip: NO_SLURM || (HAVE_SHARED ? false : '../shared/fixtures is absent') }, async () => {
  const d = tmp();
  const flags = ['--dump', join(SHARED, 'dumps/akwiki-20230301-pages-articles-multistream.xml.bz2'), '--tokenizer', join(SHARED, 'tokenizer/bert-base-cased-tokenizer.json')];
  const ref = await reference(join(d, 'out'), flags);
  const dir = join(d, 'out');
  assert.equal((await cli(['plan', '--out', dir, ...flags, '--unit-streams', '4'])).code, 0);
  assert.equal((await cli(['launch', '--executor', 'slurm', '--out', dir, '--workers', '4'])).code, 0);
  assert.ok(await settled(dir), diagnosis(dir));
  assert.deepEqual(shardDigests(dir), ref);
});

test('launch --executor k8s --dry-run: an Indexed Job per stage that parses and names every unit once', async () => {
  const d = tmp();
  const dir = join(d, 'out');
  assert.equal((await cli(['plan', '--out', dir, '--dump', sampleDump(d), '--max-seq-len', '128', '--unit-streams', '6', '--shard-rows', '60'])).code, 0);
  const refused = await cli(['launch', '--executor', 'k8s', '--out', dir]);
  assert.equal(refused.code, 2);
  assert.match(refused.stderr, /--dry-run/);
  const before = await cli(['launch', '--executor', 'k8s', '--dry-run', '--volume-claim', 'corpus', '--out', dir, '--json']);
  assert.equal(before.code, 0, before.stderr);
  assert.ok((JSON.parse(before.stdout) as { manifests: { stage: string; file: string }[] }).manifests.some((m) => m.stage === 'shards' && !m.file), 'no shards Job before the order step has counted them');
  assert.equal((await cli(['launch', '--out', dir, '--workers', '2'])).code, 0);
  const r = await cli(['launch', '--executor', 'k8s', '--dry-run', '--volume-claim', 'corpus', '--out', dir, '--json', '--workers', '5']);
  const files = readdirSync(join(dir, 'k8s')).sort();
  assert.deepEqual(files.map((f) => f.replace(/^\d+-|\.json$/g, '')), ['ingest', 'graph', 'vocab', 'segment', 'pairs', 'order', 'shards', 'manifest', 'report']);
  assert.equal(r.code, 0, r.stderr);
  const status = JSON.parse((await cli(['status', '--out', dir, '--json'])).stdout) as { stages: { stage: string; total: number }[] };
  const named = new Set<string>();
  for (const f of files) {
    const job = JSON.parse(readFileSync(join(dir, 'k8s', f), 'utf8')) as { apiVersion: string; kind: string; spec: { completionMode: string; completions: number; parallelism: number; backoffLimitPerIndex: number; template: { spec: { restartPolicy: string; containers: { command: string[] }[]; volumes: { persistentVolumeClaim: { claimName: string } }[] } } } };
    const stage = f.replace(/^\d+-|\.json$/g, '');
    assert.equal(job.apiVersion, 'batch/v1');
    assert.equal(job.kind, 'Job');
    assert.equal(job.spec.completionMode, 'Indexed');
    assert.ok(job.spec.backoffLimitPerIndex >= 1);
    assert.equal(job.spec.template.spec.restartPolicy, 'Never');
    assert.equal(job.spec.template.spec.volumes[0]!.persistentVolumeClaim.claimName, 'corpus');
    assert.match(job.spec.template.spec.containers[0]!.command.join(' '), new RegExp(`linkbert task ${stage} --out /data/out --unit "\\$JOB_COMPLETION_INDEX"`));
    assert.equal(job.spec.completions, status.stages.find((s) => s.stage === stage)!.total, `${stage}: one index per unit`);
    assert.ok(job.spec.parallelism <= 5);
    for (let i = 0; i < job.spec.completions; i++) {
      assert.ok(!named.has(`${stage}/${i}`));
      named.add(`${stage}/${i}`);
    }
  }
  assert.equal(named.size, status.stages.reduce((n, s) => n + s.total, 0), 'every unit of every stage once');
});
