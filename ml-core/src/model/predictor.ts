/**
 * The contract between training (which writes a model directory) and everything that scores with
 * it: the inference server, batch prediction, the smoke tests. A Predictor is loaded once from a
 * model directory and is then pure and synchronous, so a server can call it on its hot path.
 */

import type { Objective } from "../gbdt/types";

export type { Objective };

export interface FeatureInfo {
  readonly name: string;
  readonly kind: "numeric" | "categorical";
}

export interface Predictor {
  readonly objective: Objective;
  /** The feature columns, in the order the model was trained on (label excluded). */
  readonly features: readonly FeatureInfo[];
  /** Class labels, for classification (binary has two); undefined for regression. */
  readonly classes: readonly string[] | undefined;
  /**
   * The numeric code of one raw input value for feature `featureIndex`: a number for a numeric
   * column, the category's code for a categorical one; NaN means missing (empty field, null,
   * or a category unseen at training time). Throws a `RangeError` whose message says what is
   * wrong when a numeric column receives text that is not a number.
   */
  encode(featureIndex: number, raw: string | number | boolean | null | undefined): number;
  /**
   * Scores the first `nRows` rows stored row-major in `x` (already encoded; `x` may be longer: the
   * scorer passes its whole slice buffer rather than a view of the rows filled).
   * Returns, row-major, class probabilities (nRows × classes.length) for classification, or one
   * predicted value per row for regression.
   */
  predict(x: Float64Array, nRows: number): Float64Array;
}
