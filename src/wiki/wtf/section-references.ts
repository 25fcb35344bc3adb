/**
 * wtf_wikipedia's `reference/index.js` (a section's `<ref>` tags parsed out), skipped where it
 * would find nothing: every pattern it removes starts with `<`. Ingest's worker bundle takes this
 * module in its place (src/util/bundle.js); test/wtf-replaced.test.ts checks whole documents come out
 * the same.
 */
import { upstream } from './upstream.ts';

// the package's own modules, as the replacements hand work on to them
const { default: wtfReferences } = (await upstream('reference/index.js')) as { default: any };

export default function parseReferences(section: { _wiki: string; _references?: unknown[] }): void {
  if (section._wiki.includes('<')) return (wtfReferences as (s: unknown) => void)(section);
  section._references = []; // wtf's sets the references it found, none
}
