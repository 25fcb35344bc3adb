/**
 * wtf_wikipedia's `table/index.js` (a section's `{| tables |}` parsed out), skipped where it would
 * find nothing: a table opens with `{|`. Ingest's worker bundle takes this module in its place
 * (src/util/bundle.js); test/wtf-replaced.test.ts checks whole documents come out the same.
 */
import { upstream } from './upstream.ts';

// the package's own modules, as the replacements hand work on to them
const { default: wtfTables } = (await upstream('table/index.js')) as { default: any };

export default function parseTables(section: { _wiki: string }): void {
  if (section._wiki.includes('{|')) (wtfTables as (s: unknown) => void)(section);
}
