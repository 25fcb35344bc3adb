/**
 * The bench dumps: built once by ../shared/tools/make-bench-dump and cached in bench/data. Building
 * one takes minutes (about 20 for 600k pages), so its progress is shown as it is written; it is
 * written under a temporary name and renamed when complete, so an interrupted build is never taken
 * for a dump.
 */
import { spawn } from 'node:child_process';
import { existsSync, renameSync, rmSync, statSync } from 'node:fs';
import { basename } from 'node:path';

// bz2 bytes per page of the bench dumps (310 MB for 60,000 pages): the size to expect, for the progress line
const BYTES_PER_PAGE = 5170;

export async function benchDump(tool: string, pages: number, dump: string): Promise<void> {
  if (existsSync(dump)) return;
  const partial = dump.replace(/\.xml\.bz2$/, '.partial.xml.bz2');
  rmSync(partial, { force: true });
  const expected = pages * BYTES_PER_PAGE;
  const t0 = performance.now();
  const tty = process.stderr.isTTY;
  const show = (end = false) => {
    const size = existsSync(partial) ? statSync(partial).size : 0;
    const line = `making ${basename(dump)} (make-bench-dump --pages ${pages}; cached for later runs): ${(size / 1e6).toFixed(0)} of ~${(expected / 1e6).toFixed(0)} MB (${Math.min(99, Math.floor((100 * size) / expected))}%), ${Math.round((performance.now() - t0) / 1000)} s`;
    process.stderr.write(tty ? `\r\x1b[2K${line}${end ? '\n' : ''}` : `${line}\n`);
  };
  show();
  const tick = setInterval(show, tty ? 1000 : 30_000);
  const code = await new Promise<number | null>((resolve) => {
    const p = spawn('python3', [tool, '--pages', String(pages), '--out', partial], { stdio: ['ignore', 'ignore', 'inherit'] });
    p.on('close', resolve);
  });
  clearInterval(tick);
  if (code !== 0) {
    rmSync(partial, { force: true });
    throw new Error(`make-bench-dump --pages ${pages} exited ${code}`);
  }
  show(true);
  renameSync(partial, dump);
}
