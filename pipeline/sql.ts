import { MEMORY_FLAG, UsageError, memoryOf, type Command } from '../src/cli/args.js';
import { formatTable, type Format } from '../src/cli/format.js';
import { openDb, table } from '../src/db/duckdb.js';
import { siteInfoText } from '../src/db/runs.js';
import { catalogReads } from '../src/units/catalog.js';
import type { SiteInfo } from '../src/dump/siteinfo.js';
import { bindParams, namedQueries, namedQuery } from '../src/sql/named.js';
import { Titles } from '../src/wiki/title.js';
import { DEFAULT_DB } from './ingest.js';

export const command: Command = {
  name: 'sql',
  summary: 'query the DuckDB file read-only (nothing outside it, but a planned run\'s Parquet): your own SQL or a named query from sql/queries/',
  usage: 'linkbert sql [--db FILE] [--format table|csv|json] ("SELECT …" | --query NAME [--param key=value …] | --list)',
  positionals: true,
  flags: [
    { name: 'db', type: 'string', placeholder: 'FILE', default: DEFAULT_DB, help: 'DuckDB file (opened read-only; no other file, extension or setting can be reached)' },
    { name: 'query', type: 'string', placeholder: 'NAME', help: 'run a named query (see --list)' },
    { name: 'param', type: 'string', placeholder: 'KEY=VALUE', multiple: true, help: 'a parameter of the named query (repeatable)' },
    { name: 'list', type: 'boolean', help: 'list the named queries, one line each' },
    { name: 'format', type: 'string', placeholder: 'FMT', help: 'table, csv or json (default: table on a terminal, csv otherwise)' },
    MEMORY_FLAG,
  ],
  async run({ flags, positionals }) {
    if (flags.list) {
      const qs = namedQueries();
      const w = Math.max(...qs.map((q) => q.name.length));
      for (const q of qs) {
        const params = q.params.map((p) => (p.default === null ? ` ${p.name}=…` : ` [${p.name}=${p.default}]`)).join('');
        console.log(`${q.name.padEnd(w)}  ${q.description}${params ? `  params:${params}` : ''}`);
      }
      return 0;
    }
    const format = (flags.format as Format | undefined) ?? (process.stdout.isTTY ? 'table' : 'csv');
    if (!['table', 'csv', 'json'].includes(format)) throw new UsageError(`--format must be table, csv or json, not '${format}'`);
    if (Boolean(flags.query) === Boolean(positionals.length)) throw new UsageError('give either one SQL statement or --query NAME');
    if (positionals.length > 1) throw new UsageError('quote the SQL statement as one argument');
    const path = flags.db as string;
    // a planned run's catalog reads its units' Parquet: those files, and no other, may be read
    const db = await openDb(path, { readOnly: true, locked: true, memory: memoryOf(flags), readable: catalogReads(path) });
    try {
      let sql = positionals[0]!;
      let params: Record<string, string> | undefined;
      if (flags.query) {
        const q = namedQuery(flags.query as string);
        sql = q.sql;
        params = bindParams(q, (flags.param as string[] | undefined) ?? []);
        if (params.title !== undefined) {
          // Titles as a reader writes them: normalised the way the wiki does.
          const site = await siteInfoText(db);
          if (site) params.title = new Titles(JSON.parse(site) as SiteInfo).title(params.title);
        }
      } else if (flags.param) throw new UsageError('--param goes with --query');
      let result;
      try {
        // one statement: several would print only the first result, and a statement after one that
        // changes DuckDB's own state (enable_logging to a file) can abort the process
        const n = (await db.conn.extractStatements(sql)).count;
        if (n > 1) throw new UsageError(`one SQL statement at a time: this holds ${n}; run them one by one`);
        result = await table(db.conn, sql, params);
      } catch (e) {
        if (e instanceof UsageError) throw e;
        throw new Error((e as Error).message.replace(/^Failed to extract statements: /, ''));
      }
      console.log(formatTable(result, format));
      return 0;
    } finally {
      db.close();
    }
  },
};
