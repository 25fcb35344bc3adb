#!/usr/bin/env node
/**
 * Builds src/wiki/data/namespaces.json, the namespace names, aliases and image options of every
 * Wikipedia language, from the answers of each wiki's API to
 *   api.php?action=query&meta=siteinfo&siprop=namespaces|namespacealiases|magicwords&format=xml
 * saved as DIR/<code>wiki-configuration.xml (the form DBpedia's extraction framework keeps them in,
 * core/src/main/settings/). Usage: node scripts/namespace-table.mjs DIR [OUT]
 *
 * Per language it keeps what differs from MediaWiki's English defaults (which the code has anyway):
 * each namespace's local name first, then its aliases; and the image options a file link may carry
 * (`miniatur`, `$1px`, `hochkant=$1`, …), `$1` standing for a value.
 */
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const [dir, out = new URL('../src/wiki/data/namespaces.json', import.meta.url).pathname] = process.argv.slice(2);
if (!dir) {
  console.error('usage: node scripts/namespace-table.mjs DIR_OF_SITEINFO_XML [OUT]');
  process.exit(2);
}

const ENGLISH = new Set(['media', 'special', 'talk', 'user', 'user talk', 'project', 'project talk', 'file', 'file talk', 'mediawiki', 'mediawiki talk', 'template', 'template talk', 'help', 'help talk', 'category', 'category talk', 'portal', 'portal talk', 'module', 'module talk', 'image', 'image talk']);
// the image options of a file link ([[File:x.jpg|thumb|left|200px|caption]]); what else is a caption
const IMAGE_WORDS = /^img_(thumbnail|manualthumb|framed|frameless|left|right|center|none|upright|width|border|baseline|sub|super|top|text_top|middle|bottom|text_bottom|alt|link|page|lang|class)$/;
// wikis that are not a language edition of Wikipedia
const NOT_A_LANGUAGE = new Set(['commons', 'wikidata', 'mappings']);

const unescape = (s) => s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&#039;/g, "'").replace(/&amp;/g, '&');

const languages = {};
for (const file of readdirSync(dir).filter((f) => f.endsWith('wiki-configuration.xml')).sort()) {
  const code = file.slice(0, -'wiki-configuration.xml'.length);
  if (NOT_A_LANGUAGE.has(code)) continue;
  const xml = readFileSync(join(dir, file), 'utf8');
  const names = {};
  const add = (id, name) => {
    const n = unescape(name).replace(/_/g, ' ').trim();
    if (!n || ENGLISH.has(n.toLowerCase())) return;
    const list = (names[id] ??= []);
    if (!list.some((x) => x.toLowerCase() === n.toLowerCase())) list.push(n);
  };
  const nsBlock = /<namespaces>([\s\S]*?)<\/namespaces>/.exec(xml)?.[1] ?? '';
  for (const m of nsBlock.matchAll(/<ns [^>]*\bid="(-?\d+)"[^>]*?(?:\/>|>([^<]*)<\/ns>)/g)) if (m[1] !== '0' && m[2]) add(m[1], m[2]);
  const aliasBlock = /<namespacealiases>([\s\S]*?)<\/namespacealiases>/.exec(xml)?.[1] ?? '';
  for (const m of aliasBlock.matchAll(/<ns [^>]*\bid="(-?\d+)"[^>]*>([^<]*)<\/ns>/g)) add(m[1], m[2]);
  const image = [];
  for (const m of xml.matchAll(/<magicword name="(img_[a-z_]+)"[^>]*><aliases>([\s\S]*?)<\/aliases>/g)) {
    if (!IMAGE_WORDS.test(m[1])) continue;
    for (const a of m[2].matchAll(/<alias>([^<]*)<\/alias>/g)) {
      const w = unescape(a[1]).trim();
      if (w && !image.includes(w)) image.push(w);
    }
  }
  if (!Object.keys(names).length && !image.length) continue;
  languages[code] = { names, image };
}

// English image options hold on every wiki: kept once, under `en`
const english = new Set(languages.en?.image ?? []);
for (const [code, lang] of Object.entries(languages)) if (code !== 'en') lang.image = lang.image.filter((w) => !english.has(w));

const table = {
  source: 'each Wikipedia\'s API (siteinfo: namespaces, namespacealiases, magicwords) as saved in github.com/dbpedia/extraction-framework core/src/main/settings/*-configuration.xml; names from MediaWiki (GPL-2.0-or-later) and the wikis\' settings',
  languages,
};
writeFileSync(out, `${JSON.stringify(table)}\n`);
console.log(`${Object.keys(languages).length} languages -> ${out}`);
