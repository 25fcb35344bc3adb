/**
 * Ingest's output must not change by accident (speed work on the reader, the workers and the writer
 * keeps every row): each table's digest on the embedded sample and on every shared dump is compared
 * with the one recorded in test/fixtures/ingest-digests.json, and, first, a readable line per page
 * (test/fixtures/ingest-golden/: seq, namespace, kind, title, bytes, timestamp, and an article's text
 * digest, sentence and link counts), so that a change shows which pages and fields it moved. After a
 * change to the output made on purpose (fidelity work), record both anew with LINKBERT_RECORD_DIGESTS=1,
 * read the golden's diff, and say why in the commit.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { ingest } from '../src/ingest/ingest.ts';
import { HAVE_SHARED, NO_SHARED, query, ROOT, SAMPLE, SHARED, tableDigests, tmp } from './helpers.ts';

const FILE = join(ROOT, 'test/fixtures/ingest-digests.json');
const RECORD = process.env.LINKBERT_RECORD_DIGESTS === '1';
const recorded = JSON.parse(readFileSync(FILE, 'utf8')) as Record<string, Record<string, string>>;

const GOLDEN = join(ROOT, 'test/fixtures/ingest-golden');

/** One line per page: what a reviewer reads in a diff. */
async function pageLines(db: string): Promise<string[]> {
  const rows = await query<{ line: string }>(
    db,
    `SELECT concat_ws(chr(9), p.seq, p.ns, p.kind, p.title, coalesce(p.text_bytes::VARCHAR, '-'), coalesce(p.timestamp::VARCHAR, '-'),
            coalesce(left(md5(a.text), 12), '-'), coalesce(len(a.sent_start)::VARCHAR, '-'),
            coalesce((SELECT count(*) FROM links l WHERE l.src = p.seq)::VARCHAR, '-'), coalesce((SELECT count(*) FROM links l WHERE l.src = p.seq AND l."offset" >= 0)::VARCHAR, '-')) AS line
     FROM pages p LEFT JOIN articles a ON a.seq = p.seq ORDER BY p.seq`,
  );
  return ['seq\tns\tkind\ttitle\tbytes\ttimestamp\ttext md5\tsentences\tlinks\tplaced', ...rows.map((r) => r.line)];
}

async function check(name: string, dump: string, workers: number, runBytes?: number): Promise<void> {
  const db = join(tmp(), 'd.duckdb');
  await ingest({ dump, db, index: null, workers, runBytes });
  const golden = join(GOLDEN, `${name.replaceAll('/', '--')}.tsv`);
  const lines = await pageLines(db);
  if (RECORD) {
    mkdirSync(GOLDEN, { recursive: true });
    writeFileSync(golden, lines.join('\n') + '\n');
  } else {
    assert.ok(existsSync(golden), `no golden recorded for ${name}: run with LINKBERT_RECORD_DIGESTS=1`);
    assert.deepEqual(lines, readFileSync(golden, 'utf8').trimEnd().split('\n'), `${name}: the pages differ from the recorded ones (the diff names them)`);
  }
  const got = await tableDigests(db);
  if (RECORD) {
    recorded[name] = got;
    writeFileSync(FILE, JSON.stringify(recorded, null, 2) + '\n');
    return;
  }
  assert.ok(recorded[name], `no digests recorded for ${name}: run with LINKBERT_RECORD_DIGESTS=1`);
  assert.deepEqual(got, recorded[name], `${name}: ingest output differs from the recorded one`);
}

test('ingest output of the embedded sample equals the recorded digests (1 and 3 workers, one run of pages or many)', async () => {
  await check('samplewiki.xml', SAMPLE, 1);
  if (!RECORD) await check('samplewiki.xml', SAMPLE, 3, 2000);
});

test('ingest output of every shared dump (damaged ones included) equals the recorded digests', { skip: NO_SHARED }, async (t) => {
  const dumps = HAVE_SHARED ? ['dumps', 'bad'].flatMap((dir) => readdirSync(join(SHARED, dir)).filter((f) => !f.includes('-index.')).map((f) => join(dir, f))) : [];
  for (const name of dumps) await t.test(name, () => check(name, join(SHARED, name), 2));
});
