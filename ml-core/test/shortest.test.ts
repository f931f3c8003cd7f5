/**
 * writeShortest must write exactly what `String(v)` gives (the server's text and `ml-core predict`'s
 * bytes are compared byte for byte), or decline and write nothing.
 */
import { describe, expect, it } from "vitest";
import { writeShortest } from "../src/codec/shortest";
import { rng } from "./server-helpers";

const out = new Uint8Array(64);

/** What writeShortest wrote for v, or undefined when it declined (leaving `out` untouched). */
function written(v: number): string | undefined {
  out.fill(0xff);
  const end = writeShortest(out, 3, v);
  if (end < 0) {
    expect(out.every((b) => b === 0xff)).toBe(true);
    return undefined;
  }
  expect(out.slice(0, 3).every((b) => b === 0xff)).toBe(true);
  return Buffer.from(out.subarray(3, end)).toString("latin1");
}

/** Doubles from random bits, with exponents from 2^-21 to 2^50 (about 1e-6 to 1e15). */
function randomBits(rand: () => number): number {
  const view = new DataView(new ArrayBuffer(8));
  view.setUint32(0, (Math.floor(rand() * 0x100000) | ((1002 + Math.floor(rand() * 72)) << 20)) >>> 0);
  view.setUint32(4, Math.floor(rand() * 2 ** 32));
  return view.getFloat64(0);
}

describe("writeShortest", () => {
  it("writes String(v) for 400,000 doubles of every kind it covers, declining only outside its range", () => {
    const rand = rng(2026);
    const mismatches: string[] = [];
    let declined = 0;
    const kinds: (() => number)[] = [
      () => randomBits(rand),
      () => -randomBits(rand),
      () => 1 / (1 + Math.exp(-(rand() * 24 - 12))), // probabilities, as sigmoid makes them
      () => 1 - 1 / (1 + Math.exp(-(rand() * 24 - 12))),
      () => rand() * 10 ** (Math.floor(rand() * 22) - 6),
      () => Math.round(rand() * 1e6) / 10 ** Math.floor(rand() * 9), // short decimals: many trailing zeros
      () => Math.round(rand() * 2 ** 53) / 2 ** Math.floor(rand() * 60), // wide integers and dyadic fractions
    ];
    const bytes = Buffer.alloc(32);
    for (let i = 0; i < 400_000; i++) {
      const v = kinds[i % kinds.length]();
      const end = writeShortest(bytes, 0, v);
      if (end < 0) declined++;
      else if (bytes.toString("latin1", 0, end) !== String(v) && mismatches.length < 10)
        mismatches.push(`${String(v)} written as ${bytes.toString("latin1", 0, end)}`);
    }
    expect(mismatches).toEqual([]);
    // Only values below 1e-6 or at 1e15 and above, or with a power-of-two significand, go to String().
    expect(declined).toBeLessThan(400_000 * 0.05);
  });

  it.each([
    0.1,
    0.2,
    0.3,
    0.1 + 0.2,
    0.5,
    1,
    2,
    3,
    7,
    10,
    100,
    1234.5,
    4.35,
    0.000001234,
    1.5e-6,
    0.9999999999999999,
    0.999999999999999,
    1e14,
    999999999999999.9,
    123456789012345.6,
    1 / 3,
    2 / 3,
    Math.PI,
    Math.E,
    2 ** 53 + 2,
    8.41e-6,
    0.30000000000000004,
    5e-6,
    1.0000000000000002,
    1.9999999999999998,
  ])("writes %s as String() does", (v) => {
    for (const x of [v, -v]) {
      const got = written(x);
      if (got !== undefined) expect(got).toBe(String(x));
    }
  });

  it("covers the ordinary values, and declines what String() writes with an exponent, non-finite values, zeros and powers of two", () => {
    for (const v of [0.3, 0.1, 1.5e-6, 123.456, 999999999999999.9, -42.5]) expect(written(v)).toBe(String(v));
    for (const v of [9.99e-7, 1e-7, 1e15, 1e21, 1e-300, 0, -0, NaN, Infinity, -Infinity, 0.5, 1, 2, 1024, 2 ** -10]) expect(written(v)).toBeUndefined();
  });
});
