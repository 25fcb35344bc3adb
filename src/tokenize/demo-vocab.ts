/**
 * A small WordPiece vocabulary made from a corpus, for the demo and tests (real runs use the model's
 * own vocabulary). Every character seen gets a token, alone and as a `##` continuation, so nothing
 * becomes [UNK]; then the most frequent words and word endings, ties broken by the string, so the
 * same corpus always gives the same vocabulary.
 */
import { bertNormalizer, bertPreTokenizer } from 'tokenizers';

export const DEMO_SPECIALS = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'];

export function buildDemoVocab(texts: Iterable<string>, size = 4000): string[] {
  const norm = bertNormalizer({ cleanText: true, handleChineseChars: true, lowercase: false });
  const pre = bertPreTokenizer();
  const words = new Map<string, number>();
  for (const t of texts) {
    for (const [w] of pre.preTokenizeString(norm.normalizeString(t))) words.set(w, (words.get(w) ?? 0) + 1);
  }
  const chars = new Set<string>();
  const endings = new Map<string, number>();
  for (const [w, n] of words) {
    const cps = Array.from(w);
    for (const c of cps) chars.add(c);
    for (let k = 2; k <= Math.min(5, cps.length - 1); k++) {
      const e = `##${cps.slice(cps.length - k).join('')}`;
      endings.set(e, (endings.get(e) ?? 0) + n);
    }
  }
  const byCount = (m: Map<string, number>) => [...m.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)).map(([w]) => w);
  const sortedChars = [...chars].sort();
  const vocab = [...DEMO_SPECIALS, ...sortedChars, ...sortedChars.map((c) => `##${c}`)];
  const seen = new Set(vocab);
  const room = Math.max(0, size - vocab.length);
  // three quarters whole words, one quarter endings
  const pick = (list: string[], n: number) => {
    for (const w of list) {
      if (n <= 0) break;
      if (seen.has(w) || Array.from(w).length < 2) continue;
      seen.add(w);
      vocab.push(w);
      n--;
    }
  };
  pick(byCount(words), Math.ceil(room * 0.75));
  pick(byCount(endings), size - vocab.length);
  return vocab;
}
