/** Types of bundle.js (plain JavaScript: bin/linkbert.js loads it before TypeScript can be compiled). */
export interface BundleOptions {
  /** name of the cached bundle (default 'worker') */
  prefix?: string;
  /** modules imported dynamically stay separate chunks, loaded when imported */
  splitting?: boolean;
  /** 'external': packages stay imports from node_modules (default: bundled in) */
  packages?: 'external' | 'bundle';
  /** the package modules taken from this project instead (default REPLACED; tests pass others) */
  replaced?: { module: string; by: string }[];
}
/** wtf_wikipedia's modules that a bundle takes from this project instead, and by which file. */
export declare const REPLACED: { module: string; by: string }[];
export declare function bundledAsync(entry: string, opts?: BundleOptions): Promise<string | null>;
