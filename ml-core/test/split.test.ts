import { describe, expect, it } from "vitest";
import type { FeatureBins } from "../src/gbdt/binning";
import { FEATURE_STRIDE } from "../src/gbdt/histogram";
import { findBestSplit, MIN_CAT_SUPPORT, sortByRatio } from "../src/gbdt/split";
import { lcg } from "./helpers";
import { MISSING_BIN } from "../src/gbdt/types";

const constraints = { l2Regularization: 0, minSamplesLeaf: 1, minSumHessianInLeaf: 0, minGainToSplit: 0 };

/** A one-feature histogram from per-bin [g, h, count]; `missing` goes to the missing bin. */
function hist(bins: [number, number, number][], missing: [number, number, number] = [0, 0, 0]): Float64Array {
  const h = new Float64Array(FEATURE_STRIDE);
  bins.forEach(([g, hh, c], b) => h.set([g, hh, c], b * 3));
  h.set(missing, MISSING_BIN * 3);
  return h;
}

function totals(h: Float64Array): [number, number, number] {
  let g = 0,
    hh = 0,
    c = 0;
  for (let o = 0; o < FEATURE_STRIDE; o += 3) {
    g += h[o];
    hh += h[o + 1];
    c += h[o + 2];
  }
  return [g, hh, c];
}

const numeric = (nBins: number): FeatureBins[] => [{ categorical: false, nBins, thresholds: new Float64Array(nBins - 1) }];

describe("split finding", () => {
  it("splits where the gradient changes sign, with sklearn's gain", () => {
    const h = hist([
      [-4, 4, 4],
      [-4, 4, 4],
      [6, 4, 4],
      [6, 4, 4],
    ]);
    const [G, H, C] = totals(h);
    const s = findBestSplit(h, [0], numeric(4), G, H, C, constraints);
    expect(s).toMatchObject({ feature: 0, binThreshold: 1, leftCount: 8, rightCount: 8, leftG: -8, rightG: 12 });
    // gain = GL²/HL + GR²/HR − G²/H
    expect(s?.gain).toBeCloseTo(64 / 8 + 144 / 8 - 16 / 16, 12);
  });

  it("sends missing values to the side they resemble", () => {
    const h = hist(
      [
        [-4, 4, 4],
        [6, 4, 4],
      ],
      [-5, 4, 4],
    );
    const [G, H, C] = totals(h);
    const s = findBestSplit(h, [0], numeric(2), G, H, C, constraints);
    expect(s).toMatchObject({ binThreshold: 0, missingLeft: true, leftCount: 8 });
  });

  it("can split missing values from all others", () => {
    const h = hist(
      [
        [1, 4, 4],
        [1, 4, 4],
      ],
      [-9, 4, 4],
    );
    const [G, H, C] = totals(h);
    const s = findBestSplit(h, [0], numeric(2), G, H, C, constraints);
    expect(s).toMatchObject({ binThreshold: 1, missingLeft: false, leftCount: 8, rightCount: 4 });
  });

  it("without missing values at the node, sends future ones to the bigger child", () => {
    const h = hist([
      [-4, 2, 2],
      [6, 6, 6],
    ]);
    const [G, H, C] = totals(h);
    expect(findBestSplit(h, [0], numeric(2), G, H, C, constraints)?.missingLeft).toBe(false);
  });

  it("respects min_samples_leaf and min_gain_to_split", () => {
    const h = hist([
      [-4, 4, 4],
      [6, 4, 4],
    ]);
    const [G, H, C] = totals(h);
    expect(findBestSplit(h, [0], numeric(2), G, H, C, { ...constraints, minSamplesLeaf: 5 })).toBeNull();
    expect(findBestSplit(h, [0], numeric(2), G, H, C, { ...constraints, minGainToSplit: 100 })).toBeNull();
  });

  it("groups categories by gradient ratio regardless of their codes", () => {
    const n = MIN_CAT_SUPPORT;
    // Categories 0 and 2 pull down, 1 and 3 pull up: the best split sends {0, 2} one way.
    const h = hist([
      [-n, n, n],
      [n, n, n],
      [-n, n, n],
      [n, n, n],
    ]);
    const [G, H, C] = totals(h);
    const s = findBestSplit(h, [0], [{ categorical: true, nBins: 4, thresholds: new Float64Array(0) }], G, H, C, constraints);
    expect(s?.categoriesLeft).toEqual([0, 2]);
    expect(s?.leftCount).toBe(2 * n);
  });

  it("lists the categories going left in ascending order, missing values apart", () => {
    const n = MIN_CAT_SUPPORT;
    // In ratio order: 3, missing, 1 (pulling down), then 0 and 2 (pulling up).
    const h = hist(
      [
        [n, n, n],
        [-n, n, n],
        [2 * n, n, n],
        [-3 * n, n, n],
      ],
      [-2 * n, n, n],
    );
    const [G, H, C] = totals(h);
    const s = findBestSplit(h, [0], [{ categorical: true, nBins: 4, thresholds: new Float64Array(0) }], G, H, C, constraints);
    expect(s).toMatchObject({ categoriesLeft: [1, 3], missingLeft: true, leftCount: 3 * n });
  });

  it("ignores categories seen fewer than MIN_CAT_SUPPORT times", () => {
    const h = hist([
      [-3, 3, 3],
      [3, 3, 3],
    ]);
    const [G, H, C] = totals(h);
    expect(findBestSplit(h, [0], [{ categorical: true, nBins: 2, thresholds: new Float64Array(0) }], G, H, C, constraints)).toBeNull();
  });
});

describe("the categorical split search's sort", () => {
  it("orders categories as Array.prototype.sort by ratio, then by category, for every length and with ties and signed zeros", () => {
    const rand = lcg(7);
    const ratio = new Float64Array(256);
    for (let trial = 0; trial < 400; trial++) {
      const n = 1 + (trial % 256);
      // Few distinct ratios in some trials, so that ties are common; -0 and 0 compare equal.
      const distinct = trial % 3 === 0 ? 4 : 1e9;
      const bins = Array.from({ length: 256 }, (_, b) => b)
        .filter(() => rand() < 0.9)
        .slice(0, n);
      for (const b of bins) ratio[b] = trial % 5 === 0 && b % 7 === 0 ? (b % 2 ? -0 : 0) : Math.floor(rand() * distinct) - distinct / 2;
      const expected = [...bins].sort((a, b) => ratio[a]! - ratio[b]! || a - b);
      const cats = Int32Array.from(bins);
      expect(Array.from(sortByRatio(cats, bins.length, ratio).subarray(0, bins.length)), `trial ${trial}`).toEqual(expected);
    }
  });
});
