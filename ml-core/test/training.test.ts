import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { accuracy, auc, logloss, r2, rmse } from "../src/eval/metrics";
import { FlatPredictor } from "../src/model/flat-predictor";
import { lcg, tmpDir, toCsv, writeFile } from "./helpers";
import { featureMatrix, trainFiles } from "./train-helpers";

/**
 * Synthetic data with a known structure: y depends on a numeric feature (non-linearly), a
 * categorical one, and on whether a third is missing; plus a pure-noise feature.
 */
function synthetic(n: number, seed: number, task: "binary" | "regression" | "multiclass"): Record<string, unknown>[] {
  const r = lcg(seed);
  const colors = ["red", "green", "blue", "black"];
  return Array.from({ length: n }, () => {
    const a = r() * 4 - 2;
    const color = colors[Math.floor(r() * 4)];
    const m = r() < 0.3 ? null : r();
    const noise = r();
    const score = Math.sin(a * 2) + (color === "red" || color === "blue" ? 1 : -1) + (m === null ? 1.5 : m) + (r() - 0.5) * 0.5;
    const y = task === "regression" ? score : task === "binary" ? (score > 0.5 ? "yes" : "no") : score < 0 ? "low" : score < 1.2 ? "mid" : "high";
    return { a, color, m, noise, y };
  });
}

function files(rows: Record<string, unknown>[], name: string): string[] {
  return [writeFile(path.join(tmpDir(), name), toCsv(rows))];
}

describe("training", () => {
  const trainRows = synthetic(3000, 1, "binary");
  const testRows = synthetic(1000, 2, "binary");
  const train = files(trainRows, "train.csv");
  const test = files(testRows, "test.csv");
  const base = { label: "y", num_round: "60" };

  it("learns numeric, categorical and missing-value structure (binary)", () => {
    const t = trainFiles(train, base);
    expect(t.model.classes).toEqual(["no", "yes"]);
    const { x, table } = featureMatrix(test, t.schema);
    const p = t.predictor.predict(x, table.nRows);
    const y = Float64Array.from(testRows, (r) => (r.y === "yes" ? 1 : 0));
    expect(auc(y, p, 2)).toBeGreaterThan(0.95);
  });

  it("is deterministic for a seed, with row and column subsampling, and changes with the seed", () => {
    const hp = { ...base, subsample: "0.7", colsample_bytree: "0.75", colsample_bynode: "0.7", num_round: "15" };
    const a = trainFiles(train, { ...hp, seed: "3" });
    const b = trainFiles(train, { ...hp, seed: "3" });
    const c = trainFiles(train, { ...hp, seed: "4" });
    expect(JSON.stringify(a.model)).toBe(JSON.stringify(b.model));
    expect(JSON.stringify(a.model.trees)).not.toBe(JSON.stringify(c.model.trees));
  });

  it("the shipped predictor reproduces the training-time predictions exactly", () => {
    const t = trainFiles(train, { ...base, num_round: "20", subsample: "0.8" });
    const { x, table } = featureMatrix(train, t.schema);
    const p = t.predictor.predict(x, table.nRows);
    // train:logloss as computed during training (from bin-space predictions) equals the predictor's.
    let ll = 0;
    for (let i = 0; i < table.nRows; i++) ll -= Math.log(Math.max(p[2 * i + (trainRows[i].y === "yes" ? 1 : 0)], 1e-15));
    expect(ll / table.nRows).toBeCloseTo(t.metrics["train:logloss"], 12);
  });

  it("stops early on the validation channel and keeps the best round's trees", () => {
    const valid = files(synthetic(500, 3, "binary"), "valid.csv");
    const t = trainFiles(train, { ...base, num_round: "500", learning_rate: "0.3", early_stopping_rounds: "5" }, valid);
    const info = t.model.training;
    expect(info.stoppedEarly).toBe(true);
    expect(info.roundsRun).toBe(info.rounds + 5);
    expect(t.model.trees.length).toBe(info.rounds);
    const best = Math.min(...t.lossHistory.validation);
    expect(t.lossHistory.validation[info.rounds - 1]).toBe(best);
    expect(t.metrics["validation:logloss"]).toBeCloseTo(best, 12);
  });

  it.each([
    ["auc", "binary", true],
    ["accuracy", "binary", true],
    ["logloss", "multiclass", false],
    ["rmse", "regression", false],
    ["r2", "regression", true],
  ] as const)("stops early on early_stopping_metric=%s (%s) and keeps the round where it was best", (metric, task, higherIsBetter) => {
    const trainSet = files(synthetic(1500, 7, task), "t.csv");
    const validRows = synthetic(400, 8, task);
    const valid = files(validRows, "v.csv");
    const t = trainFiles(
      trainSet,
      { label: "y", objective: task, num_round: "300", learning_rate: "0.5", early_stopping_rounds: "4", early_stopping_metric: metric },
      valid,
    );
    const info = t.model.training;
    expect(info.stoppedEarly).toBe(true);
    expect(info.roundsRun).toBe(info.rounds + 4);
    // The metric of every truncated model, computed here from the shipped predictor on the validation file.
    const { x, table } = featureMatrix(valid, t.schema);
    const classes = t.model.classes;
    const y = Float64Array.from(validRows, (r) => (classes ? classes.indexOf(String(r.y)) : Number(r.y)));
    const k = classes?.length ?? 1;
    const full = trainFiles(trainSet, { label: "y", objective: task, num_round: String(info.roundsRun), learning_rate: "0.5", early_stopping_rounds: "0" })
      .model.trees;
    const perRound = Array.from({ length: info.roundsRun }, (_, r) => {
      const truncated = new FlatPredictor({ ...t.model, trees: full.slice(0, (r + 1) * (task === "multiclass" ? k : 1)) });
      const p = truncated.predict(x, table.nRows);
      return metric === "auc"
        ? auc(y, p, 2)
        : metric === "accuracy"
          ? accuracy(y, p, 2)
          : metric === "logloss"
            ? logloss(y, p, k)
            : metric === "rmse"
              ? rmse(y, p)
              : r2(y, p);
    });
    const sign = higherIsBetter ? -1 : 1;
    let best = 0;
    for (let r = 1; r < perRound.length; r++) if (sign * perRound[r]! < sign * perRound[best]! - 1e-7) best = r;
    expect(info.rounds).toBe(best + 1);
    expect(t.model.trees).toEqual(full.slice(0, t.model.trees.length));
  });

  it("refuses a metric that does not fit the objective, naming the ones that do", () => {
    expect(() => trainFiles(train, { ...base, objective: "binary", early_stopping_metric: "rmse" })).toThrow(
      "early_stopping_metric: rmse does not apply to classification; use loss or one of accuracy, auc, logloss, f1",
    );
    // objective auto: known once the label is read.
    expect(() => trainFiles(train, { ...base, early_stopping_metric: "r2" }, train)).toThrow("early_stopping_metric: r2 does not apply to classification");
  });

  it("regression: fits a non-linear target (R² on held-out data)", () => {
    const rows = synthetic(3000, 5, "regression");
    const t = trainFiles(files(rows, "r.csv"), { label: "y", objective: "regression", num_round: "80" });
    const testR = synthetic(800, 6, "regression");
    const { x, table } = featureMatrix(files(testR, "rt.csv"), t.schema);
    expect(
      r2(
        Float64Array.from(testR, (r) => r.y as number),
        t.predictor.predict(x, table.nRows),
      ),
    ).toBeGreaterThan(0.85);
  });

  it("multiclass: one tree per class per round, probabilities per class", () => {
    const t = trainFiles(files(synthetic(2000, 7, "multiclass"), "m.csv"), { label: "y", num_round: "10" });
    expect(t.model.objective).toBe("multiclass");
    expect(t.model.classes).toEqual(["high", "low", "mid"]);
    expect(t.model.trees.map((tr) => tr.output)).toEqual(Array.from({ length: 30 }, (_, i) => i % 3));
    expect(t.metrics["train:accuracy"]).toBeGreaterThan(0.85);
  });

  it.each([
    ["leafwise", { max_leaf_nodes: "7" }, (leaves: number, depth: number) => leaves <= 7 && depth >= 3],
    ["depthwise", { max_depth: "2" }, (leaves: number, depth: number) => leaves <= 4 && depth <= 2],
  ])("%s growth respects its limits", (policy, limits, ok) => {
    const t = trainFiles(train, { ...base, num_round: "5", grow_policy: policy, ...limits });
    for (const tree of t.model.trees) {
      const depth = new Array(tree.feature.length).fill(0);
      tree.feature.forEach((f, i) => {
        if (f >= 0) depth[tree.left[i]] = depth[tree.right[i]] = depth[i] + 1;
      });
      const leaves = tree.feature.filter((f) => f < 0).length;
      expect(ok(leaves, Math.max(...depth))).toBe(true);
    }
  });

  it("records in the model what it was trained on", () => {
    const t = trainFiles(train, { ...base, num_round: "3" });
    expect(t.model.training).toMatchObject({ trainRows: 3000, rounds: 3, roundsRun: 3, stoppedEarly: false });
    expect(t.model.training.dataHash).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(t.model.hyperparameters).toMatchObject({ num_round: "3", learning_rate: "0.1", max_leaf_nodes: "31", max_depth: "0" });
    expect(t.model.features).toEqual([
      { name: "a", kind: "numeric" },
      { name: "color", kind: "categorical", categories: ["black", "blue", "green", "red"] },
      { name: "m", kind: "numeric" },
      { name: "noise", kind: "numeric" },
    ]);
  });
});
