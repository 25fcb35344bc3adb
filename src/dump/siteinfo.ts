/** What a dump's <siteinfo> says about the wiki; needed to normalise titles the way the wiki does. */

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
  /** false when the dump had no <siteinfo> and these are English defaults */
  fromDump: boolean;
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

export function defaultSiteInfo(): SiteInfo {
  return {
    sitename: null,
    dbname: null,
    base: null,
    generator: null,
    case: 'first-letter',
    namespaces: Object.entries(CANONICAL_NAMESPACES).map(([k, name]) => ({
      key: Number(k),
      name: Number(k) === 4 ? 'Wikipedia' : Number(k) === 5 ? 'Wikipedia talk' : name,
      case: 'first-letter' as CaseSetting,
    })),
    fromDump: false,
  };
}
