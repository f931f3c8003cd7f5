/**
 * Best split of one node from its histograms. Gains are sklearn's: for a child with gradient sum G
 * and hessian sum H, its score is G² / (H + λ); a split's gain is left + right − parent (the
 * constant ½ dropped), and a split must gain more than `minGainToSplit`.
 */
import { FEATURE_STRIDE } from "./histogram";
import type { FeatureBins } from "./binning";
import { MISSING_BIN } from "./types";

// Indexed reads carry `!` (noUncheckedIndexedAccess): bins and features index a histogram that
// holds every feature and bin. A check per read would cost the hot loops; the emitted JavaScript is
// unchanged.

export interface SplitConstraints {
  readonly l2Regularization: number;
  readonly minSamplesLeaf: number;
  readonly minSumHessianInLeaf: number;
  readonly minGainToSplit: number;
  /**
   * Per feature: 1 = predictions may only rise with the feature, -1 only fall, 0 free. Undefined
   * when no feature is constrained (the plain, unclamped gains are then used).
   */
  readonly monotone?: Int8Array;
}

/**
 * A node's value bounds under monotonic constraints (LightGBM's "basic" method): a split on a
 * constrained feature bounds its children's subtrees by the midpoint of their two values, so every
 * value left of it stays below every value right of it.
 */
export interface ValueBounds {
  readonly lo: number;
  readonly hi: number;
}

export const UNBOUNDED: ValueBounds = { lo: -Infinity, hi: Infinity };

/** The node value −G/(H+λ) (before the learning rate), kept within bounds. */
export function boundedValue(g: number, h: number, l2: number, b: ValueBounds): number {
  const v = -g / (h + l2);
  return v < b.lo ? b.lo : v > b.hi ? b.hi : v;
}

/** The loss reduction (×2, as `score`) of giving a node of sums G, H the value v: G²/(H+λ) at the optimum. */
function scoreAt(g: number, h: number, l2: number, v: number): number {
  return -(2 * g * v + (h + l2) * v * v);
}

export interface SplitInfo {
  readonly feature: number;
  readonly gain: number;
  /** Numeric: rows with bin <= binThreshold go left. Unused for categorical splits. */
  readonly binThreshold: number;
  /** Categorical: the category codes (bins) sent left; null for numeric splits. */
  readonly categoriesLeft: number[] | null;
  readonly missingLeft: boolean;
  readonly leftG: number;
  readonly leftH: number;
  /**
   * Row counts (this and `rightCount`), as int32 (`| 0`): summed in a Float64Array histogram they
   * are doubles, and a row range computed from one reached the partition and the histogram
   * kernels as a heap number, so V8 deoptimized them ("not a Smi") and re-optimized their loops
   * for doubles.
   */
  readonly leftCount: number;
  readonly rightG: number;
  readonly rightH: number;
  readonly rightCount: number;
}

/**
 * A category joins the categorical split search only with at least this many rows in the node, and
 * the same number smooths its gradient ratio (LightGBM's `min_data_per_group`/`cat_smooth`,
 * sklearn's MIN_CAT_SUPPORT): rare categories otherwise produce splits that do not generalise.
 */
export const MIN_CAT_SUPPORT = 10;

export function score(g: number, h: number, l2: number): number {
  return (g * g) / (h + l2);
}

export function findBestSplit(
  hist: Float64Array,
  features: ArrayLike<number>,
  bins: readonly FeatureBins[],
  sumG: number,
  sumH: number,
  count: number,
  c: SplitConstraints,
  bounds: ValueBounds = UNBOUNDED,
): SplitInfo | null {
  let best: SplitInfo | null = null;
  for (let i = 0; i < features.length; i++) {
    const f = features[i]!;
    const s = bins[f]!.categorical
      ? bestCategorical(hist, f, bins[f]!.nBins, sumG, sumH, count, c, bounds)
      : c.monotone !== undefined
        ? bestNumericConstrained(hist, f, bins[f]!.nBins, sumG, sumH, count, c, bounds)
        : bestNumeric(hist, f, bins[f]!.nBins, sumG, sumH, count, c);
    // Strictly better only: ties go to the lower feature index, whatever the order of `features`.
    if (s !== null && (best === null || s.gain > best.gain || (s.gain === best.gain && f < best.feature))) best = s;
  }
  return best;
}

function bestNumeric(hist: Float64Array, f: number, nBins: number, G: number, H: number, C: number, c: SplitConstraints): SplitInfo | null {
  const base = f * FEATURE_STRIDE;
  const l2 = c.l2Regularization;
  const minLeaf = c.minSamplesLeaf;
  const minHess = c.minSumHessianInLeaf;
  const parentScore = score(G, H, l2);
  const mo = base + MISSING_BIN * 3;
  const mG = hist[mo]!,
    mH = hist[mo + 1]!,
    mC = hist[mo + 2]!;
  let bestGain = c.minGainToSplit;
  let bestBin = -1;
  let bestMissingLeft = false;
  let bG = 0,
    bH = 0,
    bC = 0;
  // Pass 1: missing values (if any) go right. With missing values present, the last candidate
  // (all values left, missing right) is the "split on missing" split.
  let lG = 0,
    lH = 0,
    lC = 0;
  const end = nBins - 1 + (mC > 0 ? 1 : 0);
  for (let b = 0; b < end; b++) {
    const o = base + b * 3;
    lG += hist[o]!;
    lH += hist[o + 1]!;
    lC += hist[o + 2]!;
    const rC = C - lC;
    if (lC < minLeaf || lH < minHess) continue;
    if (rC < minLeaf || H - lH < minHess) break;
    const gain = score(lG, lH, l2) + score(G - lG, H - lH, l2) - parentScore;
    if (gain > bestGain) {
      bestGain = gain;
      bestBin = b;
      bestMissingLeft = false;
      bG = lG;
      bH = lH;
      bC = lC;
    }
  }
  // Pass 2: missing values go left.
  if (mC > 0) {
    lG = mG;
    lH = mH;
    lC = mC;
    for (let b = 0; b < nBins - 1; b++) {
      const o = base + b * 3;
      lG += hist[o]!;
      lH += hist[o + 1]!;
      lC += hist[o + 2]!;
      const rC = C - lC;
      if (lC < minLeaf || lH < minHess) continue;
      if (rC < minLeaf || H - lH < minHess) break;
      const gain = score(lG, lH, l2) + score(G - lG, H - lH, l2) - parentScore;
      if (gain > bestGain) {
        bestGain = gain;
        bestBin = b;
        bestMissingLeft = true;
        bG = lG;
        bH = lH;
        bC = lC;
      }
    }
  }
  if (bestBin < 0) return null;
  // No missing value reached this node: send future ones where most rows went (as sklearn).
  const missingLeft = mC > 0 ? bestMissingLeft : bC >= C - bC;
  return {
    feature: f,
    gain: bestGain,
    binThreshold: bestBin,
    categoriesLeft: null,
    missingLeft,
    leftG: bG,
    leftH: bH,
    leftCount: bC | 0,
    rightG: G - bG,
    rightH: H - bH,
    rightCount: (C - bC) | 0,
  };
}

/**
 * `bestNumeric` under monotonic constraints: child values are clamped to the node's bounds, gains
 * are those of the clamped values, and on a constrained feature a split whose values go the wrong
 * way is no candidate. Kept apart so that unconstrained training keeps its exact arithmetic.
 */
function bestNumericConstrained(
  hist: Float64Array,
  f: number,
  nBins: number,
  G: number,
  H: number,
  C: number,
  c: SplitConstraints,
  b: ValueBounds,
): SplitInfo | null {
  const base = f * FEATURE_STRIDE;
  const l2 = c.l2Regularization;
  const dir = c.monotone?.[f] ?? 0;
  const parentScore = scoreAt(G, H, l2, boundedValue(G, H, l2, b));
  const mo = base + MISSING_BIN * 3;
  const mG = hist[mo]!,
    mH = hist[mo + 1]!,
    mC = hist[mo + 2]!;
  let bestGain = c.minGainToSplit;
  let bestBin = -1;
  let bestMissingLeft = false;
  let bG = 0,
    bH = 0,
    bC = 0;
  for (const missingLeft of mC > 0 ? [false, true] : [false]) {
    let lG = missingLeft ? mG : 0,
      lH = missingLeft ? mH : 0,
      lC = missingLeft ? mC : 0;
    const end = missingLeft ? nBins - 1 : nBins - 1 + (mC > 0 ? 1 : 0);
    for (let bin = 0; bin < end; bin++) {
      const o = base + bin * 3;
      lG += hist[o]!;
      lH += hist[o + 1]!;
      lC += hist[o + 2]!;
      if (lC < c.minSamplesLeaf || lH < c.minSumHessianInLeaf) continue;
      if (C - lC < c.minSamplesLeaf || H - lH < c.minSumHessianInLeaf) break;
      const vL = boundedValue(lG, lH, l2, b);
      const vR = boundedValue(G - lG, H - lH, l2, b);
      if ((dir > 0 && vL > vR) || (dir < 0 && vL < vR)) continue;
      const gain = scoreAt(lG, lH, l2, vL) + scoreAt(G - lG, H - lH, l2, vR) - parentScore;
      if (gain > bestGain) {
        bestGain = gain;
        bestBin = bin;
        bestMissingLeft = missingLeft;
        bG = lG;
        bH = lH;
        bC = lC;
      }
    }
  }
  if (bestBin < 0) return null;
  const missingLeft = mC > 0 ? bestMissingLeft : bC >= C - bC;
  return {
    feature: f,
    gain: bestGain,
    binThreshold: bestBin,
    categoriesLeft: null,
    missingLeft,
    leftG: bG,
    leftH: bH,
    leftCount: bC | 0,
    rightG: G - bG,
    rightH: H - bH,
    rightCount: (C - bC) | 0,
  };
}

/**
 * Categorical features (after LightGBM and sklearn): sort the categories by G / (H + smoothing) and
 * scan the sorted order from both ends, so a split sends a set of categories left without trying
 * all 2^k subsets; for squared error this ordering contains the optimal partition (Fisher, 1958).
 * Missing values take part as a category of their own.
 */
/** Scratch for `bestCategorical`: each category's gradient / hessian ratio, by bin. */
const categoryRatios = new Float64Array(MISSING_BIN + 1);
/** Scratch for `bestCategorical`: the categories taking part, then sorted; and the sort's other buffer. */
const categoryOrder = new Int32Array(MISSING_BIN + 1);
const sortBuffer = new Int32Array(MISSING_BIN + 1);
/** Scratch for `sortByRatio`: the ratios, moved with their categories (two buffers, as those). */
const sortKeys = new Float64Array(MISSING_BIN + 1);
const sortKeysBuffer = new Float64Array(MISSING_BIN + 1);
/** Scratch for `bestCategorical`: 1 for the bins of the categories going left, cleared after use. */
const categoryMarks = new Uint8Array(MISSING_BIN + 1);

/**
 * Sorts `cats[0 .. n)`, given in ascending order, by `ratio`, ties staying in ascending order: as
 * `Array.prototype.sort` with the comparator `ratio[a] - ratio[b] || a - b`, at 0.4x its time on
 * 227 categories (a call of the comparator per comparison was most of it, and a split search sorts
 * every categorical feature of every node). Insertion sort of runs of 8, then merges, each ratio
 * moved beside its category, so a comparison reads two ratios, not two categories and then their
 * ratios (200 random ratios: 11.2 → 10.5 µs a sort).
 */
export function sortByRatio(cats: Int32Array, n: number, ratio: Float64Array): Int32Array {
  const keys = sortKeys;
  for (let i = 0; i < n; i++) keys[i] = ratio[cats[i]!]!;
  for (let s = 0; s < n; s += 8) {
    const e = Math.min(n, s + 8);
    for (let i = s + 1; i < e; i++) {
      const v = cats[i]!;
      const r = keys[i]!;
      let j = i - 1;
      for (; j >= s && keys[j]! > r; j--) {
        cats[j + 1] = cats[j]!;
        keys[j + 1] = keys[j]!;
      }
      cats[j + 1] = v;
      keys[j + 1] = r;
    }
  }
  let src: Int32Array = cats;
  let dst: Int32Array = sortBuffer;
  let srcKeys: Float64Array = keys;
  let dstKeys: Float64Array = sortKeysBuffer;
  for (let w = 8; w < n; w *= 2) {
    for (let lo = 0; lo < n; lo += 2 * w) {
      const mid = Math.min(n, lo + w);
      const hi = Math.min(n, lo + 2 * w);
      let i = lo;
      let j = mid;
      let k = lo;
      while (i < mid && j < hi) {
        // The right run's category first only when strictly lower: ties keep their order.
        if (srcKeys[j]! < srcKeys[i]!) {
          dstKeys[k] = srcKeys[j]!;
          dst[k++] = src[j++]!;
        } else {
          dstKeys[k] = srcKeys[i]!;
          dst[k++] = src[i++]!;
        }
      }
      for (; i < mid; i++, k++) {
        dstKeys[k] = srcKeys[i]!;
        dst[k] = src[i]!;
      }
      for (; j < hi; j++, k++) {
        dstKeys[k] = srcKeys[j]!;
        dst[k] = src[j]!;
      }
    }
    [src, dst] = [dst, src];
    [srcKeys, dstKeys] = [dstKeys, srcKeys];
  }
  if (src !== cats) cats.set(src.subarray(0, n));
  return cats;
}

function bestCategorical(
  hist: Float64Array,
  f: number,
  nBins: number,
  G: number,
  H: number,
  C: number,
  c: SplitConstraints,
  nodeBounds: ValueBounds,
): SplitInfo | null {
  // Below a constrained split, a categorical split's children must respect the node's bounds:
  // their gains are then those of the clamped values.
  const bounded = nodeBounds.lo > -Infinity || nodeBounds.hi < Infinity;
  const base = f * FEATURE_STRIDE;
  const l2 = c.l2Regularization;
  // By bin, not in a Map: the sort reads it ~8 times a category (a Map lookup there was half the
  // cost of a categorical split search).
  const ratio = categoryRatios;
  let nCats = 0;
  // Every bin, then the missing one (a bin past nBins when there are 255 categories or fewer).
  for (let i = 0; i <= nBins; i++) {
    const b = i < nBins ? i : MISSING_BIN;
    const o = base + b * 3;
    if (hist[o + 2]! >= MIN_CAT_SUPPORT) {
      categoryOrder[nCats++] = b;
      ratio[b] = hist[o]! / (hist[o + 1]! + MIN_CAT_SUPPORT);
    }
  }
  if (nCats <= 1) return null;
  const cats = sortByRatio(categoryOrder, nCats, ratio).subarray(0, nCats);
  const parentScore = score(G, H, l2);
  const middle = (cats.length + 1) >> 1;
  let bestGain = c.minGainToSplit;
  let bestEnd = -1;
  let bestDir = 1;
  let bG = 0,
    bH = 0,
    bC = 0;
  for (const dir of [1, -1]) {
    let lG = 0,
      lH = 0,
      lC = 0;
    for (let i = 0; i < middle; i++) {
      const b = dir === 1 ? cats[i]! : cats[cats.length - 1 - i]!;
      const o = base + b * 3;
      lG += hist[o]!;
      lH += hist[o + 1]!;
      lC += hist[o + 2]!;
      const rC = C - lC;
      if (lC < c.minSamplesLeaf || lH < c.minSumHessianInLeaf) continue;
      if (rC < c.minSamplesLeaf || H - lH < c.minSumHessianInLeaf) break;
      const gain = bounded
        ? scoreAt(lG, lH, l2, boundedValue(lG, lH, l2, nodeBounds)) +
          scoreAt(G - lG, H - lH, l2, boundedValue(G - lG, H - lH, l2, nodeBounds)) -
          scoreAt(G, H, l2, boundedValue(G, H, l2, nodeBounds))
        : score(lG, lH, l2) + score(G - lG, H - lH, l2) - parentScore;
      if (gain > bestGain) {
        bestGain = gain;
        bestEnd = i;
        bestDir = dir;
        bG = lG;
        bH = lH;
        bC = lC;
      }
    }
  }
  if (bestEnd < 0) return null;
  // The categories going left, ascending: marked by bin and collected in bin order (sorting them
  // with a comparator took a fifth of the search).
  const chosen = bestDir === 1 ? cats.subarray(0, bestEnd + 1) : cats.subarray(cats.length - 1 - bestEnd);
  const marked = categoryMarks;
  for (let i = 0; i < chosen.length; i++) marked[chosen[i]!] = 1;
  const left: number[] = [];
  for (let b = 0; b <= MISSING_BIN; b++)
    if (marked[b] === 1) {
      left.push(b);
      marked[b] = 0;
    }
  const mC = hist[base + MISSING_BIN * 3 + 2]!;
  let missingLeft: boolean;
  if (left.includes(MISSING_BIN)) {
    missingLeft = true;
    left.pop();
  } else {
    // Missing values too rare to be a category here were counted on the right; with none at all,
    // future ones go where most rows went.
    missingLeft = mC > 0 ? false : bC >= C - bC;
  }
  return {
    feature: f,
    gain: bestGain,
    binThreshold: -1,
    categoriesLeft: left,
    missingLeft,
    leftG: bG,
    leftH: bH,
    leftCount: bC | 0,
    rightG: G - bG,
    rightH: H - bH,
    rightCount: (C - bC) | 0,
  };
}
