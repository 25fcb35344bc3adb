/**
 * wtf_wikipedia's `04-sentence/index.js` (a sentence made from its wikitext; a paragraph's
 * sentences), the same steps with the clean-up after links looked for only where it can apply:
 * empty parentheses only where there is a `(`, a space before the final period only where the text
 * ends so. It takes the other replacements directly. Ingest's worker bundle takes this module in
 * its place (src/util/bundle.js); test/wtf-replaced.test.ts checks the two give the same.
 */
import { upstream } from './upstream.ts';
import formatting from './formatting.ts';
import { trim_whitespace } from './helpers.ts';
import sentenceParser from './sentence-split.ts';
import getLinks from './sentence-links.ts';

// the package's own modules, as the replacements hand work on to them
const { default: Sentence } = (await upstream('04-sentence/Sentence.js')) as { default: any };

interface SentenceLike {
  text(): string;
}

/** What is left of a sentence's text once its links are taken out: empty parentheses, stray spaces. */
function postprocess(line: string): string {
  if (line.includes('(')) line = line.replace(/\([,;: ]*\)/g, '').replace(/\( *(; ?)+/g, '(');
  line = trim_whitespace(line);
  return line.endsWith(' .') ? line.replace(/ +\.$/, '.') : line;
}

export function fromText(str: string): SentenceLike {
  const obj: { wiki: string; text: string; links?: unknown[] } = { wiki: str, text: str };
  getLinks(obj);
  obj.text = postprocess(obj.text);
  return new (Sentence as new (d: object) => SentenceLike)(formatting(obj));
}

export function byParagraph(paragraph: { wiki: string; sentences?: SentenceLike[] }): void {
  let sentences = sentenceParser(paragraph.wiki).map(fromText);
  // an indented first line (`:…`) is most often a hatnote
  if (sentences[0]?.text()?.[0] === ':') sentences = sentences.slice(1);
  paragraph.sentences = sentences;
}
