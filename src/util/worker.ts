import { fileURLToPath } from 'node:url';
import { Worker, type WorkerOptions } from 'node:worker_threads';
import { bundled } from './bundle.js';

/**
 * A worker running a module of this project's TypeScript. A worker inherits neither the command's
 * bundle nor tsx's loader (tests and LINKBERT_NO_BUNDLE run the sources through tsx): it gets the
 * module bundled into one JavaScript file by esbuild (the compiler tsx itself uses), kept in
 * node_modules/.cache and rebuilt when a file it was built from changes. A bundle loads in a fifth
 * of the CPU time that tsx needs to compile the module and its imports in every worker (measured: 2
 * ingest workers, 0.35 vs 2.1 CPU-s). Without esbuild, the worker registers tsx before importing.
 */
export function projectWorker(url: URL, options: WorkerOptions = {}): Worker {
  if (!url.pathname.endsWith('.ts')) return new Worker(url, options);
  const bundle = bundled(fileURLToPath(url));
  if (bundle) return new Worker(bundle, options);
  const api = import.meta.resolve('tsx/esm/api');
  const boot = `import(${JSON.stringify(api)}).then((m) => { m.register(); return import(${JSON.stringify(url.href)}); })`;
  return new Worker(boot, { ...options, eval: true });
}
