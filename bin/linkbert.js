#!/usr/bin/env node
// Runs the TypeScript sources: from a cached esbuild bundle of them (rebuilt when a source file
// changes; starts about half a second sooner than compiling through tsx), or through tsx when no
// bundle can be made (LINKBERT_NO_BUNDLE=1 asks for tsx). Either way `npx linkbert` works right
// after `npm ci`.
import { fileURLToPath, pathToFileURL } from 'node:url';
import { bundledAsync } from '../src/util/bundle.js';

const cli = fileURLToPath(new URL('../pipeline/cli.ts', import.meta.url));
const bundle = process.env.LINKBERT_NO_BUNDLE ? null : await bundledAsync(cli, { prefix: 'cli', splitting: true, packages: 'external' });
let main;
if (bundle) ({ main } = await import(pathToFileURL(bundle).href));
else {
  const { register } = await import('tsx/esm/api');
  register();
  ({ main } = await import('../pipeline/cli.ts'));
}
process.exitCode = await main(process.argv.slice(2));
