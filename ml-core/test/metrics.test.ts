import { describe, expect, it } from "vitest";
import { lcg } from "./helpers";
import { accuracy, auc, binaryMetricsInPlace, f1, formatMetricLine, logloss, mae, metricDefinitions, METRIC_NAMES, r2, rmse } from "../src/eval/metrics";

// Binary probabilities as [p0, p1] pairs.
const probs = (p1: number[]): Float64Array => Float64Array.from(p1.flatMap((p) => [1 - p, p]));

describe("metrics", () => {
  it.each([
    // y, p(positive), expected AUC (checked with sklearn.metrics.roc_auc_score)
    [[0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8], 0.75],
    [[0, 1, 0, 1], [0.5, 0.5, 0.5, 0.5], 0.5],
    [[1, 1, 0, 0], [0.9, 0.8, 0.2, 0.1], 1],
    [[0, 0, 1, 1, 0], [0.2, 0.6, 0.6, 0.9, 0.1], 0.9166666666666666],
  ])("AUC of %j with scores %j is %d (ties count half)", (y, p, expected) => {
    expect(auc(Float64Array.from(y), probs(p), 2)).toBeCloseTo(expected, 12);
  });

  it("multiclass AUC is the macro one-vs-rest mean; F1 is macro", () => {
    const y = Float64Array.of(0, 1, 2, 2);
    const p = Float64Array.of(0.8, 0.1, 0.1, 0.2, 0.7, 0.1, 0.1, 0.2, 0.7, 0.5, 0.4, 0.1);
    expect(auc(y, p, 3)).toBeCloseTo((1 + 1 + 0.75) / 3, 12);
    // predictions 0,1,2,0: class 0 f1 = 2/3, class 1 = 1, class 2 = 2/3
    expect(f1(y, p, 3)).toBeCloseTo((2 / 3 + 1 + 2 / 3) / 3, 12);
    expect(accuracy(y, p, 3)).toBe(0.75);
  });

  it("binary F1 is the positive class's; log loss clips probabilities", () => {
    const y = Float64Array.of(1, 0, 1, 1);
    expect(f1(y, probs([0.9, 0.6, 0.2, 0.7]), 2)).toBeCloseTo(2 / 3, 12);
    expect(logloss(Float64Array.of(1), probs([0]), 2)).toBeCloseTo(-Math.log(1e-15), 6);
    expect(logloss(Float64Array.of(1, 0), probs([0.8, 0.3]), 2)).toBeCloseTo(-(Math.log(0.8) + Math.log(0.7)) / 2, 12);
  });

  it("regression metrics", () => {
    const y = [3, -0.5, 2, 7];
    const p = [2.5, 0, 2, 8];
    expect(rmse(y, p)).toBeCloseTo(Math.sqrt(0.375), 12);
    expect(mae(y, p)).toBe(0.5);
    expect(r2(y, p)).toBeCloseTo(0.9486081370449679, 12);
  });

  it("prints regex-friendly lines, and the definitions' regexes read them back", () => {
    const line = formatMetricLine("validation", "auc", 0.98765432);
    expect(line).toBe("validation:auc=0.987654");
    const def = metricDefinitions("binary").find((d) => d.Name === "validation:auc");
    expect(Number(new RegExp(def?.Regex as string).exec(`round 9\n${line}\n`)?.[1])).toBe(0.987654);
    expect(metricDefinitions("regression").map((d) => d.Name)).toContain("train:r2");
    expect(new RegExp(def?.Regex as string).exec("pretrain:auc=0.5")).toBeNull();
    expect(Number(new RegExp(def?.Regex as string).exec("2026-01-01T00:00:00Z validation:auc=-1.5e-3\r")?.[1])).toBe(-1.5e-3);
    // Without an objective: every metric a job can print, for a definition list made before training.
    expect(metricDefinitions()).toHaveLength(2 * 7);
    expect(METRIC_NAMES.classification).toEqual(["accuracy", "auc", "logloss", "f1"]);
  });
});

describe("binaryMetricsInPlace (training's evaluation of large sets)", () => {
  it("matches the general metrics, ties and zero probabilities included", () => {
    const y = Float64Array.of(0, 0, 1, 1, 0, 1, 0, 1, 1, 0);
    const p1 = [0.2, 0.6, 0.6, 0.9, 0, 0, 0.5, 0.5, 1, 0.35];
    const general = { accuracy: accuracy(y, probs(p1), 2), auc: auc(y, probs(p1), 2), logloss: logloss(y, probs(p1), 2), f1: f1(y, probs(p1), 2) };
    const fast = binaryMetricsInPlace(y, Float64Array.from(p1));
    for (const k of Object.keys(general) as (keyof typeof general)[]) expect(fast[k]).toBeCloseTo(general[k], 12);
  });

  it("matches them on a training set's size too (its AUC sorted by radix, in the scratch given)", () => {
    const rand = lcg(9);
    const n = 60_000;
    const y = Float64Array.from({ length: n }, () => (rand() < 0.3 ? 1 : 0));
    // Coarse probabilities: many ties between and within the classes.
    const p1 = Array.from(y, (v) => Math.round((0.3 * v + 0.7 * rand()) * 200) / 200);
    const general = { accuracy: accuracy(y, probs(p1), 2), auc: auc(y, probs(p1), 2), logloss: logloss(y, probs(p1), 2), f1: f1(y, probs(p1), 2) };
    const fast = binaryMetricsInPlace(y, Float64Array.from(p1), new Uint32Array(2 * n));
    for (const k of Object.keys(general) as (keyof typeof general)[]) expect(fast[k]).toBeCloseTo(general[k], 12);
  });
});
