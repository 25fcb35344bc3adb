/**
 * `npm run bench -- --fidelity`: first, on every real dump in ../shared (all languages) and the real
 * articles of sixteen Wikipedias and of zhwiki in test/fixtures, how the clean text is cut into sentences: the share of sentences that start in lower case (a cut at an
 * abbreviation or ordinal) and those over 2,000 characters (a sentence end missed). Then our clean
 * text beside WikiExtractor's on the real English dumps in
 * ../shared, article by article (matched by title): lower-cased word tokens as multisets,
 * WikiExtractor's heading lines left out (it writes each section heading as a line of its own).
 * recall = shared words / WikiExtractor's words; precision = shared words / ours. Prints the mean
 * and the 10th percentile of each and the articles furthest apart.
 *
 * Needs `$WIKIEXTRACTOR` (a checkout of https://github.com/attardi/wikiextractor) run with
 * `$WIKIEXTRACTOR_PYTHON` (default python3.10). Flags: --keep-lists (compare that text instead).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openDb, rows } from '../src/db/duckdb.ts';
import { ingest } from '../src/ingest/ingest.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const DUMPS = join(ROOT, '../shared/fixtures/dumps');
const dumpsIn = (dir: string) => (existsSync(dir) ? readdirSync(dir).filter((f) => /\.xml(\.bz2)?$|\.bz2$/.test(f) && !f.includes('-index.')).sort().map((f) => join(dir, f)) : []);
const FIXTURES = [...dumpsIn(join(ROOT, 'test/fixtures/wikis')), ...dumpsIn(join(ROOT, 'test/fixtures/zhwiki'))];

// 1. sentence cuts on every shared dump and the fixtures' wikis
console.log(`sentences of the clean text (${existsSync(DUMPS) ? 'every shared dump, ' : '../shared absent: '}the real articles in test/fixtures):`);
console.log(`  ${'dump'.padEnd(58)} ${'wiki'.padEnd(10)} ${'sentences'.padStart(9)}  lower-case start  over 2,000 chars  longest`);
for (const file of [...dumpsIn(DUMPS), ...FIXTURES]) {
  const name = file.split('/').at(-1)!;
  const dir = mkdtempSync(join(tmpdir(), 'sentences-'));
  try {
    const db = join(dir, 'd.duckdb');
    await ingest({ dump: file, db, index: null, onDamage: 'skip' });
    const d = await openDb(db, { mustExist: true });
    const [r] = await rows<{ wiki: string | null; n: number; lower: number; long: number; longest: number | null }>(d.conn, `
      WITH s AS (SELECT unnest(sent_start) AS st, unnest(sent_len) AS ln, text FROM articles), t AS (SELECT substr(text, st + 1, ln) AS sent FROM s)
      SELECT (SELECT json_extract_string(siteinfo, '$.dbname') FROM runs WHERE stage = 'ingest') AS wiki, count(*)::INTEGER AS n,
             count(*) FILTER (regexp_matches(sent, '^\\p{Ll}'))::INTEGER AS lower, count(*) FILTER (length(sent) > 2000)::INTEGER AS long, max(length(sent))::INTEGER AS longest FROM t`);
    d.close();
    console.log(`  ${name.slice(0, 58).padEnd(58)} ${(r!.wiki ?? '-').padEnd(10)} ${String(r!.n).padStart(9)}  ${`${((100 * r!.lower) / Math.max(1, r!.n)).toFixed(2)}%`.padStart(16)}  ${String(r!.long).padStart(16)}  ${String(r!.longest ?? 0).padStart(7)}`);
  } catch (e) {
    console.log(`  ${name.slice(0, 58).padEnd(58)} not read: ${(e as Error).message.slice(0, 80)}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
console.log('');

// 2. fidelity against WikiExtractor on the English dumps
if (!existsSync(DUMPS)) {
  console.error(`bench --fidelity: ${DUMPS} is needed to compare with WikiExtractor (real dumps, in ../shared)`);
  process.exit(1);
}
const WE = process.env.WIKIEXTRACTOR;
if (!WE || !existsSync(join(WE, 'wikiextractor/WikiExtractor.py'))) {
  console.error('bench --fidelity: set $WIKIEXTRACTOR to a checkout of https://github.com/attardi/wikiextractor to compare with its text');
  process.exit(1);
}
const keepLists = process.argv.includes('--keep-lists');
const python = process.env.WIKIEXTRACTOR_PYTHON ?? 'python3.10';
// English Wikipedia dumps (gensim's test corpus is one too); then each other language's articles in test/fixtures
const dumps = readdirSync(DUMPS).filter((f) => /^(enwiki|simplewiki|testcorpus)/.test(f) && !f.includes('-index.')).map((f) => join(DUMPS, f));

// words; in scripts written without spaces (Han, kana, Thai, …) each character is one
const WORD = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Thai}\p{Script=Lao}\p{Script=Khmer}\p{Script=Myanmar}\p{Script=Tibetan}]|(?:(?![\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Thai}\p{Script=Lao}\p{Script=Khmer}\p{Script=Myanmar}\p{Script=Tibetan}])[\p{L}\p{N}])+/gu;
const words = (s: string): Map<string, number> => {
  const m = new Map<string, number>();
  for (const w of s.toLowerCase().match(WORD) ?? []) m.set(w, (m.get(w) ?? 0) + 1);
  return m;
};
const size = (m: Map<string, number>) => [...m.values()].reduce((a, b) => a + b, 0);
const shared = (a: Map<string, number>, b: Map<string, number>) => [...a].reduce((t, [w, n]) => t + Math.min(n, b.get(w) ?? 0), 0);

/** Section headings of each page of the dump, lower-cased words joined by spaces, by title. */
function headings(file: string): Map<string, Set<string>> {
  const xml = file.endsWith('.bz2') ? spawnSync('bzip2', ['-dc', file], { maxBuffer: 1 << 30 }).stdout.toString('utf8') : readFileSync(file, 'utf8');
  const out = new Map<string, Set<string>>();
  for (const page of xml.split('<page>').slice(1)) {
    const title = /<title>([^<]*)<\/title>/.exec(page)?.[1]?.replace(/&amp;/g, '&').replace(/&quot;/g, '"').replace(/&#039;/g, "'");
    if (!title) continue;
    const set = new Set<string>();
    for (const m of page.matchAll(/^=+\s*(.*?)\s*=+\s*$/gm)) set.add([...words(m[1]!.replace(/\[\[(?:[^|\]]*\|)?([^\]]*)\]\]/g, '$1').replace(/'''?/g, '')).keys()].join(' '));
    out.set(title, set);
  }
  return out;
}

interface Row {
  dump: string;
  title: string;
  recall: number;
  precision: number;
  ours: number;
  theirs: number;
}
async function compare(file: string): Promise<Row[]> {
  const name = file.split('/').at(-1)!;
  const all: Row[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'fidelity-'));
  try {
    const we = spawnSync(python, ['-m', 'wikiextractor.WikiExtractor', '--no-templates', '--json', '--processes', '1', '-q', '-o', join(dir, 'we'), file], { cwd: WE, encoding: 'utf8', env: { ...process.env } });
    if (we.status !== 0) throw new Error(`WikiExtractor on ${name}: ${we.stderr}`);
    const theirs = new Map<string, string>();
    for (const sub of readdirSync(join(dir, 'we'))) for (const f of readdirSync(join(dir, 'we', sub))) {
      for (const line of readFileSync(join(dir, 'we', sub, f), 'utf8').split('\n')) if (line) {
        const j = JSON.parse(line) as { title: string; text: string };
        theirs.set(j.title, j.text);
      }
    }
    const heads = headings(file);
    const db = join(dir, 'd.duckdb');
    await ingest({ dump: file, db, index: null, keepLists });
    const d = await openDb(db, { mustExist: true });
    const ours = await rows<{ title: string; text: string }>(d.conn, 'SELECT title, text FROM articles ORDER BY seq');
    d.close();
    for (const a of ours) {
      const t = theirs.get(a.title);
      if (t === undefined) continue;
      const h = heads.get(a.title) ?? new Set();
      // their heading lines ("History.") left out
      const body = t.split('\n').filter((l) => !h.has([...words(l).keys()].join(' '))).join('\n');
      const w = words(body);
      const o = words(a.text);
      if (!size(w) && !size(o)) continue;
      const s = shared(o, w);
      all.push({ dump: name, title: a.title, recall: size(w) ? s / size(w) : 1, precision: size(o) ? s / size(o) : 1, ours: size(o), theirs: size(w) });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return all;
}

const all: Row[] = [];
for (const file of dumps) all.push(...(await compare(file)));

const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.floor((p / 100) * (xs.length - 1))]!;
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const f = (x: number) => x.toFixed(3);
console.log(`fidelity against WikiExtractor (--no-templates), ${keepLists ? 'with --keep-lists' : 'default text passages'}: ${all.length} articles of ${dumps.length} dumps`);
console.log(`recall:    mean ${f(mean(all.map((r) => r.recall)))}, 10th percentile ${f(pct(all.map((r) => r.recall), 10))}`);
console.log(`precision: mean ${f(mean(all.map((r) => r.precision)))}, 10th percentile ${f(pct(all.map((r) => r.precision), 10))}`);
const words_ = (k: 'ours' | 'theirs') => all.reduce((t, r) => t + r[k], 0);
console.log(`words: ours ${words_('ours').toLocaleString('en')}, WikiExtractor's ${words_('theirs').toLocaleString('en')}`);
for (const [label, key] of [['lowest recall', 'recall'], ['lowest precision', 'precision']] as const) {
  console.log(`${label}:`);
  for (const r of [...all].sort((a, b) => a[key] - b[key]).slice(0, 6)) console.log(`  ${f(r[key])}  ${r.title} (${r.dump}; ours ${r.ours} words, theirs ${r.theirs})`);
}

console.log('');
console.log('other languages (the real articles in test/fixtures; in unspaced scripts each character counts as a word):');
console.log(`  ${'wiki'.padEnd(10)} ${'articles'.padStart(8)}  recall  precision  ${'words ours'.padStart(10)}  ${'theirs'.padStart(8)}`);
for (const file of FIXTURES) {
  const rows_ = await compare(file);
  if (!rows_.length) continue;
  const n = (k: 'ours' | 'theirs') => rows_.reduce((t, r) => t + r[k], 0);
  const wiki = file.split('/').at(-1)!.replace(/-.*$/, '');
  console.log(`  ${wiki.padEnd(10)} ${String(rows_.length).padStart(8)}  ${f(mean(rows_.map((r) => r.recall))).padStart(6)}  ${f(mean(rows_.map((r) => r.precision))).padStart(9)}  ${String(n('ours')).padStart(10)}  ${String(n('theirs')).padStart(8)}`);
}
