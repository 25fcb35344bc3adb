/**
 * wtf_wikipedia's `02-section/start-to-end/index.js` (election boxes, galleries, math, sports
 * logs), skipped where it would find nothing: each of them starts with `{{` or `<`. Ingest's worker
 * bundle takes this module in its place (src/util/bundle.js); test/wtf-replaced.test.ts checks
 * whole documents come out the same.
 */
// @ts-ignore: a module of the package's sources, without types
import wtfStartEnd from '../../../node_modules/wtf_wikipedia/src/02-section/start-to-end/index.js';

export default function xmlTemplates(section: { _wiki: string }, doc: unknown): { templates: unknown[]; text: string } {
  const w = section._wiki;
  if (w.includes('{{') || w.includes('<')) return (wtfStartEnd as (s: unknown, d: unknown) => { templates: unknown[]; text: string })(section, doc);
  return { templates: [], text: w };
}
