/**
 * wtf_wikipedia's `04-sentence/formatting.js` (bold and italics taken out of a sentence), skipped
 * where it would find nothing: each of its patterns needs `''`. Ingest's worker bundle takes this
 * module in its place (src/util/bundle.js); test/wtf-replaced.test.ts checks the two give the same.
 */
import { upstream } from './upstream.ts';

// the package's own modules, as the replacements hand work on to them
const { default: wtfFormatting } = (await upstream('04-sentence/formatting.js')) as { default: any };

interface SentenceData {
  text?: string | null;
}

export default function formatting<T extends SentenceData>(obj: T): T {
  if (obj.text?.includes("''")) return (wtfFormatting as (o: T) => T)(obj);
  obj.text = obj.text || ''; // what wtf's sets when it finds no bold or italics
  return obj;
}
