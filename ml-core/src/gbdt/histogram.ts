/**
 * Gradient histograms: for one node and one feature, per bin, the sum of gradients, the sum of
 * hessians and the row count. Every candidate split of the node is then a prefix of this
 * histogram, so finding the best split costs O(bins), not O(rows).
 *
 * Layout: one Float64Array per node, 256 bins per feature (the missing bin is 255), 3 slots per
 * bin: `hist[(f * 256 + bin) * 3 + {0: g, 1: h, 2: count}]`.
 */
import { HIST_STRIDE, MISSING_BIN, type GradientArray, type RowIndexArray } from "./types";

export const BINS_PER_FEATURE = MISSING_BIN + 1;
export const FEATURE_STRIDE = BINS_PER_FEATURE * HIST_STRIDE;

/** Reuses histogram buffers: a tree needs a handful at a time, and allocating each one is slow. */
export class HistogramPool {
  private readonly free: Float64Array[] = [];
  constructor(private readonly nFeatures: number) {}

  acquire(): Float64Array {
    return this.free.pop() ?? new Float64Array(this.nFeatures * FEATURE_STRIDE);
  }

  release(h: Float64Array): void {
    this.free.push(h);
  }
}

/**
 * Adds the rows `rows[start .. start+count)` of feature column `col` into `hist`. `g`/`h` are the
 * node's gradients already gathered into row order (`g[i]` belongs to `rows[start + i]`), which
 * turns the random reads of the gradient arrays into a sequential stream. With `rows` null the node
 * is the whole training set in natural order (the root without subsampling), and no gather is
 * needed. With `h` null every hessian is 1 and only counts are summed (squared error).
 */
export function accumulate(hist: Float64Array, f: number, col: Uint8Array, rows: RowIndexArray | null, start: number, count: number, g: GradientArray, h: GradientArray | null): void {
  const base = f * FEATURE_STRIDE;
  hist.fill(0, base, base + FEATURE_STRIDE);
  if (rows === null) {
    if (h === null) {
      for (let i = 0; i < count; i++) {
        const o = base + col[i] * 3;
        hist[o] += g[i];
        hist[o + 2] += 1;
      }
    } else {
      for (let i = 0; i < count; i++) {
        const o = base + col[i] * 3;
        hist[o] += g[i];
        hist[o + 1] += h[i];
        hist[o + 2] += 1;
      }
    }
  } else if (h === null) {
    for (let i = 0; i < count; i++) {
      const o = base + col[rows[start + i]] * 3;
      hist[o] += g[i];
      hist[o + 2] += 1;
    }
  } else {
    for (let i = 0; i < count; i++) {
      const o = base + col[rows[start + i]] * 3;
      hist[o] += g[i];
      hist[o + 1] += h[i];
      hist[o + 2] += 1;
    }
  }
  if (h === null) {
    // Constant hessian of 1: the hessian sum is the count.
    for (let o = base; o < base + FEATURE_STRIDE; o += 3) hist[o + 1] = hist[o + 2];
  }
}

/**
 * The histogram subtraction trick: a parent's rows are exactly its two children's, so the larger
 * child's histogram is the parent's minus the smaller sibling's. Only the smaller child is ever
 * built from rows, which at least halves the work of every level. Computed in place in `parent`.
 */
export function subtractInto(parent: Float64Array, smaller: Float64Array, features: readonly number[] | Uint32Array): void {
  for (const f of features) {
    const base = f * FEATURE_STRIDE;
    for (let o = base; o < base + FEATURE_STRIDE; o++) parent[o] -= smaller[o];
  }
}
