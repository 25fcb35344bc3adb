/**
 * Every Wikipedia language's namespace names and aliases, and the image options a file link may
 * carry there (data/namespaces.json, made by scripts/namespace-table.mjs from each wiki's API; its
 * source and licence in data/README.md). A dump's siteinfo lists only each namespace's local name:
 * the aliases (`Bild:` for `Datei:`, `分類:` for `分类:`) and the names of input without a siteinfo
 * come from here.
 */
import { readFileSync } from 'node:fs';

interface Language {
  /** by namespace key: the local name first, then aliases (only what differs from the English names) */
  names: Record<string, string[]>;
  /** image options (`miniatur`, `$1px`, `hochkant=$1`); English ones are under `en` alone */
  image: string[];
}

let table: Record<string, Language> | null = null;
function languages(): Record<string, Language> {
  table ??= (JSON.parse(readFileSync(new URL('./data/namespaces.json', import.meta.url), 'utf8')) as { languages: Record<string, Language> }).languages;
  return table;
}

/** Whether the table knows `code` (a Wikipedia language code: de, zh-yue, be-tarask). */
export function isKnownLanguage(code: string): boolean {
  return Object.hasOwn(languages(), code);
}

/** Some of the codes, for a message. */
export function someLanguages(): string {
  return Object.keys(languages()).filter((c) => ['de', 'fr', 'ja', 'zh', 'zh-yue', 'ar', 'ru', 'es'].includes(c)).join(', ');
}

/** A language's names by namespace key, local name first (empty for an unknown code or English). */
export function languageNames(code: string | null | undefined): Record<string, string[]> {
  return (code && languages()[code]?.names) || {};
}

let anyFile: Set<string> | null = null;
let anyCategory: Set<string> | null = null;
let imageWords: Set<string> | null = null;
let imagePatterns: RegExp | null = null;

function union(key: string): Set<string> {
  const s = new Set<string>();
  // short Latin names (`K`, `U`, `CAT`) are too often the start of a real title; `分類` is not
  for (const l of Object.values(languages())) for (const n of l.names[key] ?? []) if ([...n].length >= (/^[\x00-\x7f]*$/.test(n) ? 4 : 2)) s.add(n.toLowerCase());
  return s;
}

/** Whether `prefix` names the file namespace in some language (`Datei`, `Attēls`, `ファイル`). */
export function isFileNameInAnyLanguage(prefix: string): boolean {
  anyFile ??= union('6');
  return anyFile.has(prefix.trim().toLowerCase());
}

/** Whether `prefix` names the category namespace in some language (`Kategorie`, `分類`). */
export function isCategoryNameInAnyLanguage(prefix: string): boolean {
  anyCategory ??= union('14');
  return anyCategory.has(prefix.trim().toLowerCase());
}

/** Whether a file link's parameter is an image option in some language (`thumb`, `miniatur`, `250px`, `hochkant=1.2`). */
export function isImageOption(param: string): boolean {
  if (!imageWords) {
    const all = Object.values(languages()).flatMap((l) => l.image);
    imageWords = new Set(all.filter((w) => !w.includes('$1')).map((w) => w.toLowerCase()));
    const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    const withValue = [...new Set(all.filter((w) => w.includes('$1')).map((w) => w.toLowerCase()))];
    imagePatterns = new RegExp(`^(?:${withValue.map((w) => w.split('$1').map(escape).join('.*')).join('|')})$`, 'su');
  }
  const p = param.trim().toLowerCase();
  return imageWords.has(p) || imagePatterns!.test(p);
}
