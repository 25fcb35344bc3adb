/**
 * What wtf_wikipedia's `image/nested_find.js` returns, made without its cost: ingest's worker
 * bundle takes this module in its place (src/util/bundle.js). wtf calls it on every paragraph to
 * find images; it splits the whole paragraph into an array of one-character strings first, which
 * made it, with the garbage, about a tenth of an ingest worker's CPU (our link markers put `[[`
 * in most paragraphs). test/wtf-replaced.test.ts checks the two give the same on every shared
 * article and on random bracket strings.
 *
 * The result, as wtf's: each run of text from a `[` at the top level to the `]` that balances it,
 * in order, and each `]` met at the top level alone as `"]"`. A `[` never balanced ends the search.
 */
export default function nestedFind(text: string): string[] {
  const out: string[] = [];
  const n = text.length;
  let open = text.indexOf('[');
  let close = text.indexOf(']');
  let i = 0;
  while (open >= 0 || close >= 0) {
    if (close >= 0 && (open < 0 || close < open)) {
      out.push(']');
      i = close + 1;
    } else {
      let depth = 0;
      let j = open;
      for (; j < n; j++) {
        const c = text.charCodeAt(j);
        if (c === 0x5b) depth++;
        else if (c === 0x5d && --depth === 0) break;
      }
      if (j >= n) break;
      out.push(text.slice(open, j + 1));
      i = j + 1;
    }
    if (open >= 0 && open < i) open = text.indexOf('[', i);
    if (close >= 0 && close < i) close = text.indexOf(']', i);
  }
  return out;
}
