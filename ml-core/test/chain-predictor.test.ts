/**
 * ChainPredictor (what the server and `ml-core predict` score with) must give FlatPredictor's
 * outputs to the last bit, through both of its walks (blocks of four rows, and single rows), on
 * numeric and categorical models: a row's prediction must not depend on how many rows came with
 * it, nor on which predictor a model gets (FlatPredictor takes the rare models ChainPredictor cannot).
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { ChainPredictor } from "../src/model/chain-predictor";
import { buildLeafMasks, LEAF_MASKS_MAX_BYTES } from "../src/model/leaf-masks";
import { FlatPredictor, MODEL_FORMAT_VERSION, type ModelJson, type Predictor, type TreeJson } from "../src/index";
import { CsvRows } from "../src/codec/csv";
import { FeatureSchema } from "../src/codec/rows";
import { lcg, randomTree as sharedRandomTree, split, tmpDir, toCsv, VEGA, writeFile } from "./helpers";
import { distModule, ensureBuilt } from "./server-helpers";
import { featureMatrix, trainFiles } from "./train-helpers";

const N_FEATURES = 5;

/** A random tree over N_FEATURES numeric features; with `categorical`, some splits on feature 0 as a category set. */
function randomTree(rand: () => number, leaves: number, output: number, categorical = false): TreeJson {
  return inexact(
    sharedRandomTree(rand, leaves, output, (r) => {
      const feature = Math.floor(r() * N_FEATURES);
      if (categorical && feature === 0) return { feature, categoriesLeft: [0, 1, 2, 3].filter(() => r() < 0.5) };
      // Thresholds on a coarse grid, so that inputs often equal them exactly.
      return { feature, threshold: Math.round(r() * 8 - 4) / 4 };
    }),
  );
}

/**
 * The tree with leaf values divided by 3. The generator's values are multiples of 2^-32, whose
 * sums are exact in any order; thirds are rounded, so a sum in another order shows in its bits.
 */
function inexact(t: TreeJson): TreeJson {
  return { ...t, value: t.value.map((v) => v / 3) };
}

function randomModel(objective: ModelJson["objective"], seed: number, opts: { trees?: number; categorical?: boolean } = {}): ModelJson {
  const rand = lcg(seed);
  const classes = objective === "binary" ? ["no", "yes"] : objective === "multiclass" ? ["a", "b", "c"] : null;
  const nOut = objective === "multiclass" ? 3 : 1;
  const nTrees = opts.trees ?? 40;
  const trees = Array.from({ length: nTrees }, (_, i) => randomTree(rand, 1 + Math.floor(rand() * 31), i % nOut, opts.categorical));
  const features: ModelJson["features"] = Array.from({ length: N_FEATURES }, (_, i) =>
    opts.categorical && i === 0
      ? { name: `f${i}`, kind: "categorical" as const, categories: ["p", "q", "r", "s"] }
      : { name: `f${i}`, kind: "numeric" as const },
  );
  return {
    format: "ml-core-gbdt",
    formatVersion: MODEL_FORMAT_VERSION,
    objective,
    label: "y",
    classes,
    features,
    baseline: Array.from({ length: nOut }, () => rand() - 0.5),
    trees,
    hyperparameters: {},
    metrics: {},
    training: { dataHash: "sha256:0", trainRows: 1, validationRows: 0, rounds: nTrees, roundsRun: nTrees, stoppedEarly: false, mlCoreVersion: "0" },
  };
}

/** Rows mixing ordinary values, values on the threshold grid, NaN, ±Infinity, ±0 and extremes. */
function randomRows(rand: () => number, nRows: number, categorical = false): Float64Array {
  const special = [NaN, NaN, Infinity, -Infinity, 0, -0, Number.MAX_VALUE, -Number.MAX_VALUE, 0.25, -0.5, 1];
  const x = new Float64Array(nRows * N_FEATURES);
  for (let i = 0; i < x.length; i++) {
    const u = rand();
    if (categorical && i % N_FEATURES === 0) x[i] = u < 0.1 ? NaN : Math.floor(rand() * 4);
    else x[i] = u < 0.3 ? special[Math.floor(rand() * special.length)] : u < 0.6 ? Math.round(rand() * 8 - 4) / 4 : rand() * 10 - 5;
  }
  return x;
}

/** Features f0, f1, …: feature i categorical with categories c0 … c(n-1) when nCats[i] = n > 0, else numeric. */
function featuresOf(nCats: readonly number[]): ModelJson["features"] {
  return nCats.map((n, i) =>
    n > 0
      ? { name: `f${i}`, kind: "categorical" as const, categories: Array.from({ length: n }, (_, c) => `c${c}`) }
      : { name: `f${i}`, kind: "numeric" as const },
  );
}

/** About half the codes 0 … n-1, drawn with `r`: a split's categories going left. */
function someCodes(r: () => number, n: number): number[] {
  return Array.from({ length: n }, (_, c) => c).filter(() => r() < 0.5);
}

/** Indices where the two outputs differ in any bit (Object.is tells -0 from 0 and matches NaN). */
function differences(a: Float64Array, b: Float64Array): number[] {
  expect(a.length).toBe(b.length);
  const bad: number[] = [];
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) bad.push(i);
  return bad;
}

// Every test takes each walk: leaf masks (the default, where the model and the engine allow), the
// chains' many-rows walk in WebAssembly and in JavaScript (where it is missing), and the chains'
// four ways of stepping: as measured to pay (the default), merged whatever the model (each tree
// resolved where it fits, or along runs of one feature only), node by node.
describe.each([
  ["leaf masks", "as measured to pay"],
  ["webassembly", "as measured to pay"],
  ["javascript", "as measured to pay"],
  ["webassembly", "merged"],
  ["webassembly", "merged along runs"],
  ["webassembly", "node by node"],
] as const)("ChainPredictor, rows walked by %s, steps %s", (rowsWalk, stepping) => {
  const options = {
    webAssembly: rowsWalk !== "javascript",
    leafMasks: rowsWalk === "leaf masks",
    merge: stepping.startsWith("merged") ? true : stepping === "node by node" ? false : undefined,
    resolve: stepping !== "merged along runs",
  };

  /** A model whose sets fit either way steps merged when told to, node by node (`unmerged`) when told to, and one or the other by default. */
  const expectSteps = (chain: ChainPredictor, unmerged: ChainPredictor["steps"]): void => {
    const expected = options.merge === true ? "merged" : options.merge === false ? unmerged : chain.steps === "merged" ? "merged" : unmerged;
    expect(chain.steps).toBe(expected);
  };

  it("walks many rows in the engine asked for, one row in JavaScript unless by leaf masks", () => {
    const m = randomModel("binary", 3, { categorical: true });
    const chain = new ChainPredictor(m, undefined, options);
    const flat = new FlatPredictor(m);
    const x = randomRows(lcg(4), 9, true);
    expect(differences(chain.predictRaw(x, 1), flat.predictRaw(x, 1))).toEqual([]);
    expect(chain.rowsWalk).toBe(rowsWalk === "leaf masks" ? "leaf masks" : "javascript");
    expect(differences(chain.predictRaw(x, 9), flat.predictRaw(x, 9))).toEqual([]);
    expect(chain.rowsWalk).toBe(rowsWalk);
  });

  it("walks a call larger than the walk's memory in turns, and the smaller ones after it", () => {
    const m = randomModel("multiclass", 7, { categorical: true });
    const chain = new ChainPredictor(m, undefined, options);
    const flat = new FlatPredictor(m);
    const rand = lcg(8);
    // The WebAssembly walk's memory takes 2,048 rows at a time.
    for (const nRows of [16, 70_000, 13, 70_003, 2_051, 2_050]) {
      const x = randomRows(rand, nRows, true);
      expect(differences(chain.predictRaw(x, nRows), flat.predictRaw(x, nRows))).toEqual([]);
    }
  });

  it.each([
    ["binary", 1],
    ["binary", 2],
    ["multiclass", 3],
    ["regression", 4],
  ] as const)("gives FlatPredictor's %s outputs bit for bit on random trees (seed %i)", (objective, seed) => {
    const m = randomModel(objective, seed);
    const block = new ChainPredictor(m, undefined, options);
    const flat = new FlatPredictor(m);
    expect(block.fast).toBe(true);
    expectSteps(block, "compare");
    const rand = lcg(seed + 100);
    // Row counts around the eight-row blocks (a last block of 1, 2, 3 or 4, 5 or 7 rows: one at a
    // time, in a padded block of four, in one of eight), and calls after a larger one (reused buffers).
    for (const nRows of [1, 7, 8, 9, 63, 500, 3, 10, 4]) {
      const x = randomRows(rand, nRows);
      expect(differences(block.predict(x, nRows), flat.predict(x, nRows))).toEqual([]);
      expect(differences(block.predictRaw(x, nRows), flat.predictRaw(x, nRows))).toEqual([]);
    }
  });

  it("scores only the first nRows rows of a longer buffer", () => {
    const m = randomModel("binary", 5);
    const x = randomRows(lcg(6), 20);
    expect(differences(new ChainPredictor(m, undefined, options).predict(x, 11), new FlatPredictor(m).predict(x, 11))).toEqual([]);
  });

  it("sends missing values the way each split says, on a stump", () => {
    const stump = (missingLeft: number, leaf: number): TreeJson => ({
      output: 0,
      feature: [0, -1, -1],
      threshold: [0.5, null, null],
      categoriesLeft: [null, null, null],
      missingLeft: [missingLeft, 0, 0],
      left: [1, -1, -1],
      right: [2, -1, -1],
      value: [0, -leaf, leaf],
      count: [2, 1, 1],
      gain: [1, 0, 0],
    });
    const m: ModelJson = { ...randomModel("regression", 7, { trees: 1 }), trees: [stump(1, 1), stump(0, 10)], baseline: [0] };
    const block = new ChainPredictor(m, undefined, options);
    expect(block.fast).toBe(true);
    const x = new Float64Array(N_FEATURES * 3);
    x[0] = NaN; // row 0: missing → left (-1) in the first tree, right (+10) in the second
    x[N_FEATURES] = 0.5; // row 1: on the threshold → left in both
    x[2 * N_FEATURES] = Infinity; // row 2: right in both
    expect(Array.from(block.predict(x, 3))).toEqual([9, -11, 11]);
  });

  it("keeps one-leaf trees (first, middle and last of an output's chain) and their order of addition", () => {
    const leaf = (output: number, value: number): TreeJson => ({
      output,
      feature: [-1],
      threshold: [null],
      categoriesLeft: [null],
      missingLeft: [0],
      left: [-1],
      right: [-1],
      value: [value],
      count: [1],
      gain: [0],
    });
    const base = randomModel("multiclass", 15, { trees: 12 });
    // 0.1 + 0.2 + 0.3 differs from 0.3 + 0.2 + 0.1 in the last bit: a changed order would show.
    const m: ModelJson = { ...base, trees: [leaf(0, 0.1), leaf(1, 1e-17), ...base.trees, leaf(0, 0.2), leaf(2, -3), leaf(0, 0.3)] };
    const block = new ChainPredictor(m, undefined, options);
    expect(block.fast).toBe(true);
    const x = randomRows(lcg(16), 37);
    expect(differences(block.predictRaw(x, 37), new FlatPredictor(m).predictRaw(x, 37))).toEqual([]);
  });

  it("ranks features with hundreds of distinct thresholds, and -0 against 0", () => {
    const rand = lcg(17);
    const m = randomModel("regression", 17, { trees: 120 });
    // Fine thresholds on feature 1 (hundreds of distinct ones across the trees), and ±0 on feature 2.
    for (const t of m.trees) {
      t.feature.forEach((f, i) => {
        if (f === 1) t.threshold[i] = Math.round((rand() * 10 - 5) * 1e6) / 1e6;
        if (f === 2) t.threshold[i] = rand() < 0.5 ? -0 : 0;
      });
    }
    const block = new ChainPredictor(m, undefined, options);
    expect(block.fast).toBe(true);
    const distinct = new Set(m.trees.flatMap((t) => t.threshold.filter((_, i) => t.feature[i] === 1)));
    expect(distinct.size).toBeGreaterThan(256); // the binary search's steps of 256 and more are taken
    const x = randomRows(rand, 400);
    for (let r = 0; r < 400; r += 3) x[r * N_FEATURES + 2] = r % 2 ? -0 : 0;
    expect(differences(block.predict(x, 400), new FlatPredictor(m).predict(x, 400))).toEqual([]);
  });

  it("walks a model too large for one table of packed words (many features, many trees) in several, in order", () => {
    // 200 features take 9 bits of the word and their thresholds (up to about 100 a feature) 7,
    // leaving 14 for the slot: 16,384 slots a table, while 600 trees of 20 to 40 leaves take 35,000.
    const nF = 200;
    const rand = lcg(18);
    const trees = Array.from({ length: 600 }, (_, i) =>
      inexact(
        sharedRandomTree(rand, 20 + Math.floor(rand() * 21), i % 3, (r) => ({ feature: Math.floor(r() * nF), threshold: Math.round(r() * 500 - 250) / 50 })),
      ),
    );
    const m: ModelJson = {
      ...randomModel("multiclass", 18, { trees: 1 }),
      features: Array.from({ length: nF }, (_, i) => ({ name: `f${i}`, kind: "numeric" as const })),
      trees,
    };
    const chain = new ChainPredictor(m, undefined, options);
    const flat = new FlatPredictor(m);
    expect(chain.fast).toBe(true);
    expect(chain.tables).toBeGreaterThan(1);
    const x = Float64Array.from({ length: 23 * nF }, () => (rand() < 0.05 ? NaN : Math.round(rand() * 600 - 300) / 50));
    // 23 rows: five blocks of four and three single rows.
    expect(differences(chain.predictRaw(x, 23), flat.predictRaw(x, 23))).toEqual([]);
    expect(differences(chain.predictRaw(x, 1), flat.predictRaw(x, 1))).toEqual([]);
  });

  it.each([
    ["binary", 21],
    ["multiclass", 22],
    ["regression", 23],
  ] as const)("walks models with categorical splits itself and gives FlatPredictor's %s outputs bit for bit (seed %i)", (objective, seed) => {
    const m = randomModel(objective, seed, { categorical: true });
    const chain = new ChainPredictor(m, undefined, options);
    expect(chain.fast).toBe(true);
    expectSteps(chain, "bytes");
    const rand = lcg(seed + 100);
    for (const nRows of [1, 5, 8, 50, 333, 12, 3]) {
      const x = randomRows(rand, nRows, true);
      // Codes no encode() makes still score as FlatPredictor scores them: out of range, negative, fractional, infinite.
      for (let r = 0; r < nRows; r += 7) x[r * N_FEATURES] = [4, 255, 256, -1, 2.5, Infinity, -Infinity][r % 7]!;
      expect(differences(chain.predictRaw(x, nRows), new FlatPredictor(m).predictRaw(x, nRows))).toEqual([]);
      expect(differences(chain.predict(x, nRows), new FlatPredictor(m).predict(x, nRows))).toEqual([]);
    }
  });

  it("takes categorical features of up to 256 categories, only categorical splits, and a categorical first column", () => {
    // Feature 0 (the column END's word names) and feature 3 are categorical, with 256 and 3
    // categories: sets span eight words of bits, and the missing code of the wide one is 257.
    const rand = lcg(24);
    const nCats = [256, 0, 0, 3, 0];
    const trees = Array.from({ length: 60 }, (_, i) =>
      inexact(
        sharedRandomTree(rand, 1 + Math.floor(rand() * 31), i % 3, (r) => {
          const feature = r() < 0.5 ? 0 : 3;
          return { feature, categoriesLeft: someCodes(r, nCats[feature]!) };
        }),
      ),
    );
    const m: ModelJson = {
      ...randomModel("multiclass", 24, { trees: 1 }),
      features: featuresOf(nCats),
      trees,
    };
    const chain = new ChainPredictor(m, undefined, options);
    expect(chain.fast).toBe(true);
    const x = Float64Array.from({ length: 101 * N_FEATURES }, (_, i) => (rand() < 0.1 ? NaN : Math.floor(rand() * (i % N_FEATURES === 0 ? 300 : 5))));
    expect(differences(chain.predictRaw(x, 101), new FlatPredictor(m).predictRaw(x, 101))).toEqual([]);
    expect(differences(chain.predictRaw(x, 3), new FlatPredictor(m).predictRaw(x, 3))).toEqual([]);
  });

  it.each([100, 60])("walks a categorical model too large for one table in several, in order, and ends every chain of each (%i features)", (nF) => {
    // 100 features take 8 column bits, and half the splits on one feature of 40 categories ~1,000
    // distinct sets (merged) or ~3,000 (node by node, with the numeric ranks' sets): 10 or 12 bits,
    // so 4,096 or 1,024 slots a table, against ~10,000–15,000 for 400 trees; 60 features take 7
    // column bits. Both test bytes (the bits of many tables are the 24,000 thresholds' case
    // below). Each table's chains end at its END, whose word the many-rows walk tells by 0 and
    // the one-row walk by its sign.
    const rand = lcg(26);
    const nCats = Array.from({ length: nF }, (_, f) => (f === 0 ? 40 : 0));
    const trees = Array.from({ length: 400 }, (_, i) =>
      inexact(
        sharedRandomTree(rand, 1 + Math.floor(rand() * 40), i % 3, (r) => {
          const feature = r() < 0.5 ? 0 : Math.floor(r() * nF);
          if (nCats[feature]! === 0) return { feature, threshold: Math.round(r() * 500 - 250) / 50 };
          return { feature, categoriesLeft: someCodes(r, nCats[feature]!) };
        }),
      ),
    );
    const m: ModelJson = {
      ...randomModel("multiclass", 26, { trees: 1 }),
      features: featuresOf(nCats),
      trees,
    };
    const chain = new ChainPredictor(m, undefined, options);
    const flat = new FlatPredictor(m);
    expect(chain.fast).toBe(true);
    expect(chain.tables).toBeGreaterThan(2);
    expectSteps(chain, "bytes");
    const x = Float64Array.from({ length: 21 * nF }, (_, i) =>
      rand() < 0.05 ? NaN : nCats[i % nF]! > 0 ? Math.floor(rand() * 45) : Math.round(rand() * 600 - 300) / 50,
    );
    // 21 rows: two blocks of eight and five single rows.
    expect(differences(chain.predictRaw(x, 21), flat.predictRaw(x, 21))).toEqual([]);
    expect(differences(chain.predictRaw(x, 1), flat.predictRaw(x, 1))).toEqual([]);
  });

  it("takes a lone categorical feature of 256 categories: fewer column bits than a set has words", () => {
    // One feature is two columns (one bit), its 258 codes eight words of bits a set (three bits):
    // the column field is widened so a word still turns into its set's first word by one shift.
    const rand = lcg(27);
    const trees = Array.from({ length: 30 }, () =>
      inexact(sharedRandomTree(rand, 1 + Math.floor(rand() * 31), 0, (r) => ({ feature: 0, categoriesLeft: someCodes(r, 256) }))),
    );
    const m: ModelJson = {
      ...randomModel("regression", 27, { trees: 1 }),
      features: featuresOf([256]),
      trees,
    };
    const chain = new ChainPredictor(m, undefined, options);
    expect(chain.fast).toBe(true);
    expectSteps(chain, "bytes");
    const x = Float64Array.from({ length: 37 }, () => (rand() < 0.1 ? NaN : Math.floor(rand() * 260)));
    expect(differences(chain.predictRaw(x, 37), new FlatPredictor(m).predictRaw(x, 37))).toEqual([]);
    expect(differences(chain.predictRaw(x, 1), new FlatPredictor(m).predictRaw(x, 1))).toEqual([]);
  });

  it.each([
    // Byte sets laid out by code take any number of columns.
    ["150 features, so a word's set field sits above a set's bits", 150, 60, "bytes"],
    ["three numeric features of 24,000 thresholds, so the byte sets would take more than 4 MiB, merged or not", 4, 24_000, "bits"],
  ] as const)("tests the right sets for a categorical model of %s", (_, nF, thresholds, kind) => {
    const rand = lcg(28);
    const trees = Array.from({ length: kind === "bits" ? 400 : 200 }, (_t, i) =>
      inexact(
        sharedRandomTree(rand, 31, i % 2, (r) => {
          if (r() < 0.3) return { feature: 0, categoriesLeft: someCodes(r, 5) };
          return { feature: 1 + Math.floor(r() * (nF - 1)), threshold: Math.floor(r() * thresholds) / 7 };
        }),
      ),
    );
    const m: ModelJson = {
      ...randomModel("multiclass", 28, { trees: 1 }),
      classes: ["a", "b"],
      baseline: [0.5, -0.25],
      features: featuresOf(Array.from({ length: nF }, (_f, i) => (i === 0 ? 5 : 0))),
      trees,
    };
    const chain = new ChainPredictor(m, undefined, options);
    expect(chain.fast).toBe(true);
    if (kind === "bits") expect(chain.steps).toBe("bits");
    else expectSteps(chain, kind);
    if (kind === "bits") expect(chain.tables).toBeGreaterThan(1);
    const x = Float64Array.from({ length: 21 * nF }, (_x, i) =>
      rand() < 0.05 ? NaN : i % nF === 0 ? Math.floor(rand() * 7) : Math.floor(rand() * thresholds) / 7,
    );
    // Two blocks of eight and five single rows.
    expect(differences(chain.predictRaw(x, 21), new FlatPredictor(m).predictRaw(x, 21))).toEqual([]);
  });

  it("walks a numeric model whose merged sets would not fit node by node, comparing ranks", () => {
    // 6,000 thresholds on one feature: merged, each step's set would take a byte per rank.
    const rand = lcg(30);
    const trees = Array.from({ length: 200 }, () =>
      inexact(sharedRandomTree(rand, 31, 0, (r) => ({ feature: Math.floor(r() * 2), threshold: Math.floor(r() * 6000) / 7 }))),
    );
    const m: ModelJson = { ...randomModel("regression", 30, { trees: 1 }), features: featuresOf([0, 0]), trees };
    const chain = new ChainPredictor(m, undefined, options);
    // Too large to merge even when told to.
    expect(chain.steps).toBe("compare");
    const x = Float64Array.from({ length: 21 * 2 }, () => (rand() < 0.05 ? NaN : Math.floor(rand() * 6000) / 7));
    expect(differences(chain.predictRaw(x, 21), new FlatPredictor(m).predictRaw(x, 21))).toEqual([]);
  });

  it("tests a categorical model's numeric splits as sets too, with ranks beyond the codes' words and missing values either way", () => {
    // Feature 1 gets hundreds of distinct thresholds: its ranks (up to ~400) need sets wider than
    // the 4-category feature's codes, so every set spans 16 words.
    const rand = lcg(25);
    const m = randomModel("binary", 25, { trees: 120, categorical: true });
    for (const t of m.trees) {
      t.feature.forEach((f, i) => {
        if (f === 1) t.threshold[i] = Math.round((rand() * 10 - 5) * 1e6) / 1e6;
        if (f >= 1) t.missingLeft[i] = rand() < 0.5 ? 1 : 0;
      });
    }
    const distinct = new Set(m.trees.flatMap((t) => t.threshold.filter((_, i) => t.feature[i] === 1)));
    expect(distinct.size).toBeGreaterThan(256);
    const chain = new ChainPredictor(m, undefined, options);
    expect(chain.fast).toBe(true);
    for (const nRows of [1, 6, 257]) {
      const x = randomRows(rand, nRows, true);
      expect(differences(chain.predictRaw(x, nRows), new FlatPredictor(m).predictRaw(x, nRows))).toEqual([]);
    }
  });

  it("hands a split without a finite threshold to FlatPredictor", () => {
    const m = randomModel("binary", 10, { trees: 3 });
    const t = m.trees.find((tree) => tree.feature[0] >= 0) as TreeJson;
    t.threshold[0] = null;
    const block = new ChainPredictor(m, undefined, options);
    expect(block.fast).toBe(false);
    const x = randomRows(lcg(11), 30);
    expect(differences(block.predict(x, 30), new FlatPredictor(m).predict(x, 30))).toEqual([]);
  });

  it("is rebuilt from a structured clone of its threadTables (what a scoring thread gets) with the same results and encodings", () => {
    const unsupported = randomModel("binary", 10, { trees: 3 });
    (unsupported.trees.find((tree) => tree.feature[0] >= 0) as TreeJson).threshold[0] = null;
    for (const [m, categorical] of [
      [randomModel("binary", 25, { trees: 120, categorical: true }), true],
      [randomModel("multiclass", 15, { trees: 12 }), false],
      [unsupported, false],
    ] as const) {
      const original = new ChainPredictor(m, undefined, options);
      const copy = new ChainPredictor(structuredClone(original.threadTables), undefined, options);
      expect([copy.fast, copy.tables, copy.nOutputs, copy.classes, copy.features]).toEqual([
        original.fast,
        original.tables,
        original.nOutputs,
        original.classes,
        original.features,
      ]);
      const x = randomRows(lcg(31), 203, categorical);
      const flat = new FlatPredictor(m);
      expect(differences(copy.predictRaw(x, 203), flat.predictRaw(x, 203))).toEqual([]);
      expect(differences(copy.predict(x, 1), flat.predict(x, 1))).toEqual([]);
      const raw = categorical ? "q" : "1.5";
      expect(Object.is(copy.encode(0, raw), flat.encode(0, raw))).toBe(true);
    }
  });

  it("encodes fields as FlatPredictor does", () => {
    const m = randomModel("binary", 12, { categorical: true });
    const block = new ChainPredictor(m, undefined, options);
    const flat = new FlatPredictor(m);
    for (const [f, raw] of [
      [0, "q"],
      [0, "unseen"],
      [1, "1.5"],
      [1, ""],
      [2, 3],
      [3, true],
      [4, null],
    ] as const) {
      expect(Object.is(block.encode(f, raw), flat.encode(f, raw))).toBe(true);
    }
    expect(() => block.encode(1, "abc")).toThrow(RangeError);
  });

  describe("on models trained from real data (vega-datasets seattle-weather)", () => {
    const text = fs.readFileSync(path.join(VEGA, "seattle-weather.csv"), "utf8").trim().split("\n");
    const rows = text.slice(1).map((line) => {
      const [date, precipitation, tempMax, tempMin, wind, weather] = line.split(",");
      // A few missing cells, so that trained splits learn a missing-value direction.
      return {
        weather,
        rain: weather === "rain" ? "yes" : "no",
        month: Number(date.slice(5, 7)),
        precipitation: Number(date.slice(8, 10)) % 9 === 0 ? "" : precipitation,
        temp_max: tempMax,
        temp_min: tempMin,
        wind,
      };
    });
    const features = ["month", "precipitation", "temp_max", "temp_min", "wind"];
    const dir = tmpDir();
    const { train, test } = split(rows, 0.3);

    it.each([
      ["weather", "multiclass"],
      ["rain", "binary"],
      ["temp_max", "regression"],
      ["temp_max", "regression", "weather"],
      ["rain", "binary", "month"],
    ])("label %s (%s), categorical feature: %s", (label, _, categorical?: string) => {
      const columns = [label, ...features.filter((f) => f !== label), ...(categorical === "weather" ? ["weather"] : [])];
      const name = `${label}-${categorical ?? "none"}`;
      const trainFile = writeFile(path.join(dir, `${name}-train.csv`), toCsv(train, columns));
      const testFile = writeFile(path.join(dir, `${name}-test.csv`), toCsv(test, columns));
      const t = trainFiles([trainFile], { label, num_round: "60", ...(categorical ? { categorical_columns: categorical } : {}) });
      if (categorical) expect(t.model.trees.some((tree) => tree.categoriesLeft.some((c) => c !== null))).toBe(true);
      const block = new ChainPredictor(t.model, undefined, options);
      expect(block.fast).toBe(true);
      const { x, table } = featureMatrix([testFile], t.schema);
      expect(differences(block.predict(x, table.nRows), t.predictor.predict(x, table.nRows))).toEqual([]);
    });
  });
});

describe("ChainPredictor's leaf masks", () => {
  /** A tree: `feature` at each node index (-1 a leaf) with its split, children given per inner node. */
  const node = (
    t: TreeJson,
    i: number,
    split: { feature: number; threshold?: number; categoriesLeft?: number[]; missingLeft: number },
    left: number,
    right: number,
  ): void => {
    t.feature[i] = split.feature;
    t.threshold[i] = split.threshold ?? null;
    t.categoriesLeft[i] = split.categoriesLeft ?? null;
    t.missingLeft[i] = split.missingLeft;
    t.left[i] = left;
    t.right[i] = right;
  };
  const emptyTree = (nodes: number, values: number[]): TreeJson => ({
    output: 0,
    feature: new Array<number>(nodes).fill(-1),
    threshold: new Array<number | null>(nodes).fill(null),
    categoriesLeft: new Array<number[] | null>(nodes).fill(null),
    missingLeft: new Array<number>(nodes).fill(0),
    left: new Array<number>(nodes).fill(-1),
    right: new Array<number>(nodes).fill(-1),
    value: values,
    count: new Array<number>(nodes).fill(1),
    gain: new Array<number>(nodes).fill(0),
  });

  it("keeps in a value's mask exactly the leaves whose path that value takes at every node on its feature", () => {
    // x0 ≤ 0.5 (missing left) → leaf 0 (node 1); else x1 in {c0, c2} (missing right) → leaf 1 (node 3), else leaf 2 (node 4).
    const t = emptyTree(5, [0, 1, 2, 3, 4]);
    node(t, 0, { feature: 0, threshold: 0.5, missingLeft: 1 }, 1, 2);
    node(t, 2, { feature: 1, categoriesLeft: [0, 2], missingLeft: 0 }, 3, 4);
    const m: ModelJson = { ...randomModel("regression", 1, { trees: 1 }), features: featuresOf([0, 3]), trees: [t, t], baseline: [0] };
    const masks = new ChainPredictor(m).threadTables.leafMasks!;
    expect(masks.laneBits).toBe(32);
    expect(Array.from(masks.partFeature)).toEqual([0, 1]);
    expect(Array.from(masks.values)).toEqual([1, 3, 4, 1, 3, 4]);
    // Per value, the vector of four lanes: both trees alike, the two lanes without a tree all ones.
    const lanes = (at: number, n: number): number[][] => Array.from({ length: n }, (_, v) => Array.from(masks.masks.subarray(at + 4 * v, at + 4 * v + 4)));
    const both = (mask: number): number[] => [mask, mask, -1, -1];
    // x0: rank 0 (≤ 0.5) and missing (rank 2) rule out leaves 1 and 2; rank 1 rules out leaf 0.
    expect(lanes(masks.partAt[0]!, 3)).toEqual([both(~0b110), both(~0b001), both(~0b110)]);
    // x1: c0 and c2 rule out leaf 2; c1, an unseen code (3) and missing (4) rule out leaf 1.
    expect(lanes(masks.partAt[1]!, 5)).toEqual([both(~0b100), both(~0b010), both(~0b100), both(~0b010), both(~0b010)]);
    const x = Float64Array.of(0.5, 1, 0.6, 0, 0.6, 1, NaN, NaN, 0.6, NaN);
    expect(Array.from(new ChainPredictor(m).predictRaw(x, 5))).toEqual([2, 6, 8, 2, 8]);
  });

  it("takes trees of 33 to 64 leaves two to a vector, and leaves a model with a tree of 65 to the chains", () => {
    const rand = lcg(41);
    const split = (r: () => number): { feature: number; threshold: number } => ({
      feature: Math.floor(r() * N_FEATURES),
      threshold: Math.round(r() * 40 - 20) / 8,
    });
    const trees = Array.from({ length: 7 }, (_, i) => inexact(sharedRandomTree(rand, 33 + Math.floor(rand() * 32), i % 3, split)));
    const base = randomModel("multiclass", 42, { trees: 1 });
    const x = randomRows(lcg(43), 300);
    for (const [extra, walk] of [
      [64, "leaf masks"],
      [65, "webassembly"],
    ] as const) {
      const m: ModelJson = { ...base, trees: [...trees, inexact(sharedRandomTree(rand, extra, 1, split))] };
      const chain = new ChainPredictor(m);
      expect(chain.threadTables.leafMasks?.laneBits ?? null).toBe(extra === 64 ? 64 : null);
      for (const nRows of [300, 1, 9]) expect(differences(chain.predictRaw(x, nRows), new FlatPredictor(m).predictRaw(x, nRows))).toEqual([]);
      expect(chain.rowsWalk).toBe(walk);
    }
  });

  it("takes a tree 63 splits deep (64 leaves), and leaves one 64 deep to the chains", () => {
    // A comb: each split on x0 sends the values above its threshold right to a leaf, the rest on down.
    const comb = (depth: number): TreeJson => {
      const t = emptyTree(
        2 * depth + 1,
        Array.from({ length: 2 * depth + 1 }, (_, i) => i / 3),
      );
      for (let d = 0; d < depth; d++) node(t, 2 * d, { feature: 0, threshold: depth - d, missingLeft: d % 2 }, 2 * d + 2, 2 * d + 1);
      return t;
    };
    const x = Float64Array.from({ length: N_FEATURES * 70 }, (_, i) => (i % N_FEATURES === 0 ? (i === 0 ? NaN : i / N_FEATURES - 0.5) : 0));
    for (const [depth, walk] of [
      [63, "leaf masks"],
      [64, "webassembly"],
    ] as const) {
      const m: ModelJson = { ...randomModel("regression", 47, { trees: 1 }), trees: [comb(depth), comb(depth)] };
      const chain = new ChainPredictor(m);
      expect(differences(chain.predictRaw(x, 70), new FlatPredictor(m).predictRaw(x, 70))).toEqual([]);
      expect(chain.rowsWalk).toBe(walk);
    }
  });

  it("leaves a model whose masks would pass LEAF_MASKS_MAX_BYTES to the chains", () => {
    // Trees of 31 leaves over two numeric features, each split's threshold its own: n trees take
    // 15n thresholds of each, and a group of four trees 2 × 16 bytes a threshold, 120 n² bytes.
    const features = featuresOf([0, 0]);
    const split = (r: () => number): { feature: number; threshold: number } => ({ feature: Math.floor(r() * 2), threshold: r() });
    const rand = lcg(44);
    const trees = Array.from({ length: 140 }, () => inexact(sharedRandomTree(rand, 31, 0, split)));
    const rows = Float64Array.from({ length: 2 * 500 }, (_, i) => (i % 97 === 0 ? NaN : ((i * 7919) % 1009) / 1009));
    for (const [n, walk] of [
      [100, "leaf masks"],
      [140, "webassembly"],
    ] as const) {
      const m: ModelJson = { ...randomModel("binary", 45, { trees: 1 }), features, trees: trees.slice(0, n) };
      const chain = new ChainPredictor(m);
      const bytes = chain.threadTables.leafMasks ? 4 * chain.threadTables.leafMasks.masks.length : null;
      if (walk === "leaf masks") expect(bytes).toBeGreaterThan(LEAF_MASKS_MAX_BYTES / 2);
      else expect(bytes).toBeNull();
      expect(differences(chain.predictRaw(rows, 500), new FlatPredictor(m).predictRaw(rows, 500))).toEqual([]);
      expect(chain.rowsWalk).toBe(walk);
    }
  });

  it("builds masks up to the bound it is given, and none past it", () => {
    const m = randomModel("binary", 46, { categorical: true });
    const nValues = Int32Array.of(6, 40, 40, 40, 40);
    const right = (ti: number, i: number, v: number): boolean => (ti + i + v) % 3 === 0;
    const fits = buildLeafMasks(m.trees, nValues, right)!;
    const bytes = 4 * fits.masks.length;
    expect(buildLeafMasks(m.trees, nValues, right, bytes)?.masks.length).toBe(fits.masks.length);
    expect(buildLeafMasks(m.trees, nValues, right, bytes - 1)).toBeNull();
  });
});

describe("ChainPredictor's choice of steps", () => {
  /** The chains are what these tests look at: with leaf masks, they would be built only as the fallback. */
  const CHAINS = { leafMasks: false } as const;

  it("merges a node and its descendants on the same feature into one step, missing values going each node's way", () => {
    // Trees of 2 to 40 leaves on one feature each (numeric or categorical), missing values either
    // way at every node: one step a tree. Along runs, its exits are the tree's leaves; resolved,
    // the leaves some value reaches (a random threshold below an ancestor's on its right side
    // leaves a leaf no row reaches). A many-rows table holds END's two slots, then each tree's
    // exits (at least two: a one-leaf tree takes two).
    const rand = lcg(29);
    const nCats = [0, 6, 0];
    const trees = Array.from({ length: 60 }, (_, i) => {
      const feature = i % 3;
      return inexact(
        sharedRandomTree(rand, 1 + Math.floor(rand() * 40), 0, (r) =>
          nCats[feature]! > 0 ? { feature, categoriesLeft: someCodes(r, nCats[feature]!) } : { feature, threshold: Math.round(r() * 40 - 20) / 8 },
        ),
      );
    });
    const m: ModelJson = { ...randomModel("binary", 29, { trees: 1 }), features: featuresOf(nCats), trees };
    // The leaves a tree's rows can reach: every category and an unseen one, or values on and
    // between the thresholds' grid of eighths and beyond it; and missing.
    const values = [NaN, ...Array.from({ length: 7 }, (_, c) => c), -Infinity, Infinity, ...Array.from({ length: 331 }, (_, k) => (k - 165) / 16)];
    const reached = (t: TreeJson): number => {
      const leaves = new Set<number>();
      for (const v of values) {
        let i = 0;
        while (t.feature[i]! >= 0) {
          const cats = t.categoriesLeft[i];
          const left = Number.isNaN(v) ? t.missingLeft[i] === 1 : cats !== null && cats !== undefined ? cats.includes(v) : v <= (t.threshold[i] as number);
          i = left ? t.left[i]! : t.right[i]!;
        }
        leaves.add(i);
      }
      return leaves.size;
    };
    const slots = (count: (t: TreeJson) => number): number => trees.reduce((n, t) => n + Math.max(2, count(t)), 2);
    const byRuns = new ChainPredictor(m, undefined, { ...CHAINS, resolve: false });
    const resolved = new ChainPredictor(m, undefined, CHAINS);
    // One-leaf trees have nothing to resolve.
    const splitting = trees.filter((t) => t.feature[0]! >= 0).length;
    expect([byRuns.steps, resolved.steps, byRuns.resolvedTrees, resolved.resolvedTrees]).toEqual(["merged", "merged", 0, splitting]);
    expect(byRuns.threadTables.rowsTables.map((table) => table.word.length)).toEqual([slots((t) => t.feature.filter((f) => f < 0).length)]);
    expect(resolved.threadTables.rowsTables.map((table) => table.word.length)).toEqual([slots(reached)]);
    expect(slots(reached)).toBeLessThan(slots((t) => t.feature.filter((f) => f < 0).length));
    const x = Float64Array.from({ length: 203 * 3 }, (_, i) =>
      rand() < 0.15 ? NaN : i % 3 === 1 ? Math.floor(rand() * 8) : ([Infinity, -Infinity, -0][Math.floor(rand() * 40)] ?? Math.round(rand() * 48 - 24) / 8),
    );
    const flat = new FlatPredictor(m);
    for (const chain of [byRuns, resolved]) {
      for (const nRows of [203, 1, 6]) expect(differences(chain.predictRaw(x, nRows), flat.predictRaw(x, nRows))).toEqual([]);
    }
  });

  it("resolves a tree so that a row's path tests each feature once", () => {
    // a <= 1 ? (b in {0} ? (a <= 0 ? L0 : L1) : L2) : L3, missing values left at every node.
    // Along runs, three steps of two exits (a, b, a again). Resolved, one step on a whose exits
    // are what remains for a <= 0 (b ? L0 : L2), for 0 < a <= 1 (b ? L1 : L2) and for a > 1
    // (L3), then the two steps on b: seven slots, and no path longer than two steps.
    const tree: TreeJson = {
      output: 0,
      feature: [0, 1, -1, 0, -1, -1, -1],
      threshold: [1, null, null, 0, null, null, null],
      categoriesLeft: [null, [0], null, null, null, null, null],
      missingLeft: [1, 1, 0, 1, 0, 0, 0],
      left: [1, 3, -1, 5, -1, -1, -1],
      right: [2, 4, -1, 6, -1, -1, -1],
      value: [0, 0, 3 / 8, 0, 1 / 8, 1 / 16, 1 / 32],
      count: [40, 30, 10, 20, 10, 10, 10],
      gain: [1, 1, 0, 1, 0, 0, 0],
    };
    // Node 2 is L3, node 4 L2, nodes 5 and 6 L0 and L1.
    const m: ModelJson = { ...randomModel("regression", 35, { trees: 1 }), features: featuresOf([0, 2]), trees: [tree, tree] };
    const resolved = new ChainPredictor(m, undefined, { ...CHAINS, merge: true });
    const byRuns = new ChainPredictor(m, undefined, { ...CHAINS, merge: true, resolve: false });
    expect([resolved.resolvedTrees, byRuns.resolvedTrees]).toEqual([2, 0]);
    expect(resolved.threadTables.rowsTables[0]!.word.length).toBe(2 + 2 * 7);
    expect(byRuns.threadTables.rowsTables[0]!.word.length).toBe(2 + 2 * 6);
    const x = Float64Array.from([-1, 0, -1, 1, 0.5, 0, 0.5, 1, 2, 0, 2, 1, NaN, 0, NaN, 1, 0.5, NaN, 0, 2]);
    const flat = new FlatPredictor(m);
    for (const chain of [resolved, byRuns]) {
      for (const nRows of [10, 1]) expect(differences(chain.predictRaw(x, nRows), flat.predictRaw(x, nRows))).toEqual([]);
    }
  });

  it("keeps the runs of trees whose diagrams would grow too large, bit for bit", () => {
    // Trees of 63 leaves over two categorical features of 250 codes, half of them going left at
    // each split: resolved, most would take several times their slots along runs (and long to
    // build), so they keep their runs; the predictions do not change.
    const rand = lcg(37);
    const trees = Array.from({ length: 12 }, () =>
      inexact(sharedRandomTree(rand, 63, 0, (r) => ({ feature: Math.floor(r() * 2), categoriesLeft: someCodes(r, 250) }))),
    );
    const m: ModelJson = { ...randomModel("binary", 37, { trees: 1 }), features: featuresOf([250, 250]), trees };
    const chain = new ChainPredictor(m, undefined, { ...CHAINS, merge: true });
    const byRuns = new ChainPredictor(m, undefined, { ...CHAINS, merge: true, resolve: false });
    expect(chain.resolvedTrees).toBeLessThan(trees.length / 2);
    const slots = (p: ChainPredictor): number => p.threadTables.rowsTables.reduce((n, t) => n + t.word.length, 0);
    expect(slots(chain)).toBeLessThanOrEqual(4 * slots(byRuns));
    const x = Float64Array.from({ length: 45 * 2 }, () => (rand() < 0.05 ? NaN : Math.floor(rand() * 260)));
    for (const nRows of [45, 1]) expect(differences(chain.predictRaw(x, nRows), new FlatPredictor(m).predictRaw(x, nRows))).toEqual([]);
  });

  it("keeps the runs of a tree too large to resolve, and resolves the others", () => {
    // Trees of 31 leaves resolve; one of 100 (99 inner nodes, more than 64) is merged along runs.
    const rand = lcg(36);
    const split = (r: () => number): { feature: number; threshold: number } | { feature: number; categoriesLeft: number[] } => {
      const feature = Math.floor(r() * 3);
      return feature === 0 ? { feature, categoriesLeft: someCodes(r, 8) } : { feature, threshold: Math.round(r() * 80 - 40) / 8 };
    };
    const trees = [31, 100, 31, 31].map((leaves) => inexact(sharedRandomTree(rand, leaves, 0, split)));
    const m: ModelJson = { ...randomModel("binary", 36, { trees: 1 }), features: featuresOf([8, 0, 0]), trees };
    const chain = new ChainPredictor(m, undefined, { ...CHAINS, merge: true });
    expect(chain.resolvedTrees).toBe(3);
    const x = Float64Array.from({ length: 77 * 3 }, (_, i) => (rand() < 0.1 ? NaN : i % 3 === 0 ? Math.floor(rand() * 9) : Math.round(rand() * 96 - 48) / 8));
    for (const nRows of [77, 1]) expect(differences(chain.predictRaw(x, nRows), new FlatPredictor(m).predictRaw(x, nRows))).toEqual([]);
  });

  it("walks node by node a model whose merged words would leave too few bits for its largest tree", () => {
    // One tree of 40,000 leaves over three numeric features of 60 thresholds: comparing, a word's
    // rank field takes 6 bits; merged (along runs: too large to resolve), thousands of distinct
    // sets a feature take at least 11, leaving the child field at most 65,536 slots, fewer than
    // the tree's. The model must not fall back to FlatPredictor.
    const rand = lcg(33);
    const tree = sharedRandomTree(rand, 40_000, 0, (r) => ({ feature: Math.floor(r() * 3), threshold: Math.floor(r() * 60) / 2 }));
    const m: ModelJson = { ...randomModel("regression", 33, { trees: 1 }), features: featuresOf([0, 0, 0]), trees: [tree] };
    const flat = new FlatPredictor(m);
    const x = Float64Array.from({ length: 50 * 3 }, () => (rand() < 0.1 ? NaN : Math.floor(rand() * 62) / 2 - 0.25));
    for (const merge of [undefined, true]) {
      const chain = new ChainPredictor(m, undefined, { ...CHAINS, merge });
      expect([chain.fast, chain.steps]).toEqual([true, "compare"]);
      expect(differences(chain.predictRaw(x, 50), flat.predictRaw(x, 50))).toEqual([]);
    }
  });

  /** Random trees of 31 leaves over `nF` features, the first `nCats` categorical (6 categories). */
  function spreadModel(seed: number, nF: number, nCats: number): ModelJson {
    const rand = lcg(seed);
    const nCatsOf = Array.from({ length: nF }, (_, f) => (f < nCats ? 6 : 0));
    const trees = Array.from({ length: 100 }, () =>
      inexact(
        sharedRandomTree(rand, 31, 0, (r) => {
          const feature = Math.floor(r() * nF);
          return feature < nCats ? { feature, categoriesLeft: someCodes(r, 6) } : { feature, threshold: Math.round(r() * 200) / 8 };
        }),
      ),
    );
    return { ...randomModel("binary", seed, { trees: 1 }), features: featuresOf(nCatsOf), trees };
  }

  it.each([
    // Nodes against steps, weighed by depth: ~1.6 for two features, ~1.08 for ten (NUMERIC_MERGE_MIN 1.2, CATEGORICAL_MERGE_MIN 1.12).
    ["numeric, two features", 2, 0, "merged"],
    ["numeric, ten features", 10, 0, "compare"],
    ["categorical and numeric, three features", 3, 1, "merged"],
    ["categorical and numeric, ten features", 10, 2, "bytes"],
  ] as const)("merges the steps of a model whose trees split on one feature in a row often enough: %s", (_, nF, nCats, expected) => {
    const m = spreadModel(31 + nF, nF, nCats);
    const chain = new ChainPredictor(m, undefined, CHAINS);
    expect(chain.steps).toBe(expected);
    const rand = lcg(32);
    const x = Float64Array.from({ length: 99 * nF }, (_x, i) => (rand() < 0.05 ? NaN : i % nF < nCats ? Math.floor(rand() * 7) : rand() * 25));
    expect(differences(chain.predictRaw(x, 99), new FlatPredictor(m).predictRaw(x, 99))).toEqual([]);
  });
});

describe("ChainPredictor's WebAssembly memory", () => {
  beforeAll(() => ensureBuilt(), 120_000);

  it("walks calls of any size in its fixed memory, never detaching a buffer, by leaf masks and by chains", () => {
    // Growing a WebAssembly memory detaches its old buffer, and V8's first detach in a process
    // makes every typed-array access check for one from then on (shared-memory.test.ts). The
    // compiled predictor under V8's protector trace: calls of 16 rows, of 100,000 (the memory's
    // 2,048 rows at a time), and of 2,048 + 3 and 2,048 + 2 (a last turn of a padded block of
    // four, and of two single rows).
    const m = randomModel("binary", 34, { categorical: true });
    const modelFile = writeFile(path.join(tmpDir(), "model.json"), JSON.stringify(m));
    const script = `
      const { ChainPredictor } = require(${distModule("model/chain-predictor.js")});
      const { FlatPredictor } = require(${distModule("model/flat-predictor.js")});
      const m = JSON.parse(require("node:fs").readFileSync(${JSON.stringify(modelFile)}, "utf8"));
      const flat = new FlatPredictor(m);
      const results = [{}, { leafMasks: false }].map((options) => {
        const chain = new ChainPredictor(m, undefined, options);
        const same = (n) => {
          const x = Float64Array.from({ length: n * ${N_FEATURES} }, (_, i) => ((i * 7919) % 13) / 3 - 1);
          const a = chain.predictRaw(x, n);
          const b = flat.predictRaw(x, n);
          return a.length === b.length && a.every((v, i) => Object.is(v, b[i]));
        };
        return [same(16), same(100000), same(2051), same(2050), chain.rowsWalk];
      });
      console.log(JSON.stringify(results));`;
    const run = spawnSync(process.execPath, ["--trace-protector-invalidation", "-e", script], { encoding: "utf8" });
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).not.toContain("ArrayBufferDetaching");
    expect(JSON.parse(run.stdout.trim().split("\n").at(-1)!)).toEqual([
      [true, true, true, true, "leaf masks"],
      [true, true, true, true, "webassembly"],
    ]);
  });

  it("falls back to the chains' JavaScript walk where WebAssembly is missing (node --jitless), with the same results", () => {
    const m = randomModel("multiclass", 35, { categorical: true });
    const modelFile = writeFile(path.join(tmpDir(), "model.json"), JSON.stringify(m));
    const script = `
      const { ChainPredictor } = require(${distModule("model/chain-predictor.js")});
      const { FlatPredictor } = require(${distModule("model/flat-predictor.js")});
      const m = JSON.parse(require("node:fs").readFileSync(${JSON.stringify(modelFile)}, "utf8"));
      const chain = new ChainPredictor(m);
      const flat = new FlatPredictor(m);
      const x = Float64Array.from({ length: 300 * ${N_FEATURES} }, (_, i) => (i % 11 === 0 ? NaN : ((i * 7919) % 13) / 3 - 1));
      const same = (n) => {
        const a = chain.predictRaw(x, n);
        const b = flat.predictRaw(x, n);
        return a.length === b.length && a.every((v, i) => Object.is(v, b[i]));
      };
      console.log(JSON.stringify([typeof WebAssembly, same(300), same(1), same(9), chain.rowsWalk]));`;
    const run = spawnSync(process.execPath, ["--jitless", "-e", script], { encoding: "utf8" });
    expect(run.status, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout.trim().split("\n").at(-1)!)).toEqual(["undefined", true, true, true, "javascript"]);
  });
});

describe("CSV parsing for the shipped predictors", () => {
  it("encodes the numbers it parses itself exactly as the predictor's encode would", () => {
    const m = randomModel("binary", 13);
    const flat = new FlatPredictor(m);
    // The same predictor behind a plain object: the parser must call its encode for every field.
    const wrapped: Predictor = {
      objective: flat.objective,
      features: flat.features,
      classes: flat.classes,
      encode: (f, raw) => flat.encode(f, raw),
      predict: (x, n) => flat.predict(x, n),
    };
    const fields = [
      "-0",
      "-0.000",
      "0",
      "1e5",
      "1E-22",
      "-1.5e+3",
      "123456789012345678",
      "9007199254740993",
      "0.1",
      "-7.25",
      "",
      "NaN",
      " 3",
      "1e400",
      "-1e400",
      "4.9e-324",
    ];
    const rand = lcg(14);
    const body = Buffer.from(
      Array.from({ length: 200 }, () => Array.from({ length: N_FEATURES }, () => fields[Math.floor(rand() * fields.length)]).join(",")).join("\n") + "\n",
    );
    const encoded = (p: Predictor): Float64Array => {
      const schema = new FeatureSchema(p);
      const x = new Float64Array(200 * N_FEATURES);
      expect(new CsvRows(body, 0, body.length, schema).next(x, 200)).toBe(200);
      return x;
    };
    expect(new FeatureSchema(flat).finiteNumbersEncodeAsThemselves).toBe(true);
    expect(new FeatureSchema(new ChainPredictor(m)).finiteNumbersEncodeAsThemselves).toBe(true);
    expect(new FeatureSchema(wrapped).finiteNumbersEncodeAsThemselves).toBe(false);
    const reference = encoded(wrapped);
    expect(differences(encoded(flat), reference)).toEqual([]);
    expect(differences(encoded(new ChainPredictor(m)), reference)).toEqual([]);
  });
});
