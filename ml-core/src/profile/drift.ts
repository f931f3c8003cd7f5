/**
 * Drift of served requests against the training baseline: request bodies are decoded by the same
 * codecs the server uses, each feature's values are counted in the baseline's buckets, and each
 * feature gets a population stability index,
 *
 *   PSI = Σ_i (a_i − e_i) · ln(a_i / e_i)
 *
 * over the shares e (training) and a (requests) of its buckets: a numeric feature's baseline
 * buckets (deciles) plus "missing"; a categorical feature's categories plus "other/unseen" (a
 * category the model never saw) plus "missing". Shares are floored at PSI_SHARE_FLOOR so that an
 * empty bucket on one side gives a large but finite term.
 */
import { MISSING_TOKENS, clampNumber, parseNumber } from "../data/values";
import { HttpError } from "../codec/errors";
import { CsvRows } from "../codec/csv";
import { InstanceRows, JsonLinesRows, jsonInstances } from "../codec/json";
import { requestFormat } from "../codec/media-types";
import { parseInferenceRequest } from "../codec/oip";
import { FeatureSchema, type RowSource } from "../codec/rows";
import type { FeatureInfo, Predictor } from "../model/predictor";
import type { BaselineStatistics, FeatureStatistics } from "./baseline";

/**
 * The usual reading of PSI (Siddiqi, "Credit Risk Scorecards", 2006): below 0.1 the population is
 * stable, 0.1–0.25 it moved moderately, above 0.25 it drifted.
 */
export const PSI_THRESHOLDS = { moderate: 0.1, drift: 0.25 } as const;

/** A bucket's share is taken as at least this (0.01 %), so that ln(a/e) stays finite. */
export const PSI_SHARE_FLOOR = 1e-4;

/**
 * Requests below which a verdict is not given: identical distributions give a PSI of about
 * (buckets − 1) / rows by sampling noise alone, 0.05 for 11 buckets and 200 rows.
 */
export const DEFAULT_MIN_ROWS = 200;

export type Verdict = "stable" | "moderate" | "drift" | "too few rows";

export interface BucketShare {
  /** `(-inf, 0.5]`, `(0.5, 2]`, a category, `other/unseen` or `missing`. */
  readonly bucket: string;
  readonly expected: number;
  readonly actual: number;
}

export interface FeatureDrift {
  readonly name: string;
  readonly kind: "numeric" | "categorical";
  readonly psi: number;
  readonly verdict: Verdict;
  /** Share of missing values in training and in the requests. */
  readonly missing: { readonly expected: number; readonly actual: number };
  readonly buckets: readonly BucketShare[];
}

export interface DriftReport {
  /** Rows decoded from the requests. */
  readonly rows: number;
  readonly baselineRows: number;
  readonly minRows: number;
  readonly thresholds: typeof PSI_THRESHOLDS;
  readonly features: readonly FeatureDrift[];
}

/** PSI of two count vectors over the same buckets (each normalised to shares). */
export function psi(expected: ArrayLike<number>, actual: ArrayLike<number>): number {
  const te = sum(expected);
  const ta = sum(actual);
  if (te === 0 || ta === 0) return 0;
  let total = 0;
  for (let i = 0; i < expected.length; i++) {
    const e = Math.max(expected[i]! / te, PSI_SHARE_FLOOR);
    const a = Math.max(actual[i]! / ta, PSI_SHARE_FLOOR);
    total += (a - e) * Math.log(a / e);
  }
  return total;
}

function sum(v: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i]!;
  return s;
}

export function verdictOf(value: number, rows: number, minRows: number): Verdict {
  if (rows < minRows) return "too few rows";
  return value < PSI_THRESHOLDS.moderate ? "stable" : value <= PSI_THRESHOLDS.drift ? "moderate" : "drift";
}

/**
 * Encodes raw request values into bucket indices of the baseline, through the `Predictor`
 * interface the codecs call: a numeric value as a number (parsed as the model parses it), a
 * category as its code, a category unknown to the baseline as the "other/unseen" code (where the
 * model's own encode would answer NaN, missing). It scores nothing.
 */
class BaselineEncoder implements Predictor {
  readonly objective = "regression" as const;
  readonly classes = undefined;
  readonly features: readonly FeatureInfo[];
  private readonly codes: (Map<string, number> | undefined)[];

  constructor(stats: BaselineStatistics) {
    this.features = stats.features.map((f) => ({ name: f.name, kind: f.inferred_type === "String" ? "categorical" : "numeric" }));
    this.codes = stats.features.map((f) =>
      f.inferred_type === "String" ? new Map(f.string_statistics.distribution.categorical.buckets.map((b, i) => [b.value, i])) : undefined,
    );
  }

  encode(featureIndex: number, raw: string | number | boolean | null | undefined): number {
    if (raw === null || raw === undefined) return NaN;
    const codes = this.codes[featureIndex];
    if (codes !== undefined) {
      const text = typeof raw === "string" ? raw : String(raw);
      if (MISSING_TOKENS.has(text)) return NaN;
      return codes.get(text) ?? codes.size;
    }
    if (typeof raw === "number") return clampNumber(raw);
    if (typeof raw === "boolean") return raw ? 1 : 0;
    const v = parseNumber(raw);
    if (v === undefined) throw new RangeError(`feature "${this.features[featureIndex]!.name}" is numeric but got ${JSON.stringify(raw.slice(0, 40))}`);
    return clampNumber(v);
  }

  predict(): Float64Array {
    throw new Error("the baseline encoder does not score");
  }
}

const SLICE_ROWS = 1024;

/**
 * Counts request rows in the baseline's buckets, a request at a time; memory is the baseline's
 * size, whatever the number of requests.
 */
export class DriftMonitor {
  private readonly schema: FeatureSchema;
  private readonly counts: Float64Array[];
  private readonly edges: (Float64Array | undefined)[];
  private readonly x: Float64Array;
  private nRows = 0;

  constructor(readonly baseline: BaselineStatistics) {
    this.schema = new FeatureSchema(new BaselineEncoder(baseline));
    // Buckets: numeric [...deciles, missing]; categorical [...categories, other/unseen, missing].
    this.edges = baseline.features.map((f) =>
      f.inferred_type === "String" ? undefined : Float64Array.from(f.numerical_statistics.distribution.kll.buckets, (b) => b.upper_bound),
    );
    this.counts = baseline.features.map((f, j) => new Float64Array(f.inferred_type === "String" ? categoryBuckets(f).length + 2 : this.edges[j]!.length + 1));
    this.x = new Float64Array(SLICE_ROWS * Math.max(1, this.schema.nFeatures));
  }

  get rows(): number {
    return this.nRows;
  }

  /**
   * Adds the rows of one request body, decoded by its content type as the server decodes it (CSV,
   * JSON, JSON lines, or an Open Inference Protocol request). Returns the rows added; throws an
   * Error saying what is wrong with the body (nothing is counted then).
   */
  addRequest(body: Buffer, contentType: string | undefined): number {
    const slices: { x: Float64Array; rows: number }[] = [];
    try {
      const source = this.source(body, contentType);
      for (;;) {
        const x = slices.length === 0 ? this.x : new Float64Array(this.x.length);
        const rows = source.next(x, SLICE_ROWS);
        if (rows === 0) break;
        slices.push({ x, rows });
      }
    } catch (e) {
      if (e instanceof HttpError) throw new Error(e.message);
      throw e;
    }
    for (const { x, rows } of slices) this.count(x, rows);
    return slices.reduce((s, c) => s + c.rows, 0);
  }

  private source(body: Buffer, contentType: string | undefined): RowSource {
    const format = requestFormat(contentType);
    if (format === "csv") return new CsvRows(body, 0, body.length, this.schema);
    if (format === "jsonlines") return new JsonLinesRows(body, 0, body.length, this.schema);
    // An OIP request is a JSON object with "inputs"; SageMaker's JSON is {"instances": ...} or an array.
    if (isInferenceRequest(body)) return parseInferenceRequest(body, this.schema).source;
    return new InstanceRows(jsonInstances(body), this.schema);
  }

  private count(x: Float64Array, rows: number): void {
    const nF = this.schema.nFeatures;
    for (let j = 0; j < nF; j++) {
      const counts = this.counts[j]!;
      const edges = this.edges[j];
      const missing = counts.length - 1;
      for (let r = 0; r < rows; r++) {
        const v = x[r * nF + j]!;
        if (v !== v) counts[missing]!++;
        else if (edges === undefined) counts[v]!++;
        else counts[upperBound(edges, v)]!++;
      }
    }
    this.nRows += rows;
  }

  report(minRows = DEFAULT_MIN_ROWS): DriftReport {
    const features = this.baseline.features.map((f, j): FeatureDrift => {
      const actual = this.counts[j]!;
      const { labels, expected } = baselineShares(f);
      const value = psi(expected, actual);
      const te = sum(expected) || 1;
      const ta = sum(actual) || 1;
      return {
        name: f.name,
        kind: f.inferred_type === "String" ? "categorical" : "numeric",
        psi: value,
        verdict: verdictOf(value, this.nRows, minRows),
        missing: { expected: expected[expected.length - 1]! / te, actual: actual[actual.length - 1]! / ta },
        buckets: labels.map((bucket, i) => ({ bucket, expected: expected[i]! / te, actual: actual[i]! / ta })),
      };
    });
    return { rows: this.nRows, baselineRows: this.baseline.dataset.item_count, minRows, thresholds: PSI_THRESHOLDS, features };
  }
}

function isInferenceRequest(body: Buffer): boolean {
  try {
    const doc: unknown = JSON.parse(body.toString("utf8"));
    return typeof doc === "object" && doc !== null && !Array.isArray(doc) && "inputs" in doc && !("instances" in doc);
  } catch {
    return false; // jsonInstances names what is wrong
  }
}

function categoryBuckets(f: Extract<FeatureStatistics, { inferred_type: "String" }>) {
  return f.string_statistics.distribution.categorical.buckets;
}

/** The baseline's counts in the monitor's bucket order, with their labels. */
function baselineShares(f: FeatureStatistics): { labels: string[]; expected: number[] } {
  if (f.inferred_type === "String") {
    const buckets = categoryBuckets(f);
    return {
      labels: [...buckets.map((b) => b.value), "other/unseen", "missing"],
      expected: [...buckets.map((b) => b.count), 0, f.string_statistics.common.num_missing],
    };
  }
  const buckets = f.numerical_statistics.distribution.kll.buckets;
  return {
    labels: [...buckets.map((b) => `(${bound(b.lower_bound)}, ${bound(b.upper_bound)}]`), "missing"],
    expected: [...buckets.map((b) => b.count), f.numerical_statistics.common.num_missing],
  };
}

function bound(v: number): string {
  if (v >= Number.MAX_VALUE) return "inf";
  if (v <= -Number.MAX_VALUE) return "-inf";
  return String(Number(v.toPrecision(6)));
}

/** The first bucket whose upper edge is >= v (the last bucket is open above). */
function upperBound(edges: Float64Array, v: number): number {
  let lo = 0;
  let hi = edges.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (v <= edges[mid]!) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}
