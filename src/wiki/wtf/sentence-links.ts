/**
 * wtf_wikipedia's `link/index.js` (a sentence's links taken out, each replaced by its text), made
 * cheap for the sentences ingest gives it: there every `[[…]]` is one of our link markers,
 * `[[Lk12|anchor]]` (src/wiki/wikilinks.ts), and wtf's general link parser spends half a dozen
 * regular expressions on each. A sentence whose every `[` opens such a marker gets the links wtf's
 * would make, from one sticky match per marker; any other sentence goes to wtf's own. Ingest's
 * worker bundle takes this module in its place (src/util/bundle.js); test/wtf-replaced.test.ts
 * checks the two give the same.
 */
import { upstream } from './upstream.ts';

// the package's own modules, as the replacements hand work on to them
const { default: wtfGetLinks } = (await upstream('link/index.js')) as { default: any };
const { default: Link } = (await upstream('link/Link.js')) as { default: any };

interface SentenceData {
  text: string;
  links?: unknown[];
}
interface RawLink {
  page: string;
  raw: string;
  text?: string;
}

/**
 * A marker at lastIndex and the letters after it (wtf's link pattern takes `[a-z]+` with the `i`
 * flag as the link's trail). The anchor holds no bracket, pipe or line break and stays well inside
 * the lengths wtf's patterns allow (1000 characters), so wtf would read the marker the same way.
 */
const MARKER_AT = /\[\[(Lk\d+)\|([^[\]|\n\r\u2028\u2029]{0,1000})\]\]([A-Za-z]*)/y;

/** The links wtf's parser finds in `text` (and where each stands), or null when it holds anything but markers. */
function markerLinks(text: string, at: number[]): RawLink[] | null {
  const links: RawLink[] = [];
  for (let i = text.indexOf('['); i >= 0; i = text.indexOf('[', MARKER_AT.lastIndex)) {
    MARKER_AT.lastIndex = i;
    const m = MARKER_AT.exec(text);
    if (!m) return null;
    const [raw, page, anchor, trail] = m as unknown as [string, string, string, string];
    at.push(i);
    const link: RawLink = { page, raw };
    if (anchor !== page) link.text = anchor;
    if (trail) link.text = (link.text || page) + trail;
    if (link.text?.startsWith(':')) link.text = link.text.slice(1);
    links.push(link);
  }
  return links;
}

export default function getLinks(data: SentenceData): void {
  const at: number[] = [];
  const found = markerLinks(data.text, at);
  if (found === null) return (wtfGetLinks as (d: SentenceData) => void)(data);
  const shown = (link: RawLink) => link.text || link.page || '';
  data.links = found.map((link) => new (Link as new (l: RawLink) => unknown)(link));
  if (found.some((link) => shown(link).includes('$'))) {
    // wtf replaces each marker's first occurrence in turn, `$` patterns and all: so here too
    let wiki = data.text;
    for (const link of found) wiki = wiki.replace(link.raw, shown(link));
    data.text = wiki;
    return;
  }
  // Without `$`, that first occurrence is the marker's own place: markers are unique, and neither
  // the text between them nor what replaces them holds a `[` to make another. One pass, where a
  // replace per marker took time in the square of a paragraph of a million links.
  const parts: string[] = [];
  let from = 0;
  found.forEach((link, k) => {
    parts.push(data.text.slice(from, at[k]), shown(link));
    from = at[k]! + link.raw.length;
  });
  parts.push(data.text.slice(from));
  data.text = parts.join('');
}
