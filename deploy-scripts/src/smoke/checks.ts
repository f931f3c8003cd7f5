import type { SmokeRequest, SmokeResponse } from "./requests";

/** How far probabilities of one row may sum away from 1 (float rounding in the formatter). */
export const PROBABILITY_SUM_TOLERANCE = 1e-3;

/**
 * Checks one response. Tolerant to the response's layout (`{"predictions": [...]}`, a bare array,
 * CSV lines; a prediction as a number, `{"score": v}`, or `{"predicted_label", "probabilities"}`
 * with probabilities as an object or an array), strict on what matters: success, one prediction per
 * row, finite numbers, probabilities in [0, 1] that sum to 1, and latency.
 */
export function checkSmokeResponse(request: SmokeRequest, response: SmokeResponse, maxLatencyMs: number): string[] {
  const where = `${request.name} request`;
  if (response.status < 200 || response.status >= 300) {
    return [`${where}: HTTP ${response.status}: ${response.body.slice(0, 300)}`];
  }
  const problems: string[] = [];
  if (response.latencyMs > maxLatencyMs) problems.push(`${where}: took ${Math.round(response.latencyMs)} ms, above the limit of ${maxLatencyMs} ms`);
  let predictions: unknown[];
  try {
    predictions = extractPredictions(response);
  } catch (err) {
    return [...problems, `${where}: ${(err as Error).message}`];
  }
  if (predictions.length !== request.rows) {
    problems.push(`${where}: ${predictions.length} predictions for ${request.rows} rows`);
  }
  predictions.forEach((p, i) => {
    for (const problem of checkPrediction(p)) problems.push(`${where}: row ${i + 1}: ${problem}`);
  });
  return problems;
}

function extractPredictions(response: SmokeResponse): unknown[] {
  const text = response.body.trim();
  const looksJson = text.startsWith("{") || text.startsWith("[");
  if (!looksJson) {
    // CSV: `label,p1,p2,...` or `score` per line.
    return text === "" ? [] : text.split(/\r?\n/).map((line) => ({ csv: line.split(",") }));
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw new Error(`response is not valid JSON: ${text.slice(0, 200)}`);
  }
  if (Array.isArray(doc)) return doc;
  if (doc !== null && typeof doc === "object") {
    const obj = doc as Record<string, unknown>;
    for (const key of ["predictions", "outputs", "results", "scores"]) {
      if (Array.isArray(obj[key])) return obj[key] as unknown[];
    }
    const arrays = Object.values(obj).filter(Array.isArray);
    if (arrays.length === 1) return arrays[0] as unknown[];
  }
  throw new Error(`response has no list of predictions: ${text.slice(0, 200)}`);
}

function checkPrediction(p: unknown): string[] {
  if (typeof p === "number") return Number.isFinite(p) ? [] : [`prediction ${p} is not a finite number`];
  if (Array.isArray(p)) return p.length === 1 ? checkPrediction(p[0]) : checkProbabilities(p);
  if (p === null || typeof p !== "object") return [`unexpected prediction ${JSON.stringify(p)}`];
  const obj = p as Record<string, unknown>;
  if (Array.isArray(obj.csv)) {
    const cells = obj.csv as string[];
    if (cells.length === 1) return checkPrediction(Number(cells[0]));
    return checkProbabilities(cells.slice(1).map(Number));
  }
  const probs = obj.probabilities ?? obj.probability;
  if (probs !== undefined) {
    if (typeof probs === "number") return probs >= 0 && probs <= 1 ? [] : [`probability ${probs} is outside [0, 1]`];
    if (Array.isArray(probs)) return checkProbabilities(probs);
    if (probs !== null && typeof probs === "object") return checkProbabilities(Object.values(probs));
    return [`probabilities ${JSON.stringify(probs)} are neither a list nor a map`];
  }
  for (const key of ["score", "prediction", "value", "predicted_value"]) {
    if (key in obj) return checkPrediction(obj[key]);
  }
  if ("predicted_label" in obj || "label" in obj) return [];
  return [`prediction ${JSON.stringify(p).slice(0, 100)} has no score, label or probabilities`];
}

function checkProbabilities(values: unknown[]): string[] {
  if (values.length === 0) return ["empty probabilities"];
  const problems: string[] = [];
  let sum = 0;
  for (const v of values) {
    if (typeof v !== "number" || !Number.isFinite(v)) problems.push(`probability ${JSON.stringify(v)} is not a finite number`);
    else if (v < 0 || v > 1) problems.push(`probability ${v} is outside [0, 1]`);
    else sum += v;
  }
  if (problems.length === 0 && Math.abs(sum - 1) > PROBABILITY_SUM_TOLERANCE) problems.push(`probabilities sum to ${sum}, not 1`);
  return problems;
}
