/**
 * The algorithm's steps on their own: histogram → grower → booster, on seeded synthetic data whose
 * structure the assertions know.
 */
import { describe, expect, it } from "vitest";
import { BinMapper } from "../src/gbdt/binning";
import { Booster, type BinnedData, type BoosterOptions } from "../src/gbdt/booster";
import { growTree, type GrowerContext, type GrowerOptions } from "../src/gbdt/grower";
import { accumulateRows, binsByRow, BINS_PER_FEATURE, FEATURE_STRIDE, HistogramPool, reduceBlocks, subtractInto } from "../src/gbdt/histogram";
import { maxBlocks, partialHistograms, TrainingThreads } from "../src/gbdt/training-threads";
import { lossFor } from "../src/gbdt/loss";
import { Random } from "../src/gbdt/random";
import type { BinTree } from "../src/gbdt/tree";

const N_FEATURES = 4;

/** Seeded data: 4 features (one with ~5% missing, one with 7 distinct values) and a noisy target. */
function dataset(nRows: number, seed: number, noise = 0.3): { columns: Float64Array[]; y: Float64Array } {
  const rng = new Random(seed);
  const columns = Array.from({ length: N_FEATURES }, () => new Float64Array(nRows));
  const y = new Float64Array(nRows);
  for (let i = 0; i < nRows; i++) {
    const x0 = rng.next() * 10;
    const x1 = rng.next() < 0.05 ? NaN : rng.next() * 4 - 2;
    const x2 = Math.floor(rng.next() * 7);
    const x3 = rng.next();
    columns[0]![i] = x0;
    columns[1]![i] = x1;
    columns[2]![i] = x2;
    columns[3]![i] = x3;
    y[i] = (x0 > 5 ? 2 : 0) + (x1 === x1 ? x1 : 1) + (x2 === 3 ? 1.5 : 0) + (rng.next() - 0.5) * 2 * noise;
  }
  return { columns, y };
}

function binned(nRows: number, seed: number, noise?: number): { mapper: BinMapper; data: BinnedData } {
  const { columns, y } = dataset(nRows, seed, noise);
  const mapper = BinMapper.fit(
    columns,
    nRows,
    columns.map(() => undefined),
    255,
    new Random(1),
  );
  return { mapper, data: { bins: mapper.transform(columns, nRows), nRows, y } };
}

/** The histogram by definition: one pass over the rows, per feature and bin. */
function directHistogram(bins: Uint8Array, nRows: number, rows: ArrayLike<number>, g: Float32Array, h: Float32Array | null): Float64Array {
  const hist = new Float64Array(N_FEATURES * FEATURE_STRIDE);
  for (let f = 0; f < N_FEATURES; f++) {
    for (let i = 0; i < rows.length; i++) {
      const r = rows[i]!;
      const o = f * FEATURE_STRIDE + bins[f * nRows + r]! * 3;
      hist[o] += g[r]!;
      hist[o + 1] += h === null ? 1 : h[r]!;
      hist[o + 2] += 1;
    }
  }
  return hist;
}

const ALL_FEATURES = Uint32Array.from({ length: N_FEATURES }, (_, f) => f);

/** What the grower does for a node that is not the root: its rows' bins read row by row. */
function nodeHistogram(bins: Uint8Array, nRows: number, rows: Uint32Array, g: Float32Array, h: Float32Array | null): Float64Array {
  const hist = new Float64Array(N_FEATURES * FEATURE_STRIDE);
  accumulateRows(hist, binsByRow(bins, nRows, N_FEATURES), N_FEATURES, rows, 0, rows.length, g, h, ALL_FEATURES, 0, N_FEATURES);
  return hist;
}

function expectClose(actual: Float64Array, expected: Float64Array): void {
  expect(actual.length).toBe(expected.length);
  let worst = 0;
  for (let i = 0; i < actual.length; i++) worst = Math.max(worst, Math.abs(actual[i]! - expected[i]!));
  expect(worst).toBeLessThan(1e-9);
}

function gradients(nRows: number, seed: number): { g: Float32Array; h: Float32Array } {
  const rng = new Random(seed);
  return { g: Float32Array.from({ length: nRows }, () => rng.next() * 2 - 1), h: Float32Array.from({ length: nRows }, () => 0.05 + rng.next() * 0.2) };
}

describe("histograms", () => {
  it("add the blocks' partials one block at a time, in block order, to the bit, for odd and even block counts", () => {
    let seed = 5;
    const rand = (): number => ((seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32 - 0.5) * 2 ** ((seed >>> 20) % 40);
    const length = N_FEATURES * FEATURE_STRIDE;
    const partials = Array.from({ length: 6 }, () => Float64Array.from({ length }, rand));
    // Features 0 and 2 only: the other's slots stay as they were.
    const features = [2, 0];
    for (let nBlocks = 1; nBlocks <= 7; nBlocks++) {
      const hist = Float64Array.from({ length }, rand);
      const expected = hist.slice();
      for (const f of features)
        for (let b = 1; b < nBlocks; b++) for (let o = f * FEATURE_STRIDE; o < (f + 1) * FEATURE_STRIDE; o++) expected[o]! += partials[b - 1]![o]!;
      reduceBlocks(hist, partials, nBlocks, features);
      expect(Buffer.from(hist.buffer).equals(Buffer.from(expected.buffer)), `${nBlocks} blocks`).toBe(true);
    }
  });

  const nRows = 6000;
  const { data } = binned(nRows, 3);
  const { g, h } = gradients(nRows, 4);
  const all = Uint32Array.from({ length: nRows }, (_, i) => i);

  it.each([
    ["hessians", h],
    ["constant hessians (squared error)", null],
  ] as const)("hold, per feature, the sums of gradients, %s and rows of the node", (_, hh) => {
    const hist = new Float64Array(N_FEATURES * FEATURE_STRIDE);
    hist.fill(NaN); // every slot of the features summed is written
    accumulateRows(hist, binsByRow(data.bins, nRows, N_FEATURES), N_FEATURES, null, 0, nRows, g, hh, ALL_FEATURES, 0, N_FEATURES);
    expectClose(hist, directHistogram(data.bins, nRows, all, g, hh));
    const sumG = g.reduce((a, b) => a + b, 0);
    const sumH = hh === null ? nRows : hh.reduce((a, b) => a + b, 0);
    for (let f = 0; f < N_FEATURES; f++) {
      let fg = 0;
      let fh = 0;
      let fc = 0;
      for (let b = 0; b < BINS_PER_FEATURE; b++) {
        const o = f * FEATURE_STRIDE + b * 3;
        fg += hist[o]!;
        fh += hist[o + 1]!;
        fc += hist[o + 2]!;
      }
      expect(fg).toBeCloseTo(sumG, 6);
      expect(fh).toBeCloseTo(sumH, 6);
      expect(fc).toBe(nRows);
    }
  });

  // Both sizes of child: below and above the row count where accumulation switches to four copies.
  it.each([
    ["a small child", 0.1, h],
    ["a large child", 0.45, h],
    ["a small child, constant hessians", 0.1, null],
  ] as const)("of the larger child, by subtraction from the parent, equal the direct build (%s)", (_, fraction, hh) => {
    const rng = new Random(9);
    const inSmall = Array.from({ length: nRows }, () => rng.next() < fraction);
    const small = all.filter((r) => inSmall[r]);
    const large = all.filter((r) => !inSmall[r]);
    const parent = nodeHistogram(data.bins, nRows, all, g, hh);
    const smallHist = nodeHistogram(data.bins, nRows, small, g, hh);
    subtractInto(parent, smallHist, [0, 1, 2, 3]);
    expectClose(parent, directHistogram(data.bins, nRows, large, g, hh));
    expectClose(smallHist, directHistogram(data.bins, nRows, small, g, hh));
  });
});

const GROWER: GrowerOptions = {
  growPolicy: "leafwise",
  maxLeafNodes: 31,
  maxDepth: 0,
  learningRate: 1,
  colsampleBynode: 1,
  l2Regularization: 0,
  minSamplesLeaf: 20,
  minSumHessianInLeaf: 0,
  minGainToSplit: 0,
};

function context(data: BinnedData, mapper: BinMapper, g: Float32Array): GrowerContext {
  const n = data.nRows;
  const histLength = N_FEATURES * FEATURE_STRIDE;
  const arrays = {
    bins: data.bins,
    nRows: n,
    rows: Uint32Array.from({ length: n }, (_, i) => i),
    scratch: new Uint32Array(n),
    scratchLeft: new Uint32Array(0),
    binsByRow: binsByRow(data.bins, n, N_FEATURES),
    nFeatures: N_FEATURES,
    leafStarts: new Int32Array(64),
    leafValues: new Float64Array(64),
    g: [g],
    h: [new Float32Array(0)],
    partials: partialHistograms(n, histLength, (length) => new Float64Array(length)),
    y: data.y,
    raw: new Float64Array(n),
    weights: undefined,
    lut: new Uint8Array(256),
    leftCounts: new Int32Array(maxBlocks(n)),
  };
  const threads = new TrainingThreads(1, arrays, N_FEATURES, { name: "squared_error", nOutputs: 1 });
  return {
    featureBins: mapper.features,
    pool: new HistogramPool(N_FEATURES, (length) => threads.allocate(length)),
    rows: arrays.rows,
    threads,
    lut: arrays.lut,
  };
}

/** Grows one tree on the squared-error gradients of the target at 0 (g = −y, h = 1). */
function grow(
  opts: Partial<GrowerOptions>,
  nRows = 4000,
): { tree: BinTree; leaves: { node: number; start: number; count: number }[]; ctx: GrowerContext; g: Float32Array } {
  const { mapper, data } = binned(nRows, 5);
  const g = Float32Array.from(data.y, (v) => -v);
  const ctx = context(data, mapper, g);
  const { tree, leaves } = growTree(ctx, nRows, true, g, null, Uint32Array.from([0, 1, 2, 3]), { ...GROWER, ...opts }, new Random(1));
  return { tree, leaves, ctx, g };
}

function depths(tree: BinTree): number[] {
  const depth = new Array<number>(tree.feature.length).fill(0);
  for (let i = 0; i < tree.feature.length; i++) {
    if (tree.feature[i] === -1) continue;
    depth[tree.left[i]!] = depth[i]! + 1;
    depth[tree.right[i]!] = depth[i]! + 1;
  }
  return depth;
}

const leafIds = (tree: BinTree): number[] => tree.feature.flatMap((f, i) => (f === -1 ? [i] : []));

describe("the grower", () => {
  it.each([2, 7, 31])("grows leaf-wise to exactly max_leaf_nodes (%i) leaves when the data allows", (maxLeafNodes) => {
    const { tree } = grow({ maxLeafNodes });
    expect(leafIds(tree)).toHaveLength(maxLeafNodes);
  });

  it("grows leaf-wise greedily: a smaller tree is the first splits of a larger one", () => {
    const small = grow({ maxLeafNodes: 7 }).tree;
    const large = grow({ maxLeafNodes: 31 }).tree;
    const internal = small.feature.flatMap((f, i) => (f === -1 ? [] : [i]));
    expect(internal).toHaveLength(6);
    for (const i of internal) {
      expect([large.feature[i], large.binThreshold[i], large.left[i], large.right[i]]).toEqual([
        small.feature[i],
        small.binThreshold[i],
        small.left[i],
        small.right[i],
      ]);
    }
  });

  it.each([1, 2, 4])("grows depth-wise to max_depth %i and no deeper", (maxDepth) => {
    const { tree } = grow({ growPolicy: "depthwise", maxDepth, maxLeafNodes: 0 });
    const d = depths(tree);
    const leaves = leafIds(tree);
    expect(Math.max(...leaves.map((i) => d[i]!))).toBe(maxDepth);
    // Level by level: with this much data every node above max_depth splits.
    expect(leaves).toHaveLength(2 ** maxDepth);
  });

  it("stops depth-wise growth at max_leaf_nodes too", () => {
    const { tree } = grow({ growPolicy: "depthwise", maxDepth: 6, maxLeafNodes: 10 });
    expect(leafIds(tree)).toHaveLength(10);
  });

  it.each([1, 50, 400])("keeps at least min_samples_leaf (%i) rows in every leaf", (minSamplesLeaf) => {
    const { tree, leaves } = grow({ minSamplesLeaf, maxLeafNodes: 64 });
    for (const leaf of leaves) expect(leaf.count).toBeGreaterThanOrEqual(minSamplesLeaf);
    for (const i of leafIds(tree)) expect(tree.count[i]!).toBeGreaterThanOrEqual(minSamplesLeaf);
    // The leaves partition the rows.
    expect(leaves.reduce((n, l) => n + l.count, 0)).toBe(4000);
  });

  it("splits only for a gain above min_gain_to_split", () => {
    const free = grow({ maxLeafNodes: 31 }).tree;
    const gains = free.gain.filter((_, i) => free.feature[i] !== -1).sort((a, b) => a - b);
    const threshold = gains[Math.floor(gains.length / 2)]!;
    const { tree } = grow({ maxLeafNodes: 31, minGainToSplit: threshold });
    const kept = tree.gain.filter((_, i) => tree.feature[i] !== -1);
    expect(kept.length).toBeGreaterThan(0);
    expect(kept.length).toBeLessThan(gains.length);
    for (const gain of kept) expect(gain).toBeGreaterThan(threshold);
    expect(leafIds(grow({ minGainToSplit: Infinity }).tree)).toEqual([0]);
  });

  it("sets each leaf to −learning_rate · G / (H + λ) of its rows", () => {
    const { tree, leaves, ctx, g } = grow({ maxLeafNodes: 8, learningRate: 0.3, l2Regularization: 2 });
    for (const leaf of leaves) {
      let sumG = 0;
      for (let i = leaf.start; i < leaf.start + leaf.count; i++) sumG += g[ctx.rows[i]!]!;
      expect(tree.value[leaf.node]!).toBeCloseTo((-0.3 * sumG) / (leaf.count + 2), 9);
    }
  });

  it("leaves every row in its leaf's range, also when a root in natural order is not split", () => {
    // Natural order: the rows are written by the root's partition, never read; here there is none.
    const { mapper, data } = binned(4000, 5);
    const g = Float32Array.from(data.y, (v) => -v);
    const ctx = context(data, mapper, g);
    ctx.rows.fill(7);
    const { tree, leaves } = growTree(ctx, 4000, true, g, null, Uint32Array.from([0, 1, 2, 3]), { ...GROWER, minSamplesLeaf: 3000 }, new Random(1));
    expect(leaves).toEqual([{ node: 0, start: 0, count: 4000 }]);
    expect(tree.feature).toEqual([-1]);
    const rows = ctx.rows.subarray(0, 4000);
    expect(rows.every((r, i) => r === i)).toBe(true);
  });
});

const BOOSTER: BoosterOptions = {
  ...GROWER,
  learningRate: 0.1,
  numRound: 30,
  subsample: 1,
  colsampleBytree: 1,
  earlyStoppingRounds: 0,
  earlyStoppingTol: 0,
  seed: 7,
  threads: 1,
};

describe("the booster", () => {
  it.each([
    ["regression", lossFor("regression", 0), (y: number): number => y],
    ["binary", lossFor("binary", 2), (y: number): number => (y > 1.5 ? 1 : 0)],
  ] as const)("lowers the training loss every round (%s)", (_, loss, label) => {
    const { mapper, data } = binned(3000, 11);
    const train = { ...data, y: data.y.map(label) };
    const booster = new Booster(loss, mapper, train, undefined, BOOSTER);
    const losses = [booster.currentTrainLoss()];
    while (!booster.done) {
      booster.step();
      losses.push(booster.currentTrainLoss());
    }
    expect(losses).toHaveLength(31);
    for (let i = 1; i < losses.length; i++) expect(losses[i]!).toBeLessThan(losses[i - 1]!);
    expect(losses.at(-1)!).toBeLessThan(losses[0]! / 2);
  });

  it("gives the same trees for the same seed, with row and feature sampling, and other trees for another seed", () => {
    const { mapper, data } = binned(2000, 12);
    const opts = { ...BOOSTER, numRound: 8, subsample: 0.7, colsampleBytree: 0.5, colsampleBynode: 0.75 };
    const run = (seed: number): unknown => {
      const b = new Booster(lossFor("regression", 0), mapper, data, undefined, { ...opts, seed });
      while (!b.done) b.step();
      return b.result().trees;
    };
    expect(run(7)).toEqual(run(7));
    expect(run(8)).not.toEqual(run(7));
  });

  it("with early stopping keeps the trees up to the round of the lowest validation loss", () => {
    // Few training rows, much noise, deep trees and a large step: the validation loss turns up.
    const { mapper, data } = binned(300, 13, 3);
    const v = dataset(2000, 14, 3);
    const valid: BinnedData = { bins: mapper.transform(v.columns, 2000), nRows: 2000, y: v.y };
    const opts = { ...BOOSTER, numRound: 200, learningRate: 0.5, minSamplesLeaf: 1, maxLeafNodes: 63, earlyStoppingRounds: 5 };
    const booster = new Booster(lossFor("regression", 0), mapper, data, valid, opts);
    while (!booster.done) booster.step();
    const history = booster.state().validationLoss;
    const best = history.indexOf(Math.min(...history)) + 1;
    expect(booster.stoppedEarly).toBe(true);
    expect(booster.roundsRun).toBe(best + 5);
    const result = booster.result();
    expect(result.rounds).toBe(best);
    expect(result.trees).toHaveLength(best);
    expect(result.trees).toEqual(booster.state().trees.slice(0, best));
    // The kept predictions are those of the kept trees: their loss is the best one.
    expect(booster.loss.meanLoss(valid.y, result.validRaw as Float64Array, 2000)).toBeCloseTo(history[best - 1]!, 12);
  });
});
