/**
 * Sixteen wikis' real articles (test/fixtures/wikis, source and licence in its README), read as a dump
 * with its siteinfo, without one but with --lang, and without either: local namespace names and
 * aliases are resolved (a file link is no text, a category no link), no image option, `''` or tag
 * is left in the text, and the three readings give the same text.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { defaultSiteInfo, withLanguage } from '../src/dump/siteinfo.ts';
import { ingest } from '../src/ingest/ingest.ts';
import { cleanArticle } from '../src/wiki/clean.ts';
import { languageNames } from '../src/wiki/namespaces.ts';
import { Titles } from '../src/wiki/title.ts';
import { cli, query, ROOT, tmp } from './helpers.ts';

const DIR = join(ROOT, 'test/fixtures/wikis');
const WIKIS = readdirSync(DIR).filter((f) => f.endsWith('wiki-excerpt.xml.bz2')).sort();

interface Reading {
  text: string;
  links: string;
  targets: string[];
  sentences: string[];
}

async function read(dump: string, lang?: string): Promise<Reading> {
  const db = join(tmp(), 'w.duckdb');
  await ingest({ dump, db, lang, workers: 1 });
  const [a] = await query<{ text: string }>(db, 'SELECT string_agg(text, \'\n\' ORDER BY seq) AS text FROM articles');
  const links = await query<{ l: string; target: string }>(db, `SELECT concat_ws('|', src, target, "offset", anchor, origin) AS l, target FROM links ORDER BY src, "offset" NULLS LAST, target, anchor, origin`);
  const sentences = await query<{ s: string }>(db, `WITH s AS (SELECT unnest(sent_start) AS st, unnest(sent_len) AS ln, text FROM articles) SELECT substr(text, st + 1, ln) AS s FROM s`);
  return { text: a!.text, links: links.map((r) => r.l).join('\n'), targets: links.map((r) => r.target), sentences: sentences.map((r) => r.s) };
}

test('sixteen wikis, with a siteinfo, without one but with --lang, without either: the same clean text, no namespace name, image option, markup or tag in it; file and category links are not links', async () => {
  assert.ok(WIKIS.length >= 10, 'at least ten wikis');
  const report: string[] = [];
  for (const file of WIKIS) {
    const code = file.replace('wiki-excerpt.xml.bz2', '');
    const xml = execFileSync('bzip2', ['-dc', join(DIR, file)]).toString('utf8');
    const bare = join(tmp(), `${code}.xml`);
    writeFileSync(bare, xml.replace(/<siteinfo>[\s\S]*?<\/siteinfo>\n/, ''));
    const site = await read(join(DIR, file));
    const lang = await read(bare, code);
    const none = await read(bare);
    assert.ok(site.text.length > 2000, `${code}: an article's text`);
    assert.equal(lang.text, site.text, `${code}: --lang reads the page as its siteinfo does`);
    assert.equal(lang.links, site.links, `${code}: the same links, at the same offsets`);
    assert.equal(none.text, site.text, `${code}: without siteinfo or --lang, other languages' file and category names are still recognised`);

    const names = languageNames(code);
    const fileOrCategory = [...(names['6'] ?? []), ...(names['14'] ?? []), 'File', 'Image', 'Category'];
    for (const n of fileOrCategory) assert.ok(!site.text.includes(`${n}:`), `${code}: "${n}:" is not in the text`);
    assert.doesNotMatch(site.text, /\||''|\[\[|\]\]|\{\{|\}\}|<\/?[a-z][a-z0-9]*[\s>/]|\b\d+px\b|\bthumb\b/iu, `${code}: no markup, tag or image option in the text`);
    // a file or category is a link only where the wikitext links to its page (`[[:Kategorie:…]]`)
    const prefixes = new Set(fileOrCategory.map((n) => n.toLowerCase()));
    for (const t of site.targets) {
      const colon = t.indexOf(':');
      if (colon > 0 && prefixes.has(t.slice(0, colon).toLowerCase())) assert.ok(xml.includes(`[[:${t.slice(0, colon)}:`), `${code}: ${t} is linked as a page in the wikitext`);
    }
    const longest = Math.max(...site.sentences.map((s) => [...s].length));
    assert.ok(longest <= 2000, `${code}: no sentence over 2,000 characters (${longest})`);
    const lower = site.sentences.filter((s) => /^\p{Ll}/u.test(s)).length;
    // a cut at an ordinal or abbreviation (`1949. gadā`, `621 tys. cudzoziemców`, `70 χλμ. από`) starts the next in lower case
    assert.ok(lower <= 0.02 * site.sentences.length, `${code}: ${lower} of ${site.sentences.length} sentences start in lower case`);
    report.push(`${code} ${site.sentences.length} sentences, ${((100 * lower) / site.sentences.length).toFixed(1)}% lower-case starts, longest ${longest}`);
  }
  console.log(report.join('\n'));
});

test('a language\'s namespace names: input without a siteinfo gets them (--lang), a siteinfo gets the aliases it does not list', () => {
  const de = new Titles(defaultSiteInfo('de'));
  assert.deepEqual(de.normalize('bild:Foo.jpg'), { title: 'Datei:Foo.jpg', ns: 6, fragment: null });
  assert.deepEqual(de.normalize('Kategorie:Philosoph'), { title: 'Kategorie:Philosoph', ns: 14, fragment: null });
  assert.deepEqual(de.normalize('Vorlage:Infobox'), { title: 'Vorlage:Infobox', ns: 10, fragment: null });
  assert.equal(de.normalize('File:Foo.jpg').title, 'Datei:Foo.jpg', 'the English names hold on every wiki');
  // a zhwiki siteinfo names the category namespace `Category`; `分類` and `分类` are its aliases
  const zhSite = { ...defaultSiteInfo(), dbname: 'zhwiki', fromDump: true };
  const zh = new Titles(zhSite);
  assert.deepEqual(zh.normalize('分類:数学'), { title: 'Category:数学', ns: 14, fragment: null });
  assert.equal(zh.normalize('圖像:X.png').ns, 6);
  // --lang on a siteinfo keeps the siteinfo's names
  assert.equal(new Titles(withLanguage(zhSite, 'zh')).normalize('分类:数学').title, 'Category:数学');
  // English input without a siteinfo: `Kategorie:` is no namespace of its own
  assert.equal(new Titles(defaultSiteInfo()).normalize('Kategorie:Foo').ns, 0);
});

test('another language\'s file link is a file where it looks like one; its category name is a category only where the names are guesses', () => {
  const text = (w: string, titles: Titles) => cleanArticle('T', w, titles).text;
  const ltg = new Titles({ ...defaultSiteInfo(), dbname: 'ltgwiki', fromDump: true });
  // Latgalian pages copied from Latvian keep `Attēls:`, which ltgwiki's own names do not include
  assert.equal(text('Rīga ir piļsāta.[[Attēls:Riga.jpg|thumb|250px|Rīgys skots]] Jei ir lela.', ltg), 'Rīga ir piļsāta. Jei ir lela.');
  assert.equal(text('[[Datei:Karte.png]]Berlin ist eine Stadt.', ltg), 'Berlin ist eine Stadt.');
  // a link whose prefix is some language's file name but nothing else of a file stays a link
  const a = cleanArticle('T', 'See [[Bild: Die Zeitung]] today.', new Titles({ ...defaultSiteInfo(), dbname: 'enwiki', fromDump: true }));
  assert.equal(a.text, 'See Bild: Die Zeitung today.');
  assert.deepEqual(a.links.map((l) => l.target), ['Bild: Die Zeitung']);
  // categories: a guess only without a siteinfo and --lang
  const guessed = cleanArticle('T', 'Paris est une ville.\n\n[[Catégorie:Ville de France]]', new Titles(defaultSiteInfo()));
  assert.equal(guessed.text, 'Paris est une ville.');
  assert.equal(guessed.links.length, 0);
  const en = cleanArticle('T', 'A [[Kategorie:Foo|band]] from Berlin.', new Titles({ ...defaultSiteInfo(), dbname: 'enwiki', fromDump: true }));
  assert.equal(en.text, 'A band from Berlin.');
  assert.deepEqual(en.links.map((l) => l.target), ['Kategorie:Foo']);
});

test('--lang: an unknown code is refused before anything is written; a database ingested with another --lang is not resumed into', async () => {
  const d = tmp();
  const bad = await cli(['ingest', '--dump', join(DIR, 'dewiki-excerpt.xml.bz2'), '--db', join(d, 'x.duckdb'), '--lang', 'xx-nowhere']);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /--lang xx-nowhere: not a Wikipedia language code this version knows \(such as [a-z, -]+\)/);
  assert.ok(!readdirSync(d).length, 'nothing written');
  const db = join(d, 'de.duckdb');
  assert.equal((await cli(['ingest', '--dump', join(DIR, 'dewiki-excerpt.xml.bz2'), '--db', db, '--lang', 'de'])).code, 0);
  const other = await cli(['ingest', '--dump', join(DIR, 'dewiki-excerpt.xml.bz2'), '--db', db, '--lang', 'fr']);
  assert.equal(other.code, 1);
  assert.match(other.stderr, /ingested with --lang de; rerun with --lang de, or pass --force/);
  const [r] = await query<{ settings: string }>(db, "SELECT settings FROM runs WHERE stage = 'ingest'");
  assert.equal(JSON.parse(r!.settings).lang, 'de', 'the setting is recorded');
});

test('where ordinals take a full stop (de, lv, fi, …) a number and full stop before a lower-case word ends no sentence; elsewhere a year does', () => {
  const sentences = (w: string, ordinalDot: boolean) => {
    const a = cleanArticle('T', w, new Titles(defaultSiteInfo()), { ordinalDot });
    return a.sentStart.map((s, i) => Array.from(a.text).slice(s, s + a.sentLen[i]!).join(''));
  };
  const lv = 'Pēc kara no 1949. līdz 1990. gadam Berlīne tika sadalīta. Mūris krita 1989. gada 9. novembrī.';
  assert.deepEqual(sentences(lv, true), ['Pēc kara no 1949. līdz 1990. gadam Berlīne tika sadalīta.', 'Mūris krita 1989. gada 9. novembrī.']);
  // in Akan sentences may start in lower case, often after a year: a year's full stop ends them there
  assert.deepEqual(sentences('Wɔwoo no wɔ 1957. ɔyɛɛ ɔhene.', false), ['Wɔwoo no wɔ 1957.', 'ɔyɛɛ ɔhene.']);
  // abbreviations of several languages, whatever the language
  assert.deepEqual(sentences('W 2015 Berlin zamieszkiwało 621 tys. cudzoziemców. Policja odnotowała 11,5 tys. włamań.', false), ['W 2015 Berlin zamieszkiwało 621 tys. cudzoziemców.', 'Policja odnotowała 11,5 tys. włamań.']);
});
