/**
 * Hyperparameters: the one table of names, defaults and allowed values, and the parser that turns
 * SageMaker's `hyperparameters.json` (every value a string) or `--hp key=value` pairs into typed
 * training parameters. Every problem is collected and reported at once, with the valid choices.
 */
import type { LayoutOptions } from "../data/table";
import type { GrowPolicy } from "../gbdt/grower";
import type { HistogramSchedule } from "../gbdt/training-threads";
import { MAX_BINS } from "../gbdt/types";
import { METRIC_NAMES } from "../eval/metrics";
import { stoppingMetricProblem } from "./stopping-metric";
import { parseMonotoneConstraints, type MonotoneSpec } from "./monotone";
import type { FitParams } from "./session";

type Kind =
  | { type: "int"; min: number; max: number }
  | { type: "float"; min: number; max: number; minExclusive?: boolean }
  | { type: "enum"; values: readonly string[] }
  | { type: "string" };

export interface HyperparameterSpec {
  readonly name: string;
  readonly kind: Kind;
  /** Default as a string; undefined when the default depends on other values (see `doc`). */
  readonly default: string | undefined;
  readonly doc: string;
}

/** AWS: at most 100 hyperparameters, keys and values at most 256 characters (CreateTrainingJob). */
export const MAX_HYPERPARAMETER_LENGTH = 256;

export const HYPERPARAMETERS: readonly HyperparameterSpec[] = [
  {
    name: "objective",
    kind: { type: "enum", values: ["auto", "binary", "multiclass", "regression"] },
    default: "auto",
    doc: "auto: text labels or exactly two distinct numeric labels give classification (binary or multiclass), other numeric labels regression.",
  },
  {
    name: "label",
    kind: { type: "string" },
    default: undefined,
    doc: "Name of the label column; the CSV files then have a header row. Unset: no header, the label is the first column (SageMaker built-in algorithms' convention) and features are named f0, f1, ...",
  },
  {
    name: "categorical_columns",
    kind: { type: "string" },
    default: "",
    doc: "Comma-separated feature names to treat as categorical even if their values look numeric. Other columns are categorical only when every non-missing value in their first 1000 rows is text; a column that mixes numbers and text there is an error.",
  },
  {
    name: "ignore_columns",
    kind: { type: "string" },
    default: "",
    doc: "Comma-separated column names that are neither label nor feature (ids, other targets).",
  },
  { name: "num_round", kind: { type: "int", min: 1, max: 100_000 }, default: "100", doc: "Boosting rounds (trees per output)." },
  { name: "learning_rate", kind: { type: "float", min: 0, max: 1, minExclusive: true }, default: "0.1", doc: "Shrinkage applied to every leaf value." },
  {
    name: "grow_policy",
    kind: { type: "enum", values: ["leafwise", "depthwise"] },
    default: "leafwise",
    doc: "leafwise: split the leaf with the largest gain first (LightGBM, scikit-learn); depthwise: level by level (XGBoost).",
  },
  {
    name: "max_leaf_nodes",
    kind: { type: "int", min: 0, max: 65_536 },
    default: undefined,
    doc: "Most leaves per tree; 0 = no limit. Default 31 for leafwise, 0 for depthwise. Must be 0 or at least 2.",
  },
  {
    name: "max_depth",
    kind: { type: "int", min: 0, max: 64 },
    default: undefined,
    doc: "Deepest level of a tree (root = 0); 0 = no limit. Default 0 for leafwise, 6 for depthwise.",
  },
  { name: "min_samples_leaf", kind: { type: "int", min: 1, max: 1e9 }, default: "20", doc: "Fewest training rows in a leaf." },
  {
    name: "min_sum_hessian_in_leaf",
    kind: { type: "float", min: 0, max: 1e9 },
    default: "0.001",
    doc: "Smallest hessian sum in a leaf (XGBoost's min_child_weight).",
  },
  { name: "l2_regularization", kind: { type: "float", min: 0, max: 1e9 }, default: "0", doc: "L2 penalty on leaf values (XGBoost's lambda)." },
  {
    name: "min_gain_to_split",
    kind: { type: "float", min: 0, max: 1e9 },
    default: "0",
    doc: "A split must gain more than this. Gains omit the ½ of the loss, as scikit-learn's do: XGBoost's gamma g is 2g here.",
  },
  {
    name: "max_bins",
    kind: { type: "int", min: 2, max: MAX_BINS },
    default: "255",
    doc: "Bins per numeric feature, and most categories kept per categorical feature (the most frequent; others read as missing).",
  },
  { name: "subsample", kind: { type: "float", min: 0, max: 1, minExclusive: true }, default: "1", doc: "Fraction of rows drawn for each round." },
  { name: "colsample_bytree", kind: { type: "float", min: 0, max: 1, minExclusive: true }, default: "1", doc: "Fraction of features drawn for each tree." },
  {
    name: "colsample_bynode",
    kind: { type: "float", min: 0, max: 1, minExclusive: true },
    default: "1",
    doc: "Fraction of the tree's features considered at each split.",
  },
  {
    name: "weight_column",
    kind: { type: "string" },
    default: "",
    doc: "Name of a column of sample weights (non-negative numbers; the data needs a header). A row of weight w counts as w rows in the bin thresholds, gradients, leaf values, early stopping and every metric. Not a feature.",
  },
  {
    name: "scale_pos_weight",
    kind: { type: "float", min: 0, max: 1e9, minExclusive: true },
    default: "1",
    doc: "Binary only: the training weight of positive rows is multiplied by this (XGBoost's; e.g. negatives / positives for unbalanced classes). Validation metrics are not reweighted.",
  },
  {
    name: "early_stopping_rounds",
    kind: { type: "int", min: 0, max: 100_000 },
    default: "10",
    doc: "With a validation channel: stop when the validation loss has not improved for this many rounds, and keep the model of the best round; 0 = off.",
  },
  {
    name: "early_stopping_metric",
    kind: { type: "enum", values: ["loss", ...METRIC_NAMES.classification, ...METRIC_NAMES.regression] },
    default: "loss",
    doc: "What early stopping watches on the validation channel: loss (the objective's: log loss, or squared error), or a metric: auc, logloss, accuracy, f1 (classification), rmse, mae, r2 (regression). The model of the round with the best value is kept.",
  },
  {
    name: "early_stopping_tol",
    kind: { type: "float", min: 0, max: 1e9 },
    default: "1e-7",
    doc: "An improvement must lower the validation loss by more than this.",
  },
  {
    name: "threads",
    kind: { type: "int", min: 0, max: 1024 },
    default: "0",
    doc: "Threads reading the training channel (plain CSV of 32 MiB or more) and training (gradients, partitions, histograms); 0 = every CPU the job sees (Node's availableParallelism: the instance's vCPUs on SageMaker). The model is the same for any thread count, so it is not recorded in the model.",
  },
  {
    name: "histogram_schedule",
    kind: { type: "enum", values: ["auto", "rows", "features"] },
    default: "auto",
    doc: "How threads share a node's histogram. Each unit of work is one block of 32,768 rows and a chunk of features, summed row by row: rows (every feature in one chunk, at most 8), features (one feature per unit), or auto (chunks just narrow enough that every thread gets two units or more), like LightGBM's force_row_wise and force_col_wise. The model is the same for every choice, so it is not recorded.",
  },
  {
    name: "checkpoint_interval",
    kind: { type: "string" },
    default: "0",
    doc: "Save a checkpoint every N rounds (10) or every N seconds (60s), written atomically, so a job killed without warning (SIGKILL, a lost instance) resumes from the last one and ends with the same model; 0 = only on SIGTERM. Needs a checkpoint directory (SageMaker's checkpoints/ or --checkpoint-dir).",
  },
  {
    name: "monotone_constraints",
    kind: { type: "string" },
    default: "",
    doc: "Features predictions may only rise (1) or only fall (-1) with: by name (distance:1,age:-1; others free) or one 1, -1 or 0 per feature in order ((1,0,-1), XGBoost's form). Enforced in split finding and leaf values; numeric features only.",
  },
  {
    name: "seed",
    kind: { type: "int", min: 0, max: 4_294_967_295 },
    default: "0",
    doc: "Seed of every random draw (binning sample, row and column subsampling). Same seed, data and hyperparameters: same model.",
  },
];

/** Hyperparameters that do not change the model, and so are not recorded in it. */
const NOT_RECORDED = new Set(["threads", "histogram_schedule", "checkpoint_interval"]);

/** When periodic checkpoints are written: every `rounds` rounds, or every `seconds` seconds; both 0 = never. */
export interface CheckpointInterval {
  readonly rounds: number;
  readonly seconds: number;
}

/** `checkpoint_interval`: "N" rounds or "Ns" seconds (N a positive integer), or "0". */
export function parseCheckpointInterval(text: string): CheckpointInterval | string {
  const m = /^(\d{1,9})(s?)$/.exec(text.trim());
  if (m === null) return `${JSON.stringify(text)} is not a number of rounds ("10"), of seconds ("60s") or 0`;
  const n = Number(m[1]);
  return m[2] === "s" ? { rounds: 0, seconds: n } : { rounds: n, seconds: 0 };
}

/** Keys SageMaker itself may add (automatic model tuning, framework estimators): accepted and ignored. */
export const IGNORED_PREFIXES = ["sagemaker_", "_tuning_objective_metric"];

export class HyperparameterError extends Error {
  override readonly name = "HyperparameterError";
}

export interface ParsedHyperparameters {
  readonly params: FitParams;
  readonly checkpointInterval: CheckpointInterval;
  readonly layout: Omit<LayoutOptions, "maxCategories">;
  /** Every hyperparameter with its effective value, as strings (recorded in the model). */
  readonly resolved: Record<string, string>;
}

export function parseHyperparameters(raw: Record<string, unknown>): ParsedHyperparameters {
  const problems: string[] = [];
  const specs = new Map(HYPERPARAMETERS.map((s) => [s.name, s]));
  const given: Record<string, string> = {};
  for (const [key, value] of Object.entries(raw)) {
    if (IGNORED_PREFIXES.some((p) => key.startsWith(p))) continue;
    if (!specs.has(key)) {
      problems.push(`unknown hyperparameter "${key}"; valid ones: ${HYPERPARAMETERS.map((s) => s.name).join(", ")}`);
      continue;
    }
    if (typeof value === "string") given[key] = value;
    else if (typeof value === "number" || typeof value === "boolean") given[key] = String(value);
    else problems.push(`${key}: ${JSON.stringify(value)} is not a string`);
    if (given[key] !== undefined && given[key].length > MAX_HYPERPARAMETER_LENGTH)
      problems.push(`${key}: value longer than ${MAX_HYPERPARAMETER_LENGTH} characters`);
  }
  const values = new Map<string, string | number>();
  for (const spec of HYPERPARAMETERS) {
    const text = given[spec.name];
    if (text === undefined) continue;
    const v = parseValue(spec, text.trim());
    if (typeof v === "string" && spec.kind.type !== "enum" && spec.kind.type !== "string") problems.push(`${spec.name}: ${v}`);
    else if (spec.kind.type === "enum" && !spec.kind.values.includes(text.trim()))
      problems.push(`${spec.name}: ${JSON.stringify(text)} is not one of ${spec.kind.values.join(", ")}`);
    else values.set(spec.name, v);
  }
  const get = <T extends string | number>(name: string): T =>
    (values.get(name) ?? parseValue(specs.get(name) as HyperparameterSpec, (specs.get(name) as HyperparameterSpec).default as string)) as T;
  const growPolicy = get<GrowPolicy>("grow_policy");
  const maxLeafNodes = (values.get("max_leaf_nodes") as number | undefined) ?? (growPolicy === "leafwise" ? 31 : 0);
  const maxDepth = (values.get("max_depth") as number | undefined) ?? (growPolicy === "depthwise" ? 6 : 0);
  if (maxLeafNodes === 1) problems.push("max_leaf_nodes: 1 is not allowed (0 = no limit, or at least 2)");
  if (growPolicy === "depthwise" && maxDepth === 0 && maxLeafNodes === 0)
    problems.push("grow_policy depthwise needs max_depth or max_leaf_nodes to bound the tree");
  const label = values.get("label") as string | undefined;
  if (label !== undefined && label.length === 0) problems.push(`label: must name a column (or be left out for headerless data)`);
  const stoppingMetric = get<string>("early_stopping_metric");
  const objective = get<string>("objective");
  if (objective !== "auto" && stoppingMetric !== "loss") {
    const problem = stoppingMetricProblem(objective === "regression" ? "regression" : "classification", stoppingMetric);
    if (problem !== undefined) problems.push(`early_stopping_metric: ${problem}`);
  }
  const scalePosWeight = get<number>("scale_pos_weight");
  if (scalePosWeight !== 1 && objective !== "auto" && objective !== "binary")
    problems.push(`scale_pos_weight: applies to binary classification only, objective is ${objective}`);
  const monotone = parseMonotoneConstraints(get<string>("monotone_constraints"));
  if (typeof monotone === "string") problems.push(`monotone_constraints: ${monotone}`);
  const checkpointInterval = parseCheckpointInterval(get<string>("checkpoint_interval"));
  if (typeof checkpointInterval === "string") problems.push(`checkpoint_interval: ${checkpointInterval}`);
  if (problems.length > 0) throw new HyperparameterError(`invalid hyperparameters:\n  ${problems.join("\n  ")}`);

  const categoricalColumns = (get<string>("categorical_columns") || "")
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  const params: FitParams = {
    objective: get("objective"),
    maxBins: get("max_bins"),
    numRound: get("num_round"),
    learningRate: get("learning_rate"),
    growPolicy,
    maxLeafNodes,
    maxDepth,
    minSamplesLeaf: get("min_samples_leaf"),
    minSumHessianInLeaf: get("min_sum_hessian_in_leaf"),
    l2Regularization: get("l2_regularization"),
    minGainToSplit: get("min_gain_to_split"),
    subsample: get("subsample"),
    colsampleBytree: get("colsample_bytree"),
    colsampleBynode: get("colsample_bynode"),
    earlyStoppingRounds: get("early_stopping_rounds"),
    earlyStoppingTol: get("early_stopping_tol"),
    seed: get("seed"),
    threads: get("threads"),
    histogramSchedule: get<HistogramSchedule>("histogram_schedule"),
    earlyStoppingMetric: stoppingMetric,
    scalePosWeight,
    monotoneConstraints: monotone as MonotoneSpec | undefined,
  };
  const resolved: Record<string, string> = {};
  for (const spec of HYPERPARAMETERS) {
    // How the work is spread does not change the model: left out of model.json and of a checkpoint's fingerprint.
    if (NOT_RECORDED.has(spec.name)) continue;
    const v = spec.name === "max_leaf_nodes" ? maxLeafNodes : spec.name === "max_depth" ? maxDepth : (values.get(spec.name) ?? spec.default);
    if (v !== undefined) resolved[spec.name] = String(v);
  }
  const ignoreColumns = (get<string>("ignore_columns") || "")
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  const weightColumn = get<string>("weight_column").trim();
  return {
    params,
    checkpointInterval: checkpointInterval as CheckpointInterval,
    layout: { labelColumn: label, categoricalColumns, ignoreColumns, ...(weightColumn !== "" ? { weightColumn } : {}) },
    resolved,
  };
}

/** The typed value, or a string describing what is wrong (for numeric kinds). */
function parseValue(spec: HyperparameterSpec, text: string): string | number {
  const k = spec.kind;
  if (k.type === "enum" || k.type === "string") return text;
  const allowed = k.type === "int" ? `an integer in ${k.min}-${k.max}` : `a number in ${k.minExclusive ? "(" : "["}${k.min}, ${k.max}]`;
  const v = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text) ? Number(text) : NaN;
  if (!Number.isFinite(v) || (k.type === "int" && !Number.isInteger(v))) return `${JSON.stringify(text)} is not ${allowed}`;
  if (v < k.min || v > k.max || (k.type === "float" && k.minExclusive && v === k.min)) return `${JSON.stringify(text)} is out of range (allowed: ${allowed})`;
  return v;
}
