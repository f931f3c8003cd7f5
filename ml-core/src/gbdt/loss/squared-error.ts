/** Regression: half squared error, g = pred − y, h = 1 (sklearn's "squared_error"). */
import type { Loss } from "./loss";

// Indexed reads carry `!` (noUncheckedIndexedAccess): rows run below nRows. A check per read would
// cost the hot loops; the emitted JavaScript is unchanged.

export const squaredError: Loss = {
  name: "squared_error",
  nOutputs: 1,
  constantHessian: true,
  baseline(y, n) {
    let s = 0;
    for (let i = 0; i < n; i++) s += y[i]!;
    return Float64Array.of(n > 0 ? s / n : 0);
  },
  gradients(y, raw, n, g, h) {
    const g0 = g[0]!;
    for (let i = 0; i < n; i++) g0[i] = raw[i]! - y[i]!;
    h[0]!.fill(1, 0, n);
  },
  meanLoss(y, raw, n) {
    // Reported as mean squared error (not halved), the usual scale.
    let s = 0;
    for (let i = 0; i < n; i++) {
      const d = raw[i]! - y[i]!;
      s += d * d;
    }
    return n > 0 ? s / n : 0;
  },
};
