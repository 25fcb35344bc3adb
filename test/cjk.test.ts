/**
 * Chinese text kept as written and cut into sentences by its own marks, on real zhwiki articles
 * (test/fixtures/zhwiki, with its source and licence): wtf_wikipedia rewrites every `。` as `. `,
 * and a ref cut out between two characters left a space there.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { defaultSiteInfo } from '../src/dump/siteinfo.ts';
import { ingest } from '../src/ingest/ingest.ts';
import { cleanArticle } from '../src/wiki/clean.ts';
import { Titles } from '../src/wiki/title.ts';
import { query, ROOT, tmp } from './helpers.ts';

const ZH = join(ROOT, 'test/fixtures/zhwiki/zhwiki-2018-excerpt.xml.bz2');

/** Each article's count of 。 in its wikitext's prose: outside comments, refs, templates, tables, files, categories and list or heading lines. */
function proseFullStops(xml: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const page of xml.split('<page>').slice(1)) {
    if (!page.includes('<ns>0</ns>')) continue;
    const title = /<title>([^<]*)<\/title>/.exec(page)![1]!;
    let t = /<text[^>]*>([\s\S]*?)<\/text>/.exec(page)![1]!.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&amp;/g, '&');
    t = t.replace(/<!--[\s\S]*?-->/g, '').replace(/<ref[^>]*\/>/g, '').replace(/<ref[\s\S]*?<\/ref>/g, '');
    for (let k = 0; k < 10; k++) t = t.replace(/\{\{[^{}]*\}\}/g, '');
    t = t.replace(/\{\|[\s\S]*?\|\}/g, '').replace(/\[\[(?:File|Image|文件|檔案|图像|圖像|Category|分类):[^[\]]*(?:\[\[[^\]]*\]\][^[\]]*)*\]\]/g, '');
    out.set(title, t.split('\n').filter((l) => l && !'*#:;=|!{'.includes(l[0]!)).reduce((n, l) => n + (l.match(/。/g)?.length ?? 0), 0));
  }
  return out;
}
const titles = new Titles(defaultSiteInfo());
const sentencesOf = (w: string) => {
  const a = cleanArticle('T', w, titles);
  return a.sentStart.map((s, i) => Array.from(a.text).slice(s, s + a.sentLen[i]!).join(''));
};

test('。！？ end sentences and stay as written, closing quotes and brackets with their sentence; no space where a ref was cut between two characters', () => {
  assert.deepEqual(sentencesOf('第一句話。第二句話！第三句？「第四句。」第五句（注）。'), ['第一句話。', '第二句話！', '第三句？', '「第四句。」', '第五句（注）。']);
  assert.deepEqual(sentencesOf('研究[[數量]]<ref name="OED">{{cite web |url=x}}</ref>、[[数学结构|结构]]<ref>x</ref>、[[变化]]以及空间。它是一門學科。'), ['研究數量、结构、变化以及空间。', '它是一門學科。']);
  // a line break between two characters is no space; after an English word it is
  assert.deepEqual(sentencesOf('与应用的学科。<ref>{{Cite journal|title=C}}</ref>\n它通常被形容为科学。'), ['与应用的学科。', '它通常被形容为科学。']);
  assert.deepEqual(sentencesOf('It is a word\nand another. Next.'), ['It is a word and another.', 'Next.']);
  // links keep their offsets
  const a = cleanArticle('T', '数学是研究[[數量]]、[[结构]]的学科。[[古希臘]]人研究它。', titles);
  for (const l of a.links) assert.equal(Array.from(a.text).slice(l.offset!, l.offset! + Array.from(l.anchor).length).join(''), l.anchor);
  assert.equal(a.text, '数学是研究數量、结构的学科。古希臘人研究它。');
});

test('real zhwiki articles: every 。 kept, none rewritten as ". ", sentences end at 。！？ (under 2% with one inside), no space where refs were cut', async () => {
  const db = join(tmp(), 'zh.duckdb');
  const s = await ingest({ dump: ZH, db });
  assert.equal(s.articles, 6);
  const [r] = await query<{ stops: number; rewritten: number; sentences: number; inner: number }>(db, `
    WITH s AS (SELECT unnest(sent_start) AS st, unnest(sent_len) AS ln, text FROM articles), t AS (SELECT substr(text, st + 1, ln) AS sent FROM s)
    SELECT (SELECT sum(length(text) - length(replace(text, '。', '')))::INTEGER FROM articles) AS stops,
           (SELECT sum(len(regexp_extract_all(text, '\\p{Han}\\. ')))::INTEGER FROM articles) AS rewritten,
           count(*)::INTEGER AS sentences,
           count(*) FILTER (regexp_matches(sent, '[。！？][^」』”’）》〉】〕"'']'))::INTEGER AS inner
    FROM t`);
  // every 。 of the prose: as many as the wikitext holds outside refs, templates, tables, files and list lines
  const prose = proseFullStops(execFileSync('bzip2', ['-dc', ZH]).toString('utf8'));
  const kept = new Map((await query<{ title: string; n: number }>(db, "SELECT title, (length(text) - length(replace(text, '。', '')))::INTEGER AS n FROM articles")).map((x) => [x.title, x.n]));
  for (const [title, n] of prose) assert.ok(kept.get(title)! >= 0.95 * n, `${title}: ${kept.get(title)} 。 in the text, ${n} in the wikitext's prose`);
  assert.ok(r!.stops >= 860, `${r!.stops} 。 in the text`);
  assert.equal(r!.rewritten, 0);
  assert.ok(r!.inner / r!.sentences < 0.02, `${r!.inner} of ${r!.sentences} sentences hold a sentence end`);
  // 数学's first sentence, whose refs stood between 數量、结构、变化 and 空间
  const [m] = await query<{ t: string }>(db, "SELECT text AS t FROM articles WHERE title = '数学'");
  assert.ok(m!.t.includes('数学是利用符号语言研究數量、结构、变化以及空间等概念的一門学科'), m!.t.slice(0, 120));
  const [w] = await query<{ n: number }>(db, "SELECT count(*)::INTEGER AS n FROM links l JOIN articles a ON a.seq = l.src WHERE l.\"offset\" IS NOT NULL AND substr(a.text, l.\"offset\" + 1, length(l.anchor)) <> l.anchor");
  assert.equal(w!.n, 0, 'every placed link at its offset');
});

test('the sentence ends of other scripts wtf_wikipedia does not know end sentences before a space: Arabic ؟ and ۔, Devanagari ।, Armenian ։, Khmer ។, Myanmar ။', () => {
  assert.deepEqual(sentencesOf('ما هو هذا؟ هذا كتاب. وهذا قلم.'), ['ما هو هذا؟', 'هذا كتاب.', 'وهذا قلم.']);
  assert.deepEqual(sentencesOf('یہ ایک کتاب ہے۔ وہ ایک قلم ہے۔'), ['یہ ایک کتاب ہے۔', 'وہ ایک قلم ہے۔']);
  assert.deepEqual(sentencesOf('यह एक [[पुस्तक]] है। वह एक कलम है।'), ['यह एक पुस्तक है।', 'वह एक कलम है।']);
  assert.deepEqual(sentencesOf('Սա գիրք է։ Դա գրիչ է։'), ['Սա գիրք է։', 'Դա գրիչ է։']);
  // Khmer ។ and Myanmar ။
  assert.deepEqual(sentencesOf('នេះជាសៀវភៅ។ នោះជាប៊ិច។'), ['នេះជាសៀវភៅ។', 'នោះជាប៊ិច។']);
  assert.deepEqual(sentencesOf('ဒါစာအုပ်ပါ။ ဟိုဟာဘောပင်ပါ။'), ['ဒါစာအုပ်ပါ။', 'ဟိုဟာဘောပင်ပါ။']);
});

/** A page's prose: the wikitext without comments, refs, templates, tables, files, categories, list and heading lines. */
function prose(page: string): string {
  let t = /<text[^>]*>([\s\S]*?)<\/text>/.exec(page)![1]!.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&amp;/g, '&');
  t = t.replace(/<!--[\s\S]*?-->/g, '').replace(/<ref[^>]*\/>/g, '').replace(/<ref[\s\S]*?<\/ref>/g, '').replace(/<gallery[\s\S]*?<\/gallery>/g, '');
  for (let k = 0; k < 10; k++) t = t.replace(/\{\{[^{}]*\}\}/g, '');
  t = t.replace(/\{\|[\s\S]*?\|\}/g, '');
  for (let k = 0; k < 3; k++) t = t.replace(/\[\[[^[\]|]*:[^[\]]*\.(?:jpe?g|png|svg|gif|tiff?)\b[^[\]]*(?:\[\[[^\]]*\]\][^[\]]*)*\]\]/gi, '');
  return t.split('\n').filter((l) => l && !'*#:;=|!{'.includes(l[0]!)).join('\n');
}
const UNSPACED_PAIR = /([\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Thai}]) ([\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Thai}])/gu;

test('real ja, ar, fa, hi and th articles: their sentence marks kept (。！？ ؟ ।), no space put between two characters of an unspaced script, under 2% of sentences with a sentence end inside', async () => {
  const marks: Record<string, RegExp> = { ja: /[。！？]/g, ar: /[؟]/g, fa: /[؟]/g, hi: /[।]/g, th: /[!?]/g };
  for (const [code, mark] of Object.entries(marks)) {
    const file = join(ROOT, `test/fixtures/wikis/${code}wiki-excerpt.xml.bz2`);
    const xml = execFileSync('bzip2', ['-dc', file]).toString('utf8');
    const source = prose(xml.split('<page>')[1]!);
    const db = join(tmp(), `${code}.duckdb`);
    await ingest({ dump: file, db, workers: 1 });
    const [a] = await query<{ text: string }>(db, 'SELECT text FROM articles');
    const inSource = source.match(mark)?.length ?? 0;
    const inText = a!.text.match(mark)?.length ?? 0;
    assert.ok(inText >= 0.95 * inSource, `${code}: ${inText} sentence marks in the text, ${inSource} in the wikitext's prose`);
    // a space between two characters of an unspaced script only where the wikitext has one
    // (the wikitext as a reader sees its characters: no refs, links' anchors, no quote marks, runs of white space as one)
    const raw = /<text[^>]*>([\s\S]*?)<\/text>/.exec(xml)![1]!.replace(/&lt;ref[^&]*?\/&gt;|&lt;ref[\s\S]*?&lt;\/ref&gt;/g, '').replace(/&amp;nbsp;|&nbsp;/g, ' ').replace(/\[\[(?:[^|\]]*\|)?/g, '').replace(/\]\]|'{2,}/g, '').replace(/\s+/g, ' ');
    const inserted = [...a!.text.matchAll(UNSPACED_PAIR)].filter((m) => !raw.includes(m[0]));
    assert.ok(inserted.length <= 2, `${code}: spaces put between two characters: ${inserted.map((m) => m[0]).join(', ')}`);
    const sentences = await query<{ s: string }>(db, 'WITH s AS (SELECT unnest(sent_start) AS st, unnest(sent_len) AS ln, text FROM articles) SELECT substr(text, st + 1, ln) AS s FROM s');
    const inner = sentences.filter(({ s }) => /[。！？؟।]\s*[^\s」』”’）》〉】〕"'»)\]]/u.test(s.replace(/[。！？؟।]["”’»)\]」』）]*$/u, ''))).length;
    assert.ok(inner < 0.02 * sentences.length, `${code}: ${inner} of ${sentences.length} sentences hold a sentence end inside`);
  }
});
