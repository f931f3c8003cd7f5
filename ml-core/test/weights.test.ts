/**
 * Sample weights (weight_column) and scale_pos_weight: a row of weight 2 counts as two rows in the
 * bin thresholds, the gradients and leaf values, early stopping and every metric.
 */
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { accuracy, auc, f1, logloss, mae, r2, rmse } from "../src/eval/metrics";
import { findThresholds } from "../src/gbdt/binning";
import { lcg, tmpDir, toCsv, writeFile } from "./helpers";
import { featureMatrix, trainFiles } from "./train-helpers";

function rows(n: number, seed: number): Record<string, number>[] {
  const r = lcg(seed);
  return Array.from({ length: n }, () => {
    // Up to 201 distinct values each: thresholds are then midpoints, whatever the weights.
    const a = Math.round((r() * 4 - 2) * 50) / 50;
    const b = Math.round(r() * 200) / 10;
    const y = Math.sin(2 * a) + b / 50 + (r() - 0.5) > 1 ? 1 : 0;
    return { y, a, b, w: r() < 0.3 ? 2 : 1 };
  });
}

/** Each row repeated `w` times, without the weight column. */
function expanded(data: Record<string, number>[]): Record<string, number>[] {
  return data.flatMap(({ w, ...rest }) => Array.from({ length: w! }, () => rest));
}

const dir = tmpDir();
const csv = (name: string, data: Record<string, unknown>[]): string => writeFile(path.join(dir, name), toCsv(data));

describe("sample weights", () => {
  const train = rows(1500, 1);
  const valid = rows(500, 2);
  const test = rows(300, 3);
  const testFile = csv("test.csv", test);
  const testFileNoWeight = csv(
    "test-nw.csv",
    test.map(({ w: _, ...r }) => r),
  );
  const hp = { label: "y", num_round: "15", min_samples_leaf: "1", objective: "binary" };

  it("train the model that repeating each row `weight` times trains (thresholds, gradients, leaf values)", () => {
    const weighted = trainFiles([csv("w.csv", train)], { ...hp, weight_column: "w" });
    const repeated = trainFiles([csv("rep.csv", expanded(train))], hp);
    expect(weighted.model.features.map((f) => f.name)).toEqual(["a", "b"]); // the weight is no feature
    expect(weighted.model.trees.map((t) => t.feature)).toEqual(repeated.model.trees.map((t) => t.feature));
    expect(weighted.model.trees.map((t) => t.threshold)).toEqual(repeated.model.trees.map((t) => t.threshold));
    const { x, table } = featureMatrix([testFile], weighted.schema);
    const pw = weighted.predictor.predict(x, table.nRows);
    const pr = repeated.predictor.predict(featureMatrix([testFileNoWeight], repeated.schema).x, table.nRows);
    for (let i = 0; i < pw.length; i++) expect(pw[i]).toBeCloseTo(pr[i]!, 12);
    // Training metrics weighted alike.
    for (const k of ["train:auc", "train:logloss", "train:accuracy"]) expect(weighted.metrics[k]).toBeCloseTo(repeated.metrics[k]!, 10);
  });

  it("weight validation rows in early stopping and in the validation metrics", () => {
    const common = { ...hp, num_round: "200", learning_rate: "0.5", early_stopping_rounds: "3", early_stopping_metric: "auc" };
    const trainFile = csv(
      "t.csv",
      train.map(({ w: _, ...r }) => ({ ...r, w: 1 })),
    );
    const weighted = trainFiles([trainFile], { ...common, weight_column: "w" }, [csv("v.csv", valid)]);
    const repeated = trainFiles([trainFile], { ...common, weight_column: "w" }, [
      csv(
        "vrep.csv",
        expanded(valid).map((r) => ({ ...r, w: 1 })),
      ),
    ]);
    const unweighted = trainFiles([trainFile], { ...common, weight_column: "w" }, [
      csv(
        "v1.csv",
        valid.map((r) => ({ ...r, w: 1 })),
      ),
    ]);
    expect(weighted.model.training.rounds).toBe(repeated.model.training.rounds);
    weighted.lossHistory.validation.forEach((l, i) => expect(l).toBeCloseTo(repeated.lossHistory.validation[i]!, 12));
    expect(weighted.metrics["validation:auc"]).toBeCloseTo(repeated.metrics["validation:auc"]!, 12);
    expect(weighted.lossHistory.validation[0]).not.toBeCloseTo(unweighted.lossHistory.validation[0]!, 6);
  });

  it("scale_pos_weight trains the model a weight column of that value on positives trains", () => {
    const data = train.map((r) => ({ ...r, w: r.y === 1 ? 3 : 1 }));
    const scaled = trainFiles(
      [
        csv(
          "s.csv",
          data.map(({ w: _, ...r }) => r),
        ),
      ],
      { ...hp, scale_pos_weight: "3" },
    );
    const weighted = trainFiles([csv("sw.csv", data)], { ...hp, weight_column: "w" });
    const plain = trainFiles(
      [
        csv(
          "sp.csv",
          data.map(({ w: _, ...r }) => r),
        ),
      ],
      hp,
    );
    expect(scaled.model.trees).toEqual(weighted.model.trees);
    expect(scaled.model.baseline).toEqual(weighted.model.baseline);
    expect(scaled.model.baseline[0]).toBeGreaterThan(plain.model.baseline[0]!);
  });

  it.each([
    [[{ y: 1, a: 1, w: -1 }], /w\.csv:2:3: column "w" \(the weight\) must be a non-negative number, got "-1"/],
    [[{ y: 1, a: 1, w: "" }], /w\.csv:2:3: column "w" \(the weight\) must be a non-negative number, got ""/],
    [[{ y: 1, a: 1, w: "heavy" }], /must be a non-negative number, got "heavy"/],
  ])("refuse a bad weight naming file, line and column (%j)", (data, message) => {
    const file = writeFile(
      path.join(tmpDir(), "w.csv"),
      toCsv([{ y: 0, a: 0, w: 1 }, ...data].slice(1).concat([{ y: 0, a: 0, w: 1 }]) as Record<string, unknown>[]),
    );
    expect(() => trainFiles([file], { label: "y", weight_column: "w" })).toThrow(message);
  });

  it("refuse a weight column that is not there, and scale_pos_weight for another objective", () => {
    const file = csv(
      "plain.csv",
      train.map(({ w: _, ...r }) => r),
    );
    expect(() => trainFiles([file], { label: "y", weight_column: "weight" })).toThrow(
      /weight_column "weight" not found among the feature columns; columns are: a, b/,
    );
    expect(() => trainFiles([file], { label: "y", objective: "regression", scale_pos_weight: "2" })).toThrow(
      "scale_pos_weight: applies to binary classification only, objective is regression",
    );
  });
});

describe("weighted metrics and thresholds", () => {
  const r = lcg(9);
  const n = 200;
  const y = Float64Array.from({ length: n }, () => (r() < 0.4 ? 1 : 0));
  const p2 = Float64Array.from({ length: 2 * n }, (_, i) => (i % 2 === 1 ? Math.round(r() * 20) / 20 : 0));
  for (let i = 0; i < n; i++) p2[2 * i] = 1 - p2[2 * i + 1]!;
  const w = Float64Array.from({ length: n }, () => 1 + Math.floor(r() * 3));
  const rep = <T extends Float64Array>(a: T, width: number): Float64Array =>
    Float64Array.from(Array.from({ length: n }, (_, i) => Array.from({ length: w[i]! }, () => Array.from(a.subarray(i * width, (i + 1) * width)))).flat(2));

  it.each([
    ["accuracy", (yy: Float64Array, pp: Float64Array, ww?: Float64Array) => accuracy(yy, pp, 2, ww)],
    ["auc", (yy: Float64Array, pp: Float64Array, ww?: Float64Array) => auc(yy, pp, 2, ww)],
    ["logloss", (yy: Float64Array, pp: Float64Array, ww?: Float64Array) => logloss(yy, pp, 2, ww)],
    ["f1", (yy: Float64Array, pp: Float64Array, ww?: Float64Array) => f1(yy, pp, 2, ww)],
  ] as const)("%s with integer weights equals it on repeated rows (ties included)", (_, metric) => {
    expect(metric(y, p2, w)).toBeCloseTo(metric(rep(y, 1), rep(p2, 2)), 12);
  });

  it.each([
    ["rmse", rmse],
    ["mae", mae],
    ["r2", r2],
  ] as const)("%s with integer weights equals it on repeated rows", (_, metric) => {
    const pred = Float64Array.from(y, (v) => v + r() - 0.5);
    expect(metric(y, pred, w)).toBeCloseTo(metric(rep(y, 1), rep(pred, 1)), 12);
  });

  it("bin thresholds are the quantiles of the repeated column", () => {
    const col = Float64Array.from({ length: 2000 }, () => r() * 100);
    const wc = Float64Array.from({ length: 2000 }, () => Math.floor(r() * 3));
    const repeated = Float64Array.from(Array.from(col).flatMap((v, i) => Array.from({ length: wc[i]! }, () => v)));
    expect(Array.from(findThresholds(col, col.length, undefined, 16, wc))).toEqual(Array.from(findThresholds(repeated, repeated.length, undefined, 16)));
  });
});
