/**
 * The clean text against an independent reading of the same wikitext: the text passages, found
 * here with plain regular expressions and none of the pipeline's code (no wtf_wikipedia, no link
 * scanner). Per article, lower-cased words as multisets: what the clean text shares with that
 * reading, as a share of each.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { decodeHTMLStrict } from 'entities';
import { defaultSiteInfo } from '../src/dump/siteinfo.ts';
import { cleanArticle } from '../src/wiki/clean.ts';
import { Titles } from '../src/wiki/title.ts';
import { NO_SHARED, SAMPLE, SHARED } from './helpers.ts';

const APPARATUS = /^(see also|references|notes|external links|further reading|bibliography|sources|footnotes|citations|notes and references|works cited)$/i;

/** The text passages of an article, read independently: a reference for the clean text's words. */
function passages(wikitext: string): string {
  let s = wikitext.replace(/<!--[\s\S]*?-->/g, '');
  s = s.replace(/<ref[^>]*\/>/gi, '').replace(/<ref[^>]*>[\s\S]*?<\/ref\s*>/gi, '');
  s = s.replace(/<(gallery|math|timeline|score|syntaxhighlight|source|pre|nowiki)[^>]*>[\s\S]*?<\/\1\s*>/gi, '');
  for (let prev = ''; prev !== s; ) (prev = s), (s = s.replace(/\{\{[^{}]*\}\}/g, ''));
  for (let prev = ''; prev !== s; ) (prev = s), (s = s.replace(/\{\|(?:(?!\{\|)[\s\S])*?\|\}/g, ''));
  // links to their anchors, innermost first; files and categories out with their captions
  for (let prev = ''; prev !== s; ) {
    prev = s;
    s = s.replace(/\[\[(?:File|Image|Category|Media):[^[\]]*\]\]/gi, '');
    s = s.replace(/\[\[(?:[a-z-]{2,12}):[^[\]|]*\]\]/g, ''); // interlanguage
    s = s.replace(/\[\[([^[\]|]*)\|([^[\]]*)\]\]([a-z]*)/g, (_, t: string, a: string, trail: string) => (a.trim() ? a : t) + trail);
    s = s.replace(/\[\[([^[\]|]*)\]\]([a-z]*)/g, (_, t: string, trail: string) => t.replace(/^:/, '') + trail);
  }
  s = s.replace(/\[(?:https?:)?\/\/[^\s\]]+ ?([^\]]*)\]/g, '$1');
  const out: string[] = [];
  let apparatus = 0;
  for (const line of s.split('\n')) {
    const h = /^(=+)\s*(.*?)\s*=+\s*$/.exec(line);
    if (h) {
      if (apparatus && h[1]!.length <= apparatus) apparatus = 0;
      if (!apparatus && APPARATUS.test(h[2]!)) apparatus = h[1]!.length;
      continue;
    }
    if (apparatus || /^[*#:;|!{}]/.test(line)) continue;
    out.push(line);
  }
  return decodeHTMLStrict(out.join('\n').replace(/'''?/g, '').replace(/<[^>]*>/g, ' '));
}

const words = (s: string) => {
  const m = new Map<string, number>();
  for (const w of s.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []) m.set(w, (m.get(w) ?? 0) + 1);
  return m;
};
const total = (m: Map<string, number>) => [...m.values()].reduce((a, b) => a + b, 0);
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.floor((p / 100) * (xs.length - 1))]!;

function overlap(articles: [string, string][]): { recall: number[]; precision: number[] } {
  const titles = new Titles(defaultSiteInfo());
  const recall: number[] = [];
  const precision: number[] = [];
  for (const [title, wikitext] of articles) {
    const ref = words(passages(wikitext));
    const ours = words(cleanArticle(title, wikitext, titles).text);
    if (total(ref) < 20) continue; // stubs and pages that are all template: too few words to compare
    const shared = [...ours].reduce((t, [w, n]) => t + Math.min(n, ref.get(w) ?? 0), 0);
    recall.push(shared / total(ref));
    precision.push(total(ours) ? shared / total(ours) : 0);
  }
  return { recall, precision };
}

test('the clean text holds the words of the text passages and little else (sample)', () => {
  const xml = readFileSync(SAMPLE, 'utf8');
  const arts: [string, string][] = [];
  for (const page of xml.split('<page>').slice(1)) {
    if (!page.includes('<ns>0</ns>') || page.includes('<redirect')) continue;
    const title = /<title>(.*?)<\/title>/.exec(page)![1]!;
    const text = /<text[^>]*>([\s\S]*?)<\/text>/.exec(page)![1]!.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&amp;/g, '&');
    arts.push([title, text]);
  }
  const { recall, precision } = overlap(arts);
  assert.ok(recall.length >= 20);
  assert.ok(pct(recall, 10) >= 0.9, `recall, 10th percentile: ${pct(recall, 10)}`);
  assert.ok(pct(precision, 10) >= 0.9, `precision, 10th percentile: ${pct(precision, 10)}`);
});

test('the clean text holds the words of the text passages and little else (71 real articles)', { skip: NO_SHARED }, () => {
  const dir = join(SHARED, 'wikitext');
  const arts = readdirSync(dir).map((f) => [f.replace(/\.txt$/, '').replace(/[-_]/g, ' '), readFileSync(join(dir, f), 'utf8')] as [string, string]);
  const { recall, precision } = overlap(arts.filter(([, w]) => !w.includes('&lt;ref'))); // one fixture holds its markup escaped
  console.log(`${recall.length} articles: recall p10 ${pct(recall, 10).toFixed(3)} median ${pct(recall, 50).toFixed(3)}; precision p10 ${pct(precision, 10).toFixed(3)} median ${pct(precision, 50).toFixed(3)}`);
  assert.ok(pct(recall, 10) >= 0.9, `recall, 10th percentile: ${pct(recall, 10)}`);
  assert.ok(pct(precision, 10) >= 0.9, `precision, 10th percentile: ${pct(precision, 10)}`);
  assert.ok(pct(recall, 50) >= 0.97 && pct(precision, 50) >= 0.97);
});
