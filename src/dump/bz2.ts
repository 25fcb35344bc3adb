/**
 * bzip2 decompression. A `lbzip2` or `bzip2` child process when one is installed (both decode
 * concatenated multistream files whole), else unbzip2-stream (pure JS, also multistream-aware).
 * Never seek-bzip: it silently stops after the first stream of a multistream file.
 */
import { spawn, spawnSync } from 'node:child_process';
import type { Readable } from 'node:stream';
import unbzip2 from 'unbzip2-stream';

export type Bunzip = 'lbzip2' | 'bzip2' | 'js';

let found: Bunzip | undefined;

/** The decompressor to use; LINKBERT_BUNZIP=lbzip2|bzip2|js forces one. */
export function bunzipTool(): Bunzip {
  const forced = process.env.LINKBERT_BUNZIP as Bunzip | undefined;
  if (forced) return forced;
  if (found) return found;
  for (const tool of ['lbzip2', 'bzip2'] as const) {
    const r = spawnSync(tool, ['--help'], { stdio: 'ignore' });
    if (!r.error) return (found = tool);
  }
  return (found = 'js');
}

export class DecompressError extends Error {}

/** Decompressed bytes of a bzip2 byte stream; throws DecompressError naming `label` on damage. */
export async function* bunzip(input: Readable, label: string, tool: Bunzip = bunzipTool()): AsyncGenerator<Buffer> {
  let out = 0;
  if (tool === 'js') {
    const dec = input.pipe(unbzip2());
    input.on('error', (e) => dec.destroy(e));
    try {
      for await (const b of dec as AsyncIterable<Buffer>) {
        out += b.length;
        yield b;
      }
    } catch (e) {
      throw new DecompressError(`${label}: bz2 data damaged after ${out} decompressed bytes (${(e as Error).message})`);
    } finally {
      input.destroy();
    }
    return;
  }
  const child = spawn(tool, ['-dc'], { stdio: ['pipe', 'pipe', 'pipe'] });
  const stderr: Buffer[] = [];
  child.stderr.on('data', (b: Buffer) => stderr.push(b));
  child.stdin.on('error', () => {}); // EPIPE when the child gives up on damaged input: reported by its exit code
  input.on('error', (e) => child.stdout.destroy(e));
  input.pipe(child.stdin);
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  let done = false;
  try {
    for await (const b of child.stdout as AsyncIterable<Buffer>) {
      out += b.length;
      yield b;
    }
    const code = await exited;
    done = true;
    if (code !== 0) {
      const msg = Buffer.concat(stderr).toString().trim().split('\n').filter((l) => l.trim()).slice(0, 3).join(' ');
      throw new DecompressError(`${label}: bz2 data damaged after ${out} decompressed bytes (${tool}: ${msg || `exit code ${code}`})`);
    }
  } finally {
    if (!done) child.kill();
    input.destroy();
  }
}
