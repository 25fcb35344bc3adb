/**
 * esbuild bundles of this project's TypeScript modules, kept in node_modules/.cache and rebuilt when
 * a file they were built from changes. Plain JavaScript, so that bin/linkbert.js can use it before
 * anything can compile TypeScript; its types are in bundle.d.ts.
 *
 * The command's bundle leaves packages as imports (they load from node_modules as they would from
 * the sources); a worker's bundle takes them in. Each source file's `import.meta.url` is its own
 * path, so files found beside the sources (sql/, the sample dump, a worker module) are found from a
 * bundle too.
 */
import { createHash } from 'node:crypto';
import { accessSync, constants, existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { createRequire } from 'node:module';
import { basename, dirname, join, relative, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** this package's version: a bundle made by another version is made again */
const VERSION = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version;
/**
 * Where bundles are kept: beside the package (its node_modules/.cache, where a bundle that leaves
 * packages as imports finds them as the sources do), or, where that folder cannot be written (a global
 * install owned by root), in the user's cache for bundles that take every package in.
 */
const OWN_CACHE = join(ROOT, 'node_modules/.cache/linkbert-pipeline');
const USER_CACHE = process.env.LINKBERT_CACHE ?? join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'linkbert-pipeline');
/** this file, among every bundle's inputs: a bundle is rebuilt when how it is made changes (REPLACED, the settings) */
const SELF = relative(ROOT, fileURLToPath(import.meta.url));

/**
 * Path of an up-to-date bundle of `entry`, or null when it cannot be made (no esbuild, a read-only
 * node_modules). Each project file's `import.meta.url` is its own path, and a few modules of
 * packages are taken from this project instead (REPLACED). With `splitting`, modules the entry
 * imports dynamically stay separate chunks, loaded when imported (a command loads only its own
 * stage). Asynchronous: esbuild runs plugins only in its asynchronous API.
 * @param {string} entry
 * @param {{ prefix?: string, splitting?: boolean, packages?: "external" | "bundle", replaced?: { module: string, by: string }[] }} [opts]
 * @returns {Promise<string | null>}
 */
export async function bundledAsync(entry, opts = {}) {
  const where = place(entry, opts);
  if (!where) return null; // no cache it can write: the sources run through tsx
  const { out, stampFile } = where;
  if (fresh(stampFile)) return out;
  const esbuild = load();
  if (!esbuild) return null; // the sources run through tsx
  const modules = opts.replaced ?? REPLACED;
  let result;
  try {
    result = await esbuild.build({ ...settings(entry, out, opts), plugins: [ownUrl, replacing(modules)] });
  } catch (e) {
    // a bundle that cannot be made is an error, not a silent fall-back (a replacement could drop out)
    const errors = /** @type {{ errors?: { text: string }[] }} */ (e).errors;
    throw new Error(`cannot bundle ${relative(ROOT, entry)}: ${errors?.length ? errors.map((x) => x.text).join('; ') : /** @type {Error} */ (e).message}`);
  }
  checkReplaced(result, modules, entry);
  try {
    return save(result, out, stampFile);
  } catch (e) {
    const code = /** @type {NodeJS.ErrnoException} */ (e).code;
    if (code === 'EACCES' || code === 'EROFS' || code === 'EPERM') return null; // a read-only install: the sources run through tsx
    throw e;
  }
}

/**
 * A bundle that takes in wtf_wikipedia must take every replacement in: one whose module was not
 * found in the package (renamed or moved upstream) would otherwise drop out unseen.
 * @param {import('esbuild').BuildResult<{ write: false, metafile: true }>} r
 * @param {{ module: string, by: string }[]} modules @param {string} entry
 */
function checkReplaced(r, modules, entry) {
  const inputs = Object.keys(r.metafile.inputs);
  if (!inputs.some((f) => f.endsWith('node_modules/wtf_wikipedia/src/index.js'))) return; // wtf_wikipedia itself left external, or not used
  const missing = modules.filter((m) => !inputs.includes(m.by));
  if (missing.length) throw new Error(`cannot bundle ${relative(ROOT, entry)}: the replacement(s) ${missing.map((m) => m.by).join(', ')} did not take the place of their module in wtf_wikipedia`);
}

/** @param {string} dir */
function writable(dir) {
  try {
    mkdirSync(dir, { recursive: true });
    accessSync(dir, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * The cache folder for a bundle, or null when there is none it can use.
 * @param {{ packages?: 'external' | 'bundle' }} opts
 */
function cacheFor(opts) {
  if (writable(OWN_CACHE)) return OWN_CACHE;
  // packages left as imports resolve from the bundle's own place: only beside the package
  return opts.packages === 'external' ? null : writable(USER_CACHE) ? USER_CACHE : null;
}

/** @param {string} entry @param {{ prefix?: string, splitting?: boolean, packages?: 'external' | 'bundle' }} opts */
function place(entry, opts) {
  const cache = cacheFor(opts);
  if (!cache) return null;
  const name = `${opts.prefix ?? 'worker'}-${createHash('sha256').update(`${VERSION}\0${entry}`).digest('hex').slice(0, 12)}`;
  const out = opts.splitting ? join(cache, name, `${basename(entry).replace(/\.[cm]?[jt]s$/, '')}.mjs`) : join(cache, `${name}.mjs`);
  return { out, stampFile: `${out}.json` };
}

/** @returns {typeof import('esbuild') | null} */
function load() {
  try {
    return createRequire(import.meta.url)('esbuild');
  } catch {
    return null;
  }
}

/** @param {string} stampFile */
function fresh(stampFile) {
  try {
    /** @type {{ inputs: Record<string, [number, number]>, outputs?: string[] }} */
    const stamp = JSON.parse(readFileSync(stampFile, 'utf8'));
    if (!(SELF in stamp.inputs) || stamp.version !== VERSION) return false; // made otherwise, or by another version
    const fresh = Object.entries(stamp.inputs).every(([f, [mtime, size]]) => {
      const s = statSync(join(ROOT, f));
      return s.mtimeMs === mtime && s.size === size;
    });
    // and every file of the bundle still there (a chunk is imported only when its stage runs)
    return fresh && (stamp.outputs ?? []).every((f) => existsSync(join(dirname(stampFile), f)));
  } catch {
    return false;
  }
}

/**
 * Each project file's `import.meta.url` as its own path (esbuild would leave the bundle's), and in
 * src/wiki/wtf/, each `(await upstream('X'))` a static import of wtf_wikipedia's module X, where the
 * package is installed (upstream.ts loads it at run time when the sources run through tsx).
 */
// spelt in pieces: this file is bundled too (into the command's bundle, which makes the workers'),
// and written whole the rewrite below would change its own needle into this file's path
const META_URL = ['import', 'meta', 'url'].join('.');
const ownUrl = {
  name: 'own-import-meta-url',
  /** @param {import('esbuild').PluginBuild} b */
  setup(b) {
    b.onLoad({ filter: /\.[cm]?[jt]s$/ }, (args) => {
      // files of no package: this project's (which may itself be installed inside a node_modules
      // folder) and any other source file bundled (not inside a node_modules folder)
      const rel = relative(ROOT, args.path);
      const inPackage = rel.startsWith('..') ? args.path.split(sep).includes('node_modules') : rel.split(sep).includes('node_modules');
      if (inPackage) return undefined;
      let text = readFileSync(args.path, 'utf8');
      const upstream = args.path.startsWith(join(ROOT, 'src/wiki/wtf/')) && text.includes('(await upstream(');
      if (!text.includes(META_URL) && !upstream) return undefined;
      if (upstream) {
        const imports = /** @type {string[]} */ ([]);
        const src = join(wtfRoot(), 'src');
        text = text.replace(/\(await upstream\('([^']+)'\)\)/g, (_, /** @type {string} */ path) => {
          const name = `__upstream${imports.length}`;
          let rel = relative(dirname(args.path), join(src, path));
          if (!rel.startsWith('.')) rel = `./${rel}`;
          imports.push(`import * as ${name} from ${JSON.stringify(rel)};`);
          return name;
        });
        text = `${imports.join('\n')}\n${text}`;
      }
      const loader = /\.[cm]?ts$/.test(args.path) ? 'ts' : 'js';
      return { contents: text.replaceAll(META_URL, JSON.stringify(pathToFileURL(args.path).href)), loader };
    });
  },
};

/**
 * Modules of packages that a bundle takes from this project instead, where the package's own does
 * needless work on ingest's hot path. Each gives the same results as the one it replaces (its test
 * compares them); a package bundled in imports it, packages left external (the command's bundle)
 * and the sources run through tsx use the package's own.
 */
const REPLACED = [
  { module: 'node_modules/wtf_wikipedia/src/image/nested_find.js', by: 'src/wiki/wtf/nested-find.ts' },
  { module: 'node_modules/wtf_wikipedia/src/01-document/preProcess/kill_xml.js', by: 'src/wiki/wtf/kill-xml.ts' },
  { module: 'node_modules/wtf_wikipedia/src/template/index.js', by: 'src/wiki/wtf/section-templates.ts' },
  { module: 'node_modules/wtf_wikipedia/src/reference/index.js', by: 'src/wiki/wtf/section-references.ts' },
  { module: 'node_modules/wtf_wikipedia/src/table/index.js', by: 'src/wiki/wtf/section-tables.ts' },
  { module: 'node_modules/wtf_wikipedia/src/02-section/start-to-end/index.js', by: 'src/wiki/wtf/section-start-end.ts' },
  { module: 'node_modules/wtf_wikipedia/src/_lib/helpers.js', by: 'src/wiki/wtf/helpers.ts' },
  { module: 'node_modules/wtf_wikipedia/src/04-sentence/formatting.js', by: 'src/wiki/wtf/formatting.ts' },
  { module: 'node_modules/wtf_wikipedia/src/link/index.js', by: 'src/wiki/wtf/sentence-links.ts' },
  { module: 'node_modules/wtf_wikipedia/src/04-sentence/parse.js', by: 'src/wiki/wtf/sentence-split.ts' },
  { module: 'node_modules/wtf_wikipedia/src/04-sentence/index.js', by: 'src/wiki/wtf/sentence.ts' },
];
export { REPLACED };

/**
 * The plugin that swaps the modules in. Before the build, each module to replace must exist in the
 * installed wtf_wikipedia (wherever npm put it): a path that no longer matches is a build error.
 * @param {{ module: string, by: string }[]} modules
 */
function replacing(modules) {
  return {
    name: 'replaced-modules',
    /** @param {import('esbuild').PluginBuild} b */
    setup(b) {
      b.onStart(() => {
        const root = wtfRoot();
        const absent = modules.filter((m) => !existsSync(join(root, m.module.replace('node_modules/wtf_wikipedia/', ''))) || !existsSync(join(ROOT, m.by)));
        return { errors: absent.map((m) => ({ text: `${m.module} (replaced by ${m.by}) is not in wtf_wikipedia ${wtfVersion(root)} at ${root}` })) };
      });
      b.onResolve({ filter: /^\./ }, (args) => {
        const path = join(args.resolveDir, args.path);
        const r = modules.find((r) => path.endsWith(`/${r.module}`));
        // a replacement may hand work on to the module it replaces
        return r && args.importer !== join(ROOT, r.by) ? { path: join(ROOT, r.by) } : undefined;
      });
    },
  };
}

/** The installed wtf_wikipedia's folder, wherever npm put it (its `exports` name only its entry). */
function wtfRoot() {
  return dirname(dirname(createRequire(join(ROOT, 'package.json')).resolve('wtf_wikipedia')));
}

/** @param {string} root */
function wtfVersion(root) {
  try {
    return JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version;
  } catch {
    return '(version unknown)';
  }
}

/**
 * @param {string} entry @param {string} out
 * @param {{ splitting?: boolean, packages?: 'external' | 'bundle' }} opts
 * @returns {import('esbuild').BuildOptions & { write: false, metafile: true }}
 */
function settings(entry, out, opts) {
  return {
    entryPoints: [entry],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    write: false,
    metafile: true,
    absWorkingDir: ROOT,
    logLevel: 'silent',
    outdir: dirname(out),
    entryNames: basename(out, '.mjs'),
    outExtension: { '.js': '.mjs' },
    splitting: Boolean(opts.splitting),
    packages: opts.packages,
  };
}

/**
 * Writes a build's files and the stamp of what it was built from.
 * @param {import('esbuild').BuildResult<{ write: false, metafile: true }>} r @param {string} out @param {string} stampFile
 */
function save(r, out, stampFile) {
  /** @type {Record<string, [number, number]>} */
  const inputs = {};
  for (const f of [...Object.keys(r.metafile.inputs), SELF]) {
    const s = statSync(join(ROOT, f));
    inputs[f] = [s.mtimeMs, s.size];
  }
  mkdirSync(dirname(out), { recursive: true });
  // each file written aside and renamed: another process may be starting from the same bundle.
  // Chunks are named by their content, so a process still running an older entry finds its own.
  for (const f of r.outputFiles) {
    if (f.path !== out && existsSync(f.path)) continue;
    const tmp = `${f.path}.${process.pid}.tmp`;
    writeFileSync(tmp, f.contents);
    renameSync(tmp, f.path);
  }
  const outputs = r.outputFiles.map((f) => relative(dirname(stampFile), f.path));
  writeFileSync(`${stampFile}.${process.pid}.tmp`, JSON.stringify({ version: VERSION, inputs, outputs }));
  renameSync(`${stampFile}.${process.pid}.tmp`, stampFile);
  return out;
}
