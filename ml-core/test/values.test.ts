import { describe, expect, it } from "vitest";
import { clampNumber, parseNumber, parseNumberBytes } from "../src/data/values";

describe("parseNumber", () => {
  it.each([
    ["0", 0],
    ["-0", -0],
    ["42", 42],
    ["+7", 7],
    ["3.14", 3.14],
    ["-0.001", -0.001],
    [".5", 0.5],
    ["5.", 5],
    ["1e3", 1000],
    ["2.5E-3", 0.0025],
    ["0.1", 0.1],
    ["123456789012345678", 123456789012345680],
    ["9007199254740993", 2 ** 53],
    ["0.30000000000000004", 0.30000000000000004],
    [" 12 ", 12],
  ])("reads %j exactly as Number() does", (text, expected) => {
    expect(Object.is(parseNumber(text), expected)).toBe(true);
    const bytes = Buffer.from(text.trim());
    expect(Object.is(parseNumberBytes(bytes, 0, bytes.length), expected)).toBe(true);
  });

  it.each(["", "NA", "N/A", "NaN", "nan", "null", "NULL", "None", "?"])("reads the missing token %j as NaN", (text) => {
    expect(parseNumber(text)).toBeNaN();
  });

  it.each(["abc", "1,5", "0x10", "1e", "--1", "12abc", "."])("rejects %j", (text) => {
    expect(parseNumber(text)).toBeUndefined();
  });

  it("matches Number() on many random decimals (the fast path is correctly rounded)", () => {
    let s = 1;
    for (let i = 0; i < 20000; i++) {
      s = (Math.imul(s, 1103515245) + 12345) >>> 0;
      const text = `${s % 2 ? "-" : ""}${s % 100000}.${String(Math.imul(s, 7) >>> 0).slice(0, 1 + (s % 10))}`;
      expect(parseNumber(text)).toBe(Number(text));
    }
  });

  it("clamps infinities to the largest finite double, so JSON can hold every threshold", () => {
    const b = Buffer.from("inf");
    expect(parseNumberBytes(b, 0, 3)).toBe(Number.MAX_VALUE);
    expect(clampNumber(-Infinity)).toBe(-Number.MAX_VALUE);
  });
});
