/**
 * A fixed set of worker threads cleaning articles. p-queue bounds the articles in flight; each
 * worker is sent several at once (`depth`), so it keeps parsing while the main thread is busy
 * committing a batch or parsing XML, instead of idling until its one answer has been picked up.
 */
import PQueue from 'p-queue';
import type { Worker } from 'node:worker_threads';
import type { SiteInfo } from '../dump/siteinfo.js';
import { projectWorker } from '../util/worker.js';
import type { LinkColumns } from '../ingest/rows.js';
import type { CleanArticle } from './clean.js';

export interface CleanRequest { id: number; title: string; text: string }
/** The article without its links, which travel as columns. */
export type CleanResponse = { id: number; article: Omit<CleanArticle, 'links'>; links: LinkColumns; error?: undefined } | { id: number; error: string; article?: undefined };

interface Slot {
  worker: Worker;
  load: number;
}

export class CleanPool {
  private readonly slots: Slot[] = [];
  private readonly waiting = new Map<number, { resolve: (r: CleanResponse) => void; reject: (e: Error) => void }>();
  private readonly queue: PQueue;
  private nextId = 0;
  private failure: Error | null = null;

  constructor(site: SiteInfo, readonly size: number, readonly depth = 32) {
    this.queue = new PQueue({ concurrency: size * depth });
    for (let i = 0; i < size; i++) {
      const worker = projectWorker(new URL('./worker.ts', import.meta.url), { workerData: { site } });
      const slot = { worker, load: 0 };
      worker.on('message', (r: CleanResponse) => {
        slot.load--;
        this.waiting.get(r.id)?.resolve(r);
        this.waiting.delete(r.id);
      });
      worker.on('error', (e) => this.fail(e));
      worker.on('exit', (code) => {
        if (code !== 0) this.fail(new Error(`article worker exited with code ${code}`));
      });
      this.slots.push(slot);
    }
  }

  clean(title: string, text: string): Promise<CleanResponse> {
    return this.queue.add(() => {
      if (this.failure) throw this.failure;
      let slot = this.slots[0]!;
      for (const s of this.slots) if (s.load < slot.load) slot = s;
      slot.load++;
      const id = this.nextId++;
      return new Promise<CleanResponse>((resolve, reject) => {
        this.waiting.set(id, { resolve, reject });
        slot.worker.postMessage({ id, title, text } satisfies CleanRequest);
      });
    }) as Promise<CleanResponse>;
  }

  private fail(e: Error): void {
    this.failure ??= e;
    for (const w of this.waiting.values()) w.reject(e);
    this.waiting.clear();
  }

  async close(): Promise<void> {
    this.queue.clear();
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }
}
