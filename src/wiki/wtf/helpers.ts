/**
 * wtf_wikipedia's `_lib/helpers.js` with a `trim_whitespace` that does without its four regular
 * expressions (it runs on every sentence; `\s+$` alone scans each one from every space). Ingest's
 * worker bundle takes this module in its place (src/util/bundle.js); the other helpers are the
 * package's own. test/wtf-replaced.test.ts checks the two give the same.
 */
import { upstream } from './upstream.ts';

// the package's own modules, as the replacements hand work on to them
const { capitalise, isArray, isObject } = (await upstream('_lib/helpers.js')) as Record<string, any>;

export { capitalise, isArray, isObject };

const SPACE = /\s/;

/**
 * As wtf's: white space off both ends (`\s` is what trim() removes), then the first double space
 * made single, then the first white space before ", " dropped.
 */
export function trim_whitespace(str: unknown): string {
  if (!str || typeof str !== 'string') return '';
  let s = str.trim();
  const two = s.indexOf('  ');
  if (two >= 0) s = s.slice(0, two) + s.slice(two + 1);
  for (let i = s.indexOf(', ', 1); i > 0; i = s.indexOf(', ', i + 1)) {
    if (SPACE.test(s[i - 1]!)) {
      s = s.slice(0, i - 1) + s.slice(i);
      break;
    }
  }
  return s;
}
