/**
 * bzip2 decompression. A `lbzip2` or `bzip2` child process when one is installed (both decode
 * concatenated multistream files whole), else unbzip2-stream (pure JS, also multistream-aware).
 * Never seek-bzip: it silently stops after the first stream of a multistream file.
 */
import { spawn, spawnSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { PassThrough, type Readable } from 'node:stream';
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

export class DecompressError extends Error {
  override name = 'DecompressError';
  /** the compressed data ends before its end of stream (a file cut short), rather than being corrupt */
  truncated = false;
}

/**
 * Decompressed bytes of a bzip2 file (or byte range: `open` gives a fresh stream of it each call).
 * Throws DecompressError naming `label` on damage, after yielding every byte that decodes before it.
 */
export async function* bunzip(open: () => Readable, label: string, tool: Bunzip = bunzipTool()): AsyncGenerator<Buffer> {
  if (tool !== 'lbzip2') return yield* decode(open(), label, tool, 0);
  let out = 0;
  try {
    for await (const b of decode(open(), label, tool, 0)) {
      out += b.length;
      yield b;
    }
  } catch (e) {
    if (!(e instanceof DecompressError) || !hasTool('bzip2')) throw e;
    // lbzip2 decodes blocks in parallel and drops the good ones before a damaged block; bzip2 is
    // sequential and delivers them, so let it go on from where lbzip2 stopped.
    yield* decode(open(), label, 'bzip2', out);
  }
}

/**
 * lbzip2's threads: one per four cores. It decodes about 40 MB/s per thread, several times what a
 * core of wtf_wikipedia parses, and on a small machine a second thread only takes CPU from the
 * parsers (measured on 2 cores: 1.2–2.4 CPU-s more for the 6k bench, no faster).
 */
function lbzip2Threads(): number {
  return Math.max(1, Math.floor(availableParallelism() / 4));
}

function hasTool(tool: string): boolean {
  return !spawnSync(tool, ['--help'], { stdio: 'ignore' }).error;
}

async function* decode(input: Readable, label: string, tool: Bunzip, skip: number): AsyncGenerator<Buffer> {
  let out = 0;
  const emit = (b: Buffer): Buffer | null => {
    const from = Math.max(0, skip - out);
    out += b.length;
    return from >= b.length ? null : from ? b.subarray(from) : b;
  };
  if (tool === 'js') {
    // unbzip2-stream is an old-style `through` stream: bridge it to an async-iterable one.
    const dec = new PassThrough();
    const through = input.pipe(unbzip2());
    // Damage ends the output after every block decoded before it (as bzip2 does), then is reported:
    // destroying the stream at once would drop the blocks still buffered.
    let damage: Error | null = null;
    through.on('error', (e: Error) => {
      damage ??= e;
      dec.end();
    });
    input.on('error', (e) => dec.destroy(e));
    through.pipe(dec);
    try {
      for await (const b of dec as AsyncIterable<Buffer>) {
        const x = emit(b);
        if (x) yield x;
      }
    } catch (e) {
      throw new DecompressError(`${label}: cannot read the file after ${out} decompressed bytes (${(e as Error).message})`);
    } finally {
      input.destroy();
    }
    if (damage) {
      // unbzip2-stream reports a cut-off block as whatever its decoder tripped over
      const why = /^(TypeError|RangeError)$/.test((damage as Error).name) ? 'the file ends inside a block, or a block is corrupt' : (damage as Error).message;
      throw new DecompressError(`${label}: bz2 data damaged after ${out} decompressed bytes (${why})`);
    }
    return;
  }
  const child = spawn(tool, tool === 'lbzip2' ? ['-dc', '-n', String(lbzip2Threads())] : ['-dc'], { stdio: ['pipe', 'pipe', 'pipe'] });
  const stderr: Buffer[] = [];
  child.stderr.on('data', (b: Buffer) => stderr.push(b));
  child.stdin.on('error', () => {}); // EPIPE when the child gives up on damaged input: reported by its exit code
  input.on('error', (e) => child.stdout.destroy(e));
  input.pipe(child.stdin);
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  let done = false;
  try {
    for await (const b of child.stdout as AsyncIterable<Buffer>) {
      const x = emit(b);
      if (x) yield x;
    }
    const code = await exited;
    done = true;
    if (code !== 0) {
      const lines = Buffer.concat(stderr).toString().split('\n').map((l) => l.replace(/^\w+: (stdin: )?/, '').replace(/;$/, '').trim());
      const msg = lines.filter((l) => l && !/^(perhaps|Input file|It is possible|You can use|data from|Inappropriate ioctl|\*Possible\*)/.test(l)).slice(0, 2).join('; ');
      throw new DecompressError(`${label}: bz2 data damaged after ${out} decompressed bytes (${tool}: ${msg || `exit code ${code}`})`);
    }
  } finally {
    if (!done) child.kill();
    input.destroy();
  }
}
