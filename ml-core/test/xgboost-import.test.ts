// Parity with XGBoost itself: models saved by XGBoost 1.7.4 (fixtures/xgboost/make-fixtures.py,
// committed with XGBoost's own predictions), loaded and scored by ml-core.
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { decodeUbjson, UbjsonError } from "../src/import/ubjson";
import { leftBound } from "../src/import/xgboost";
import { checkedXgboostModel, loadModel, loadPredictor, loadServedModel } from "../src/model/load";
import { FlatPredictor } from "../src/model/flat-predictor";
import { ChainPredictor } from "../src/model/chain-predictor";
import { modelIdentity } from "../src/model/identity";
import { XGBOOST_MODEL_FILE } from "../src/model/xgboost";
import { importXgboost } from "../src/runtime/import";
import { tmpDir } from "./helpers";

const FIXTURES = path.join(__dirname, "fixtures/xgboost");
const rows = JSON.parse(fs.readFileSync(path.join(FIXTURES, "rows.json"), "utf8")) as (number | null)[][];
const expected = JSON.parse(fs.readFileSync(path.join(FIXTURES, "expected.json"), "utf8")) as Record<
  string,
  { xgboost: (number | number[])[]; float64: (number | number[])[] }
>;
const OBJECTIVES = ["binary", "multiclass", "regression"] as const;
const FORMATS = ["json", "ubj"] as const;

function matrix(): Float64Array {
  const x = new Float64Array(rows.length * rows[0]!.length);
  rows.forEach((r, i) => r.forEach((v, j) => (x[i * r.length + j] = v === null ? NaN : v)));
  return x;
}
/** Per row, what ml-core gives: P(class 1) for binary (XGBoost's output), every class for multiclass, the value for regression. */
function scores(predict: (x: Float64Array, n: number) => Float64Array, objective: string): number[][] {
  const out = predict(matrix(), rows.length);
  const width = out.length / rows.length;
  return rows.map((_, i) => (objective === "binary" ? [out[i * 2 + 1]!] : Array.from(out.subarray(i * width, (i + 1) * width))));
}
const flat = (v: (number | number[])[]): number[][] => v.map((r) => (Array.isArray(r) ? r : [r]));
const read = (name: string): Buffer => fs.readFileSync(path.join(FIXTURES, name));

describe("an XGBoost model, loaded into ml-core's predictor", () => {
  it.each(OBJECTIVES.flatMap((o) => FORMATS.map((f) => [o, f] as const)))(
    "%s (%s) takes XGBoost's path for every row, missing values included",
    (objective, format) => {
      const model = checkedXgboostModel(read(`${objective}.${format}`), `${objective}.${format}`);
      const exact = flat(expected[objective]!.float64);
      // The leaves XGBoost chose, summed in float64: equal up to the last bits of exp/log.
      for (const p of [new ChainPredictor(model), new FlatPredictor(model)]) {
        scores((x, n) => p.predict(x, n), objective).forEach((r, i) => r.forEach((v, k) => expect(Math.abs(v - exact[i]![k]!)).toBeLessThan(1e-12)));
      }
    },
  );

  it.each(OBJECTIVES)("%s matches XGBoost's own predict within 1e-6 (XGBoost sums and answers in float32)", (objective) => {
    const p = new ChainPredictor(checkedXgboostModel(read(`${objective}.ubj`), "m"));
    const theirs = flat(expected[objective]!.xgboost);
    scores((x, n) => p.predict(x, n), objective).forEach((r, i) =>
      // Probabilities in [0, 1]: absolute; regression values: relative (a float32 ulp at 4 is 4.8e-7).
      r.forEach((v, k) => expect(Math.abs(v - theirs[i]![k]!) / Math.max(1, Math.abs(theirs[i]![k]!))).toBeLessThan(1e-6)),
    );
  });

  it.each(OBJECTIVES)("%s reads the same from JSON and UBJSON", (objective) => {
    const { hyperparameters: a, ...fromJson } = checkedXgboostModel(read(`${objective}.json`), "a");
    const { hyperparameters: b, ...fromUbjson } = checkedXgboostModel(read(`${objective}.ubj`), "a");
    expect(fromJson).toEqual(fromUbjson);
    expect([a.xgboost_format, b.xgboost_format]).toEqual(["json", "ubjson"]);
  });

  it("records the objective, classes, intercept and source", () => {
    const reg = checkedXgboostModel(read("regression.json"), "m");
    expect(reg).toMatchObject({
      objective: "regression",
      classes: null,
      baseline: [2.5],
      features: [{ name: "f0", kind: "numeric" }, ...Array(5).fill(expect.anything())],
    });
    expect(reg.hyperparameters).toMatchObject({ imported_from: "xgboost", xgboost_version: "1.7.4", xgboost_objective: "reg:squarederror" });
    const bin = checkedXgboostModel(read("binary.json"), "m");
    expect(bin.classes).toEqual(["0", "1"]);
    expect(bin.baseline).toEqual([0]); // logit(0.5)
    expect(checkedXgboostModel(read("multiclass.json"), "m").classes).toEqual(["0", "1", "2"]);
    expect(bin.trees).toHaveLength(20);
  });
});

describe("a model directory holding SageMaker XGBoost's artifact (xgboost-model)", () => {
  it("is served as it is, its identity taken from the file's bytes", () => {
    const dir = tmpDir();
    fs.copyFileSync(path.join(FIXTURES, "binary.ubj"), path.join(dir, XGBOOST_MODEL_FILE));
    const { predictor, identity } = loadServedModel(dir);
    expect(identity).toBe(modelIdentity(read("binary.ubj")));
    const exact = flat(expected.binary!.float64);
    scores((x, n) => predictor.predict(x, n), "binary").forEach((r, i) => expect(r[0]).toBeCloseTo(exact[i]![0]!, 12));
  });

  it("prefers model.json when both are there", () => {
    const dir = tmpDir();
    importXgboost(path.join(FIXTURES, "regression.json"), dir);
    fs.copyFileSync(path.join(FIXTURES, "binary.ubj"), path.join(dir, XGBOOST_MODEL_FILE));
    expect(loadModel(dir).objective).toBe("regression");
  });

  it("names both files when neither is there", () => {
    expect(() => loadModel(tmpDir())).toThrow(/model\.json: no such file \(nor an XGBoost model xgboost-model beside it\)/);
  });
});

describe("models ml-core refuses, with the reason", () => {
  const doc = (): Record<string, any> => JSON.parse(read("binary.json").toString("utf8"));
  const refuse =
    (d: unknown): (() => unknown) =>
    () =>
      checkedXgboostModel(Buffer.from(JSON.stringify(d)), "xgboost-model");

  it("the legacy binary format XGBoost before 2.1 writes to a name without .json", () => {
    expect(() => checkedXgboostModel(Buffer.from("binf\0\0\0?"), "xgboost-model")).toThrow(
      /xgboost-model is not an XGBoost model in JSON or UBJSON: .*legacy binary/,
    );
  });
  it.each(["reg:logistic", "multi:softmax", "rank:pairwise", "count:poisson"])("objective %s", (name) => {
    const d = doc();
    d.learner.objective.name = name;
    expect(refuse(d)).toThrow(`xgboost-model: objective "${name}" is not supported; ml-core serves binary:logistic, multi:softprob, reg:squarederror`);
  });
  it("dart boosters", () => {
    const d = doc();
    d.learner.gradient_booster.name = "dart";
    expect(refuse(d)).toThrow(/gradient_booster.name "dart" is not supported/);
  });
  it("categorical splits", () => {
    const d = doc();
    d.learner.gradient_booster.model.trees[3].split_type[0] = 1;
    expect(refuse(d)).toThrow("xgboost-model: trees[3] has categorical splits; ml-core imports numeric splits only");
  });
  it("a vector intercept", () => {
    const d = doc();
    d.learner.learner_model_param.base_score = "[5E-1,2E-1]";
    expect(refuse(d)).toThrow(/base_score has 2 values/);
  });
  it("a node pointing outside its tree", () => {
    const d = doc();
    d.learner.gradient_booster.model.trees[0].left_children[0] = 9999;
    expect(refuse(d)).toThrow(/trees\[0\] node reference 9999 is out of range/);
  });
  it("a truncated UBJSON file", () => {
    const bytes = read("binary.ubj");
    expect(() => checkedXgboostModel(bytes.subarray(0, 1000), "xgboost-model")).toThrow(
      /xgboost-model is not valid UBJSON: UBJSON at byte \d+: unexpected end of data/,
    );
  });
});

describe("thresholds: XGBoost's float32 `x < t` as ml-core's float64 `x <= b`", () => {
  const below32 = (t: number): number => {
    const f = new Float32Array([t]);
    const u = new Uint32Array(f.buffer);
    u[0] = t > 0 ? u[0]! - 1 : u[0]! + 1;
    return f[0]!;
  };
  it.each([0.51388097, -0.52000004, 1, -1, 1e-30, -3.4e38, 123456.78, Math.fround(0.1)].map(Math.fround))("agrees around %f, float64 inputs included", (t) => {
    const b = leftBound(t);
    const p = below32(t);
    const probes = [t, p, b, (p + t) / 2, b + Math.abs(b) * 1e-16, b - Math.abs(b) * 1e-16, t - Math.abs(t) * 1e-9, p - Math.abs(p) * 1e-9];
    for (let i = 0; i < 100; i++) probes.push(p + (t - p) * (i / 99));
    for (const x of probes) expect([x, x <= b]).toEqual([x, Math.fround(x) < t]);
  });
  it("sends zero's neighbours as XGBoost does", () => {
    expect(0 <= leftBound(0)).toBe(false);
    expect(-1e-46 <= leftBound(0)).toBe(Math.fround(-1e-46) < 0);
    expect(-1e-45 <= leftBound(0)).toBe(true);
  });
});

describe("the UBJSON decoder", () => {
  it("reads typed arrays, keys without markers and nested containers", () => {
    // {"a": [$d#i2 1.5 -2], "b": "x", "c": [i 1, T, Z]}
    const bytes = Buffer.concat([
      Buffer.from("{i\x01a[$d#i\x02", "latin1"),
      Buffer.from([0x3f, 0xc0, 0, 0, 0xc0, 0, 0, 0]),
      Buffer.from("i\x01bSi\x01xi\x01c[i\x01TZ]}", "latin1"),
    ]);
    expect(decodeUbjson(bytes)).toEqual({ a: [1.5, -2], b: "x", c: [1, true, null] });
  });
  it("refuses a count larger than the data", () => {
    expect(() => decodeUbjson(Buffer.from("[$d#l\x7f\x00\x00\x00", "latin1"))).toThrow(UbjsonError);
  });
});

describe("ml-core import --from xgboost", () => {
  it("writes a model.json that scores as the XGBoost file does", () => {
    const dir = tmpDir();
    const summary = importXgboost(path.join(FIXTURES, "multiclass.ubj"), dir);
    expect(summary).toMatchObject({ from: "xgboost", objective: "multiclass", features: 6, trees: 60, xgboostVersion: "1.7.4" });
    const a = loadPredictor(dir).predict(matrix(), rows.length);
    const b = new ChainPredictor(checkedXgboostModel(read("multiclass.ubj"), "m")).predict(matrix(), rows.length);
    expect(Array.from(a)).toEqual(Array.from(b));
  });

  it("runs from the command line and names a bad file", () => {
    const bin = path.join(__dirname, "../bin/ml-core.js");
    const dir = tmpDir();
    const out = execFileSync(
      process.execPath,
      [bin, "import", "--from", "xgboost", "--model", path.join(FIXTURES, "binary.json"), "--model-dir", dir, "--json"],
      { encoding: "utf8" },
    );
    expect(JSON.parse(out)).toMatchObject({ objective: "binary", trees: 20 });
    expect(fs.existsSync(path.join(dir, "model.json"))).toBe(true);
    let stderr = "";
    try {
      execFileSync(process.execPath, [bin, "import", "--from", "xgboost", "--model", path.join(dir, "nope.json"), "--model-dir", dir], {
        encoding: "utf8",
        stdio: "pipe",
      });
    } catch (e) {
      stderr = String((e as { stderr: string }).stderr);
    }
    expect(stderr).toMatch(/ml-core: error: cannot read --model .*nope\.json: no such file/);
  });
});
