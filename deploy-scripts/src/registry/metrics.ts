import { VALIDATION_CHANNEL } from "@ml-platform/contract";
import { METRIC_NAMES } from "@ml-platform/ml-core";

export type Metrics = Record<string, number>;

/** Parses ml-core's `metrics.json`: a flat map of `<channel>:<metric>` to a finite number. */
export function parseMetricsJson(text: string): Metrics {
  const data: unknown = JSON.parse(text);
  if (data === null || typeof data !== "object" || Array.isArray(data)) throw new Error("metrics.json is not a JSON object");
  const out: Metrics = {};
  for (const [key, value] of Object.entries(data)) {
    if (typeof value === "number" && Number.isFinite(value)) out[key] = value;
  }
  return out;
}

export interface Thresholds {
  readonly minMetrics: Readonly<Record<string, number>>;
  readonly maxMetrics: Readonly<Record<string, number>>;
}

/** Every threshold the metrics miss, each as one line naming the metric, its value and the bound. */
export function metricGateFailures(metrics: Readonly<Metrics>, thresholds: Thresholds, where: string): string[] {
  const failures: string[] = [];
  for (const [name, min] of Object.entries(thresholds.minMetrics)) {
    const value = metrics[name];
    if (value === undefined) failures.push(`metric ${name} is not registered with the version (${where} requires >= ${min})`);
    else if (!(value >= min)) failures.push(`metric ${name} = ${value} is below ${where}'s minimum ${min}`);
  }
  for (const [name, max] of Object.entries(thresholds.maxMetrics)) {
    const value = metrics[name];
    if (value === undefined) failures.push(`metric ${name} is not registered with the version (${where} requires <= ${max})`);
    else if (!(value <= max)) failures.push(`metric ${name} = ${value} is above ${where}'s maximum ${max}`);
  }
  return failures;
}

/**
 * The registry's model-quality report: SageMaker Studio shows `ModelMetrics.ModelQuality.Statistics`
 * when it follows the Model Monitor layout (`<problem>_metrics.<name>.value`); `metrics` keeps
 * ml-core's flat map so tools can read it without translation.
 */
export function modelQualityReport(metrics: Readonly<Metrics>, source: string): Record<string, unknown> {
  const prefix = `${VALIDATION_CHANNEL}:`;
  const validation = Object.fromEntries(
    Object.entries(metrics)
      .filter(([k]) => k.startsWith(prefix))
      .map(([k, v]) => [k.slice(prefix.length), { value: v, standard_deviation: "NaN" }]),
  );
  const isRegression = Object.keys(validation).some((k) => (METRIC_NAMES.regression as readonly string[]).includes(k));
  return {
    version: 0.0,
    source,
    [isRegression ? "regression_metrics" : "binary_classification_metrics"]: validation,
    metrics,
  };
}
