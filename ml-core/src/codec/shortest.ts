/**
 * `String(v)` for a double, written straight into a byte buffer: the shortest decimal that reads
 * back as `v` (ties to the nearest, then to even), in ECMAScript's notation, byte for byte what V8
 * prints (tested on millions of values). `ml-core predict` writes two or more numbers per row, and
 * V8's conversion (a call into the runtime, then a string to copy) was a fifth of a file job's
 * time.
 *
 * It covers 1e-6 ≤ |v| < 1e15 (every probability a model outputs above one in a million, and
 * every ordinary regression value), where the result is written without an exponent; anything
 * else, and doubles whose significand is a power of two (their rounding interval is lopsided),
 * answer -1 and the caller uses `String(v)`.
 *
 * How: with q chosen so that p = v · 10^q lies in [10^16, 10^17), p is computed exactly as a sum
 * of two doubles (Dekker's product), B + pl with B an integer. The doubles that round to v are
 * those within half an ulp of it; scaled, the integers B + k with k in [kMin, kMax]. The shortest
 * decimal is the one of those with the most trailing zeros, found from where the digits of the
 * interval's ends first differ; among several, the one nearest p. Every step is exact: integer
 * doubles, sums checked with Knuth's TwoSum, and remainders of small integers.
 */

// Indexed reads carry `!` (noUncheckedIndexedAccess): table indices are bounded by the exponent
// range checked on entry. A check per read would cost the hot loops; the emitted JavaScript is
// unchanged.

const POW10 = Float64Array.from({ length: 23 }, (_, i) => 10 ** i);
const POW10I = Int32Array.from({ length: 10 }, (_, i) => 10 ** i);
/** 2^27 + 1: Veltkamp's constant, splitting a double into two halves of 26 bits. */
const SPLITTER = 134217729;
const E9 = 1e9;
const ZERO = 48;
const DOT = 46;
const MINUS = 45;

const bits = new Float64Array(1);
const words = new Uint32Array(bits.buffer);
// The high word of a double is words[1] on a little-endian machine; elsewhere, use String(v).
const LITTLE_ENDIAN = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;

/** The exact error of the last `a + b` (Knuth's TwoSum); set by `sumError`. */
function sumError(a: number, b: number, s: number): number {
  const bb = s - a;
  return a - (s - bb) + (b - bb);
}

/** floor(s + t) for t a rounding error of s (|t| ≤ ulp(s) / 2). */
function floorOf(s: number, t: number): number {
  const f = Math.floor(s);
  return f === s && t < 0 ? f - 1 : f;
}

/** ceil(s + t) for t a rounding error of s. */
function ceilOf(s: number, t: number): number {
  const c = Math.ceil(s);
  return c === s && t > 0 ? c + 1 : c;
}

/**
 * The position of the highest decimal digit in which two different non-negative integers below
 * 2^31 differ (0 for the units). From the units up, as they mostly differ only there; division
 * of an int32 by the constant 10 compiles to a multiplication.
 */
function highestDifference(a: number, b: number): number {
  let x = a | 0;
  let y = b | 0;
  let j = 0;
  for (;;) {
    x = (x / 10) | 0;
    y = (y / 10) | 0;
    if (x === y) return j;
    j++;
  }
}

/** -1, 0 or 1: how far a low part, off by at most one 10^9, lies outside [0, 10^9). */
function carryOf(lo: number): number {
  return lo >= E9 ? 1 : lo < 0 ? -1 : 0;
}

/**
 * 2^e for the exponents `h` needs (e2 − 1 of a double in [1e-6, 1e15): −73 to −4), from a table:
 * building it in the double's bits (two 32-bit stores, then a 64-bit load) stalled the store
 * buffer, a tenth of the conversion (profiled).
 */
const POW2_BIAS = 1100;
const POW2 = Float64Array.from({ length: 1200 }, (_, i) => 2 ** (i - POW2_BIAS));

/** '00' to '99' as pairs of ASCII digits: two digits per division. */
const PAIRS = Uint8Array.from({ length: 200 }, (_, i) => ZERO + (i & 1 ? (i >> 1) % 10 : ((i >> 1) / 10) | 0));

/** The 4 digits of an integer in [0, 10^4) at `out[pos]`, with leading zeros. */
function write4(out: Uint8Array, pos: number, n: number): void {
  const hi = ((n * 5243) >>> 19) << 1; // n / 100 for n < 43,699
  const lo = (n - (hi >> 1) * 100) << 1;
  out[pos] = PAIRS[hi]!;
  out[pos + 1] = PAIRS[hi + 1]!;
  out[pos + 2] = PAIRS[lo]!;
  out[pos + 3] = PAIRS[lo + 1]!;
}

/** The 17 digits of nHi · 10^9 + nLo (nHi < 10^8, nLo < 10^9, int32) at `out[pos]`. */
function write17(out: Uint8Array, pos: number, nHi: number, nLo: number): void {
  const h1 = (nHi / 10000) | 0;
  write4(out, pos, h1);
  write4(out, pos + 4, nHi - h1 * 10000);
  const l1 = (nLo / 100000) | 0;
  const l2 = nLo - l1 * 100000;
  const l3 = (l2 / 10) | 0;
  write4(out, pos + 8, l1);
  write4(out, pos + 12, l3);
  out[pos + 16] = ZERO + l2 - l3 * 10;
}

/**
 * Writes the shortest round-trip decimal of `v` at `out[pos]` and returns the position after it,
 * or returns -1 (writing nothing) when `v` is outside what this covers. `out` needs room for 25
 * bytes, which may be written past the returned end.
 */
export function writeShortest(out: Uint8Array, pos: number, v: number): number {
  const a = v < 0 ? -v : v;
  if (!(a >= 1e-6 && a < 1e15) || !LITTLE_ENDIAN) return -1;
  bits[0] = a;
  const lo = words[0]!;
  const hi = words[1]!;
  if ((hi & 0xfffff) === 0 && lo === 0) return -1;
  const e2 = ((hi >>> 20) & 0x7ff) - 1075;
  const even = (lo & 1) === 0;

  // q such that p = a · 10^q is in [10^16, 10^17). a is in [2^E, 2^(E+1)), so floor(log10 a) is
  // floor(E · log10 2) or one more: the estimate of q is right or one too large.
  let q = 16 - Math.floor((e2 + 52) * 0.3010299956639812);
  if (q < 0 || q > 23) return -1;
  let B = q <= 22 ? a * POW10[q]! : Infinity;
  if (B >= 1e17) B = a * POW10[--q]!;
  if (q < 0 || q > 22 || !(B >= 1e16 && B < 1e17)) return -1;
  const P = POW10[q]!;
  // Dekker's product: p = B + pl exactly, B an integer (its ulp is at least 2 here).
  let c = SPLITTER * a;
  const ah = c - (c - a);
  const al = a - ah;
  c = SPLITTER * P;
  const Ph = c - (c - P);
  const Pl = P - Ph;
  const pl = ah * Ph - B + ah * Pl + al * Ph + al * Pl;
  // Half an ulp of a, scaled: 2^(e2 − 1) · 10^q, exact.
  const h = POW2[e2 - 1 + POW2_BIAS]! * P;

  // The k with |k − pl| < h (≤ when the significand is even: ties round to even, back to a).
  let s = pl + h;
  let t = sumError(pl, h, s);
  const kMax = even ? floorOf(s, t) : ceilOf(s, t) - 1;
  s = pl - h;
  t = sumError(pl, -h, s);
  const kMin = even ? ceilOf(s, t) : floorOf(s, t) + 1;

  // B = bHi · 10^9 + bLo, then the interval's top U = B + kMax and the integer L' = B + kMin − 1 below it.
  // bHi · 10^9 is exact (bHi · 1953125 < 2^48, times 2^9); the quotient may be one off.
  let bHi = Math.floor(B / E9);
  let bLo = B - bHi * E9;
  const bLoCarry = carryOf(bLo);
  bLo -= bLoCarry * E9;
  bHi += bLoCarry;
  let uLo = bLo + kMax;
  let uHi = bHi;
  const uLoCarry = carryOf(uLo);
  uLo -= uLoCarry * E9;
  uHi += uLoCarry;
  let lLo = bLo + kMin - 1;
  let lHi = bHi;
  const lLoCarry = carryOf(lLo);
  lLo -= lLoCarry * E9;
  lHi += lLoCarry;
  // Every candidate must have 17 digits (L' = 10^16 − 1 is fine: it is not a candidate).
  if (uHi >= 1e8 || (lHi < 1e7 && !(lHi === 1e7 - 1 && lLo === E9 - 1))) return -1;

  // j: the most trailing zeros a number in [L' + 1, U] can have.
  const j = uHi !== lHi ? 9 + highestDifference(uHi, lHi) : highestDifference(uLo, lLo);
  // The candidates: multiples of 10^j in the interval, from the top; pick the nearest to p.
  let nHi: number;
  let nLo: number;
  if (j >= 9) {
    nHi = uHi - ((uHi | 0) % POW10I[j - 9]!);
    nLo = 0;
  } else if (j >= 1) {
    const step = POW10I[j]!;
    nHi = uHi;
    nLo = uLo - ((uLo | 0) % step);
    // Below the top, more multiples (only for j = 1, in an interval over 10 wide): step down
    // while the next one is at least as near p; a tie goes to the even last digit.
    for (;;) {
      let mLo = nLo - step;
      let mHi = nHi;
      if (mLo < 0) {
        mLo += E9;
        mHi--;
      }
      if (mHi < lHi || (mHi === lHi && mLo <= lLo)) break;
      // k of the two candidates relative to B; compare 2·pl with their sum, exactly.
      const kN = (nHi - bHi) * E9 + (nLo - bLo);
      const kM = kN - step;
      const twice = 2 * pl;
      const mid = kN + kM;
      const lastDigitOdd = ((nLo / step) | 0) % 2 === 1;
      if (twice < mid || (twice === mid && lastDigitOdd)) {
        nHi = mHi;
        nLo = mLo;
      } else break;
    }
  } else {
    // Any integer: the nearest to p, ties to even (B is even, so k's parity decides).
    let k = Math.round(pl);
    if (k - pl === 0.5 && k % 2 !== 0) k--;
    if (k > kMax) k = kMax;
    else if (k < kMin) k = kMin;
    nLo = bLo + k;
    nHi = bHi;
    const nLoCarry = carryOf(nLo);
    nLo -= nLoCarry * E9;
    nHi += nLoCarry;
  }

  const nd = 17 - (j > 0 ? j : 0);
  // ECMAScript's n: the decimal point goes after n digits. All 17 digits are written, then the
  // end set after the nd significant ones (the rest are zeros, or scratch past the end).
  const n = 17 - q;
  if (v < 0) out[pos++] = MINUS;
  if (n <= 0) {
    out[pos++] = ZERO;
    out[pos++] = DOT;
    for (let i = n; i < 0; i++) out[pos++] = ZERO;
    write17(out, pos, nHi | 0, nLo | 0);
    return pos + nd;
  }
  // n ≤ 17 (q ≥ 0): an integer's trailing zeros are among the 17 digits.
  write17(out, pos + 1, nHi | 0, nLo | 0);
  if (nd <= n) {
    out.copyWithin(pos, pos + 1, pos + 1 + n);
    return pos + n;
  }
  for (let i = 0; i < n; i++) out[pos + i] = out[pos + i + 1]!;
  out[pos + n] = DOT;
  return pos + nd + 1;
}
