/** 16-bit floats, as checkpoints store them, widened to JS numbers. */

export function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * 2 ** -14 * (f / 1024);
  if (e === 31) return f ? NaN : s * Infinity;
  return s * 2 ** (e - 15) * (1 + f / 1024);
}

const word = new Uint32Array(1);
const asFloat = new Float32Array(word.buffer);

/** bfloat16 is the upper half of a float32. */
export function bfloat16ToFloat(b: number): number {
  word[0] = b << 16;
  return asFloat[0]!;
}
