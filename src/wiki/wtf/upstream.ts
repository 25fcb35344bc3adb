/**
 * wtf_wikipedia's own modules, which the replacements in this folder hand work on to. The package
 * exports only its entry, so its modules cannot be imported by a package path, and a path into
 * `node_modules` breaks where npm installs this project as a dependency. Run from the sources they
 * load from wherever the package is installed; in a bundle, `await upstream('X')` in this folder's
 * files is a static import of that module, resolved where the bundle is built (src/util/bundle.js).
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';

let root: string | null = null;

/** A module of the installed wtf_wikipedia's `src/` (e.g. `04-sentence/parse.js`). */
export function upstream(path: string): Promise<unknown> {
  // the package's entry for require is builds/wtf_wikipedia.cjs: its folder's parent is the package
  root ??= dirname(dirname(createRequire(import.meta.url).resolve('wtf_wikipedia')));
  return import(pathToFileURL(join(root, 'src', path)).href);
}
