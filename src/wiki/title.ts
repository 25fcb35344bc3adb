/**
 * Title normalisation as MediaWiki does it, for one wiki's namespaces and `case` setting.
 * The single implementation used by ingest (link targets, redirect targets) and graph.
 */
import { CANONICAL_NAMESPACES, NAMESPACE_ALIASES, type CaseSetting, type SiteInfo } from '../dump/siteinfo.js';
import { siteLanguage } from './interwiki.js';
import { languageNames } from './namespaces.js';

const NAMED_ENTITIES: Record<string, string> = {
  amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: '\u00a0', ndash: '\u2013', mdash: '\u2014',
  lrm: '\u200e', rlm: '\u200f', shy: '\u00ad', thinsp: '\u2009', ensp: '\u2002', emsp: '\u2003',
};

export function decodeEntities(s: string): string {
  if (!s.includes('&')) return s;
  return s.replace(/&(#[xX][0-9a-fA-F]+|#[0-9]+|[a-zA-Z]+);/g, (m, body: string) => {
    if (body[0] === '#') {
      const cp = body[1] === 'x' || body[1] === 'X' ? parseInt(body.slice(2), 16) : parseInt(body.slice(1), 10);
      return cp > 0 && cp <= 0x10ffff ? String.fromCodePoint(cp) : m;
    }
    return NAMED_ENTITIES[body] ?? NAMED_ENTITIES[body.toLowerCase()] ?? m;
  });
}

function upperFirst(s: string): string {
  if (!s) return s;
  const first = String.fromCodePoint(s.codePointAt(0)!);
  return first.toUpperCase() + s.slice(first.length);
}

// Whitespace MediaWiki folds to a single space in titles (incl. no-break and ideographic spaces),
// plus bidi marks and soft hyphens that it drops.
const SPACES = /[\s_\u00a0\u1680\u180e\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+/g;
const INVISIBLE = /[\u200e\u200f\u00ad]/g;

export interface NormalizedTitle {
  title: string; // '' when nothing is left (e.g. a bare '#fragment')
  ns: number;
  fragment: string | null;
}

/** Titles normalised lately, by their raw form: link targets repeat within and across articles. */
const CACHE_SIZE = 50_000;

/**
 * The same text in memory of its own. A substring (or a concatenation holding one) keeps the whole
 * string it was cut from alive: a cached link target would hold its article's whole wikitext (50k
 * of them added 180 MB to ingest's peak on the 6k bench). Prepending a character and slicing it
 * off makes V8 copy the text out (it flattens a concatenation before slicing it).
 */
function detached(s: string): string {
  return s.length < 13 ? s : `\0${s}`.slice(1); // V8 copies strings under 13 characters anyway
}

export class Titles {
  readonly case: CaseSetting;
  /** no siteinfo and no --lang: the namespace names are English defaults, other languages' are likely */
  readonly guessed: boolean;
  private readonly prefixes = new Map<string, { key: number; name: string; case: CaseSetting }>();
  private readonly cache = new Map<string, Readonly<NormalizedTitle>>();

  constructor(site: SiteInfo) {
    this.case = site.case;
    this.guessed = !site.fromDump && !siteLanguage(site);
    const byKey = new Map(site.namespaces.map((n) => [n.key, n]));
    const add = (alias: string, key: number) => {
      const ns = byKey.get(key);
      const entry = ns ?? { key, name: CANONICAL_NAMESPACES[key] ?? alias, case: site.case };
      const k = alias.toLowerCase().replace(SPACES, ' ').trim();
      if (k && !this.prefixes.has(k)) this.prefixes.set(k, entry);
    };
    for (const n of site.namespaces) if (n.key !== 0) add(n.name, n.key);
    // the language's names and aliases (a siteinfo lists one name per namespace), then English
    for (const [k, names] of Object.entries(languageNames(siteLanguage(site)))) for (const name of names) add(name, Number(k));
    for (const [k, name] of Object.entries(CANONICAL_NAMESPACES)) if (name) add(name, Number(k));
    for (const [alias, key] of Object.entries(NAMESPACE_ALIASES)) add(alias, key);
  }

  /** Namespace entry of a prefix such as 'category' (any case), or undefined. */
  namespaceByPrefix(prefix: string): { key: number; name: string } | undefined {
    return this.prefixes.get(prefix.replace(SPACES, ' ').trim().toLowerCase());
  }

  /** The title `raw` names, as MediaWiki normalises it (the same object again for the same text: not to be changed). */
  normalize(raw: string): Readonly<NormalizedTitle> {
    let n = this.cache.get(raw);
    if (n === undefined) {
      if (this.cache.size >= CACHE_SIZE) this.cache.clear();
      const { title, ns, fragment } = this.normalized(raw);
      n = Object.freeze({ title: detached(title), ns, fragment: fragment === null ? null : detached(fragment) });
      this.cache.set(detached(raw), n);
    }
    return n;
  }

  private normalized(raw: string): NormalizedTitle {
    let t = decodeEntities(raw).replace(INVISIBLE, '');
    let fragment: string | null = null;
    const hash = t.indexOf('#');
    if (hash >= 0) {
      fragment = t.slice(hash + 1).replace(SPACES, ' ').trim() || null;
      t = t.slice(0, hash);
    }
    t = t.replace(SPACES, ' ').trim();
    if (t.startsWith(':')) t = t.slice(1).trim();
    const colon = t.indexOf(':');
    if (colon > 0) {
      const ns = this.prefixes.get(t.slice(0, colon).trim().toLowerCase());
      if (ns) {
        let rest = t.slice(colon + 1).trim();
        if (ns.case === 'first-letter') rest = upperFirst(rest);
        return { title: rest ? `${ns.name}:${rest}` : '', ns: ns.key, fragment };
      }
    }
    return { title: this.case === 'first-letter' ? upperFirst(t) : t, ns: 0, fragment };
  }

  /** The normalised title as a string ('' if nothing is left). */
  title(raw: string): string {
    return this.normalize(raw).title;
  }

  /** Namespace of an already-normalised title. */
  namespaceOf(title: string): number {
    const colon = title.indexOf(':');
    if (colon <= 0) return 0;
    return this.prefixes.get(title.slice(0, colon).toLowerCase())?.key ?? 0;
  }
}
