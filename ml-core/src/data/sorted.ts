/**
 * How many entries of ascending `sorted` are below `v`: where `v` would be inserted, before its
 * equals. Within `[from, to)` (ascending there), the position there, from `from`.
 */
export function lowerBound(sorted: ArrayLike<number>, v: number, from = 0, to = sorted.length): number {
  let lo = from;
  let hi = to;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! < v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Below this many values `sortFloat64` calls the built-in sort: the radix passes' 65,536 counts would cost more than they save. */
const RADIX_MIN_VALUES = 1 << 15;
/** Whether a double's low 32 bits come first in memory (the radix sort reads a value as two words). */
const LITTLE_ENDIAN = new Uint8Array(Float64Array.of(1).buffer)[7] === 0x3f;

/**
 * Sorts `a` in place, ascending, as `Float64Array.prototype.sort` does (-0 before +0, NaN last),
 * and returns it, through `scratch` (two words a value; allocated when not given or too small). A
 * least-significant-digit radix sort of the values' bits, sixteen at a time (four passes; a pass
 * is skipped when every value has the same digit). Hand-written for training's AUC, which sorts
 * every training row's probability: the built-in sort copies an array on shared memory first, and
 * with scratch the caller already has (the booster's row buffers, free once training is over)
 * this one allocates nothing. 2.4 M rows on two threads: the training's peak RSS 243 → 222 MB. It
 * is faster too (random probabilities: 2.4 M in 92 against 166 ms, 500k in 17 against 32).
 */
export function sortFloat64(a: Float64Array, scratch?: Uint32Array): Float64Array {
  const n = a.length;
  if (n < RADIX_MIN_VALUES || !LITTLE_ENDIAN) return a.sort();
  const words = new Uint32Array(a.buffer, a.byteOffset, 2 * n);
  // Keys whose unsigned order is the values' order: a positive value's sign bit set, a negative
  // value's every bit flipped (so -0 comes just before +0); every NaN made the positive quiet NaN,
  // which sorts after +Infinity.
  for (let i = 0; i < 2 * n; i += 2) {
    const hi = words[i + 1]!;
    if ((hi & 0x7ff00000) === 0x7ff00000 && ((hi & 0xfffff) | words[i]!) !== 0) {
      words[i + 1] = 0xfff80000;
      words[i] = 0;
    } else if (hi >= 0x80000000) {
      words[i + 1] = ~hi;
      words[i] = ~words[i]!;
    } else words[i + 1] = hi | 0x80000000;
  }
  let from = words;
  let to = scratch !== undefined && scratch.length >= 2 * n ? scratch : new Uint32Array(2 * n);
  const count = new Int32Array(1 << 16);
  for (let pass = 0; pass < 4; pass++) {
    const word = pass >> 1;
    const shift = (pass & 1) * 16;
    count.fill(0);
    for (let i = word; i < 2 * n; i += 2) count[(from[i]! >>> shift) & 0xffff]!++;
    if (count[(from[word]! >>> shift) & 0xffff] === n) continue;
    let sum = 0;
    for (let d = 0; d < 1 << 16; d++) {
      const c = count[d]!;
      count[d] = sum;
      sum += c;
    }
    for (let i = 0; i < 2 * n; i += 2) {
      const p = 2 * count[(from[i + word]! >>> shift) & 0xffff]!++;
      to[p] = from[i]!;
      to[p + 1] = from[i + 1]!;
    }
    [from, to] = [to, from];
  }
  // The keys back to values, into `a`.
  for (let i = 0; i < 2 * n; i += 2) {
    const hi = from[i + 1]!;
    if (hi >= 0x80000000) {
      words[i + 1] = hi & 0x7fffffff;
      words[i] = from[i]!;
    } else {
      words[i + 1] = ~hi;
      words[i] = ~from[i]!;
    }
  }
  return a;
}
