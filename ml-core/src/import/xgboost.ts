/**
 * Reading a model XGBoost saved (`Booster.save_model`, JSON or UBJSON: one document, two
 * spellings) into ml-core's trees, so that ml-core's predictor scores it. What XGBoost decides,
 * and how it maps:
 *
 * - Thresholds and leaf values are float32 in the file, and XGBoost turns every input value into
 *   a float32 before comparing (its DMatrix stores float32), then goes left when `x < threshold`.
 *   ml-core compares the float64 input with `x <= threshold`. `leftBound` gives, per split, the
 *   largest float64 whose float32 rounding is below XGBoost's threshold, so every row takes
 *   XGBoost's path exactly, whatever the input's precision.
 * - Leaf values are summed in float64 here; XGBoost sums them in float32 and returns float32.
 *   Hence scores differ by XGBoost's float32 rounding only: about 1e-7 on probabilities, and a
 *   relative 1e-7 (a few float32 ulps) on a regression value.
 * - Missing values (NaN) go the split's `default_left` side, as in XGBoost.
 * - `base_score` is stored in the output's space (a probability for binary:logistic) in every
 *   version; from 2.0 XGBoost estimates it from the data, 3.x may spell it as a one-element list.
 *   The margin is logit(base_score) for binary:logistic and base_score for reg:squarederror and
 *   for every class of multi:softprob (a shift of every class's margin, which softmax ignores).
 * - All trees are used, as `Booster.predict` does by default and as SageMaker's container serves
 *   (its early stopping saves the best round's model only).
 *
 * Only gbtree models with numeric splits and the objectives ml-core has are taken; anything else
 * is refused with a message naming what.
 */
import type { Objective, TreeJson } from "../gbdt/types";
import { decodeUbjson, UbjsonError, type UbjsonValue } from "./ubjson";

export class XgboostModelError extends Error {
  override readonly name = "XgboostModelError";
}

/** XGBoost's objectives ml-core scores, and the ml-core objective each becomes. */
export const XGBOOST_OBJECTIVES: Readonly<Record<string, Objective>> = {
  "binary:logistic": "binary",
  "multi:softprob": "multiclass",
  "reg:squarederror": "regression",
};

/** What an XGBoost model holds, in ml-core's terms. */
export interface ImportedXgboostModel {
  readonly objective: Objective;
  /** Class labels: XGBoost's labels are 0 … k-1, named by their number; null for regression. */
  readonly classes: string[] | null;
  /** The model's feature names, or f0, f1, … (ml-core's names for a headerless CSV) when it has none. */
  readonly featureNames: string[];
  /** Raw score before any tree, per output. */
  readonly baseline: number[];
  readonly trees: TreeJson[];
  /** Where it came from, for the model's record. */
  readonly source: { readonly format: "json" | "ubjson"; readonly xgboostVersion: string; readonly objective: string; readonly baseScore: number };
}

/**
 * Whether the bytes look like a model XGBoost saved as JSON or UBJSON (both begin with `{`; JSON
 * is then followed by a quote or white space, UBJSON by a length's type marker). XGBoost's legacy
 * binary format begins otherwise (`binf` or a raw header).
 */
export function xgboostFormatOf(bytes: Uint8Array): "json" | "ubjson" | undefined {
  if (bytes[0] !== 0x7b) return undefined;
  const next = bytes[1];
  if (next === 0x22 || next === 0x20 || next === 0x0a || next === 0x0d || next === 0x09 || next === 0x7d) return "json";
  return "ubjson";
}

/** Reads an XGBoost model file's bytes; `source` names it in errors. */
export function readXgboostModel(bytes: Uint8Array, source: string): ImportedXgboostModel {
  const format = xgboostFormatOf(bytes);
  if (format === undefined) {
    throw new XgboostModelError(
      `${source} is not an XGBoost model in JSON or UBJSON: XGBoost before 2.1 saves a file name without .json or .ubj in its legacy binary format, which ml-core does not read; save it as model.json or model.ubj (or train with an XGBoost 2.1+ container)`,
    );
  }
  let doc: UbjsonValue;
  try {
    doc = format === "json" ? (JSON.parse(Buffer.from(bytes).toString("utf8")) as UbjsonValue) : decodeUbjson(bytes);
  } catch (e) {
    if (e instanceof SyntaxError || e instanceof UbjsonError)
      throw new XgboostModelError(`${source} is not valid ${format === "json" ? "JSON" : "UBJSON"}: ${e.message}`);
    throw e;
  }
  return convert(doc, format, source);
}

function convert(doc: UbjsonValue, format: "json" | "ubjson", source: string): ImportedXgboostModel {
  const fail = (where: string, what: string): never => {
    throw new XgboostModelError(`${source}: ${where} ${what}`);
  };
  const learner = field(doc, "learner") ?? fail("learner", "is missing: not an XGBoost model document");
  const objectiveName = str(field(field(learner, "objective"), "name")) ?? fail("learner.objective.name", "is missing");
  const objective =
    XGBOOST_OBJECTIVES[objectiveName] ??
    fail("objective", `${JSON.stringify(objectiveName)} is not supported; ml-core serves ${Object.keys(XGBOOST_OBJECTIVES).join(", ")}`);
  const booster = field(learner, "gradient_booster");
  const boosterName = str(field(booster, "name"));
  if (boosterName !== "gbtree")
    fail(
      "gradient_booster.name",
      `${JSON.stringify(boosterName)} is not supported; ml-core serves gbtree models (dart and gblinear weigh or combine trees otherwise)`,
    );
  const param = field(learner, "learner_model_param") ?? fail("learner.learner_model_param", "is missing");
  const nFeatures = numberOf(field(param, "num_feature"));
  if (nFeatures === undefined || !Number.isInteger(nFeatures) || nFeatures < 1) fail("learner_model_param.num_feature", "must be a positive integer");
  const numClass = numberOf(field(param, "num_class")) ?? 0;
  const nOut = objective === "multiclass" ? numClass : 1;
  if (objective === "multiclass" && !(Number.isInteger(numClass) && numClass >= 2))
    fail("learner_model_param.num_class", `(${numClass}) must be at least 2 for multi:softprob`);
  const numTarget = numberOf(field(param, "num_target")) ?? 1;
  if (numTarget !== 1) fail("learner_model_param.num_target", `(${numTarget}): multi-target models are not supported`);
  const baseScore = baseScoreOf(field(param, "base_score"), (what) => fail("learner_model_param.base_score", what));
  const margin = objective === "binary" ? logit(baseScore, (what) => fail("learner_model_param.base_score", what)) : baseScore;

  const model = field(booster, "model");
  const trees = field(model, "trees");
  const treeInfo = field(model, "tree_info");
  if (!Array.isArray(trees) || !Array.isArray(treeInfo) || trees.length !== treeInfo.length)
    fail("gradient_booster.model", "needs trees and tree_info of one length");
  const names = field(learner, "feature_names");
  const featureNames =
    Array.isArray(names) && names.length === nFeatures && names.every((n) => typeof n === "string")
      ? (names as string[])
      : Array.from({ length: nFeatures! }, (_, i) => `f${i}`);
  const types = field(learner, "feature_types");
  if (Array.isArray(types) && types.some((t) => t === "c"))
    fail("feature_types", 'include categorical features ("c"); ml-core imports numeric XGBoost features only');

  return {
    objective,
    classes: objective === "regression" ? null : Array.from({ length: objective === "binary" ? 2 : numClass }, (_, k) => String(k)),
    featureNames,
    baseline: new Array<number>(nOut).fill(margin),
    trees: (trees as UbjsonValue[]).map((t, i) => {
      const output = numberOf((treeInfo as UbjsonValue[])[i]);
      if (output === undefined || !Number.isInteger(output) || output < 0 || output >= nOut) fail(`tree_info[${i}]`, `must be an output in 0-${nOut - 1}`);
      return convertTree(t, output!, nFeatures!, (what) => fail(`trees[${i}]`, what));
    }),
    source: { format, xgboostVersion: versionOf(field(doc, "version")), objective: objectiveName, baseScore },
  };
}

/**
 * One XGBoost tree as ml-core's columnar tree, its nodes renumbered in depth-first order so that
 * children follow their parent (ml-core's loader relies on it; XGBoost may reuse pruned slots).
 */
function convertTree(t: UbjsonValue, output: number, nFeatures: number, fail: (what: string) => never): TreeJson {
  const arr = (k: string): number[] => {
    const a = field(t, k);
    if (!Array.isArray(a) || !a.every((v) => typeof v === "number")) fail(`${k} must be an array of numbers`);
    return a as number[];
  };
  const left = arr("left_children");
  const right = arr("right_children");
  const index = arr("split_indices");
  const cond = arr("split_conditions");
  const defaultLeft = arr("default_left");
  const lossChange = arr("loss_changes");
  const splitType = field(t, "split_type");
  const n = left.length;
  if ([right, index, cond, defaultLeft, lossChange].some((a) => a.length !== n) || n === 0) fail("node arrays must be non-empty and of one length");
  if (Array.isArray(splitType) && splitType.some((s) => s !== 0)) fail("has categorical splits; ml-core imports numeric splits only");

  const out: { feature: number[]; threshold: (number | null)[]; missingLeft: number[]; left: number[]; right: number[]; value: number[]; gain: number[] } = {
    feature: [],
    threshold: [],
    missingLeft: [],
    left: [],
    right: [],
    value: [],
    gain: [],
  };
  // Depth-first with an explicit stack: [XGBoost node, the slot of its parent's child pointer to fill].
  const stack: Array<[number, number, "left" | "right" | undefined]> = [[0, -1, undefined]];
  const seen = new Uint8Array(n);
  while (stack.length > 0) {
    const [node, parent, side] = stack.pop()!;
    if (!Number.isInteger(node) || node < 0 || node >= n || seen[node]) fail(`node reference ${node} is out of range or shared`);
    seen[node] = 1;
    const id = out.feature.length;
    if (side !== undefined) out[side][parent] = id;
    const l = left[node]!;
    if (l === -1) {
      out.feature.push(-1);
      out.threshold.push(null);
      out.missingLeft.push(0);
      out.left.push(-1);
      out.right.push(-1);
      out.value.push(Math.fround(cond[node]!)); // a leaf's value is its split_condition
      out.gain.push(0);
      continue;
    }
    const f = index[node]!;
    if (!Number.isInteger(f) || f < 0 || f >= nFeatures) fail(`node ${node}: feature ${f} is out of range (the model has ${nFeatures})`);
    out.feature.push(f);
    out.threshold.push(leftBound(Math.fround(cond[node]!)));
    out.missingLeft.push(defaultLeft[node] ? 1 : 0);
    out.left.push(-1);
    out.right.push(-1);
    out.value.push(0);
    out.gain.push(Math.fround(lossChange[node]!));
    // Right pushed first: the left subtree is numbered first, as XGBoost numbers it.
    stack.push([right[node]!, id, "right"], [l, id, "left"]);
  }
  const size = out.feature.length;
  return {
    output,
    ...out,
    categoriesLeft: new Array<null>(size).fill(null),
    // XGBoost records hessian sums, not row counts.
    count: new Array<number>(size).fill(0),
  };
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/**
 * The largest float64 `b` such that every float64 `x <= b` rounds (to nearest, ties to even, as
 * C's float cast does) to a float32 below `t`: ml-core's `x <= b` is then XGBoost's
 * `(float)x < t`. That is the midpoint between `t` and the float32 below it, or the float64 just
 * under the midpoint when the tie rounds up to `t`.
 */
export function leftBound(t: number): number {
  if (Number.isNaN(t)) return t;
  if (t === -Infinity) return -Infinity; // nothing goes left; -Infinity itself goes right in XGBoost too, and `<=` sends it left: see below
  const below = previousFloat32(t);
  if (below === -Infinity) return -Number.MAX_VALUE; // only -Infinity (and values rounding to it) lie below
  const mid = (below + t) / 2; // exact: a float32 midpoint needs 25 significant bits
  return Math.fround(mid) === below ? mid : previousFloat64(mid);
}

/** The float32 just below float32 `t`. */
function previousFloat32(t: number): number {
  if (t === 0) return -1.401298464324817e-45; // below ±0: the negative smallest subnormal
  f32[0] = t;
  u32[0] = t > 0 ? u32[0]! - 1 : u32[0]! + 1;
  return f32[0];
}

const f64 = new Float64Array(1);
const u64 = new BigUint64Array(f64.buffer);

/** The float64 just below a finite, non-zero `x`. */
function previousFloat64(x: number): number {
  f64[0] = x;
  u64[0] = x > 0 ? u64[0]! - 1n : u64[0]! + 1n;
  return f64[0];
}

function baseScoreOf(v: UbjsonValue | undefined, fail: (what: string) => never): number {
  let x: unknown = v;
  if (typeof x === "string" && x.trim().startsWith("[")) {
    try {
      x = JSON.parse(x);
    } catch {
      fail(`${JSON.stringify(v)} is not a number`);
    }
  }
  if (Array.isArray(x)) {
    if (x.length !== 1) fail(`has ${x.length} values; ml-core imports a single intercept only`);
    x = x[0];
  }
  const n = numberOf(x as UbjsonValue);
  if (n === undefined || !Number.isFinite(n)) fail(`${JSON.stringify(v)} is not a number`);
  return Math.fround(n!);
}

function logit(p: number, fail: (what: string) => never): number {
  if (!(p > 0 && p < 1)) fail(`(${p}) must lie strictly between 0 and 1 for binary:logistic`);
  return Math.log(p / (1 - p));
}

function versionOf(v: UbjsonValue | undefined): string {
  return Array.isArray(v) && v.every((x) => typeof x === "number") ? v.join(".") : "unknown";
}

function field(v: UbjsonValue | undefined, key: string): UbjsonValue | undefined {
  return typeof v === "object" && v !== null && !Array.isArray(v) && Object.hasOwn(v, key) ? v[key] : undefined;
}

function str(v: UbjsonValue | undefined): string | undefined {
  return typeof v === "string" ? v : undefined;
}

/** XGBoost writes most parameters as strings ("5E-1", "3"). */
function numberOf(v: UbjsonValue | undefined): number | undefined {
  if (typeof v === "number") return v;
  if (typeof v === "string" && v.trim() !== "") {
    const n = Number(v);
    return Number.isNaN(n) ? undefined : n;
  }
  return undefined;
}
