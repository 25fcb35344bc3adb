import { checkWritable, writeOwned } from '../src/util/own-files.js';
import { join } from 'node:path';
import { JSON_FLAG, MEMORY_FLAG, memoryOf, OVERWRITE_FLAG, type Command } from '../src/cli/args.js';
import { log } from '../src/cli/report.js';
import { runStage } from '../src/stage/kernel.js';
import { buildDemoVocab } from '../src/tokenize/demo-vocab.js';
import { DEFAULT_DB } from './ingest.js';

export const demoTokenizerFiles = (dir: string) => [join(dir, 'vocab.txt'), join(dir, 'tokenizer_config.json')];

/** Writes DIR/vocab.txt + DIR/tokenizer_config.json (cased) from the articles of the DB. */
export async function writeDemoTokenizer(dbPath: string, dir: string, size: number, o: { memory?: number; overwrite?: boolean } = {}): Promise<{ dir: string; size: number }> {
  const files = demoTokenizerFiles(dir);
  checkWritable(files, { allowed: o.overwrite, flag: '--overwrite' });
  const { vocab } = await runStage<{ vocab: string[]; already_done: boolean; seconds: number }>({
    stage: 'vocab',
    db: dbPath,
    memory: o.memory,
    readOnly: true,
    reads: [],
    settings: () => ({}),
    async work({ db }) {
      const texts: string[] = [];
      // read whole (a stream would end early, not fail, if DuckDB ran out of memory)
      const result = await db.conn.runAndReadAll('SELECT text FROM articles ORDER BY seq');
      for (const r of result.getRowObjectsJS()) texts.push(r.text as string);
      return { vocab: buildDemoVocab(texts, size) };
    },
  });
  writeOwned(join(dir, 'vocab.txt'), vocab.join('\n') + '\n');
  writeOwned(join(dir, 'tokenizer_config.json'), JSON.stringify({ tokenizer_class: 'BertTokenizer', do_lower_case: false, strip_accents: null, tokenize_chinese_chars: true, note: 'demo vocabulary made by linkbert vocab from the articles of a DB; not a real model\'s' }, null, 2) + '\n');
  return { dir, size: vocab.length };
}

export const command: Command = {
  name: 'vocab',
  summary: 'make a small demo WordPiece vocabulary from the ingested articles (for the sample and tests)',
  usage: 'linkbert vocab [--db FILE] --out DIR [--size N] [--memory SIZE] [--overwrite] [--json]',
  flags: [
    { name: 'db', type: 'string', placeholder: 'FILE', default: DEFAULT_DB, help: 'DuckDB file written by ingest' },
    { name: 'out', type: 'string', placeholder: 'DIR', help: 'folder for vocab.txt and tokenizer_config.json' },
    { name: 'size', type: 'number', range: { integer: true, min: 10 }, default: 4000, help: 'largest vocabulary size' },
    MEMORY_FLAG,
    OVERWRITE_FLAG,
    JSON_FLAG,
  ],
  async run({ flags }) {
    if (!flags.out) throw new Error('--out DIR is required');
    const r = await writeDemoTokenizer(flags.db as string, flags.out as string, flags.size as number, { memory: memoryOf(flags), overwrite: Boolean(flags.overwrite) });
    if (flags.json) console.log(JSON.stringify({ stage: 'vocab', dir: r.dir, vocab: join(r.dir, 'vocab.txt'), size: r.size }));
    else log(`vocab: ${r.size} tokens → ${join(r.dir, 'vocab.txt')} (use it with --tokenizer ${r.dir})`);
    return 0;
  },
};
