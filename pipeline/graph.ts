import { JSON_FLAG, MEMORY_FLAG, memoryOf, type Command, type ParsedArgs } from '../src/cli/args.js';
import { table } from '../src/cli/report.js';
import { graph, type GraphSummary } from '../src/graph/graph.js';
import { DEFAULT_DB } from './ingest.js';

export function printGraph(s: GraphSummary): void {
  console.log(`graph: ${s.db}${s.already_done ? ' (already complete for this dump; --force rebuilds it)' : ''}`);
  console.log(
    table([
      ['links read', s.links],
      ['  = direct', s.direct],
      ['  + via redirect', s.via_redirect],
      ['  + dangling', `${s.dangling.toLocaleString('en')}  (no article of that title, or a redirect that ends nowhere)`],
      ['  + self-links', s.self],
      ['  + non-article', `${s.non_article.toLocaleString('en')}  (other namespaces)`],
      ['edges written', `${s.edges.toLocaleString('en')} between ${s.articles.toLocaleString('en')} articles`],
      ['orphans / dead ends', `${s.orphans.toLocaleString('en')} / ${s.dead_ends.toLocaleString('en')}`],
      ['redirects', `${s.redirects.toLocaleString('en')}: ${s.redirects_to_articles} to articles, ${s.redirect_chains} chains, ${s.redirect_cycles} in cycles, ${s.redirect_too_long} too long, ${s.redirects_dangling} dangling, ${s.redirects_non_article} to other namespaces`],
      ['duplicate titles', `${s.duplicate_titles} (the first page of a title is used)`],
      ['time', `${s.seconds}s`],
    ]),
  );
}

/** The graph options the flags give (shared with `run`). */
export function graphOptions(flags: ParsedArgs['flags']) {
  return { db: flags.db as string, force: Boolean(flags.force), memory: memoryOf(flags) };
}

export const command: Command = {
  name: 'graph',
  summary: 'resolve redirects and build the article→article edge table and degrees',
  flags: [
    { name: 'db', type: 'string', placeholder: 'FILE', default: DEFAULT_DB, help: 'DuckDB file written by ingest' },
    { name: 'force', type: 'boolean', help: 'rebuild even when the graph is complete for this dump' },
    MEMORY_FLAG,
    JSON_FLAG,
  ],
  async run({ flags }) {
    const s = await graph(graphOptions(flags));
    if (flags.json) console.log(JSON.stringify(s));
    else printGraph(s);
    return 0;
  },
};
