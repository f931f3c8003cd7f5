/**
 * Grows one tree on binned data from gradients and hessians (sklearn's TreeGrower).
 *
 * Rows live in one index array; each node owns a contiguous range of it, and a split partitions its
 * range in place (stable, so ranges stay in ascending row order and column reads stay sequential).
 * Leaf-wise growth (LightGBM's, sklearn's) always splits the leaf with the largest gain until
 * `maxLeafNodes`; depth-wise growth (XGBoost's default) splits level by level until `maxDepth`.
 */
import type { FeatureBins } from "./binning";
import { FEATURE_STRIDE, HistogramPool, subtractInto } from "./histogram";
import type { ChildHistogram, TrainingThreads } from "./training-threads";
import type { Random } from "./random";
import { boundedValue, findBestSplit, UNBOUNDED, type SplitConstraints, type SplitInfo, type ValueBounds } from "./split";
import type { BinTree } from "./tree";
import { HIST_STRIDE, MISSING_BIN, type GradientArray, type RowIndexArray } from "./types";

// Indexed reads carry `!` (noUncheckedIndexedAccess): node ids and row ranges are the grower's own,
// and the candidate lists are non-empty where read. A check per read would cost the hot loops; the
// emitted JavaScript is unchanged.

export type GrowPolicy = "leafwise" | "depthwise";

export interface GrowerOptions extends SplitConstraints {
  readonly growPolicy: GrowPolicy;
  /** 0 = no limit. */
  readonly maxLeafNodes: number;
  /** 0 = no limit; the root has depth 0. */
  readonly maxDepth: number;
  readonly learningRate: number;
  /** Fraction of the tree's features considered at each split (1 = all). */
  readonly colsampleBynode: number;
}

/** Shared, reused buffers for growing many trees on one training set. */
export interface GrowerContext {
  readonly featureBins: readonly FeatureBins[];
  readonly pool: HistogramPool;
  /** Row indices of the tree's sample (`threads`' shared `rows`); partitioned in place while growing. */
  readonly rows: RowIndexArray;
  /** The threads (one or more) that run the data-parallel loops over the shared arrays. */
  readonly threads: TrainingThreads;
  /** A split's side per bin, read by the partition (`threads`' shared `lut`). */
  readonly lut: Uint8Array;
}

interface Node {
  id: number;
  start: number;
  count: number;
  depth: number;
  sumG: number;
  sumH: number;
  hist: Float64Array | null;
  split: SplitInfo | null;
  /** Bounds of the node's value under monotonic constraints. */
  bounds: ValueBounds;
}

export interface GrownTree {
  readonly tree: BinTree;
  /** For each leaf, its node id and range in `ctx.rows`: lets the caller update predictions. */
  readonly leaves: { node: number; start: number; count: number }[];
}

/**
 * Grows a tree over `ctx.rows[0 .. nSample)`. `natural` says those rows are 0..nRows-1 in order
 * (no subsampling): then `ctx.rows` is not read but written (by the root's partition). Either way
 * it ends with each leaf's rows in the leaf's range. `g`/`h` are indexed by row; `h` null means
 * constant hessian 1.
 */
export function growTree(
  ctx: GrowerContext,
  nSample: number,
  natural: boolean,
  g: GradientArray,
  h: GradientArray | null,
  treeFeatures: Uint32Array,
  opts: GrowerOptions,
  rng: Random,
  /** Which output's gradients `g`/`h` are (the threads read them from shared memory). */
  output = 0,
): GrownTree {
  const tree: BinTree = { feature: [], binThreshold: [], categoriesLeft: [], missingLeft: [], left: [], right: [], value: [], count: [], gain: [] };
  const newNode = (start: number, count: number, depth: number, sumG: number, sumH: number, bounds: ValueBounds = UNBOUNDED): Node => {
    const id = tree.feature.length;
    tree.feature.push(-1);
    tree.binThreshold.push(-1);
    tree.categoriesLeft.push(null);
    tree.missingLeft.push(false);
    tree.left.push(-1);
    tree.right.push(-1);
    tree.value.push(0);
    tree.count.push(count);
    tree.gain.push(0);
    return { id, start, count, depth, sumG, sumH, hist: null, split: null, bounds };
  };

  const root = newNode(0, nSample, 0, 0, 0);
  const leaves: Node[] = [];
  const candidates: Node[] = [];
  let nLeaves = 1;

  /** What a node's row count and depth allow (its hessian sum aside). */
  const bigEnough = (n: Node): boolean => n.count >= 2 * opts.minSamplesLeaf && (opts.maxDepth === 0 || n.depth < opts.maxDepth);
  const canSplit = (n: Node): boolean => bigEnough(n) && n.sumH >= 2 * opts.minSumHessianInLeaf;

  const findSplit = (n: Node): void => {
    const feats = opts.colsampleBynode < 1 ? sampleFeatures(treeFeatures, opts.colsampleBynode, rng) : treeFeatures;
    n.split = findBestSplit(n.hist as Float64Array, feats, ctx.featureBins, n.sumG, n.sumH, n.count, opts, n.bounds);
    if (n.split === null) finalize(n);
    else candidates.push(n);
  };
  const finalize = (n: Node): void => {
    if (n.hist !== null) ctx.pool.release(n.hist);
    n.hist = null;
    leaves.push(n);
  };

  // The root's sums are its histogram's, over any one feature (no pass over the rows of its own).
  if (bigEnough(root) && treeFeatures.length > 0) {
    root.hist = ctx.pool.acquire();
    buildHistogram(ctx, root, natural, h, treeFeatures, output);
    [root.sumG, root.sumH] = histogramSums(root.hist, treeFeatures[0]!);
    if (canSplit(root)) findSplit(root);
    else finalize(root);
  } else {
    [root.sumG, root.sumH] = rowSums(ctx.rows, nSample, natural, g, h);
    finalize(root);
  }

  const maxLeaves = opts.maxLeafNodes === 0 ? Infinity : opts.maxLeafNodes;
  while (candidates.length > 0 && nLeaves < maxLeaves) {
    const node = opts.growPolicy === "leafwise" ? popBest(candidates) : (candidates.shift() as Node);
    const split = node.split as SplitInfo;
    nLeaves++;
    const [lb, rb] = childBounds(node, split, opts);
    // The split's counts are its histogram's, so the children are known before the partition.
    const l = newNode(node.start, split.leftCount, node.depth + 1, split.leftG, split.leftH, lb);
    const r = newNode(node.start + split.leftCount, split.rightCount, node.depth + 1, split.rightG, split.rightH, rb);
    tree.feature[node.id] = split.feature;
    tree.binThreshold[node.id] = split.binThreshold;
    tree.categoriesLeft[node.id] = split.categoriesLeft;
    tree.missingLeft[node.id] = split.missingLeft;
    tree.left[node.id] = l.id;
    tree.right[node.id] = r.id;
    tree.gain[node.id] = split.gain;

    const splitL = canSplit(l) && nLeaves < maxLeaves;
    const splitR = canSplit(r) && nLeaves < maxLeaves;
    // Only the smaller child is summed from rows, by the partition; the larger is the parent's
    // histogram less the smaller's.
    const [small, large] = l.count <= r.count ? [l, r] : [r, l];
    const child: ChildHistogram | null =
      splitL || splitR ? { hist: ctx.pool.acquire(), left: small === l, source: output, hasH: h !== null, features: treeFeatures } : null;
    // While other threads write the partition back in place, this one finds the children's splits.
    const children = (): void => {
      if (child === null) {
        ctx.pool.release(node.hist as Float64Array);
        node.hist = null;
        finalize(l);
        finalize(r);
        return;
      }
      small.hist = child.hist;
      subtractInto(node.hist as Float64Array, small.hist, treeFeatures);
      large.hist = node.hist;
      node.hist = null;
      for (const c of [l, r]) {
        if (c === l ? splitL : splitR) findSplit(c);
        else finalize(c);
      }
    };
    const leftCount = partition(ctx, node, split, natural && node === root, child, children);
    if (leftCount !== l.count) throw new Error(`partition sent ${leftCount} rows left where the histogram counted ${l.count}`);
  }
  for (const n of candidates) finalize(n);
  // An unsplit root in natural order never had its rows written: its one leaf's range is every row.
  if (natural && tree.feature[0] === -1) for (let i = 0; i < nSample; i++) ctx.rows[i] = i;

  if (opts.monotone === undefined) for (const n of leaves) tree.value[n.id] = (-opts.learningRate * n.sumG) / (n.sumH + opts.l2Regularization);
  else for (const n of leaves) tree.value[n.id] = opts.learningRate * boundedValue(n.sumG, n.sumH, opts.l2Regularization, n.bounds);
  leaves.sort((a, b) => a.id - b.id);
  return { tree, leaves: leaves.map((n) => ({ node: n.id, start: n.start, count: n.count })) };
}

/** The children's value bounds: the parent's, split at the midpoint of their values on a constrained feature. */
function childBounds(node: Node, s: SplitInfo, opts: GrowerOptions): [ValueBounds, ValueBounds] {
  const dir = opts.monotone?.[s.feature] ?? 0;
  if (dir === 0) return [node.bounds, node.bounds];
  const l2 = opts.l2Regularization;
  const mid = (boundedValue(s.leftG, s.leftH, l2, node.bounds) + boundedValue(s.rightG, s.rightH, l2, node.bounds)) / 2;
  const below = { lo: node.bounds.lo, hi: mid };
  const above = { lo: mid, hi: node.bounds.hi };
  return dir > 0 ? [below, above] : [above, below];
}

/** `natural`: the node is every row in order (the root without subsampling): no row index needed. */
function buildHistogram(ctx: GrowerContext, n: Node, natural: boolean, h: GradientArray | null, features: Uint32Array, output: number): void {
  ctx.threads.build(n.hist as Float64Array, natural, n.start, n.count, output, h !== null, features);
}

/** A node's sums of gradients and hessians, from its histogram of feature `f`. */
function histogramSums(hist: Float64Array, f: number): [number, number] {
  let sumG = 0;
  let sumH = 0;
  for (let o = f * FEATURE_STRIDE; o < (f + 1) * FEATURE_STRIDE; o += HIST_STRIDE) {
    sumG += hist[o]!;
    sumH += hist[o + 1]!;
  }
  return [sumG, sumH];
}

function rowSums(rows: RowIndexArray, n: number, natural: boolean, g: GradientArray, h: GradientArray | null): [number, number] {
  let sumG = 0;
  let sumH = 0;
  for (let i = 0; i < n; i++) {
    const r = natural ? i : rows[i]!;
    sumG += g[r]!;
    sumH += h === null ? 1 : h[r]!;
  }
  return [sumG, sumH];
}

/**
 * Stable in-place partition of the node's range (left rows first), summing `child`'s histogram on
 * the way; returns the left row count. `natural`: the node is the rows in order, which it writes
 * without reading. `beside`: work for this thread while the partition finishes.
 */
function partition(ctx: GrowerContext, n: Node, s: SplitInfo, natural: boolean, child: ChildHistogram | null, beside: () => void): number {
  const lut = ctx.lut;
  lut.fill(0);
  if (s.categoriesLeft === null) lut.fill(1, 0, s.binThreshold + 1);
  else for (const c of s.categoriesLeft) lut[c] = 1;
  lut[MISSING_BIN] = s.missingLeft ? 1 : 0;
  return ctx.threads.split(n.start, n.count, s.feature, natural, child, beside);
}

function popBest(candidates: Node[]): Node {
  // A leaf-wise tree has at most a few hundred candidates: a linear scan beats a heap's overhead.
  let bi = 0;
  for (let i = 1; i < candidates.length; i++) {
    const a = (candidates[i]!.split as SplitInfo).gain;
    const b = (candidates[bi]!.split as SplitInfo).gain;
    if (a > b || (a === b && candidates[i]!.id < candidates[bi]!.id)) bi = i;
  }
  return candidates.splice(bi, 1)[0]!;
}

export function sampleFeatures(features: Uint32Array, fraction: number, rng: Random): Uint32Array {
  const k = Math.max(1, Math.round(features.length * fraction));
  if (k >= features.length) return features;
  const picked = rng.sample(features.length, k);
  return picked.map((i) => features[i]!);
}
