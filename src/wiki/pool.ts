/**
 * A fixed set of worker threads cleaning articles. p-queue bounds the work in flight to one
 * article per worker; callers keep their own backlog bounded (see ingest's ordered buffer).
 */
import PQueue from 'p-queue';
import type { Worker } from 'node:worker_threads';
import type { SiteInfo } from '../dump/siteinfo.js';
import { projectWorker } from '../util/worker.js';
import type { CleanArticle } from './clean.js';

export interface CleanRequest { id: number; title: string; text: string }
export type CleanResponse = { id: number; article: CleanArticle; error?: undefined } | { id: number; error: string; article?: undefined };

export class CleanPool {
  private readonly idle: Worker[] = [];
  private readonly all: Worker[] = [];
  private readonly waiting = new Map<number, (r: CleanResponse) => void>();
  private readonly queue: PQueue;
  private nextId = 0;
  private failure: Error | null = null;

  constructor(site: SiteInfo, readonly size: number) {
    this.queue = new PQueue({ concurrency: size });
    for (let i = 0; i < size; i++) {
      const w = projectWorker(new URL('./worker.ts', import.meta.url), { workerData: { site } });
      w.on('message', (r: CleanResponse) => {
        this.waiting.get(r.id)?.(r);
        this.waiting.delete(r.id);
      });
      w.on('error', (e) => this.fail(e));
      w.on('exit', (code) => {
        if (code !== 0) this.fail(new Error(`article worker exited with code ${code}`));
      });
      this.all.push(w);
      this.idle.push(w);
    }
  }

  /** Queued + running articles. */
  get pending(): number {
    return this.queue.size + this.queue.pending;
  }

  clean(title: string, text: string): Promise<CleanResponse> {
    return this.queue.add(async () => {
      if (this.failure) throw this.failure;
      const w = this.idle.pop()!;
      const id = this.nextId++;
      try {
        return await new Promise<CleanResponse>((resolve, reject) => {
          this.waiting.set(id, resolve);
          this.rejecters.set(id, reject);
          w.postMessage({ id, title, text } satisfies CleanRequest);
        });
      } finally {
        this.rejecters.delete(id);
        this.idle.push(w);
      }
    }) as Promise<CleanResponse>;
  }

  private readonly rejecters = new Map<number, (e: Error) => void>();

  private fail(e: Error): void {
    this.failure ??= e;
    for (const r of this.rejecters.values()) r(e);
  }

  async close(): Promise<void> {
    this.queue.clear();
    await Promise.all(this.all.map((w) => w.terminate()));
  }
}
