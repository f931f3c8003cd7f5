/** Regression: half squared error, g = pred − y, h = 1 (sklearn's "squared_error"). */
import type { Loss } from "./loss";

// Indexed reads carry `!` (noUncheckedIndexedAccess): rows run below nRows. A check per read would
// cost the hot loops; the emitted JavaScript is unchanged.

export const squaredError: Loss = {
  name: "squared_error",
  nOutputs: 1,
  constantHessian: true,
  baseline(y, n, w) {
    let s = 0;
    let sw = 0;
    for (let i = 0; i < n; i++) {
      const wi = w === undefined ? 1 : w[i]!;
      s += wi * y[i]!;
      sw += wi;
    }
    return Float64Array.of(sw > 0 ? s / sw : 0);
  },
  gradients(y, raw, n, g, h) {
    const g0 = g[0]!;
    for (let i = 0; i < n; i++) g0[i] = raw[i]! - y[i]!;
    h[0]!.fill(1, 0, n);
  },
  meanLoss(y, raw, n, w) {
    // Reported as mean squared error (not halved), the usual scale.
    let s = 0;
    let sw = 0;
    for (let i = 0; i < n; i++) {
      const d = raw[i]! - y[i]!;
      const wi = w === undefined ? 1 : w[i]!;
      s += wi * d * d;
      sw += wi;
    }
    return sw > 0 ? s / sw : 0;
  },
};
