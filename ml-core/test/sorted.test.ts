import { describe, expect, it } from "vitest";
import { sortFloat64 } from "../src/data/sorted";
import { lcg } from "./helpers";

const sameBits = (a: Float64Array, b: Float64Array): boolean => {
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return false;
  return a.length === b.length;
};

describe("sortFloat64", () => {
  const rand = lcg(3);
  // Values of every kind the radix keys must order: signs, zeros, infinities, subnormals, NaNs
  // (a negative one too), ties, and values differing in their lowest bits only.
  const special = [0, -0, Infinity, -Infinity, Number.MIN_VALUE, -Number.MIN_VALUE, Number.MAX_VALUE, -Number.MAX_VALUE, NaN, 1, 1 + Number.EPSILON, -1];
  const negativeNaN = new Float64Array(new Uint32Array([0, 0xfff80001]).buffer)[0]!;
  const values = (n: number): Float64Array =>
    Float64Array.from({ length: n }, (_, i) => {
      const r = rand();
      if (i % 97 === 0) return special[Math.floor(rand() * special.length)]!;
      if (i % 101 === 0) return negativeNaN;
      if (r < 0.3) return Math.floor(rand() * 50) - 25; // ties
      if (r < 0.6) return (rand() - 0.5) * 1e-300;
      return (rand() - 0.5) * 2 ** Math.floor(rand() * 60);
    });

  it("orders as Float64Array.prototype.sort does, -0 before +0 and NaN last, with and without scratch", () => {
    for (const n of [5, 40_000, 100_003]) {
      const a = values(n);
      const expected = Float64Array.from(a).sort();
      expect(sameBits(sortFloat64(Float64Array.from(a)), expected), `${n} values`).toBe(true);
      expect(sameBits(sortFloat64(Float64Array.from(a), new Uint32Array(2 * n)), expected), `${n} values, scratch`).toBe(true);
      // Too little scratch: some is allocated.
      expect(sameBits(sortFloat64(Float64Array.from(a), new Uint32Array(n)), expected), `${n} values, short scratch`).toBe(true);
    }
  });

  it("sorts an array on shared memory in place, in a view that does not start its buffer, leaving the rest alone", () => {
    const n = 70_000;
    const buffer = new Float64Array(new SharedArrayBuffer(8 * (n + 2)));
    buffer.set(values(n), 1);
    buffer[0] = 7;
    buffer[n + 1] = -7;
    const view = buffer.subarray(1, n + 1);
    const expected = Float64Array.from(view).sort();
    expect(sortFloat64(view, new Uint32Array(new SharedArrayBuffer(8 * n)))).toBe(view);
    expect(sameBits(view, expected)).toBe(true);
    expect([buffer[0], buffer[n + 1]]).toEqual([7, -7]);
  });

  it("keeps values whose keys share digits (a skipped pass) in order", () => {
    // Every value in [1, 2): the same sign and exponent, so the top digit never differs.
    const a = Float64Array.from({ length: 50_000 }, () => 1 + rand());
    expect(sameBits(sortFloat64(Float64Array.from(a)), Float64Array.from(a).sort())).toBe(true);
  });
});
