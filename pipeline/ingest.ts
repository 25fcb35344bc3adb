import { JSON_FLAG, MEMORY_FLAG, memoryOf, type Command, type Flag, type ParsedArgs } from '../src/cli/args.js';
import { counts, log, table, withProgress } from '../src/cli/report.js';
import { ingest, type IngestSummary } from '../src/ingest/ingest.js';

export const DEFAULT_DB = 'out/linkbert.duckdb';

export function printIngest(s: IngestSummary): void {
  console.log(`ingest: ${s.dump} → ${s.db}${s.already_done ? ' (already complete; nothing read)' : ''}`);
  console.log(
    table([
      // each input's path after its figures: a long path must not push every value to the right
      ...((s.inputs?.length ?? 0) > 1 ? [['inputs', s.inputs!.length] as [string, number], ...s.inputs!.map((i, k) => [`  ${k + 1}`, `${i.kind}, ${i.end_seq - i.first_seq} page${i.end_seq - i.first_seq === 1 ? '' : 's'} (seq ${i.first_seq}–${i.end_seq - 1}): ${i.file}`] as [string, string])] : []),
      ['pages read', s.pages],
      ['  by namespace', counts(s.namespaces)],
      ['articles', s.articles],
      ['  disambiguation', s.disambiguations],
      ['redirects', s.redirects],
      ['links', s.links],
      ['  placed in text', s.links_in_text],
      // origin 'text' without an offset: prose the clean text leaves out (apparatus sections, an anchor not found)
      ['  elsewhere', counts(Object.fromEntries(Object.entries(s.links_elsewhere).map(([k, v]) => [k === 'text' ? 'prose left out' : k, v])))],
      ['skipped pages', s.skipped],
      ['  reasons', counts(s.skipped_reasons)],
      ...(s.warnings ?? []).map((w, k) => [k ? '' : 'warnings', w] as [string, string]),
      ['wikitext', `${s.wikitext_mb.toFixed(2)} MB`],
      ['peak memory', `${s.peak_rss_mb} MB`],
      ['time', `${s.seconds}s with ${s.workers} workers${s.decompressor ? `, ${s.decompressor}` : ''}${s.multistream_index ? ', through the multistream index' : ''}${s.resumed_at !== null ? `, resumed at page ${s.resumed_at}` : ''}`],
    ]),
  );
}

/** Shared with `run`. */
export const LANG_FLAG: Flag = { name: 'lang', type: 'string', placeholder: 'CODE', help: "the wiki's language (de, fr, zh, zh-yue, …): its namespace names and aliases (Datei:, Bild:, Kategorie:) for input without a siteinfo, or aliases its siteinfo does not list; default: the language of the siteinfo's dbname, else English" };
export const KEEP_LISTS_FLAG: Flag = { name: 'keep-lists', type: 'boolean', help: 'keep list items in the clean text (default: text passages only, as BERT and WikiExtractor)' };

/** One --dump as a string (as the summary names it), several as a list. */
function oneOrMore(v: string | string[] | undefined): string | string[] {
  if (Array.isArray(v)) return v.length === 1 ? v[0]! : v;
  return v as string;
}

/** The ingest options the flags give (shared with `run`, which sets dump and db itself). */
export function ingestOptions(flags: ParsedArgs['flags']) {
  return {
    dump: oneOrMore(flags.dump as string | string[]),
    db: flags.db as string,
    index: flags['no-index'] ? null : (flags.index as string | undefined),
    workers: flags.workers as number | undefined,
    force: Boolean(flags.force),
    keepLists: Boolean(flags['keep-lists']),
    lang: flags.lang as string | undefined,
    memory: memoryOf(flags),
    batchPages: flags['batch-pages'] as number,
    pageTimeout: flags['page-timeout'] as number,
    onDamage: flags['on-damage'] as 'stop' | 'skip',
    verbose: Boolean(flags.verbose),
    maxRecord: flags['max-record'] as number,
  };
}

export const command: Command = {
  name: 'ingest',
  summary: 'stream a MediaWiki XML dump (or PubMed XML, JSON Lines, books) into DuckDB: pages, clean article text, redirects, links',
  flags: [
    { name: 'dump', type: 'string', required: true, multiple: true, placeholder: 'FILE', help: 'dump: .xml, .xml.bz2 (single or multistream), .xml.gz; PubMed XML; a PMC JATS .nxml; a linked corpus as JSON Lines; books: a .txt file or a folder of them. Repeat it to read several into one database, in order' },
    { name: 'db', type: 'string', placeholder: 'FILE', default: DEFAULT_DB, help: 'DuckDB file to write' },
    { name: 'index', type: 'string', placeholder: 'FILE', help: 'multistream index (default: the …-index.txt.bz2 beside the dump)' },
    { name: 'no-index', type: 'boolean', help: 'read a multistream dump whole, ignoring its index' },
    { name: 'workers', type: 'number', range: { integer: true, min: 1 }, help: 'article-parsing worker threads (default: number of cores)' },
    { name: 'force', type: 'boolean', help: 'replace what the DB holds, even from another dump' },
    KEEP_LISTS_FLAG,
    LANG_FLAG,
    { name: 'batch-pages', type: 'number', range: { integer: true, min: 1 }, default: 5000, help: 'pages per committed batch (the unit a killed run loses)' },
    { name: 'verbose', type: 'boolean', help: 'log each committed batch' },
    { name: 'on-damage', type: 'string', placeholder: 'stop|skip', default: 'stop', help: 'a damaged bz2 stream or block: stop there (the pages before it are kept), or leave it out (its pages counted in skipped) and go on' },
    { name: 'page-timeout', type: 'number', range: { above: 0 }, default: 30, placeholder: 'SECONDS', help: 'the most a page may take to clean (it gets 2 s + 20 ms per KiB of wikitext, at most this); one that runs over keeps its links, its text left out (skipped as a parse timeout)' },
    { name: 'max-record', type: 'size', placeholder: 'SIZE', default: '16MiB', range: { min: 1024 }, help: 'the largest page (its XML), JSON line or PubMed record read; a larger one is skipped and counted, never held whole (the largest Wikipedia page is about 2 MB)' },
    MEMORY_FLAG,
    JSON_FLAG,
  ],
  async run({ flags }) {
    if (!flags.dump) throw new Error('--dump FILE is required');
    try {
      const s = await withProgress('ingest', 'pages', (tick) =>
        ingest({
          ...ingestOptions(flags),
          onProgress: (p) => tick({ done: p.pages, seconds: p.seconds, bytesRead: p.bytesRead, totalBytes: p.totalBytes }),
          log,
        }),
      );
      if (flags.json) console.log(JSON.stringify(s));
      else printIngest(s);
      return 0;
    } catch (e) {
      const s = (e as { summary?: IngestSummary }).summary;
      if (s) {
        if (flags.json) console.log(JSON.stringify({ ...s, error: (e as Error).message }));
        else if (s.pages > 0) printIngest(s);
        if (s.pages > 0) log('pages read before the error are kept; rerun the same command to resume after them');
      }
      throw e;
    }
  },
};
