/**
 * wtf_wikipedia's `template/index.js` (a section's `{{templates}}` parsed out), skipped where it
 * would find nothing: a section whose text has no `{{`. Ingest's worker bundle takes this module in
 * its place (src/util/bundle.js); test/wtf-replaced.test.ts checks whole documents come out the same.
 */
import { upstream } from './upstream.ts';

// the package's own modules, as the replacements hand work on to them
const { default: wtfTemplates } = (await upstream('template/index.js')) as { default: any };

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
