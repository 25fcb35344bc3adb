/**
 * Digests of every table a whole run writes and the SHA-256 of every shard, for checking that a
 * change (a refactor, another executor) leaves the output as it was:
 *   node --import tsx bench/digests.ts OUT_DIR DUMP [more run flags]   → JSON on stdout
 * It runs `linkbert run` (verify skipped: --format parquet is verified in the tests) into OUT_DIR.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DuckDBInstance } from '@duckdb/node-api';
import { rows } from '../src/db/duckdb.ts';

const [out, dump, ...rest] = process.argv.slice(2);
if (!out || !dump) {
  console.error('usage: bench/digests.ts OUT_DIR DUMP [run flags]');
  process.exit(2);
}
const bin = fileURLToPath(new URL('../bin/linkbert.js', import.meta.url));
const r = spawnSync(process.execPath, [bin, 'run', '--dump', dump, '--out', out, '--json', ...rest], { encoding: 'utf8', maxBuffer: 1 << 28 });
if (r.status !== 0 && r.status !== 1) {
  console.error(r.stderr);
  process.exit(1);
}
const inst = await DuckDBInstance.create(join(out, 'linkbert.duckdb'), { access_mode: 'READ_ONLY' });
const conn = await inst.connect();
const tables = (await rows<{ t: string }>(conn, `SELECT table_name AS t FROM information_schema.tables WHERE table_schema = 'main' AND table_type = 'BASE TABLE' AND table_name <> 'runs' ORDER BY 1`)).map((x) => x.t);
const digests: Record<string, string> = {};
for (const t of tables) {
  const [d] = await rows<{ d: string }>(conn, `SELECT count(*) || ':' || coalesce(md5(string_agg(x::VARCHAR, chr(10) ORDER BY x::VARCHAR)), '') AS d FROM "${t}" x`);
  digests[t] = d!.d;
}
conn.closeSync();
inst.closeSync();
const shards: Record<string, string> = {};
const dir = join(out, 'shards');
for (const f of readdirSync(dir).sort()) if (f !== 'manifest.json') shards[f] = createHash('sha256').update(readFileSync(join(dir, f))).digest('hex');
console.log(JSON.stringify({ tables: digests, shards }, null, 1));
