/** What a dump's <siteinfo> says about the wiki; needed to normalise titles the way the wiki does. */
import { languageNames } from '../wiki/namespaces.js';

export type CaseSetting = 'first-letter' | 'case-sensitive';

export interface Namespace {
  key: number;
  name: string; // '' for the main namespace
  case: CaseSetting;
}

export interface SiteInfo {
  sitename: string | null;
  dbname: string | null;
  base: string | null;
  generator: string | null;
  case: CaseSetting;
  namespaces: Namespace[];
  /** false when the dump had no <siteinfo> and these are defaults (English, or `lang`'s names) */
  fromDump: boolean;
  /**
   * The wiki's language as `--lang` gave it (de, zh-yue): its namespace aliases are added to the
   * siteinfo's names, and input without a siteinfo gets its namespace names. Absent: the language
   * the dbname or base says (siteLanguage).
   */
  lang?: string;
}

// MediaWiki's canonical namespace names, used when a dump has no <siteinfo> (some excerpts don't)
// and as aliases on every wiki, since links may use the English name on a localised wiki.
export const CANONICAL_NAMESPACES: Record<number, string> = {
  [-2]: 'Media',
  [-1]: 'Special',
  0: '',
  1: 'Talk',
  2: 'User',
  3: 'User talk',
  4: 'Project',
  5: 'Project talk',
  6: 'File',
  7: 'File talk',
  8: 'MediaWiki',
  9: 'MediaWiki talk',
  10: 'Template',
  11: 'Template talk',
  12: 'Help',
  13: 'Help talk',
  14: 'Category',
  15: 'Category talk',
  100: 'Portal',
  101: 'Portal talk',
  828: 'Module',
  829: 'Module talk',
};

/** Aliases MediaWiki accepts everywhere (Image: is the old name of File:). */
export const NAMESPACE_ALIASES: Record<string, number> = {
  image: 6,
  'image talk': 7,
  wp: 4,
  wikipedia: 4,
  'wikipedia talk': 5,
};

/** What input without a siteinfo is read with: English names, or the names of `lang` where it has them. */
export function defaultSiteInfo(lang?: string): SiteInfo {
  const local = languageNames(lang);
  const site: SiteInfo = {
    sitename: null,
    dbname: null,
    base: null,
    generator: null,
    case: 'first-letter',
    namespaces: Object.entries(CANONICAL_NAMESPACES).map(([k, name]) => ({
      key: Number(k),
      name: local[k]?.[0] ?? (Number(k) === 4 ? 'Wikipedia' : Number(k) === 5 ? 'Wikipedia talk' : name),
      case: 'first-letter' as CaseSetting,
    })),
    fromDump: false,
  };
  return lang ? { ...site, lang } : site;
}

/** `site` read as the wiki of `lang` (--lang): a siteinfo's names stay, input without one gets the language's. */
export function withLanguage(site: SiteInfo, lang: string | undefined): SiteInfo {
  if (!lang) return site;
  return site.fromDump ? { ...site, lang } : { ...defaultSiteInfo(lang), sitename: site.sitename, dbname: site.dbname, base: site.base, generator: site.generator, case: site.case };
}
