import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { pairs } from '../src/pairs/pairs.ts';
import { report } from '../src/report/report.ts';
import { prepare, SAMPLE, tmp } from './helpers.ts';

const dir = tmp();
let db: string;
before(async () => {
  db = await prepare(SAMPLE, dir);
  await pairs({ db, seed: 3 });
});

/** The SVG plots of a page, each with the number of drawn marks (paths, rects, symbols) in its mark groups. */
function plotsOf(html: string): { marks: number }[] {
  return [...html.matchAll(/<svg[\s\S]*?<\/svg>/g)].map((m) => ({ marks: [...m[0].matchAll(/<g class="mark-(?:symbol|rect)[^"]*"[^>]*>([\s\S]*?)<\/g>/g)].reduce((n, g) => n + (g[1]!.match(/<path /g)?.length ?? 0), 0) }));
}

test('report.html: one self-contained page with every plot drawn, the hubs, coverage and example pairs', async () => {
  const out = join(dir, 'report.html');
  const s = await report({ db, out });
  const html = readFileSync(out, 'utf8');
  const plots = plotsOf(html);
  assert.equal(plots.length, s.plots);
  assert.equal(plots.length, 4);
  for (const [i, p] of plots.entries()) assert.ok(p.marks > 0, `plot ${i} has marks`);
  // nothing fetched from anywhere: no scripts, no external sources or links
  assert.doesNotMatch(html, /<script|<link |src="|href="http/);
  assert.match(html, /Kestrel Islands/); // the top hub of the sample
  assert.match(html, /Coverage: \d+\.\d% of the articles/);
  assert.equal(s.examples, 6);
  for (const rel of ['contiguous', 'random', 'linked']) assert.ok(html.includes(`<h3>${rel}</h3>`));
  assert.match(html, /<mark>[^<]+<\/mark>/, 'a linked pair has its anchor highlighted');
});

const CHROMIUM = ['chromium', 'chromium-browser'].find((c) => spawnSync(c, ['--version'], { stdio: 'ignore' }).status === 0);
test('report.html renders in headless Chromium with every plot drawn and no console errors', { skip: CHROMIUM ? false : 'no chromium (apt-get install chromium)' }, async () => {
  const out = join(dir, 'render.html');
  await report({ db, out });
  const r = spawnSync(CHROMIUM!, ['--headless=new', '--no-sandbox', '--disable-gpu', '--enable-logging=stderr', '--v=0', '--dump-dom', `file://${out}`], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 0, r.stderr);
  const plots = plotsOf(r.stdout);
  assert.equal(plots.length, 4, 'the rendered DOM holds the four plots');
  for (const p of plots) assert.ok(p.marks > 0);
  assert.doesNotMatch(r.stderr, /CONSOLE\(\d+\)|Uncaught|Failed to load resource/, 'console errors');
  const shot = join(dir, 'shot.png');
  const s = spawnSync(CHROMIUM!, ['--headless=new', '--no-sandbox', '--disable-gpu', '--window-size=1000,1400', `--screenshot=${shot}`, `file://${out}`], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(s.status, 0, s.stderr);
  assert.ok(readFileSync(shot).length > 10_000, 'a screenshot with something drawn');
});
