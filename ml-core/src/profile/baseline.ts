/**
 * Per-feature statistics of the training data, written beside the model so that drift can be
 * measured against the data the model learned from. The files follow SageMaker Model Monitor's
 * `statistics.json` and `constraints.json` layout (so Model Monitor and tools built for it can read
 * them), computed from the training data's bins: one pass over one byte per value, memory bounded
 * by features × bins whatever the number of rows.
 *
 * From bins, counts are exact at the bin thresholds but values inside a bin are not known, so the
 * fields that need raw values (mean, sum, std_dev, min, max, the KLL sketch itself) are left out;
 * the numeric distribution is the layout's `kll.buckets`, merged from the bins into about ten
 * buckets of equal training mass (deciles), the bins of a population stability index.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import type { DataSchema } from "../data/table";
import type { BinMapper } from "../gbdt/binning";
import { MISSING_BIN } from "../gbdt/types";

/** File names in the model directory (so in model.tar.gz), Model Monitor's names. */
export const STATISTICS_FILE = "statistics.json";
export const CONSTRAINTS_FILE = "constraints.json";

/** Buckets a numeric feature's distribution is merged into: deciles, the usual bins of PSI. */
export const NUMERIC_BUCKETS = 10;

/**
 * JSON cannot spell ±Infinity: the open ends of the outer buckets are ±Number.MAX_VALUE, as model
 * thresholds are (values are clamped to ±MAX_VALUE on reading).
 */
export const OPEN_BOUND = Number.MAX_VALUE;

export interface Common {
  readonly num_present: number;
  readonly num_missing: number;
}

/** A numeric bucket holds the values v with lower_bound < v <= upper_bound (a model split's side). */
export interface NumericBucket {
  readonly lower_bound: number;
  readonly upper_bound: number;
  readonly count: number;
}

export interface CategoryBucket {
  readonly value: string;
  readonly count: number;
}

export type FeatureStatistics =
  | {
      readonly name: string;
      readonly inferred_type: "Fractional";
      readonly numerical_statistics: { readonly common: Common; readonly distribution: { readonly kll: { readonly buckets: readonly NumericBucket[] } } };
    }
  | {
      readonly name: string;
      readonly inferred_type: "String";
      readonly string_statistics: {
        readonly common: Common;
        readonly distinct_count: number;
        readonly distribution: { readonly categorical: { readonly buckets: readonly CategoryBucket[] } };
      };
    };

/** Model Monitor's statistics.json: `version` 0, the dataset's row count, one entry per feature. */
export interface BaselineStatistics {
  readonly version: 0;
  readonly dataset: { readonly item_count: number };
  readonly features: readonly FeatureStatistics[];
}

/** Model Monitor's constraints.json, with what the baseline knows: completeness and category domains. */
export interface BaselineConstraints {
  readonly version: 0;
  readonly features: readonly {
    readonly name: string;
    readonly inferred_type: "Fractional" | "String";
    readonly completeness: number;
    readonly string_constraints?: { readonly domains: readonly string[] };
  }[];
}

export interface Baseline {
  readonly statistics: BaselineStatistics;
  readonly constraints: BaselineConstraints;
}

/**
 * The baseline of a binned training channel. Counts are rows (sample weights are not applied: PSI
 * compares row shares with captured requests, which carry no weights). A categorical value the
 * training kept out (beyond `max_bins` categories) was binned as missing and is counted so.
 */
export function baselineFromBins(schema: DataSchema, mapper: BinMapper, table: { readonly nRows: number; readonly bins: Uint8Array }): Baseline {
  const n = table.nRows;
  const features = schema.features.map((f, j): FeatureStatistics => {
    const info = mapper.features[j]!;
    const counts = new Float64Array(info.nBins);
    let missing = 0;
    const column = table.bins.subarray(j * n, (j + 1) * n);
    for (let i = 0; i < n; i++) {
      const b = column[i]!;
      if (b === MISSING_BIN) missing++;
      else counts[b]!++;
    }
    const common = { num_present: n - missing, num_missing: missing };
    if (f.kind === "categorical") {
      const categories = f.categories ?? [];
      const buckets = categories.map((value, code) => ({ value, count: counts[code] ?? 0 }));
      return {
        name: f.name,
        inferred_type: "String",
        string_statistics: { common, distinct_count: buckets.filter((b) => b.count > 0).length, distribution: { categorical: { buckets } } },
      };
    }
    return {
      name: f.name,
      inferred_type: "Fractional",
      numerical_statistics: { common, distribution: { kll: { buckets: mergeBins(counts, info.thresholds, n - missing) } } },
    };
  });
  const statistics: BaselineStatistics = { version: 0, dataset: { item_count: n }, features };
  const constraints: BaselineConstraints = {
    version: 0,
    features: features.map((f) => {
      const s = f.inferred_type === "String" ? f.string_statistics : f.numerical_statistics;
      const completeness = n === 0 ? 0 : s.common.num_present / n;
      return f.inferred_type === "String"
        ? {
            name: f.name,
            inferred_type: f.inferred_type,
            completeness,
            string_constraints: { domains: f.string_statistics.distribution.categorical.buckets.map((b) => b.value) },
          }
        : { name: f.name, inferred_type: f.inferred_type, completeness };
    }),
  };
  return { statistics, constraints };
}

/**
 * Merges a numeric feature's bins into about NUMERIC_BUCKETS buckets of equal mass. Bucket edges
 * are bin thresholds, so every count stays exact. A bin heavier than a decile (a repeated value)
 * is a bucket of its own, so there may be fewer buckets.
 */
export function mergeBins(counts: Float64Array, thresholds: Float64Array, present: number): NumericBucket[] {
  const buckets: NumericBucket[] = [];
  let lower = -OPEN_BOUND;
  let count = 0;
  let cumulative = 0;
  let next = 1;
  for (let b = 0; b < counts.length; b++) {
    count += counts[b]!;
    cumulative += counts[b]!;
    const last = b === counts.length - 1;
    if (!last && cumulative < (next * present) / NUMERIC_BUCKETS) continue;
    const upper = last ? OPEN_BOUND : thresholds[b]!;
    buckets.push({ lower_bound: lower, upper_bound: upper, count });
    while (next <= NUMERIC_BUCKETS && cumulative >= (next * present) / NUMERIC_BUCKETS) next++;
    lower = upper;
    count = 0;
  }
  if (buckets.length === 0) buckets.push({ lower_bound: -OPEN_BOUND, upper_bound: OPEN_BOUND, count: 0 });
  return buckets;
}

/** Writes statistics.json and constraints.json into `dir` (the model directory). */
export function writeBaseline(dir: string, baseline: Baseline): void {
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, STATISTICS_FILE), JSON.stringify(baseline.statistics, null, 1) + "\n");
  fs.writeFileSync(path.join(dir, CONSTRAINTS_FILE), JSON.stringify(baseline.constraints, null, 1) + "\n");
}

/**
 * Reads a statistics.json this module wrote, checking what drift needs; `where` names the file in
 * errors. Throws naming the first field that is wrong.
 */
export function parseStatistics(text: string, where: string): BaselineStatistics {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new Error(`${where}: not valid JSON: ${(e as Error).message}`);
  }
  const fail = (field: string, what: string): never => {
    throw new Error(`${where}: ${field} ${what}`);
  };
  const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
  const count = (v: unknown, field: string): number => (typeof v === "number" && Number.isInteger(v) && v >= 0 ? v : fail(field, "must be a count"));
  if (!isObject(doc)) return fail("the document", "must be an object");
  if (!isObject(doc.dataset)) return fail("dataset", "must be an object");
  count(doc.dataset.item_count, "dataset.item_count");
  if (!Array.isArray(doc.features) || doc.features.length === 0) return fail("features", "must be a non-empty array");
  doc.features.forEach((f: unknown, i) => {
    const at = `features[${i}]`;
    if (!isObject(f) || typeof f.name !== "string") return fail(`${at}.name`, "must be a string");
    const stats = f.inferred_type === "String" ? f.string_statistics : f.numerical_statistics;
    const key = f.inferred_type === "String" ? "string_statistics" : "numerical_statistics";
    if (!isObject(stats) || !isObject(stats.common) || !isObject(stats.distribution)) return fail(`${at}.${key}`, "must have common and distribution");
    count(stats.common.num_present, `${at}.${key}.common.num_present`);
    count(stats.common.num_missing, `${at}.${key}.common.num_missing`);
    const dist = f.inferred_type === "String" ? stats.distribution.categorical : stats.distribution.kll;
    const buckets = isObject(dist) ? dist.buckets : undefined;
    if (!Array.isArray(buckets)) return fail(`${at}.${key}.distribution`, "must have buckets");
    buckets.forEach((b: unknown, k) => {
      const bt = `${at}.${key}.distribution buckets[${k}]`;
      if (!isObject(b)) return fail(bt, "must be an object");
      count(b.count, `${bt}.count`);
      if (f.inferred_type === "String" ? typeof b.value !== "string" : typeof b.upper_bound !== "number") fail(bt, "has no value or upper_bound");
    });
    if (f.inferred_type !== "String" && f.inferred_type !== "Fractional" && f.inferred_type !== "Integral")
      fail(`${at}.inferred_type`, `is ${JSON.stringify(f.inferred_type)}`);
  });
  return doc as unknown as BaselineStatistics;
}
