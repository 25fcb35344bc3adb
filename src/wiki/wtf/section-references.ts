/**
 * wtf_wikipedia's `reference/index.js` (a section's `<ref>` tags parsed out), skipped where it
 * would find nothing: every pattern it removes starts with `<`. Ingest's worker bundle takes this
 * module in its place (src/util/bundle.js); test/wtf-replaced.test.ts checks whole documents come out
 * the same.
 */
// @ts-ignore: a module of the package's sources, without types
import wtfReferences from '../../../node_modules/wtf_wikipedia/src/reference/index.js';

export default function parseReferences(section: { _wiki: string; _references?: unknown[] }): void {
  if (section._wiki.includes('<')) return (wtfReferences as (s: unknown) => void)(section);
  section._references = []; // wtf's sets the references it found, none
}
