import { Worker, type WorkerOptions } from 'node:worker_threads';

/**
 * A worker running a module of this project. Under tsx (the `linkbert` command runs the TypeScript
 * sources directly) a worker does not inherit the loader, so it registers tsx before importing.
 */
export function projectWorker(url: URL, options: WorkerOptions = {}): Worker {
  if (!url.pathname.endsWith('.ts')) return new Worker(url, options);
  const api = import.meta.resolve('tsx/esm/api');
  const boot = `import(${JSON.stringify(api)}).then((m) => { m.register(); return import(${JSON.stringify(url.href)}); })`;
  return new Worker(boot, { ...options, eval: true });
}
