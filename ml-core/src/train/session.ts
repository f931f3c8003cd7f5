/**
 * The training pipeline, pure: tables in, model out. Resolves the objective and classes from the
 * label, bins the features, runs the booster, evaluates the kept model, and assembles `model.json`.
 * It is a step-by-step session (not one call) so that the runtime can interleave rounds with
 * signal handling and checkpoints; it never reads the environment or the file system.
 */
import { createHash } from "node:crypto";
import { availableParallelism } from "node:os";
import type { DataSchema, LabelColumn } from "../data/table";
import type { BinnedTable } from "./binned-data";
import { binaryMetricsInPlace, computeMetrics } from "../eval/metrics";
import type { BinMapper } from "../gbdt/binning";
import { Booster, type BoosterOptions, type BoosterState } from "../gbdt/booster";
import { lossFor } from "../gbdt/loss";
import { FlatPredictor, sigmoid, softmaxInPlace } from "../model/flat-predictor";

import { featureImportance } from "../model/importance";
import { MODEL_FORMAT, MODEL_FORMAT_VERSION, type FeatureSchema, type ModelJson } from "../model/format";
import type { Objective } from "../model/predictor";
import { stoppingMetric } from "./stopping-metric";
import { resolveMonotoneConstraints, type MonotoneSpec } from "./monotone";

export const ML_CORE_VERSION = "0.1.0";
export const CHECKPOINT_VERSION = 1;

export interface FitParams extends BoosterOptions {
  readonly objective: Objective | "auto";
  readonly maxBins: number;
  /** "loss", or a metric name of eval/metrics.ts that early stopping watches instead. */
  readonly earlyStoppingMetric: string;
  /** Binary: positive training rows' weight is multiplied by this (1 = unchanged). */
  readonly scalePosWeight: number;
  /** Monotonic constraints as given (resolved against the features here). */
  readonly monotoneConstraints?: MonotoneSpec;
}

/** Binning's own seed, derived from `seed` so that binning is the same whatever boosting draws. */
export function binningSeed(seed: number): number {
  return (seed ^ 0x5bd1e995) >>> 0;
}

export interface FitInput {
  readonly schema: DataSchema;
  /** The bins the tables were read with (`readBinnedTrainingData`). */
  readonly mapper: BinMapper;
  readonly train: BinnedTable;
  readonly validation?: BinnedTable;
  readonly params: FitParams;
  /** Recorded in the model as given (strings, defaults resolved by the caller). */
  readonly hyperparameters: Record<string, string>;
}

export interface Checkpoint {
  readonly checkpointVersion: number;
  /** Identifies data and hyperparameters: a checkpoint only resumes the run that wrote it. */
  readonly fingerprint: string;
  readonly state: BoosterState;
}

export interface RoundProgress {
  readonly round: number;
  readonly numRound: number;
  readonly trainLoss: number;
  readonly validationLoss: number | undefined;
  /** The metric early stopping watches, when it is not the loss. */
  readonly validationMetric: { readonly name: string; readonly value: number } | undefined;
}

export interface FitResult {
  readonly model: ModelJson;
  /** Flat `<channel>:<metric>` map, as printed and as in metrics.json. */
  readonly metrics: Record<string, number>;
  readonly lossHistory: { readonly validation: number[] };
}

export class LabelError extends Error {
  override readonly name = "LabelError";
}

export class TrainingSession {
  readonly objective: Objective;
  readonly classes: string[] | null;
  readonly fingerprint: string;
  private readonly booster: Booster;
  private readonly yTrain: Float64Array;
  private readonly yValid: Float64Array | undefined;
  /** Training weights (weight column times scale_pos_weight); none when every row counts once. */
  private readonly wTrain: Float64Array | undefined;
  private readonly wValid: Float64Array | undefined;
  private readonly trainWeightsAsGiven: Float64Array | undefined;

  /** What `finish` needs of the input; the tables themselves (labels above all) are not kept. */
  private readonly input: Pick<FitInput, "schema" | "hyperparameters" | "params"> & {
    train: Pick<BinnedTable, "dataHash" | "nRows">;
    validation: Pick<BinnedTable, "nRows"> | undefined;
  };

  constructor(input: FitInput, resume?: Checkpoint) {
    const { schema, train, validation, params, mapper } = input;
    this.input = {
      schema,
      hyperparameters: input.hyperparameters,
      params,
      train: { dataHash: train.dataHash, nRows: train.nRows },
      validation: validation && { nRows: validation.nRows },
    };
    const labels = resolveLabels(params.objective, schema.label, train.label, validation?.label);
    this.objective = labels.objective;
    this.classes = labels.classes;
    this.yTrain = labels.yTrain;
    this.yValid = labels.yValid;
    this.fingerprint = fingerprintOf(input);
    if (params.scalePosWeight !== 1 && this.objective !== "binary")
      throw new LabelError(`scale_pos_weight applies to binary classification only; the label makes this ${this.objective}`);
    this.wTrain = trainingWeights(train.weights, this.yTrain, params.scalePosWeight);
    this.wValid = validation?.weights;
    this.trainWeightsAsGiven = train.weights;

    const loss = lossFor(this.objective, this.classes?.length ?? 0);
    let state: BoosterState | undefined;
    if (resume !== undefined) {
      if (resume.checkpointVersion !== CHECKPOINT_VERSION || resume.fingerprint !== this.fingerprint) {
        throw new Error("checkpoint does not match this data and these hyperparameters");
      }
      state = resume.state;
    }
    this.booster = new Booster(
      loss,
      mapper,
      { bins: train.bins, nRows: train.nRows, y: this.yTrain, weights: this.wTrain },
      validation && this.yValid ? { bins: validation.bins, nRows: validation.nRows, y: this.yValid, weights: this.wValid } : undefined,
      // threads 0: every CPU this process may use.
      {
        ...params,
        threads: params.threads > 0 ? params.threads : availableParallelism(),
        monotone: resolveMonotoneConstraints(params.monotoneConstraints, schema.features),
      },
      state,
      this.yValid && stoppingMetric(params.earlyStoppingMetric, this.objective, this.classes?.length ?? 0, this.yValid, this.wValid),
    );
  }

  /** Stops the session's threads (idempotent); `finish` does it too. */
  close(): void {
    this.booster.close();
  }

  get done(): boolean {
    return this.booster.done;
  }

  get round(): number {
    return this.booster.roundsRun;
  }

  step(): void {
    this.booster.step();
  }

  progress(): RoundProgress {
    const metric = this.booster.currentValidationMetric();
    return {
      round: this.booster.roundsRun,
      numRound: this.input.params.numRound,
      trainLoss: this.booster.currentTrainLoss(),
      validationLoss: this.booster.currentValidationLoss(),
      validationMetric:
        metric === undefined || this.booster.stoppingMetric === undefined ? undefined : { name: this.booster.stoppingMetric.name, value: metric },
    };
  }

  checkpoint(): Checkpoint {
    return { checkpointVersion: CHECKPOINT_VERSION, fingerprint: this.fingerprint, state: this.booster.state() };
  }

  /** Evaluates and assembles the model. Ends the session: its prediction buffers are reused. */
  finish(): FitResult {
    const { schema, train, validation, hyperparameters } = this.input;
    this.booster.close();
    const result = this.booster.result();
    const nClasses = this.classes?.length ?? 0;
    const metrics: Record<string, number> = {};
    const add = (channel: string, y: Float64Array, raw: Float64Array, w: Float64Array | undefined): void => {
      // Sorted for the AUC in the booster's row buffers, not in a new array (see sortFloat64).
      // Probabilities overwrite the raw scores in place: no second copy of a large training set.
      let m: Record<string, number>;
      if (w !== undefined) {
        m = computeMetrics(this.objective, y, probabilities(this.objective, raw, y.length, nClasses), nClasses, w);
      } else if (this.objective === "binary") {
        for (let i = 0; i < y.length; i++) raw[i] = 1 / (1 + Math.exp(-raw[i]!));
        m = binaryMetricsInPlace(y, raw, result.scratch);
      } else {
        if (this.objective === "multiclass") for (let i = 0; i < y.length; i++) softmaxInPlace(raw, i * nClasses, nClasses);
        m = computeMetrics(this.objective, y, raw, nClasses);
      }
      for (const [k, v] of Object.entries(m)) metrics[`${channel}:${k}`] = v;
    };
    // Training metrics with the training weights as given (weight column), not scale_pos_weight's.
    add("train", this.yTrain, result.trainRaw, this.trainWeightsAsGiven);
    if (this.yValid && result.validRaw) add("validation", this.yValid, result.validRaw, this.wValid);

    const features: FeatureSchema[] = schema.features.map((f) =>
      f.kind === "categorical" ? { name: f.name, kind: "categorical", categories: f.categories ?? [] } : { name: f.name, kind: "numeric" },
    );
    const model: ModelJson = {
      format: MODEL_FORMAT,
      formatVersion: MODEL_FORMAT_VERSION,
      objective: this.objective,
      label: schema.label,
      classes: this.classes,
      features,
      baseline: Array.from(this.booster.baseline),
      trees: result.trees,
      hyperparameters,
      training: {
        dataHash: train.dataHash,
        trainRows: train.nRows,
        validationRows: validation?.nRows ?? 0,
        rounds: result.rounds,
        roundsRun: this.booster.roundsRun,
        stoppedEarly: this.booster.stoppedEarly,
        mlCoreVersion: ML_CORE_VERSION,
      },
      metrics,
      featureImportance: featureImportance(features, result.trees),
    };
    // The shipped predictor must accept what we wrote (fails loudly on any format slip).
    new FlatPredictor(model);
    return { model, metrics, lossHistory: { validation: this.booster.state().validationLoss } };
  }
}

/** The weight column's weights with positives scaled by `scalePosWeight`; undefined when all are 1. */
function trainingWeights(weights: Float64Array | undefined, y: Float64Array, scalePosWeight: number): Float64Array | undefined {
  if (scalePosWeight === 1) return weights;
  const w = weights === undefined ? new Float64Array(y.length).fill(1) : weights.slice();
  for (let i = 0; i < y.length; i++) if (y[i] === 1) w[i]! *= scalePosWeight;
  return w;
}

/** Probabilities (classification, nRows × nClasses) or values (regression) from raw scores. */
export function probabilities(objective: Objective, raw: Float64Array, n: number, nClasses: number): Float64Array {
  if (objective === "regression") return raw;
  if (objective === "binary") {
    const out = new Float64Array(n * 2);
    for (let i = 0; i < n; i++) {
      const p = sigmoid(raw[i]!);
      out[2 * i] = 1 - p;
      out[2 * i + 1] = p;
    }
    return out;
  }
  const out = raw.slice();
  for (let i = 0; i < n; i++) softmaxInPlace(out, i * nClasses, nClasses);
  return out;
}

/** Identifies a run's data and hyperparameters (what a checkpoint must match to be resumed). */
export function fingerprintOf(input: Pick<FitInput, "train" | "validation" | "hyperparameters">): string {
  const h = createHash("sha256");
  h.update(input.train.dataHash);
  h.update(input.validation?.dataHash ?? "-");
  const hp = input.hyperparameters;
  h.update(
    JSON.stringify(
      Object.keys(hp)
        .sort()
        .map((k) => [k, hp[k]]),
    ),
  );
  return `sha256:${h.digest("hex")}`;
}

interface ResolvedLabels {
  objective: Objective;
  classes: string[] | null;
  yTrain: Float64Array;
  yValid: Float64Array | undefined;
}

/**
 * Decides the objective (for "auto": text labels or exactly two distinct numbers → classification,
 * else regression) and turns labels into class indices or values. The returned label arrays are
 * the columns' own `numeric` arrays, overwritten in place with class indices for classification
 * (training data can be large; a second copy of the label is avoidable).
 */
export function resolveLabels(objective: Objective | "auto", labelName: string, train: LabelColumn, valid: LabelColumn | undefined): ResolvedLabels {
  const n = train.numeric.length;
  const numericValues = new Set<number>();
  const codes = train.textCode;
  for (let i = 0; i < n; i++) if (codes === undefined || codes[i]! < 0) numericValues.add(train.numeric[i]!);
  const hasText = train.texts.length > 0;
  let resolved: Objective;
  if (objective === "auto") {
    const distinct = numericValues.size + train.texts.length;
    resolved = hasText ? (distinct === 2 ? "binary" : "multiclass") : distinct === 2 ? "binary" : "regression";
  } else {
    resolved = objective;
  }
  if (resolved === "regression") {
    if (hasText) throw new LabelError(`objective regression needs a numeric label, but column "${labelName}" has ${JSON.stringify(train.texts[0])}`);
    return { objective: resolved, classes: null, yTrain: train.numeric, yValid: valid ? numericValidation(valid, labelName) : undefined };
  }
  // Classes: numeric labels in numeric order, then text labels in text order.
  const classes = [...[...numericValues].sort((a, b) => a - b).map(String), ...[...train.texts].sort()];
  if (classes.length < 2) throw new LabelError(`column "${labelName}" has a single value (${classes[0]}): nothing to classify`);
  if (resolved === "binary" && classes.length !== 2) {
    throw new LabelError(
      `objective binary needs exactly 2 label values, column "${labelName}" has ${classes.length} (${classes.slice(0, 10).join(", ")}${classes.length > 10 ? ", …" : ""}); use objective=multiclass`,
    );
  }
  const index = new Map(classes.map((c, i) => [c, i]));
  const encode = (col: LabelColumn, channel: string): Float64Array => {
    const y = col.numeric;
    for (let i = 0; i < y.length; i++) {
      const code = col.textCode === undefined ? -1 : col.textCode[i]!;
      const name = code < 0 ? String(col.numeric[i]!) : col.texts[code]!;
      const k = index.get(name);
      if (k === undefined)
        throw new LabelError(`${channel} label ${JSON.stringify(name)} (row ${i + 1}) is not one of the training classes: ${classes.join(", ")}`);
      y[i] = k;
    }
    return y;
  };
  return { objective: resolved, classes, yTrain: encode(train, "train"), yValid: valid ? encode(valid, "validation") : undefined };
}

function numericValidation(valid: LabelColumn, labelName: string): Float64Array {
  if (valid.texts.length > 0) throw new LabelError(`validation column "${labelName}" has non-numeric label ${JSON.stringify(valid.texts[0])}`);
  return valid.numeric;
}
