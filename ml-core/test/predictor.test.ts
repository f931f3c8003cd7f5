import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { FlatPredictor, loadPredictor, MODEL_FORMAT_VERSION, saveModel, type ModelJson, type TreeJson } from "../src/index";
import { lcg, randomTree as sharedRandomTree, tmpDir } from "./helpers";

/** A random tree over 3 features (feature 2 categorical with 5 categories). */
function randomTree(rand: () => number, leaves: number, output = 0): TreeJson {
  return sharedRandomTree(rand, leaves, output, (r) => {
    const feature = Math.floor(r() * 3);
    return feature === 2 ? { feature, categoriesLeft: [0, 1, 2, 3, 4].filter(() => r() < 0.5) } : { feature, threshold: r() };
  });
}

function model(objective: ModelJson["objective"], trees: TreeJson[], classes: string[] | null, baseline: number[]): ModelJson {
  return {
    format: "ml-core-gbdt",
    formatVersion: MODEL_FORMAT_VERSION,
    objective,
    label: "y",
    classes,
    features: [
      { name: "a", kind: "numeric" },
      { name: "b", kind: "numeric" },
      { name: "c", kind: "categorical", categories: ["v", "w", "x", "y", "z"] },
    ],
    baseline,
    trees,
    hyperparameters: {},
    metrics: {},
    training: { dataHash: "sha256:0", trainRows: 1, validationRows: 0, rounds: 1, roundsRun: 1, stoppedEarly: false, mlCoreVersion: "0" },
  };
}

/** The obvious reference: walk each tree node by node from the JSON. */
function reference(m: ModelJson, x: number[]): number[] {
  const out = m.baseline.slice();
  for (const t of m.trees) {
    let n = 0;
    while (t.feature[n] >= 0) {
      const v = x[t.feature[n]];
      const left = Number.isNaN(v)
        ? t.missingLeft[n] === 1
        : t.categoriesLeft[n]
          ? (t.categoriesLeft[n] as number[]).includes(v)
          : v <= (t.threshold[n] as number);
      n = left ? t.left[n] : t.right[n];
    }
    out[t.output] += t.value[n];
  }
  return out;
}

describe("FlatPredictor", () => {
  const rand = lcg(3);
  const rows = 203; // not a multiple of 4: both the lockstep and the single-row walk run
  const x = Float64Array.from({ length: rows * 3 }, (_, i) => (rand() < 0.1 ? NaN : i % 3 === 2 ? Math.floor(rand() * 5) : rand()));

  it("scores exactly like a node-by-node walk of the JSON trees (numeric, categorical, missing)", () => {
    const m = model(
      "regression",
      Array.from({ length: 30 }, () => randomTree(rand, 2 + Math.floor(rand() * 30))),
      null,
      [0.5],
    );
    const p = new FlatPredictor(m);
    const out = p.predict(x, rows);
    for (let r = 0; r < rows; r++) expect(out[r]).toBe(reference(m, Array.from(x.subarray(r * 3, r * 3 + 3)))[0]);
  });

  it("turns raw scores into probabilities: sigmoid for binary, softmax over per-class trees for multiclass", () => {
    const bin = model("binary", [randomTree(rand, 8)], ["no", "yes"], [0.2]);
    const pb = new FlatPredictor(bin).predict(x, rows);
    const z = reference(bin, Array.from(x.subarray(0, 3)))[0];
    expect(pb[1]).toBeCloseTo(1 / (1 + Math.exp(-z)), 14);
    expect(pb[0] + pb[1]).toBeCloseTo(1, 14);

    const multi = model("multiclass", [randomTree(rand, 5, 0), randomTree(rand, 5, 1), randomTree(rand, 5, 2)], ["a", "b", "c"], [0, 0.1, -0.1]);
    const pm = new FlatPredictor(multi).predict(x, rows);
    const raw = reference(multi, Array.from(x.subarray(3, 6)));
    const e = raw.map(Math.exp);
    const s = e.reduce((a, b) => a + b, 0);
    e.forEach((v, k) => expect(pm[3 + k]).toBeCloseTo(v / s, 14));
  });

  it("encodes raw values: numbers, numeric text, missing tokens, known and unseen categories", () => {
    const p = new FlatPredictor(model("regression", [randomTree(rand, 2)], null, [0]));
    expect(p.encode(0, "2.5")).toBe(2.5);
    expect(p.encode(0, 3)).toBe(3);
    expect(p.encode(0, "")).toBeNaN();
    expect(p.encode(0, null)).toBeNaN();
    expect(p.encode(0, "NA")).toBeNaN();
    expect(p.encode(2, "x")).toBe(2);
    expect(p.encode(2, "never seen")).toBeNaN();
    expect(() => p.encode(0, "abc")).toThrow(RangeError);
    expect(() => p.encode(0, "abc")).toThrow(/feature "a" is numeric but got "abc"/);
  });
});

describe("model files", () => {
  const m = model("binary", [randomTree(lcg(9), 6)], ["0", "1"], [0]);

  it("round-trip through saveModel and loadPredictor", () => {
    const dir = tmpDir();
    saveModel(dir, m, { "validation:auc": 0.9 });
    expect(JSON.parse(fs.readFileSync(path.join(dir, "metrics.json"), "utf8"))).toEqual({ "validation:auc": 0.9 });
    const p = loadPredictor(dir);
    expect(p.objective).toBe("binary");
    expect(p.classes).toEqual(["0", "1"]);
    expect(p.features.map((f) => f.kind)).toEqual(["numeric", "numeric", "categorical"]);
  });

  it.each([
    ["a newer format version", (j: Record<string, unknown>) => ({ ...j, formatVersion: 99 }), /formatVersion 99; this ml-core reads version 1 only/],
    ["another kind of file", () => ({ hello: "world" }), /is not an ml-core model/],
    [
      "a child pointing backwards",
      (j: Record<string, unknown>) => ({ ...j, trees: [{ ...(j.trees as TreeJson[])[0], left: (j.trees as TreeJson[])[0].left.map((l) => (l > 0 ? 0 : l)) }] }),
      /must be a later node/,
    ],
    [
      "a category code out of range",
      (j: Record<string, unknown>) => ({
        ...j,
        trees: [{ ...randomTree(lcg(1), 2), feature: [2, -1, -1], categoriesLeft: [[7], null, null], threshold: [null, null, null] }],
      }),
      /categoriesLeft must list category codes in 0-4/,
    ],
  ])("refuse %s with a clear message", (_, mutate, message) => {
    const dir = tmpDir();
    fs.writeFileSync(path.join(dir, "model.json"), JSON.stringify(mutate(JSON.parse(JSON.stringify(m)))));
    expect(() => loadPredictor(dir)).toThrow(message);
  });

  it("refuse a directory without a model, and a file that is not JSON", () => {
    const dir = tmpDir();
    expect(() => loadPredictor(dir)).toThrow(/cannot read model .*model\.json: no such file/);
    fs.writeFileSync(path.join(dir, "model.json"), "{oops");
    expect(() => loadPredictor(dir)).toThrow(/is not valid JSON/);
  });
});
