import assert from 'node:assert/strict';
import { test } from 'node:test';
import { progressLine } from '../src/cli/report.ts';

test('progress lines show the unit that moves: MB/s only where bytes are read (ingest), rows or articles elsewhere', () => {
  const seg = progressLine('segment', { done: 500, unit: 'articles', seconds: 10, total: 2000, extra: '1,234 tokens' });
  assert.match(seg, /\[#####\.{15}\]  25%  segment  500 articles  50 articles\/s  ETA 30s  1,234 tokens/);
  assert.doesNotMatch(seg, /MB\/s/);
  const ing = progressLine('ingest', { done: 6000, unit: 'pages', seconds: 10, bytesRead: 15e6, totalBytes: 30e6 });
  assert.match(ing, /\[#{10}\.{10}\]  50%  ingest  6,000 pages  600 pages\/s  1\.5 MB\/s  ETA 10s/);
  assert.equal(progressLine('verify', { done: 3, unit: 'rows', seconds: 1 }), 'verify  3 rows  3 rows/s');
});
