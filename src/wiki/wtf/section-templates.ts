/**
 * wtf_wikipedia's `template/index.js` (a section's `{{templates}}` parsed out), skipped where it
 * would find nothing: a section whose text has no `{{`. Ingest's worker bundle takes this module in
 * its place (src/util/bundle.js); test/wtf-replaced.test.ts checks whole documents come out the same.
 */
// @ts-ignore: a module of the package's sources, without types
import wtfTemplates from '../../../node_modules/wtf_wikipedia/src/template/index.js';

interface SectionLike {
  _wiki: string;
  _infoboxes?: unknown[];
  _references?: unknown[];
  _templates?: unknown[];
}

export default function parseTemplates(section: SectionLike, doc: unknown): void {
  if (section._wiki.includes('{{')) return (wtfTemplates as (s: SectionLike, d: unknown) => void)(section, doc);
  // what wtf's leaves when it finds no template: the lists there, or empty ones
  section._infoboxes ||= [];
  section._references ||= [];
  section._templates ||= [];
}
