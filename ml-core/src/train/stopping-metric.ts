/**
 * Early stopping on a named metric (`early_stopping_metric`): which metrics apply to which
 * objective, and the evaluator the booster calls on the validation set's raw scores each round.
 */
import { accuracy, auc, binaryAuc, f1, logloss, mae, METRIC_NAMES, r2, rmse, weightedBinaryAuc } from "../eval/metrics";
import type { StoppingMetric } from "../gbdt/booster";
import { rawToOutputs, sigmoid } from "../model/flat-predictor";
import type { Objective } from "../model/predictor";

/** Why `metric` cannot be watched for this kind of objective, or undefined when it can. */
export function stoppingMetricProblem(kind: "classification" | "regression", metric: string): string | undefined {
  if (metric === "loss" || (METRIC_NAMES[kind] as readonly string[]).includes(metric)) return undefined;
  return `${metric} does not apply to ${kind}; use loss or one of ${METRIC_NAMES[kind].join(", ")}`;
}

/** The metric early stopping watches, or undefined for the loss. */
export function stoppingMetric(name: string, objective: Objective, nClasses: number, y: Float64Array, w?: Float64Array): StoppingMetric | undefined {
  if (name === "loss") return undefined;
  const problem = stoppingMetricProblem(objective === "regression" ? "regression" : "classification", name);
  if (problem !== undefined) throw new RangeError(`early_stopping_metric: ${problem}`);
  const n = y.length;
  const k = objective === "binary" ? 2 : nClasses;
  const positive = objective === "binary" ? Uint8Array.from(y) : undefined;
  const evaluate = (raw: Float64Array): number => {
    // Binary AUC from the positive class's probabilities alone: no n × 2 matrix.
    if (name === "auc" && positive !== undefined) {
      const p1 = Float64Array.from(raw.subarray(0, n), sigmoid);
      return w === undefined ? binaryAuc(p1, positive) : weightedBinaryAuc(p1, positive, w);
    }
    // A copy for multiclass: the softmax works in place, and these are the booster's running scores.
    const p = rawToOutputs(objective, objective === "multiclass" ? raw.slice(0, n * k) : raw.subarray(0, n), n, k);
    switch (name) {
      case "rmse":
        return rmse(y, p, w);
      case "mae":
        return mae(y, p, w);
      case "r2":
        return r2(y, p, w);
      case "accuracy":
        return accuracy(y, p, k, w);
      case "logloss":
        return logloss(y, p, k, w);
      case "f1":
        return f1(y, p, k, w);
      default:
        return auc(y, p, k, w);
    }
  };
  return { name, higherIsBetter: name === "auc" || name === "accuracy" || name === "f1" || name === "r2", evaluate };
}
