/**
 * Seeded randomness that does not depend on processing order: each draw sequence is keyed by
 * (seed, keys…), e.g. (seed, article), so results are the same whatever the worker count.
 */

/** 32-bit FNV-1a over the keys' decimal digits, mixed. */
export function hash32(...keys: (number | string)[]): number {
  let h = 0x811c9dc5;
  for (const k of keys) {
    const s = `${k}\u0001`;
    for (let i = 0; i < s.length; i++) {
      h ^= s.charCodeAt(i);
      h = Math.imul(h, 0x01000193);
    }
  }
  return h >>> 0;
}

/** mulberry32: uniform floats in [0, 1). */
export function rng(...keys: (number | string)[]): () => number {
  let a = hash32(...keys);
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Uniform integer in [lo, hi], both included (Python's random.randint). */
export function randInt(r: () => number, lo: number, hi: number): number {
  return lo + Math.floor(r() * (hi - lo + 1));
}
