/** Types of bundle.js (plain JavaScript: bin/linkbert.js loads it before TypeScript can be compiled). */
export interface BundleOptions {
  /** name of the cached bundle (default 'worker') */
  prefix?: string;
  /** modules imported dynamically stay separate chunks, loaded when imported */
  splitting?: boolean;
  /** 'external': packages stay imports from node_modules (default: bundled in) */
  packages?: 'external' | 'bundle';
}
export declare function bundledAsync(entry: string, opts?: BundleOptions): Promise<string | null>;
