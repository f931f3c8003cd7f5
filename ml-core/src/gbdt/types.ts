/**
 * The one place that fixes the numeric types of training (as sklearn's `common.pxd` does), and the
 * types of what training produces (the objective, a tree in model.json's layout), which the rooms
 * above (eval/, model/) import from here.
 *
 * - Bins are bytes: at most 255 value bins per feature plus one bin for missing values, stored
 *   column-major (`bins[f * nRows + row]`) so a histogram pass reads one contiguous column.
 * - Gradients and hessians are float32 (half the memory traffic of the histogram pass); every sum
 *   over them (histograms, leaf values) is float64.
 * - Raw predictions are float64.
 */
export type BinMatrix = Uint8Array;
export const BinArray = Uint8Array;
export type GradientArray = Float32Array;
export const GradientArray = Float32Array;
export type RowIndexArray = Uint32Array;
export const RowIndexArray = Uint32Array;

/** Value bins per feature at most; the bin after the last one (255) holds missing values. */
export const MAX_BINS = 255;
export const MISSING_BIN = 255;
/** Histogram slots per bin: sum of gradients, sum of hessians, row count. */
export const HIST_STRIDE = 3;

/** What a model predicts; decides the loss, the metrics and the output of a predictor. */
export type Objective = "binary" | "multiclass" | "regression";

/**
 * One tree, columnar: node `i` is described by the i-th entry of every array. Node 0 is the root.
 * A leaf has `feature[i] === -1` and its contribution in `value[i]` (learning rate already applied).
 * An internal node sends a row left when
 * - numeric feature: `x <= threshold[i]`;
 * - categorical feature: the row's category code is in `categoriesLeft[i]`;
 * - the value is missing (or an unseen category): `missingLeft[i] === 1`.
 */
export interface TreeJson {
  /** Which output this tree adds to: 0 for binary/regression, the class index for multiclass. */
  readonly output: number;
  readonly feature: number[];
  /** Numeric split threshold; null for leaves and categorical splits. */
  readonly threshold: (number | null)[];
  /** Category codes sent left by a categorical split; null elsewhere. */
  readonly categoriesLeft: (number[] | null)[];
  readonly missingLeft: number[];
  readonly left: number[];
  readonly right: number[];
  readonly value: number[];
  /** Training rows that reached the node (for importance and explanation tools). */
  readonly count: number[];
  /** Split gain of an internal node; 0 for leaves. */
  readonly gain: number[];
}
