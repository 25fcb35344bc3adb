/**
 * wtf_wikipedia's `02-section/start-to-end/index.js` (election boxes, galleries, math, sports
 * logs), skipped where it would find nothing: each of them starts with `{{` or `<`. Ingest's worker
 * bundle takes this module in its place (src/util/bundle.js); test/wtf-replaced.test.ts checks
 * whole documents come out the same.
 */
import { upstream } from './upstream.ts';

// the package's own modules, as the replacements hand work on to them
const { default: wtfStartEnd } = (await upstream('02-section/start-to-end/index.js')) as { default: any };

export default function xmlTemplates(section: { _wiki: string }, doc: unknown): { templates: unknown[]; text: string } {
  const w = section._wiki;
  if (w.includes('{{') || w.includes('<')) return (wtfStartEnd as (s: unknown, d: unknown) => { templates: unknown[]; text: string })(section, doc);
  return { templates: [], text: w };
}
