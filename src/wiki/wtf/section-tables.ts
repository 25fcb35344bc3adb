/**
 * wtf_wikipedia's `table/index.js` (a section's `{| tables |}` parsed out), skipped where it would
 * find nothing: a table opens with `{|`. Ingest's worker bundle takes this module in its place
 * (src/util/bundle.js); test/wtf-replaced.test.ts checks whole documents come out the same.
 */
// @ts-ignore: a module of the package's sources, without types
import wtfTables from '../../../node_modules/wtf_wikipedia/src/table/index.js';

export default function parseTables(section: { _wiki: string }): void {
  if (section._wiki.includes('{|')) (wtfTables as (s: unknown) => void)(section);
}
