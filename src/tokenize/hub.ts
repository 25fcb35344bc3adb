/**
 * Files of a Hugging Face hub model, through the hub's own cache layout
 * (`$HF_HUB_CACHE` or `$HF_HOME/hub` or `~/.cache/huggingface/hub`, then
 * `models--ORG--NAME/snapshots/REVISION/FILE`): a file found there is used offline; one that is not
 * is downloaded into it, unless HF_HUB_OFFLINE is set or the network is unreachable, in which case
 * the error names the file to fetch and where to put it.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

export function hubCacheDir(): string {
  if (process.env.HF_HUB_CACHE) return process.env.HF_HUB_CACHE;
  if (process.env.HF_HOME) return join(process.env.HF_HOME, 'hub');
  return join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'huggingface', 'hub');
}

/** `org/name` (or `name`), as the hub spells model ids. */
export function isModelId(s: string): boolean {
  return /^[\w.-]+(\/[\w.-]+)?$/.test(s) && !existsSync(s);
}

function repoDir(id: string): string {
  return join(hubCacheDir(), `models--${id.replace(/\//g, '--')}`);
}

/** The snapshot folder of a revision: refs/REVISION names a commit, or the revision is one. */
function snapshotDir(id: string, revision: string): string {
  const ref = join(repoDir(id), 'refs', revision);
  const commit = existsSync(ref) ? readFileSync(ref, 'utf8').trim() : revision;
  return join(repoDir(id), 'snapshots', commit);
}

export class HubError extends Error {
  override name = 'HubError';
}

/**
 * Path of `file` of model `id`, from the cache or downloaded into it. `optional` files that the
 * repository does not have give null instead of an error.
 */
export async function hubFile(id: string, file: string, opts: { revision?: string; optional?: boolean } = {}): Promise<string | null> {
  const revision = opts.revision ?? 'main';
  const cached = join(snapshotDir(id, revision), file);
  if (existsSync(cached)) return cached;
  const url = `https://huggingface.co/${id}/resolve/${encodeURIComponent(revision)}/${file}`;
  const where = `${join(repoDir(id), 'snapshots', '<commit>')}/${file} (with refs/${revision} holding <commit>), or pass a local file or folder`;
  if (process.env.HF_HUB_OFFLINE && process.env.HF_HUB_OFFLINE !== '0') {
    if (opts.optional) return null;
    throw new HubError(`${id}: ${file} is not in the cache and HF_HUB_OFFLINE is set; fetch ${url} and put it at ${where}`);
  }
  let res: Response;
  try {
    res = await fetch(url, { redirect: 'follow', signal: AbortSignal.timeout(30_000) });
  } catch (e) {
    if (opts.optional) return null;
    throw new HubError(`${id}: cannot download ${file} (${(e as Error).cause ?? (e as Error).message}); fetch ${url} and put it at ${where}`);
  }
  if (res.status === 404 && opts.optional) return null;
  if (!res.ok) throw new HubError(`${id}: ${url} answered ${res.status} ${res.statusText}`);
  const commit = res.headers.get('x-repo-commit') ?? revision;
  const dir = join(repoDir(id), 'snapshots', commit);
  mkdirSync(dir, { recursive: true });
  const path = join(dir, file);
  writeFileSync(path, Buffer.from(await res.arrayBuffer()));
  if (commit !== revision) {
    mkdirSync(join(repoDir(id), 'refs'), { recursive: true });
    writeFileSync(join(repoDir(id), 'refs', revision), commit);
  }
  return path;
}
