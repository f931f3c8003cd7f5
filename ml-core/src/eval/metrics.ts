/**
 * Evaluation metrics, with the names the training job prints (`validation:auc=0.987600`) and the
 * SageMaker MetricDefinitions match.
 */
import type { Objective } from "../gbdt/types";
import { sortFloat64 } from "../data/sorted";

// Indexed reads carry `!` (noUncheckedIndexedAccess): every index runs below the length of the
// arrays it reads (n rows, nClasses columns). A check per read would cost the hot loops; the
// emitted JavaScript is unchanged.

/** Every metric name training can print, per objective. */
export const METRIC_NAMES = {
  classification: ["accuracy", "auc", "logloss", "f1"],
  regression: ["rmse", "mae", "r2"],
} as const;

export type MetricName = (typeof METRIC_NAMES)["classification" | "regression"][number];

/** Channels metrics are reported for. */
export const METRIC_CHANNELS = ["train", "validation"] as const;

/** Probabilities are clipped to [eps, 1 − eps] for log loss (as scikit-learn does). */
const EPS = 1e-15;

/**
 * Metrics for predictions `pred` against labels `y`: for classification `pred` holds class
 * probabilities row-major (nRows × nClasses) and `y` class indices; for regression both are values.
 */
export function computeMetrics(
  objective: Objective,
  y: Float64Array,
  pred: Float64Array,
  nClasses: number,
  w?: ArrayLike<number>,
): Record<MetricName, number> | Record<string, number> {
  if (objective === "regression") return { rmse: rmse(y, pred, w), mae: mae(y, pred, w), r2: r2(y, pred, w) };
  return { accuracy: accuracy(y, pred, nClasses, w), auc: auc(y, pred, nClasses, w), logloss: logloss(y, pred, nClasses, w), f1: f1(y, pred, nClasses, w) };
}

/**
 * Binary metrics from the positive class's probabilities alone (`p1[i]`), without the n × 2 matrix
 * and without a copy: training evaluates millions of rows this way. Same values as `computeMetrics`
 * ("binary"). Overwrites `p1` (it is sorted in place for the AUC, through `scratch`, two words a
 * row: see `sortFloat64`).
 */
export function binaryMetricsInPlace(y: Float64Array, p1: Float64Array, scratch?: Uint32Array): Record<string, number> {
  const n = y.length;
  let right = 0;
  let ll = 0;
  let tp = 0;
  let fp = 0;
  let fn = 0;
  let nNeg = 0;
  for (let i = 0; i < n; i++) {
    const yi = y[i];
    const p = p1[i]!;
    // argmax over [1 - p, p] picks class 0 on a tie, as in `accuracy`.
    const yhat = p > 1 - p ? 1 : 0;
    if (yhat === yi) right++;
    if (yhat === 1 && yi === 1) tp++;
    else if (yhat === 1) fp++;
    else if (yi === 1) fn++;
    ll -= Math.log(Math.min(Math.max(yi === 1 ? p : 1 - p, EPS), 1 - EPS));
    if (yi !== 1) {
      // Negatives become −p (exact; 0 becomes −0, which sorts before +0): one sort then puts the
      // negatives first, by decreasing p, and the positives after them, by increasing p.
      p1[i] = -p;
      nNeg++;
    }
  }
  sortFloat64(p1, scratch);
  const nPos = n - nNeg;
  let auc = NaN;
  if (nPos > 0 && nNeg > 0) {
    let below = 0;
    let upTo = 0;
    let wins = 0;
    const neg = (k: number): number => -p1[nNeg - 1 - k]!; // k-th smallest negative score
    for (let i = 0; i < nPos; i++) {
      const s = p1[nNeg + i]!;
      while (below < nNeg && neg(below) < s) below++;
      if (upTo < below) upTo = below;
      while (upTo < nNeg && neg(upTo) === s) upTo++;
      wins += below + (upTo - below) / 2;
    }
    auc = wins / nPos / nNeg;
  }
  return { accuracy: right / n, auc, logloss: ll / n, f1: tp === 0 ? 0 : (2 * tp) / (2 * tp + fp + fn) };
}

// Every metric takes optional sample weights `w` (weight_column): each row counts w[i] times, as
// scikit-learn's `sample_weight`. Without them every row counts once.

export function rmse(y: ArrayLike<number>, p: ArrayLike<number>, w?: ArrayLike<number>): number {
  let s = 0;
  let sw = 0;
  for (let i = 0; i < y.length; i++) {
    const wi = w === undefined ? 1 : w[i]!;
    s += wi * (y[i]! - p[i]!) ** 2;
    sw += wi;
  }
  return Math.sqrt(s / sw);
}

export function mae(y: ArrayLike<number>, p: ArrayLike<number>, w?: ArrayLike<number>): number {
  let s = 0;
  let sw = 0;
  for (let i = 0; i < y.length; i++) {
    const wi = w === undefined ? 1 : w[i]!;
    s += wi * Math.abs(y[i]! - p[i]!);
    sw += wi;
  }
  return s / sw;
}

/** Coefficient of determination; 0 when y is constant and predicted exactly (sklearn gives 1.0 then; we avoid the 0/0). */
export function r2(y: ArrayLike<number>, p: ArrayLike<number>, w?: ArrayLike<number>): number {
  let mean = 0;
  let sw = 0;
  for (let i = 0; i < y.length; i++) {
    const wi = w === undefined ? 1 : w[i]!;
    mean += wi * y[i]!;
    sw += wi;
  }
  mean /= sw;
  let ssRes = 0;
  let ssTot = 0;
  for (let i = 0; i < y.length; i++) {
    const wi = w === undefined ? 1 : w[i]!;
    ssRes += wi * (y[i]! - p[i]!) ** 2;
    ssTot += wi * (y[i]! - mean) ** 2;
  }
  if (ssTot === 0) return ssRes === 0 ? 1 : 0;
  return 1 - ssRes / ssTot;
}

function argmax(p: ArrayLike<number>, offset: number, k: number): number {
  let best = 0;
  for (let j = 1; j < k; j++) if (p[offset + j]! > p[offset + best]!) best = j;
  return best;
}

export function accuracy(y: ArrayLike<number>, p: ArrayLike<number>, k: number, w?: ArrayLike<number>): number {
  let right = 0;
  let sw = 0;
  for (let i = 0; i < y.length; i++) {
    const wi = w === undefined ? 1 : w[i]!;
    if (argmax(p, i * k, k) === y[i]) right += wi;
    sw += wi;
  }
  return right / sw;
}

export function logloss(y: ArrayLike<number>, p: ArrayLike<number>, k: number, w?: ArrayLike<number>): number {
  let s = 0;
  let sw = 0;
  for (let i = 0; i < y.length; i++) {
    const wi = w === undefined ? 1 : w[i]!;
    s -= wi * Math.log(Math.min(Math.max(p[i * k + y[i]!]!, EPS), 1 - EPS));
    sw += wi;
  }
  return s / sw;
}

/**
 * F1: binary, of the positive class (the second class); multiclass, the unweighted mean over
 * classes (sklearn's average="macro"). A class never predicted nor present contributes 0.
 */
export function f1(y: ArrayLike<number>, p: ArrayLike<number>, k: number, w?: ArrayLike<number>): number {
  const tp = new Float64Array(k);
  const fp = new Float64Array(k);
  const fn = new Float64Array(k);
  for (let i = 0; i < y.length; i++) {
    const wi = w === undefined ? 1 : w[i]!;
    const yhat = argmax(p, i * k, k);
    if (yhat === y[i]) tp[yhat]! += wi;
    else {
      fp[yhat]! += wi;
      fn[y[i]!]! += wi;
    }
  }
  const f1Of = (c: number): number => (tp[c] === 0 ? 0 : (2 * tp[c]!) / (2 * tp[c]! + fp[c]! + fn[c]!));
  if (k === 2) return f1Of(1);
  let s = 0;
  for (let c = 0; c < k; c++) s += f1Of(c);
  return s / k;
}

/**
 * ROC AUC: binary, of the positive class's probability; multiclass, the unweighted mean of
 * one-vs-rest AUCs (sklearn's multi_class="ovr", average="macro"). NaN when undefined (one class).
 */
export function auc(y: ArrayLike<number>, p: ArrayLike<number>, k: number, w?: ArrayLike<number>): number {
  const n = y.length;
  const scores = new Float64Array(n);
  const positive = new Uint8Array(n);
  const one = (c: number): number => {
    for (let i = 0; i < n; i++) {
      scores[i] = p[i * k + c]!;
      positive[i] = y[i] === c ? 1 : 0;
    }
    return w === undefined ? binaryAuc(scores, positive) : weightedBinaryAuc(scores, positive, w);
  };
  if (k === 2) return one(1);
  let s = 0;
  for (let c = 0; c < k; c++) s += one(c);
  return s / k;
}

/**
 * Weighted Mann–Whitney U: the weighted probability that a positive outscores a negative, ties
 * counting half (a row of weight 2 counts as two rows).
 */
export function weightedBinaryAuc(scores: Float64Array, positive: Uint8Array, w: ArrayLike<number>): number {
  const n = scores.length;
  const order = Uint32Array.from({ length: n }, (_, i) => i).sort((a, b) => scores[a]! - scores[b]!);
  let negBelow = 0;
  let wins = 0;
  let wPos = 0;
  for (let i = 0; i < n;) {
    const s = scores[order[i]!]!;
    let groupPos = 0;
    let groupNeg = 0;
    for (; i < n && scores[order[i]!] === s; i++) {
      const r = order[i]!;
      if (positive[r] === 1) groupPos += w[r]!;
      else groupNeg += w[r]!;
    }
    wins += groupPos * (negBelow + groupNeg / 2);
    negBelow += groupNeg;
    wPos += groupPos;
  }
  return wPos === 0 || negBelow === 0 ? NaN : wins / wPos / negBelow;
}

/**
 * Mann–Whitney U: the probability that a positive outscores a negative, ties counting half.
 * Sorts the positives' and the negatives' scores apart (typed-array sorts: no comparator, no
 * boxed numbers) and merges them, so millions of rows cost two native sorts and no extra heap.
 */
export function binaryAuc(scores: Float64Array, positive: Uint8Array): number {
  const n = scores.length;
  let nPos = 0;
  for (let i = 0; i < n; i++) nPos += positive[i]!;
  const nNeg = n - nPos;
  if (nPos === 0 || nNeg === 0) return NaN;
  const pos = new Float64Array(nPos);
  const neg = new Float64Array(nNeg);
  for (let i = 0, a = 0, b = 0; i < n; i++) {
    if (positive[i] === 1) pos[a++] = scores[i]!;
    else neg[b++] = scores[i]!;
  }
  pos.sort();
  neg.sort();
  let below = 0; // negatives strictly below the current positive score
  let upTo = 0; // negatives at or below it
  let wins = 0;
  for (let i = 0; i < nPos; i++) {
    const s = pos[i]!;
    while (below < nNeg && neg[below]! < s) below++;
    if (upTo < below) upTo = below;
    while (upTo < nNeg && neg[upTo] === s) upTo++;
    wins += below + (upTo - below) / 2;
  }
  return wins / nPos / nNeg;
}

/** `<channel>:<metric>=<value>`, six decimals: the line SageMaker's metric regexes read. */
export function formatMetricLine(channel: string, name: string, value: number): string {
  return `${channel}:${name}=${Number.isFinite(value) ? value.toFixed(6) : "nan"}`;
}

/** A number as `formatMetricLine` prints it (`0.987600`, `-1.5e-3`). */
const METRIC_NUMBER = "[-+]?(?:[0-9]+\\.?[0-9]*|\\.[0-9]+)(?:[eE][-+]?[0-9]+)?";

/**
 * Regexes for SageMaker MetricDefinitions, one per channel × metric of `objective`, or of every
 * objective when none is given (14, under SageMaker's 40 per job). SageMaker keeps the first
 * capture group. The leading `\b` keeps `train:auc` from matching inside a longer word
 * (`pretrain:auc=`); no `^`/`$`, so a log agent's prefix or a trailing `\r` cannot hide the value.
 */
export function metricDefinitions(objective?: Objective): { Name: string; Regex: string }[] {
  const names =
    objective === undefined
      ? [...METRIC_NAMES.classification, ...METRIC_NAMES.regression]
      : objective === "regression"
        ? METRIC_NAMES.regression
        : METRIC_NAMES.classification;
  return METRIC_CHANNELS.flatMap((ch) => names.map((m) => ({ Name: `${ch}:${m}`, Regex: `\\b${ch}:${m}=(${METRIC_NUMBER})` })));
}
