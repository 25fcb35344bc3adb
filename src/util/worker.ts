import { fileURLToPath } from 'node:url';
import { Worker, type WorkerOptions } from 'node:worker_threads';
import { bundledAsync } from './bundle.js';

/** Starts a worker thread running one module; as many as needed, each with its own options. */
export type WorkerStarter = (options?: WorkerOptions) => Worker;

/**
 * Workers running a module of this project's TypeScript. A worker inherits neither the command's
 * bundle nor tsx's loader (tests and LINKBERT_NO_BUNDLE run the sources through tsx): it gets the
 * module bundled into one JavaScript file by esbuild (the compiler tsx itself uses), kept in
 * node_modules/.cache and rebuilt when a file it was built from changes. A bundle loads in a fifth
 * of the CPU time that tsx needs to compile the module and its imports in every worker (measured: 2
 * ingest workers, 0.35 vs 2.1 CPU-s), and takes the faster replacements of a few package modules
 * (bundle.js, REPLACED). Without esbuild (or with LINKBERT_NO_BUNDLE=1), the worker registers tsx
 * before importing, and runs wtf_wikipedia's own modules.
 */
export async function projectWorkers(url: URL): Promise<WorkerStarter> {
  if (!url.pathname.endsWith('.ts')) return (options) => new Worker(url, options);
  const bundle = process.env.LINKBERT_NO_BUNDLE ? null : await bundledAsync(fileURLToPath(url));
  if (bundle) return (options) => new Worker(bundle, options);
  const api = import.meta.resolve('tsx/esm/api');
  const boot = `import(${JSON.stringify(api)}).then((m) => { m.register(); return import(${JSON.stringify(url.href)}); })`;
  return (options) => new Worker(boot, { ...options, eval: true });
}
