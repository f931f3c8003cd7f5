/**
 * The model file (`model.json`): what training writes and every scorer reads. It is plain JSON so
 * that any language can read it; the layout of each tree is columnar (one array per node field),
 * which maps one-to-one onto the flat typed arrays of the predictor.
 *
 * Versioning: `formatVersion` is bumped on any change a version-1 reader would misread. Readers
 * refuse versions they do not know instead of guessing.
 */
import type { Objective, TreeJson } from "../gbdt/types";

export const MODEL_FORMAT = "ml-core-gbdt";
export const MODEL_FORMAT_VERSION = 1;
export const MODEL_FILE = "model.json";
export const METRICS_FILE = "metrics.json";

export interface NumericFeature {
  readonly name: string;
  readonly kind: "numeric";
}

export interface CategoricalFeature {
  readonly name: string;
  readonly kind: "categorical";
  /** Category spellings; a category's code is its index here. Anything else encodes as missing. */
  readonly categories: readonly string[];
}

export type FeatureSchema = NumericFeature | CategoricalFeature;

// A tree is what the booster writes (gbdt/types.ts); re-exported here as part of the file format.
export type { TreeJson } from "../gbdt/types";

export interface ModelJson {
  readonly format: typeof MODEL_FORMAT;
  readonly formatVersion: number;
  readonly objective: Objective;
  /** Label column name ("label" when the data had no header). */
  readonly label: string;
  /** Class labels (classification), in output order; null for regression. */
  readonly classes: string[] | null;
  readonly features: FeatureSchema[];
  /** Raw score before any tree, one per output (log-odds, log-priors or the label mean). */
  readonly baseline: number[];
  readonly trees: TreeJson[];
  /** The hyperparameters the model was trained with, as the strings given plus resolved defaults. */
  readonly hyperparameters: Record<string, string>;
  readonly training: TrainingInfo;
  /** Validation (and training) metrics at the kept iteration, as in metrics.json's flat map. */
  readonly metrics: Record<string, number>;
  /**
   * Per feature, in feature order, its total split gain and split count over the kept trees
   * (model/importance.ts). Optional: files written before it was added lack it; readers compute it
   * from the trees.
   */
  readonly featureImportance?: FeatureImportance[];
}

/** A feature's importance: its total split gain (sklearn's gains, without the ½) and split count. */
export interface FeatureImportance {
  readonly name: string;
  readonly gain: number;
  readonly splits: number;
}

export interface TrainingInfo {
  /** `sha256:<hex>` over the training channel's bytes, file by file in name order. */
  readonly dataHash: string;
  readonly trainRows: number;
  readonly validationRows: number;
  /** Boosting rounds kept in the model (after early stopping, the best round). */
  readonly rounds: number;
  /** Rounds actually run. */
  readonly roundsRun: number;
  readonly stoppedEarly: boolean;
  readonly mlCoreVersion: string;
}

/** Number of outputs (raw scores per row): one per class for multiclass, else one. */
export function outputCount(objective: Objective, classes: readonly string[] | null): number {
  return objective === "multiclass" ? (classes?.length ?? 0) : 1;
}
