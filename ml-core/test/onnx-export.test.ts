/**
 * `ml-core export --format onnx`: the exported file, scored by onnxruntime-node, gives ml-core's
 * predictions on the validation data of a binary, a multiclass, a regression and a categorical
 * model; its interface (names, shapes, metadata) is the documented one; bad input is named.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import * as ort from "onnxruntime-node";
import { beforeAll, describe, expect, it } from "vitest";
import { METADATA, modelToOnnx, onnxModelProto } from "../src/export/onnx";
import { decodeModel, encodeModel } from "../src/export/onnx-proto";
import { float32AtMost } from "../src/export/tree-ensemble";
import { FlatPredictor } from "../src/model/flat-predictor";
import type { ModelJson, TreeJson } from "../src/model/format";
import { saveModel } from "../src/model/save";
import { BIN, lcg, tmpDir, toCsv, writeFile } from "./helpers";
import { ensureBuilt } from "./server-helpers";
import { featureMatrix, trainFiles, type Trained } from "./train-helpers";

beforeAll(() => ensureBuilt(), 120_000);

async function runOnnx(bytes: Uint8Array, x: Float32Array, nRows: number, nFeatures: number): Promise<Record<string, Float32Array>> {
  const session = await ort.InferenceSession.create(bytes);
  const result = await session.run({ X: new ort.Tensor("float32", x, [nRows, nFeatures]) });
  return Object.fromEntries(Object.entries(result).map(([k, t]) => [k, t.data as Float32Array]));
}

interface Case {
  trained: Trained;
  /** Validation features as float32 (what an ONNX caller sends) and the same values as float64 for ml-core. */
  x32: Float32Array;
  x64: Float64Array;
  nRows: number;
}

/** Trains on `train` rows and encodes `validation` rows with the model's schema, rounded to float32. */
function trainCase(train: Record<string, unknown>[], validation: Record<string, unknown>[], hp: Record<string, string>): Case {
  const dir = tmpDir();
  const trainFile = writeFile(path.join(dir, "train.csv"), toCsv(train));
  const validationFile = writeFile(path.join(dir, "validation.csv"), toCsv(validation));
  const trained = trainFiles([trainFile], hp, [validationFile]);
  const { x, table } = featureMatrix([validationFile], trained.schema);
  const x32 = Float32Array.from(x);
  return { trained, x32, x64: Float64Array.from(x32), nRows: table.nRows };
}

function rows(n: number, seed: number, make: (r: () => number) => Record<string, unknown>): Record<string, unknown>[] {
  const r = lcg(seed);
  return Array.from({ length: n }, () => make(r));
}
/** A numeric value, missing one time in ten. */
const maybe = (r: () => number, v: number): number | null => (r() < 0.1 ? null : v);

const binaryRow = (r: () => number): Record<string, unknown> => {
  const a = r() * 4 - 2;
  const b = r() * 10;
  const c = r();
  return { y: a + 0.3 * b + (r() - 0.5) > 1.5 ? "yes" : "no", a: maybe(r, a), b: maybe(r, b), c };
};
const multiclassRow = (r: () => number): Record<string, unknown> => {
  const a = r();
  const b = r();
  return { y: a + b < 0.7 ? "low" : a > b ? "high-a" : "high-b", a: maybe(r, a), b, noise: r() };
};
const regressionRow = (r: () => number): Record<string, unknown> => {
  const a = r() * 100;
  const b = r();
  return { y: 3 * Math.sin(a / 15) + 10 * b * b + r(), a: maybe(r, a), b };
};
const COLORS = ["red", "green", "blue", "amber", "violet", "teal"];
const categoricalRow =
  (colors: string[]) =>
  (r: () => number): Record<string, unknown> => {
    const color = colors[Math.floor(r() * colors.length)]!;
    const size = r() * 10;
    const score = (["green", "teal"].includes(color) ? 2 : color === "red" ? -1 : 0) + size / 5 + r();
    return { y: score > 1.5 ? 1 : 0, color: r() < 0.08 ? null : color, size: maybe(r, size), shape: r() < 0.5 ? "round" : "square" };
  };

// Training in the test and child processes: generous timeouts for a busy 2-core machine.
describe("ONNX export scored by onnxruntime", { timeout: 60_000 }, () => {
  const hp = { label: "y", num_round: "40", max_leaf_nodes: "15" };
  // Each case is trained once, on first use, for both tests.
  const once = (make: () => Case): (() => Case) => {
    let c: Case | undefined;
    return () => (c ??= make());
  };
  const cases: [string, () => Case][] = [
    ["binary", once(() => trainCase(rows(1500, 1, binaryRow), rows(500, 2, binaryRow), hp))],
    ["multiclass", once(() => trainCase(rows(1500, 3, multiclassRow), rows(500, 4, multiclassRow), hp))],
    ["regression", once(() => trainCase(rows(1500, 5, regressionRow), rows(500, 6, regressionRow), hp))],
    // Validation holds a category never seen in training ("magenta"): it encodes as NaN in both.
    ["categorical", once(() => trainCase(rows(1500, 7, categoricalRow(COLORS)), rows(500, 8, categoricalRow([...COLORS, "magenta"])), hp))],
  ];

  it.each(cases)("%s: every validation row reaches the same leaf of every tree as in ml-core", async (_name, make) => {
    const c = make();
    const model = c.trained.model;
    if (_name === "categorical") {
      const kinds = model.features.map((f) => f.kind);
      expect(kinds).toEqual(["categorical", "numeric", "categorical"]);
      expect(model.trees.some((t) => t.categoriesLeft.some((s) => s !== null && s.length > 0))).toBe(true);
      expect(Array.from(c.x64).some(Number.isNaN)).toBe(true);
    }
    // One output per tree whose leaves hold their own node id: the raw scores then say which leaf
    // each row reached, and both sides compute them exactly (small integers, no sums).
    const probe: ModelJson = {
      ...model,
      objective: "multiclass",
      classes: model.trees.map((_, i) => `tree${i}`),
      baseline: model.trees.map(() => 0),
      trees: model.trees.map((t, i): TreeJson => ({ ...t, output: i, value: t.value.map((_v, n) => n) })),
    };
    const nF = model.features.length;
    const expected = new FlatPredictor(probe).predictRaw(c.x64, c.nRows);
    const got = await runOnnx(modelToOnnx(probe), c.x32, c.nRows, nF);
    expect(Array.from(got.raw_score!)).toEqual(Array.from(expected));
  });

  it.each(cases)("%s: outputs match ml-core's predictions within float32 rounding", async (name, make) => {
    const c = make();
    const model = c.trained.model;
    const nF = model.features.length;
    const expected = c.trained.predictor.predict(c.x64, c.nRows);
    const expectedRaw = c.trained.predictor.predictRaw(c.x64, c.nRows);
    const got = await runOnnx(modelToOnnx(model), c.x32, c.nRows, nF);
    // Routing is exact (test above); what differs is arithmetic: onnxruntime adds float32 leaf
    // values in float32, ml-core float64 values in float64. Each of the ≤ 41 terms (40 trees and
    // the baseline) carries a relative rounding error of 2^-24 ≈ 6e-8, and so does each partial
    // sum: ≤ ~82 × 6e-8 × the sum of |terms| in the worst case. 1e-5 relative to max(1, |raw|)
    // leaves room above that; a probability moves at most as much as its raw score (slopes ≤ 1).
    const rawTol = (v: number): number => 1e-5 * Math.max(1, Math.abs(v));
    const raw = name === "regression" ? got.prediction! : got.raw_score!;
    expect(raw.length).toBe(expectedRaw.length);
    let worst = 0;
    expectedRaw.forEach((v, i) => (worst = Math.max(worst, Math.abs(raw[i]! - v) / rawTol(v))));
    expect(worst).toBeLessThanOrEqual(1);
    if (name === "regression") {
      expect(got.probabilities).toBeUndefined();
      return;
    }
    const p = got.probabilities!;
    const nClasses = model.classes!.length;
    expect(p.length).toBe(c.nRows * nClasses);
    let worstP = 0;
    expected.forEach((v, i) => (worstP = Math.max(worstP, Math.abs(p[i]! - v))));
    expect(worstP).toBeLessThanOrEqual(1e-5);
  });
});

/** A one-split model on feature `x` (numeric); left leaf -1, right leaf +1. */
function oneSplit(threshold: number, missingLeft: 0 | 1): ModelJson {
  const tree: TreeJson = {
    output: 0,
    feature: [0, -1, -1],
    threshold: [threshold, null, null],
    categoriesLeft: [null, null, null],
    missingLeft: [missingLeft, 0, 0],
    left: [1, -1, -1],
    right: [2, -1, -1],
    value: [0, -1, 1],
    count: [2, 1, 1],
    gain: [1, 0, 0],
  };
  return {
    format: "ml-core-gbdt",
    formatVersion: 1,
    objective: "regression",
    label: "y",
    classes: null,
    features: [{ name: "x", kind: "numeric" }],
    baseline: [0],
    trees: [tree],
    hyperparameters: {},
    training: { dataHash: "sha256:0", trainRows: 2, validationRows: 0, rounds: 1, roundsRun: 1, stoppedEarly: false, mlCoreVersion: "test" },
    metrics: {},
  };
}

describe("thresholds and missing values", () => {
  it.each([
    // 0.1 as float32 is 0.10000000149…, above the float64 0.1: ml-core sends it right. A threshold
    // rounded to nearest (to that same float32) would send it left.
    [0.1, Math.fround(0.1), 1],
    [0.1, 0.09999999403953552, -1],
    [-0.1, Math.fround(-0.1), -1],
    [1e-50, 0, -1],
    [-1e-50, 0, 1],
    [-1e-50, -1.401298464324817e-45, -1],
    [Number.MAX_VALUE, 3.4028234663852886e38, -1],
  ])("threshold %s: float32 input %s goes where ml-core sends it (%s)", async (threshold, x, leaf) => {
    expect(Math.fround(x)).toBe(x);
    const model = oneSplit(threshold, 0);
    expect(new FlatPredictor(model).predict(Float64Array.of(x), 1)[0]).toBe(leaf);
    const got = await runOnnx(modelToOnnx(model), Float32Array.of(x), 1, 1);
    expect(got.prediction![0]).toBe(leaf);
  });

  it("rounds each threshold down to the largest float32 not above it", () => {
    for (const t of [0.1, -0.1, 1 / 3, -1 / 3, 2.5, 1e-50, -1e-50, 1e300, -1e300, 0]) {
      const r = float32AtMost(t);
      expect(Math.fround(r)).toBe(r);
      expect(r).toBeLessThanOrEqual(t);
      // The next float32 up is above t.
      const next = new Float32Array([r]);
      const bits = new Int32Array(next.buffer);
      if (r === 0) next[0] = 1.401298464324817e-45;
      else bits[0] = r > 0 ? bits[0]! + 1 : bits[0]! - 1;
      expect(next[0]!).toBeGreaterThan(t);
    }
  });

  it.each([
    [0, 1],
    [1, -1],
  ] as const)("a missing value (NaN) follows the split's missing direction (missingLeft %s: leaf %s)", async (missingLeft, expected) => {
    const model = oneSplit(0.5, missingLeft);
    expect(new FlatPredictor(model).predict(Float64Array.of(NaN), 1)[0]).toBe(expected);
    expect((await runOnnx(modelToOnnx(model), Float32Array.of(NaN), 1, 1)).prediction![0]).toBe(expected);
  });

  it("exports a tree that is a single leaf", async () => {
    const model = oneSplit(0.5, 0);
    const leafOnly: TreeJson = {
      ...model.trees[0]!,
      feature: [-1],
      threshold: [null],
      categoriesLeft: [null],
      missingLeft: [0],
      left: [-1],
      right: [-1],
      value: [0.25],
      count: [2],
      gain: [0],
    };
    const m = { ...model, baseline: [1], trees: [leafOnly, ...model.trees] };
    const got = await runOnnx(modelToOnnx(m), Float32Array.of(0, 1, NaN), 3, 1);
    expect(Array.from(got.prediction!)).toEqual(Array.from(new FlatPredictor(m).predict(Float64Array.of(0, 1, NaN), 3)));
  });
});

describe("the exported file's interface", { timeout: 60_000 }, () => {
  const categorical = (): ModelJson => {
    const data = rows(600, 12, categoricalRow(COLORS));
    const file = writeFile(path.join(tmpDir(), "train.csv"), toCsv(data));
    return trainFiles([file], { label: "y", num_round: "5" }).model;
  };

  it("documents input, outputs, classes and category codes in the model", () => {
    const model = categorical();
    const proto = decodeModel(encodeModel(onnxModelProto(model, { sourceModel: "model-sha256=abc" })));
    expect(proto.graph.input.map((i) => [i.name, i.type.tensorType.shape.dim])).toEqual([["X", [{ dimParam: "N" }, { dimValue: 3 }]]]);
    expect(proto.graph.output.map((o) => o.name)).toEqual(["probabilities", "raw_score"]);
    expect(proto.graph.input[0]!.docString).toContain("color (categorical)");
    expect(proto.opsetImport).toEqual([
      { domain: "", version: 21 },
      { domain: "ai.onnx.ml", version: 5 },
    ]);
    expect(proto.graph.node.filter((n) => n.domain === "ai.onnx.ml").map((n) => n.opType)).toEqual(["TreeEnsemble"]);
    const meta = Object.fromEntries((proto.metadataProps ?? []).map((p) => [p.key, p.value]));
    expect(meta[METADATA.objective]).toBe("binary");
    expect(JSON.parse(meta[METADATA.classes]!)).toEqual(model.classes);
    expect(JSON.parse(meta[METADATA.features]!)).toEqual(model.features);
    expect(meta[METADATA.categoricalInput]).toMatch(/^code:/);
    expect(meta[METADATA.missingValues]).toMatch(/^NaN/);
    expect(meta[METADATA.sourceModel]).toBe("model-sha256=abc");
  });

  it("a caller that maps categories through the metadata's code table gets ml-core's prediction", async () => {
    const model = categorical();
    const proto = decodeModel(modelToOnnx(model));
    const features = JSON.parse(proto.metadataProps!.find((p) => p.key === METADATA.features)!.value) as ModelJson["features"];
    const raw = { color: "teal", size: "7.25", shape: "square" } as Record<string, string>;
    const x = Float32Array.from(features.map((f) => (f.kind === "categorical" ? f.categories.indexOf(raw[f.name]!) : Number(raw[f.name]))));
    const predictor = new FlatPredictor(model);
    const expected = predictor.predict(Float64Array.from(features.map((f, i) => predictor.encode(i, raw[f.name]))), 1);
    const got = await runOnnx(modelToOnnx(model), x, 1, features.length);
    expect(Math.abs(got.probabilities![1]! - expected[1]!)).toBeLessThan(1e-5);
  });
});

describe("ml-core export (command line)", { timeout: 60_000 }, () => {
  const run = (...args: string[]) => spawnSync(process.execPath, [BIN, "export", ...args], { encoding: "utf8" });

  it("writes the ONNX file of a model directory, which onnxruntime loads", async () => {
    const dir = tmpDir();
    const file = writeFile(path.join(dir, "train.csv"), toCsv(rows(400, 21, regressionRow)));
    const model = trainFiles([file], { label: "y", num_round: "5" }).model;
    saveModel(path.join(dir, "model"), model);
    const out = path.join(dir, "out", "model.onnx");
    const r = run("--format", "onnx", "--model-dir", path.join(dir, "model"), "--output", out, "--json");
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    const summary = JSON.parse(r.stdout);
    expect(summary).toMatchObject({ format: "onnx", output: out, trees: 5, input: { name: "X", features: 2 }, outputs: ["prediction"] });
    expect(summary.sourceModel).toMatch(/^model-sha256=[0-9a-f]{64}$/);
    const bytes = fs.readFileSync(out);
    expect(summary.bytes).toBe(bytes.length);
    const session = await ort.InferenceSession.create(bytes);
    expect(session.inputNames).toEqual(["X"]);
    expect(session.outputNames).toEqual(["prediction"]);
  });

  it.each([
    [["--format", "pmml", "--model-dir", "m", "--output", "o"], /argument 'pmml' is invalid\. Allowed choices are onnx/],
    [["--model-dir", "m", "--output", "o"], /required option '--format <format>' not specified/],
    [["--format", "onnx", "--model-dir", "/no/such/dir", "--output", "o"], /--model-dir \/no\/such\/dir: no such directory/],
  ])("refuses %j with a clear error", (args, message) => {
    const r = run(...args);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(message);
  });

  it("names a model directory without model.json, and a model.json that is not a model", () => {
    const dir = tmpDir();
    const r = run("--format", "onnx", "--model-dir", dir, "--output", path.join(dir, "m.onnx"));
    expect(r.status).toBe(1);
    expect(r.stderr).toBe(`ml-core: error: --model-dir ${dir}: no model.json in it (is this a model directory?)\n`);
    fs.writeFileSync(path.join(dir, "model.json"), "{}");
    const bad = run("--format", "onnx", "--model-dir", dir, "--output", path.join(dir, "m.onnx"));
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain(`${path.join(dir, "model.json")} is not an ml-core model`);
    expect(fs.existsSync(path.join(dir, "m.onnx"))).toBe(false);
  });
});
