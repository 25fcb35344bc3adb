import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { writeDemoTokenizer } from '../pipeline/vocab.ts';
import { ingest } from '../src/ingest/ingest.ts';
import { maxSegmentTokens, packSegments, type TokenizedSentence } from '../src/segment/pack.ts';
import { segment } from '../src/segment/segment.ts';
import { loadTokenizer } from '../src/tokenize/tokenizer.ts';
import { rng } from '../src/util/rng.ts';
import { cli, query, SAMPLE, tmp } from './helpers.ts';

/** Sentences of given token counts, ids numbered through, one code point per token and a space between sentences. */
function sentences(lengths: number[]): TokenizedSentence[] {
  let id = 0;
  let pos = 0;
  return lengths.map((n) => {
    const ids: number[] = [];
    const spans: [number, number][] = [];
    for (let k = 0; k < n; k++) {
      ids.push(id++);
      spans.push([pos, pos + 1]);
      pos++;
    }
    pos++;
    return { ids, start: spans[0]![0], end: spans[n - 1]![1], tokenSpans: () => spans };
  });
}

test('packing: whole sentences, at most max tokens, contiguous, long sentences cut at token boundaries', () => {
  const lengths = [5, 7, 3, 12, 30, 2, 9, 9, 4, 1];
  const sents = sentences(lengths);
  for (let trial = 0; trial < 50; trial++) {
    const segs = packSegments(sents, 10, 0.3, rng(7, trial));
    assert.deepEqual(segs.flatMap((s) => s.ids), sents.flatMap((s) => s.ids)); // nothing lost, nothing repeated, in order
    segs.forEach((s, k) => {
      assert.equal(s.idx, k);
      assert.ok(s.ids.length >= 1 && s.ids.length <= 10);
      // spans: segment k+1 starts where k ends (a sentence's space between them, or none inside a cut sentence)
      assert.equal(s.charEnd - s.charStart, s.ids.length + s.sentences - 1);
      if (k > 0) assert.ok(s.charStart === segs[k - 1]!.charEnd || s.charStart === segs[k - 1]!.charEnd + 1, 'segment k+1 starts where k ends');
    });
    // a boundary falls between sentences, or inside one only when that sentence is longer than max
    const starts = new Set<number>();
    let at = 0;
    for (const n of lengths) {
      starts.add(at);
      if (n > 10) for (let p = 10; p < n; p += 10) starts.add(at + p);
      at += n;
    }
    let consumed = 0;
    for (const s of segs) {
      assert.ok(starts.has(consumed), `boundary at token ${consumed}`);
      consumed += s.ids.length;
    }
  }
});

test('packing: without short targets, segments are filled greedily to the max', () => {
  const segs = packSegments(sentences([4, 4, 4, 4, 4]), 10, 0, rng(1));
  assert.deepEqual(segs.map((s) => s.ids.length), [8, 8, 4]);
  assert.deepEqual(segs.map((s) => [s.firstSentence, s.sentences]), [[0, 2], [2, 2], [4, 1]]);
  // with short targets always on, segments are never longer than that draw allows and shorter on average
  const lengths = Array.from({ length: 200 }, (_, i) => 1 + (i % 5));
  const long = packSegments(sentences(lengths), 50, 0, rng(2));
  const short = packSegments(sentences(lengths), 50, 1, rng(2));
  const mean = (x: { ids: number[] }[]) => x.reduce((a, s) => a + s.ids.length, 0) / x.length;
  assert.ok(mean(short) < mean(long) * 0.75, `${mean(short)} vs ${mean(long)}`);
  assert.equal(maxSegmentTokens(512), 254);
  assert.equal(maxSegmentTokens(128), 62);
});

const dir = tmp();
const db = join(dir, 's.duckdb');
const demo = join(dir, 'demo');
before(async () => {
  await ingest({ dump: SAMPLE, db });
  await writeDemoTokenizer(db, demo, 4000);
});

test('segments of the sample: each article tokenized once, packed by the rule, spans cover its text in order', async () => {
  const s = await segment({ db, tokenizer: demo, maxSeqLen: 128, seed: 3 });
  assert.equal(s.articles, 41); // 42, less the disambiguation page
  assert.equal(s.disambiguation_left_out, 1);
  assert.equal(s.articles_without_segments, 0);
  assert.equal(s.unk_rate, 0);
  assert.equal(Object.values(s.length_histogram).reduce((a, b) => a + b, 0), s.segments);
  const segs = await query<{ article: number; idx: number; n_tokens: number; ids: number[]; char_start: number; char_end: number; first_sentence: number; n_sentences: number }>(db, 'SELECT * FROM segments ORDER BY article, idx');
  assert.equal(segs.length, s.segments);
  assert.equal(segs.reduce((a, x) => a + x.n_tokens, 0), s.tokens);
  const tok = await loadTokenizer(demo);
  const arts = await query<{ seq: number; text: string }>(db, 'SELECT seq, text FROM articles WHERE NOT disambiguation ORDER BY seq');
  const sents = await query<{ article: number; text: string }>(db, 'SELECT article, text FROM sentences ORDER BY article, idx');
  for (const a of arts) {
    const mine = segs.filter((x) => x.article === a.seq);
    const expected = (await tok.tokenizer.encodeBatch(sents.filter((x) => x.article === a.seq).map((x) => x.text), { addSpecialTokens: false })).flatMap((e) => e.getIds());
    assert.deepEqual(mine.flatMap((x) => x.ids), expected, `article ${a.seq}`);
    const cps = Array.from(a.text);
    mine.forEach((x, k) => {
      assert.equal(x.idx, k);
      assert.ok(x.n_tokens <= 62 && x.n_tokens === x.ids.length);
      if (k > 0) {
        // contiguity: segment k+1 starts where segment k ends (only the separator between them)
        assert.match(cps.slice(mine[k - 1]!.char_end, x.char_start).join(''), /^\s+$/);
        assert.equal(x.first_sentence, mine[k - 1]!.first_sentence + mine[k - 1]!.n_sentences - (mine[k - 1]!.char_end > x.char_start ? 1 : 0));
      }
    });
    assert.equal(mine[0]!.char_start, 0);
    assert.equal(mine[mine.length - 1]!.char_end, cps.length);
  }
});

test('same rows whatever the number of articles per tokenizer batch; rerun skipped, settings change redone', async () => {
  const digest = async () => (await query<{ d: string }>(db, `SELECT count(*) || ':' || md5(string_agg(s::VARCHAR, chr(10) ORDER BY article, idx)) AS d FROM segments s`))[0]!.d;
  await segment({ db, tokenizer: demo, maxSeqLen: 128, seed: 9, batchArticles: 1, force: true });
  const one = await digest();
  await segment({ db, tokenizer: demo, maxSeqLen: 128, seed: 9, batchArticles: 7, force: true });
  assert.equal(await digest(), one);
  const again = await segment({ db, tokenizer: demo, maxSeqLen: 128, seed: 9 });
  assert.equal(again.already_done, true);
  const other = await segment({ db, tokenizer: demo, maxSeqLen: 128, seed: 10 });
  assert.equal(other.already_done, false);
  assert.notEqual(await digest(), one); // a different seed draws different short targets
  const [run] = await query<{ s: string }>(db, `SELECT summary::VARCHAR AS s FROM runs WHERE stage = 'segment'`);
  const summary = JSON.parse(run!.s);
  assert.equal(summary.tokenizer.kind, 'vocab.txt');
  assert.match(summary.tokenizer.sha256, /^[0-9a-f]{64}$/);
  assert.equal(summary.settings.max_segment_tokens, 62);
});

test('disambiguation pages give no training text unless asked for', async () => {
  const left = await segment({ db, tokenizer: demo, maxSeqLen: 128, force: true });
  const dis = await query<{ seq: number }>(db, 'SELECT seq FROM articles WHERE disambiguation');
  assert.equal(dis.length, 1);
  assert.equal(left.disambiguation_left_out, 1);
  const has = async () => (await query<{ n: number }>(db, `SELECT count(*)::INT n FROM segments WHERE article = ${dis[0]!.seq}`))[0]!.n;
  assert.equal(await has(), 0);
  const kept = await segment({ db, tokenizer: demo, maxSeqLen: 128, disambiguation: true });
  assert.equal(kept.already_done, false);
  assert.equal(kept.disambiguation_left_out, 0);
  assert.ok((await has()) > 0);
  await segment({ db, tokenizer: demo, maxSeqLen: 128, force: true });
});

test('linkbert segment --json prints the summary keys', async () => {
  const r = await cli(['segment', '--db', db, '--tokenizer', demo, '--max-seq-len', '128', '--force', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const s = JSON.parse(r.stdout);
  for (const k of ['stage', 'articles', 'segments', 'tokens', 'unk_rate', 'seconds']) assert.ok(k in s, k);
  assert.equal(s.stage, 'segment');
  const bad = await cli(['segment', '--db', db, '--tokenizer', demo, '--max-seq-len', '6']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--max-seq-len must be a whole number, ≥ 8, not 6/);
  await assert.rejects(segment({ db, tokenizer: demo, maxSeqLen: 6 }), /leaves no room for two segments/);
});

test('segment warns (stderr and --json) when [UNK] says the tokenizer does not fit the text', async () => {
  const d = tmp();
  // a WordPiece vocabulary of a few letters: almost every word of the sample is [UNK]
  const vocab = join(d, 'vocab.txt');
  writeFileSync(vocab, ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', 'a', 'b', 'c', '.', ','].join('\n') + '\n');
  const r = await cli(['segment', '--db', db, '--tokenizer', vocab, '--max-seq-len', '128', '--force', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const s = JSON.parse(r.stdout);
  assert.ok(s.unk_rate > 0.5, String(s.unk_rate));
  assert.equal(s.warnings.length, 1);
  assert.match(s.warnings[0], /% of the tokens are \[UNK\] \(over 2%\): the tokenizer .*vocab\.txt does not fit this text/);
  assert.match(r.stderr, /linkbert segment: warning: .*\[UNK\]/);
  const fine = await cli(['segment', '--db', db, '--tokenizer', demo, '--max-seq-len', '128', '--force', '--json']);
  assert.deepEqual(JSON.parse(fine.stdout).warnings, []);
  assert.doesNotMatch(fine.stderr, /warning/);
});
