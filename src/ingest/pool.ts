/**
 * A fixed set of ingest worker threads, each sent runs of whole pages as bytes. p-queue bounds the
 * runs in flight; each worker holds `depth` of them, so it keeps parsing while the main thread
 * reads the dump or commits a batch. The workers start before the dump is known (loading their
 * bundle takes a fifth of a second, while the main thread opens the database and reads the dump's
 * header); each input is then announced to them (`begin`) before its first run.
 *
 * No page can stall a run: each worker says (through shared memory, no messages) which page it is
 * cleaning and how long it may take (2 s + 20 ms per KiB, at most the page timeout); one that stays on
 * a page longer is stopped and replaced, and its runs
 * are sent again to the new worker with that page's text left out (`parse timeout`; its links are
 * read alone, in linear time, and kept; a second timeout skips it whole). The same for a page
 * whose cleaning outgrows a worker's heap (WORKER_HEAP_MB): skipped as `out of memory`, so that no
 * page can take the process past a bounded memory either.
 */
import PQueue from 'p-queue';
import type { Worker } from 'node:worker_threads';
import type { SiteInfo } from '../dump/siteinfo.js';
import { WORKER_HEAP_MB, type CleanSettings } from './page.js';
import type { PageRun } from '../dump/split.js';
import { projectWorkers, type WorkerStarter } from '../util/worker.js';
import type { PageRows } from '../db/rows.js';

export interface RunRequest {
  id: number;
  bytes: Uint8Array;
  seq: number;
  line: number;
  column: number;
  skipBelow: number;
  /** pages that ran over the budget in an earlier worker: their text is not cleaned again, their links are kept */
  timedOut: number[];
  /** pages whose links alone, read after a timeout, ran over the budget again: skipped */
  lost: number[];
  /** pages that outgrew an earlier worker's heap: skipped likewise */
  outOfMemory: number[];
  budgetSeconds: number;
}
/** The input the runs that follow come from: its file (named in errors) and its siteinfo. */
export interface PoolInput {
  file: string;
  site: SiteInfo;
}
export interface RunResult {
  id: number;
  /** the run's first page (to check a multistream index against) */
  first: { seq: number; id: number | null } | null;
  /** rows of the pages read before any damage, from seq skipBelow on */
  rows: PageRows[];
  /** the damage that ended the run, naming the file, line and column */
  error: string | null;
}

interface Pending {
  req: RunRequest;
  resolve: (r: RunResult) => void;
  reject: (e: Error) => void;
}

interface Slot {
  worker: Worker;
  /** [0]: seq + 1 of the page being cleaned, 0 when none; [1]: its budget in ms (page.ts pageBudgetMs) */
  beat: Int32Array;
  pending: Map<number, Pending>;
  watched: number;
  since: number;
}

export class PagePool {
  private readonly slots: Slot[] = [];
  private readonly queue: PQueue;
  private readonly timer: NodeJS.Timeout;
  private nextId = 0;
  private failure: Error | null = null;
  private input: PoolInput | null = null;
  private closed = false;
  /** pages skipped for running over the budget */
  timeouts = 0;

  /** A pool of `size` workers, started once their module's bundle is ready. */
  static async open(size: number, clean: CleanSettings, budgetSeconds = 30, depth = 2, heapMb = WORKER_HEAP_MB): Promise<PagePool> {
    return new PagePool(await projectWorkers(new URL('./worker.ts', import.meta.url)), size, clean, budgetSeconds, depth, heapMb);
  }

  private constructor(
    private readonly startWorker: WorkerStarter,
    readonly size: number,
    private readonly clean: CleanSettings,
    private readonly budgetSeconds = 30,
    readonly depth = 2,
    private readonly heapMb = WORKER_HEAP_MB,
  ) {
    this.queue = new PQueue({ concurrency: size * depth });
    for (let i = 0; i < size; i++) {
      const beat = new Int32Array(new SharedArrayBuffer(8));
      const slot: Slot = { worker: undefined as unknown as Worker, beat, pending: new Map(), watched: 0, since: performance.now() };
      this.start(slot);
      this.slots.push(slot);
    }
    this.timer = setInterval(() => this.watch(), Math.min(250, (budgetSeconds * 1000) / 4));
    this.timer.unref();
  }

  /** The runs parsed from now on come from this input. */
  begin(input: PoolInput): void {
    this.input = input;
    for (const slot of this.slots) slot.worker.postMessage(input);
  }

  private start(slot: Slot): void {
    const worker = this.startWorker({ workerData: { clean: this.clean, beat: slot.beat, heapMb: this.heapMb }, resourceLimits: { maxOldGenerationSizeMb: this.heapMb } });
    if (this.input) worker.postMessage(this.input); // a replacement worker: before the runs sent again
    worker.on('message', (r: RunResult) => {
      const p = slot.pending.get(r.id);
      slot.pending.delete(r.id);
      p?.resolve(r);
    });
    worker.on('error', (e) => {
      const page = Atomics.load(slot.beat, 0) - 1;
      if ((e as { code?: string }).code === 'ERR_WORKER_OUT_OF_MEMORY' && slot.worker === worker && page >= 0) this.replace(slot, page, 'outOfMemory');
      else this.fail(e);
    });
    worker.on('exit', (code) => {
      if (code !== 0 && slot.worker === worker) this.fail(new Error(`ingest worker exited with code ${code}`));
    });
    slot.worker = worker;
  }

  /** Parses a run of pages; rows of pages before `skipBelow` are not made. */
  parse(run: PageRun, skipBelow: number): Promise<RunResult> {
    return this.queue.add(() => {
      if (this.failure) throw this.failure;
      let slot = this.slots[0]!;
      for (const s of this.slots) if (s.pending.size < slot.pending.size) slot = s;
      const id = this.nextId++;
      return new Promise<RunResult>((resolve, reject) => {
        const req: RunRequest = { id, bytes: run.bytes, seq: run.seq, line: run.line, column: run.column, skipBelow, timedOut: [], lost: [], outOfMemory: [], budgetSeconds: this.budgetSeconds };
        slot.pending.set(id, { req, resolve, reject });
        // not transferred (its bytes are shared memory): the run is sent again if its worker has to be replaced
        slot.worker.postMessage(req);
      });
    }) as Promise<RunResult>;
  }

  /** Replaces a worker that has been on one page for longer than the budget. */
  private watch(): void {
    const now = performance.now();
    for (const slot of this.slots) {
      const current = Atomics.load(slot.beat, 0);
      if (current !== slot.watched || current === 0 || !slot.pending.size) {
        slot.watched = current;
        slot.since = now;
        continue;
      }
      if (now - slot.since < Atomics.load(slot.beat, 1)) continue;
      this.timeouts++;
      this.replace(slot, current - 1, 'timedOut');
    }
  }

  /** A new worker in the slot, sent the slot's runs again with page `seq` skipped for `why`. */
  private replace(slot: Slot, seq: number, why: 'timedOut' | 'outOfMemory'): void {
    const old = slot.worker;
    slot.watched = 0;
    slot.since = performance.now();
    slot.beat = new Int32Array(new SharedArrayBuffer(8)); // the old worker may still write to its own
    this.start(slot); // the old one is no longer the slot's: its exit is not a failure
    void old.terminate();
    for (const p of slot.pending.values()) {
      // a timeout while its links alone were read (the page timed out before): nothing more is tried
      p.req[why === 'timedOut' && p.req.timedOut.includes(seq) ? 'lost' : why].push(seq);
      slot.worker.postMessage(p.req);
    }
  }

  private fail(e: Error): void {
    this.failure ??= e;
    for (const slot of this.slots) {
      for (const p of slot.pending.values()) p.reject(e);
      slot.pending.clear();
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    this.queue.clear();
    const workers = this.slots.map((s) => s.worker);
    for (const s of this.slots) s.worker = undefined as unknown as Worker; // their exits are expected
    await Promise.all(workers.map((w) => w.terminate()));
  }
}
