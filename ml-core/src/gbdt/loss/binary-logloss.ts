/** Binary classification: log loss on the log-odds, g = p − y, h = p(1 − p); y is 0 or 1. */
import { fastExp } from "./exp";
import type { Loss } from "./loss";

// Indexed reads carry `!` (noUncheckedIndexedAccess): rows run below nRows. A check per read would
// cost the hot loops; the emitted JavaScript is unchanged.

/** Probabilities are kept this far from 0 and 1 when a loss is evaluated (as sklearn's log_loss). */
export const PROB_EPS = 1e-15;

export const binaryLogloss: Loss = {
  name: "binary_logloss",
  nOutputs: 1,
  constantHessian: false,
  baseline(y, n, w) {
    let pos = 0;
    let sw = 0;
    for (let i = 0; i < n; i++) {
      const wi = w === undefined ? 1 : w[i]!;
      pos += wi * y[i]!;
      sw += wi;
    }
    const p = Math.min(Math.max(sw > 0 ? pos / sw : 0, PROB_EPS), 1 - PROB_EPS);
    return Float64Array.of(Math.log(p / (1 - p)));
  },
  gradients(y, raw, n, g, h) {
    const g0 = g[0]!;
    const h0 = h[0]!;
    for (let i = 0; i < n; i++) {
      const p = 1 / (1 + fastExp(-raw[i]!));
      g0[i] = p - y[i]!;
      h0[i] = p * (1 - p);
    }
  },
  meanLoss(y, raw, n, w) {
    // log(1 + e^z) − y·z, computed stably.
    let s = 0;
    let sw = 0;
    for (let i = 0; i < n; i++) {
      const z = raw[i]!;
      const wi = w === undefined ? 1 : w[i]!;
      s += wi * ((z > 0 ? z + Math.log1p(Math.exp(-z)) : Math.log1p(Math.exp(z))) - y[i]! * z);
      sw += wi;
    }
    return sw > 0 ? s / sw : 0;
  },
};
