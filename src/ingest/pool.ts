/**
 * A fixed set of ingest worker threads, each sent runs of whole pages as bytes (transferred, not
 * copied). p-queue bounds the runs in flight; each worker holds `depth` of them, so it keeps
 * parsing while the main thread reads the dump or commits a batch.
 */
import PQueue from 'p-queue';
import type { Worker } from 'node:worker_threads';
import type { SiteInfo } from '../dump/siteinfo.js';
import type { PageRun } from '../dump/split.js';
import { projectWorker } from '../util/worker.js';
import type { PageRows } from './rows.js';

export interface RunRequest { id: number; bytes: Uint8Array; seq: number; line: number; column: number; skipBelow: number }
export interface RunResult {
  id: number;
  /** the run's first page (to check a multistream index against) */
  first: { seq: number; id: number | null } | null;
  /** rows of the pages read before any damage, from seq skipBelow on */
  rows: PageRows[];
  /** the damage that ended the run, naming the file, line and column */
  error: string | null;
}

interface Slot {
  worker: Worker;
  load: number;
}

export class PagePool {
  private readonly slots: Slot[] = [];
  private readonly waiting = new Map<number, { resolve: (r: RunResult) => void; reject: (e: Error) => void }>();
  private readonly queue: PQueue;
  private nextId = 0;
  private failure: Error | null = null;

  constructor(file: string, site: SiteInfo, readonly size: number, readonly depth = 2) {
    this.queue = new PQueue({ concurrency: size * depth });
    for (let i = 0; i < size; i++) {
      const worker = projectWorker(new URL('./worker.ts', import.meta.url), { workerData: { file, site } });
      const slot = { worker, load: 0 };
      worker.on('message', (r: RunResult) => {
        slot.load--;
        this.waiting.get(r.id)?.resolve(r);
        this.waiting.delete(r.id);
      });
      worker.on('error', (e) => this.fail(e));
      worker.on('exit', (code) => {
        if (code !== 0) this.fail(new Error(`ingest worker exited with code ${code}`));
      });
      this.slots.push(slot);
    }
  }

  /** Parses a run of pages; rows of pages before `skipBelow` are not made. */
  parse(run: PageRun, skipBelow: number): Promise<RunResult> {
    return this.queue.add(() => {
      if (this.failure) throw this.failure;
      let slot = this.slots[0]!;
      for (const s of this.slots) if (s.load < slot.load) slot = s;
      slot.load++;
      const id = this.nextId++;
      return new Promise<RunResult>((resolve, reject) => {
        this.waiting.set(id, { resolve, reject });
        const req: RunRequest = { id, bytes: run.bytes, seq: run.seq, line: run.line, column: run.column, skipBelow };
        slot.worker.postMessage(req, [run.bytes.buffer as ArrayBuffer]);
      });
    }) as Promise<RunResult>;
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
