/**
 * Gradient histograms: for one node and one feature, per bin, the sum of gradients, the sum of
 * hessians and the row count. Every candidate split of the node is then a prefix of this
 * histogram, so finding the best split costs O(bins), not O(rows).
 *
 * Layout: one Float64Array per node, 256 bins per feature (the missing bin is 255), 3 slots per
 * bin: `hist[(f * 256 + bin) * 3 + {0: g, 1: h, 2: count}]`.
 */
import { HIST_STRIDE, MISSING_BIN, type GradientArray, type RowIndexArray } from "./types";

// Indexed reads carry `!` (noUncheckedIndexedAccess): rows, bins and slots are in range by
// construction (bins < 256, slots < FEATURE_STRIDE, rows < nRows). A check per read would cost the
// hot loops; the emitted JavaScript is unchanged.

export const BINS_PER_FEATURE = MISSING_BIN + 1;
export const FEATURE_STRIDE = BINS_PER_FEATURE * HIST_STRIDE;

/** Reuses histogram buffers: a tree needs a handful at a time, and allocating each one is slow. */
export class HistogramPool {
  private readonly free: Float64Array[] = [];
  /** `allocate`: where new buffers come from (shared memory when several threads sum into them). */
  constructor(
    private readonly nFeatures: number,
    private readonly allocate: (length: number) => Float64Array = (n) => new Float64Array(n),
  ) {}

  acquire(): Float64Array {
    return this.free.pop() ?? this.allocate(this.nFeatures * FEATURE_STRIDE);
  }

  release(h: Float64Array): void {
    this.free.push(h);
  }
}

/** Features summed together in one pass over a block's rows: their histograms (6 KB each) stay in L1. */
export const MAX_CHUNK_FEATURES = 8;

/**
 * A kernel summing `n` features of rows `[s, e)`: for each row, its gradient and hessian are read
 * once and added to the bin of every feature, read from the row-major matrix (`byRow[row * stride +
 * f]`, the row's features side by side). Column by column, each feature would read the row index,
 * the gradient and the hessian again; row by row it is one read of each, and one cache line of bins.
 * On the flights data (500k rows, 6 features) a child's histogram took 0.52x the time of the
 * column-wise loop with its gradients gathered first, and the root's 0.85x. Rows go in pairs,
 * both rows' indices, gradients and bins read before either's additions (as in `partitionRange`;
 * the additions keep row order): 500k rows of six skewed features, alone, 0.80–0.88x the time
 * through a row index and 0.86–0.94x in natural order. Counts in an array of their own, so the
 * sums of a feature's 256 bins fit the first-level cache, gained nothing.
 */
type RowKernel = (
  out: Float64Array,
  byRow: Uint8Array,
  stride: number,
  rows: RowIndexArray | null,
  s: number,
  e: number,
  g: GradientArray,
  h: GradientArray | null,
  features: ArrayLike<number>,
  c0: number,
) => void;

const kernels = new Map<string, RowKernel>();

/**
 * The kernel for `n` features, straight-line code with one block of statements per feature. A loop
 * over the features inside the row loop measured 1.6-2.2x slower than this (2.4 M rows, 6 features),
 * and writing the 2 x 2 x 8 variants by hand would repeat one line 144 times; so the code is
 * generated once per shape, from integers only.
 *
 * `first` >= 0: the features are `first .. first + n - 1`, written into the code as numbers (their
 * offsets in the histogram and in a row's bins). The flights features 0-5, alone: the root's
 * histogram 7.7 against 9.2 ms and 10.2 against 12.2, a child's 3.6 against 4.0 and 4.5 against
 * 5.5, than with the offsets read from `features`. Only for consecutive features, so that column
 * subsampling's sets of features do not make a kernel each (at most one per first feature and
 * width); a base offset read from `features` with the rest written in was as slow as reading all.
 */
function rowKernel(n: number, natural: boolean, hasH: boolean, counts: boolean, first: number): RowKernel {
  const key = `${n}:${natural ? 1 : 0}:${hasH ? 1 : 0}:${counts ? 1 : 0}:${first}`;
  let k = kernels.get(key);
  if (k !== undefined) return k;
  const lines: string[] = [];
  // A feature's column in a row's bins and its offset in the histogram: names or numbers.
  const f = (j: number): string => (first >= 0 ? `${first + j}` : `f${j}`);
  const o = (j: number): string => (first >= 0 ? `${(first + j) * FEATURE_STRIDE}` : `o${j}`);
  if (first < 0) for (let j = 0; j < n; j++) lines.push(`const f${j} = features[c0 + ${j}], o${j} = f${j} * ${FEATURE_STRIDE};`);
  // Rows in pairs, both rows' reads before either's additions (which stay in row order), then the
  // odd row left over.
  const body = (v: number[]): void => {
    for (const q of v) {
      lines.push(natural ? `const row${q} = i + ${q};` : `const row${q} = rows[i + ${q}];`);
      lines.push(`const r${q} = row${q} * stride, g${q} = g[row${q}]${hasH ? `, h${q} = h[row${q}]` : ""};`);
      for (let j = 0; j < n; j++) lines.push(`const b${q}_${j} = byRow[r${q} + ${f(j)}];`);
    }
    for (const q of v)
      for (let j = 0; j < n; j++)
        lines.push(`o = ${o(j)} + b${q}_${j} * 3; out[o] += g${q};${hasH ? ` out[o + 1] += h${q};` : ""}${counts ? " out[o + 2] += 1;" : ""}`);
  };
  lines.push("let o; let i = s;");
  lines.push("for (; i + 2 <= e; i += 2) {");
  body([0, 1]);
  lines.push("}");
  lines.push("if (i < e) {");
  body([0]);
  lines.push("}");
  k = new Function("out", "byRow", "stride", "rows", "s", "e", "g", "h", "features", "c0", lines.join("\n")) as RowKernel;
  kernels.set(key, k);
  return k;
}

/**
 * Sums features `features[c0 .. c1)` of rows `[s, e)` into `out` (those features' regions are
 * zeroed first): each bin gets the rows' gradients, hessians and count, added in row order into
 * one copy, so a (block, feature) sum has the same bits whichever chunk of features it came with.
 * `rows` null: the rows are `s .. e - 1` themselves (the root without subsampling). `g`/`h` are
 * indexed by row; `h` null means every hessian is 1 (only counts are summed, then copied).
 * `byRow` is the row-major bin matrix of `stride` features per row. `countsKnown`: the counts
 * (and with `h` null the hessians) are left at 0, for the caller to fill in (`fillRootCounts`).
 */
export function accumulateRows(
  out: Float64Array,
  byRow: Uint8Array,
  stride: number,
  rows: RowIndexArray | null,
  s: number,
  e: number,
  g: GradientArray,
  h: GradientArray | null,
  features: ArrayLike<number>,
  c0: number,
  c1: number,
  countsKnown = false,
): void {
  for (let c = c0; c < c1; c++) out.fill(0, features[c]! * FEATURE_STRIDE, (features[c]! + 1) * FEATURE_STRIDE);
  for (let c = c0; c < c1; c += MAX_CHUNK_FEATURES) {
    const n = Math.min(MAX_CHUNK_FEATURES, c1 - c);
    rowKernel(n, rows === null, h !== null, !countsKnown, consecutiveFrom(features, c, n))(out, byRow, stride, rows, s, e, g, h, features, c);
  }
  if (h === null && !countsKnown)
    for (let c = c0; c < c1; c++) {
      const base = features[c]! * FEATURE_STRIDE;
      for (let o = base; o < base + FEATURE_STRIDE; o += 3) out[o + 1] = out[o + 2]!;
    }
}

/** `features[c]`, when `features[c .. c + n)` are consecutive numbers; else -1. */
function consecutiveFrom(features: ArrayLike<number>, c: number, n: number): number {
  const first = features[c]!;
  for (let j = 1; j < n; j++) if (features[c + j] !== first + j) return -1;
  return first;
}

/**
 * Rows per bin of every feature over all `nRows` rows (`counts[f * 256 + bin]`): the count slots
 * of every root histogram without subsampling, which are the same every round. Counts are whole
 * numbers, exact in any order, so filling them in gives the bits of summing them (and saves a
 * third of the root's additions: 0.8x the time of its histogram on 500k flights rows).
 */
export function binCounts(bins: Uint8Array, nRows: number, nFeatures: number): Float64Array {
  const counts = new Float64Array(nFeatures * BINS_PER_FEATURE);
  for (let f = 0; f < nFeatures; f++) {
    const col = bins.subarray(f * nRows, (f + 1) * nRows);
    const base = f * BINS_PER_FEATURE;
    for (let r = 0; r < nRows; r++) counts[base + col[r]!]! += 1;
  }
  return counts;
}

/** Writes `binCounts` into a root histogram's count slots (and hessian slots, for a constant hessian). */
export function fillRootCounts(hist: Float64Array, counts: Float64Array, features: ArrayLike<number>, hasH: boolean): void {
  for (let i = 0; i < features.length; i++) {
    const f = features[i]!;
    for (let b = 0; b < BINS_PER_FEATURE; b++) {
      const o = f * FEATURE_STRIDE + b * HIST_STRIDE;
      const c = counts[f * BINS_PER_FEATURE + b]!;
      hist[o + 2] = c;
      if (!hasH) hist[o + 1] = c;
    }
  }
}

/** The row-major copy of a column-major bin matrix (`bins[f * nRows + row]`), into `out`. */
export function binsByRow(bins: Uint8Array, nRows: number, nFeatures: number, out: Uint8Array = new Uint8Array(bins.length)): Uint8Array {
  for (let f = 0; f < nFeatures; f++) {
    const col = bins.subarray(f * nRows, (f + 1) * nRows);
    for (let r = 0, o = f; r < nRows; r++, o += nFeatures) out[o] = col[r]!;
  }
  return out;
}

/**
 * Rows per summation block. A node's histogram is summed block by block (block 0 into the node's
 * buffer, later blocks into partial buffers) and the partials are then added in block order. The
 * bits of every histogram so depend on this constant only, never on which thread summed which
 * block: threads may split a node by rows, by features or both, and the model stays the same.
 * Large enough that the per-block overhead (zeroing, and adding the partial) stays small.
 */
export const BLOCK_ROWS = 32768;

/** Summation blocks of a node of `count` rows. */
export function blockCount(count: number): number {
  return count <= BLOCK_ROWS ? 1 : Math.ceil(count / BLOCK_ROWS);
}

/**
 * Adds the blocks' partials (block b in `partials[b - 1]`) into `hist`, in block order. Two blocks
 * a pass (`(hist + p) + q`, the additions of one block at a time, in the same order): a pass per
 * block took 1.3 ns an addition, one of two 0.7 (each pass stores every slot it adds to).
 */
export function reduceBlocks(hist: Float64Array, partials: readonly Float64Array[], nBlocks: number, features: ArrayLike<number>): void {
  for (let i = 0; i < features.length; i++) {
    const base = features[i]! * FEATURE_STRIDE;
    const end = base + FEATURE_STRIDE;
    let b = 1;
    for (; b + 1 < nBlocks; b += 2) {
      const p = partials[b - 1]!;
      const q = partials[b]!;
      for (let o = base; o < end; o++) hist[o] = hist[o]! + p[o]! + q[o]!;
    }
    if (b < nBlocks) {
      const p = partials[b - 1]!;
      for (let o = base; o < end; o++) hist[o]! += p[o]!;
    }
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
    for (let o = base; o < base + FEATURE_STRIDE; o++) parent[o]! -= smaller[o]!;
  }
}
