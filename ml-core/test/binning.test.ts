import { describe, expect, it } from "vitest";
import { BinMapper, findThresholds, numericBin } from "../src/gbdt/binning";
import { Random } from "../src/gbdt/random";
import { MISSING_BIN } from "../src/gbdt/types";

describe("binning", () => {
  it("bins a value by the count of thresholds below it, repeated thresholds, zeros and infinities included", () => {
    const rng = new Random(41);
    for (let len = 0; len <= 300; len += len < 20 ? 1 : 37) {
      // Sorted, with repeats (a heavy value repeats a quantile) and both zeros.
      const t = Float64Array.from({ length: len }, () => [0, -0, 1.5][rng.int(6)] ?? Math.round(rng.next() * 40 - 20) / 4).sort();
      const values = [...t, -0, 0, Infinity, -Infinity, Number.MAX_VALUE, ...Array.from({ length: 50 }, () => rng.next() * 50 - 25)];
      const wrong = values.filter((v) => numericBin(t, v) !== t.filter((x) => x < v).length);
      expect(wrong).toEqual([]);
    }
  });

  it("uses midpoints between distinct values when there are few of them", () => {
    expect(Array.from(findThresholds(Float64Array.of(3, 1, 2, 2, NaN, 1), 6, undefined, 255))).toEqual([1.5, 2.5]);
  });

  it("uses quantiles when there are more distinct values than bins, giving bins of similar size", () => {
    const col = Float64Array.from({ length: 1000 }, (_, i) => i);
    const t = findThresholds(col, 1000, undefined, 4);
    expect(Array.from(t)).toEqual([249.5, 499.5, 749.5]);
    const mapper = new BinMapper([{ categorical: false, nBins: 4, thresholds: t }]);
    const bins = mapper.transform([col], 1000);
    const counts = [0, 0, 0, 0];
    for (const b of bins) counts[b]++;
    expect(counts).toEqual([250, 250, 250, 250]);
  });

  it("puts missing values in the missing bin and categories in their own bins", () => {
    const mapper = BinMapper.fit([Float64Array.of(1, NaN, 3), Float64Array.of(0, 2, NaN)], 3, [undefined, 3], 255, new Random(0));
    const bins = mapper.transform([Float64Array.of(1, NaN, 3), Float64Array.of(0, 2, NaN)], 3);
    expect(Array.from(bins)).toEqual([0, MISSING_BIN, 1, 0, 2, MISSING_BIN]);
  });

  it("a split 'bin <= b' is the split 'value <= threshold(b)', and binOf inverts threshold", () => {
    const col = Float64Array.from({ length: 500 }, (_, i) => Math.sin(i) * 100);
    const mapper = BinMapper.fit([col], 500, [undefined], 32, new Random(1));
    const bins = mapper.transform([col], 500);
    for (let b = 0; b < mapper.features[0].nBins; b++) {
      const thr = mapper.threshold(0, b);
      expect(mapper.binOf(0, thr)).toBeLessThanOrEqual(b);
      for (let i = 0; i < 500; i++) expect(bins[i] <= b).toBe(col[i] <= thr);
    }
  });

  it("refuses more than 255 bins", () => {
    expect(() => BinMapper.fit([new Float64Array(1)], 1, [undefined], 256, new Random(0))).toThrow(/maxBins must be in 2-255/);
  });
});
