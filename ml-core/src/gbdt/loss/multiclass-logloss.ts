/**
 * Multiclass: softmax cross-entropy with one raw score (and one tree per round) per class;
 * g_k = p_k − [y = k], h_k = p_k(1 − p_k) (sklearn's HalfMultinomialLoss). y holds class indices.
 */
import type { Loss } from "./loss";
import { PROB_EPS } from "./binary-logloss";

// Indexed reads carry `!` (noUncheckedIndexedAccess): rows run below nRows and outputs below
// nClasses. A check per read would cost the hot loops; the emitted JavaScript is unchanged.

export function multiclassLogloss(nClasses: number): Loss {
  const K = nClasses;
  return {
    name: "multiclass_logloss",
    nOutputs: K,
    constantHessian: false,
    baseline(y, n) {
      const counts = new Float64Array(K);
      for (let i = 0; i < n; i++) counts[y[i]!]!++;
      const out = new Float64Array(K);
      let mean = 0;
      for (let k = 0; k < K; k++) {
        out[k] = Math.log(Math.max(counts[k]! / Math.max(n, 1), PROB_EPS));
        mean += out[k]! / K;
      }
      for (let k = 0; k < K; k++) out[k]! -= mean;
      return out;
    },
    gradients(y, raw, n, g, h) {
      const p = new Float64Array(K);
      for (let i = 0; i < n; i++) {
        const o = i * K;
        let max = -Infinity;
        for (let k = 0; k < K; k++) if (raw[o + k]! > max) max = raw[o + k]!;
        let sum = 0;
        for (let k = 0; k < K; k++) {
          p[k] = Math.exp(raw[o + k]! - max);
          sum += p[k]!;
        }
        const yi = y[i];
        for (let k = 0; k < K; k++) {
          const pk = p[k]! / sum;
          g[k]![i] = pk - (yi === k ? 1 : 0);
          h[k]![i] = pk * (1 - pk);
        }
      }
    },
    meanLoss(y, raw, n) {
      let s = 0;
      for (let i = 0; i < n; i++) {
        const o = i * K;
        let max = -Infinity;
        for (let k = 0; k < K; k++) if (raw[o + k]! > max) max = raw[o + k]!;
        let sum = 0;
        for (let k = 0; k < K; k++) sum += Math.exp(raw[o + k]! - max);
        s += -(raw[o + y[i]!]! - max - Math.log(sum));
      }
      return n > 0 ? s / n : 0;
    },
  };
}
