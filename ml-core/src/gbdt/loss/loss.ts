/**
 * What an objective must provide to the boosting loop. Raw predictions are row-major
 * `raw[row * nOutputs + k]`; gradients and hessians are per output, `g[k][row]`.
 */
import type { GradientArray } from "../types";

export interface Loss {
  readonly name: "squared_error" | "binary_logloss" | "multiclass_logloss";
  /** Raw scores per row: the number of classes for multiclass, else 1. */
  readonly nOutputs: number;
  /** True when every hessian is the same constant (the histogram pass then skips them). */
  readonly constantHessian: boolean;
  /** The best constant raw score per output (the model's starting point), each row counting `w[i]` times. */
  baseline(y: Float64Array, nRows: number, w?: ArrayLike<number>): Float64Array;
  /** Fills gradients and hessians of the loss at the current raw predictions. */
  gradients(y: Float64Array, raw: Float64Array, nRows: number, g: GradientArray[], h: GradientArray[]): void;
  /** Mean loss (weighted by `w`), the quantity early stopping watches (lower is better). */
  meanLoss(y: Float64Array, raw: Float64Array, nRows: number, w?: ArrayLike<number>): number;
}
