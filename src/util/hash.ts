/** SHA-256 of a whole file, read a MiB at a time (a shard or a dump is never held in memory whole). */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';

export async function sha256Of(file: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) h.update(chunk as Buffer);
  return h.digest('hex');
}
