/**
 * What wtf_wikipedia's `01-document/preProcess/kill_xml.js` returns, without its dozen passes over
 * a text that has no tag: ingest's worker bundle takes this module in its place (src/util/bundle.js).
 * Every pattern it removes or rewrites starts with `<`, so on a text without one it only trims;
 * after our rewrite, half of what wtf is given (83% of the bench's articles) has none.
 * test/wtf-replaced.test.ts checks the two give the same.
 */
import { upstream } from './upstream.ts';

// the package's own modules, as the replacements hand work on to them
const { default: wtfKillXml } = (await upstream('01-document/preProcess/kill_xml.js')) as { default: any };

const killXml = wtfKillXml as (wiki: string) => string;

export default function kill_xml(wiki: string): string {
  return wiki.includes('<') ? killXml(wiki) : wiki.trim();
}
