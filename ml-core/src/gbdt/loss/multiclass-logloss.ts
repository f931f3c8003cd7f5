/**
 * Multiclass: softmax cross-entropy with one raw score (and one tree per round) per class;
 * g_k = p_k − [y = k], h_k = p_k(1 − p_k) (sklearn's HalfMultinomialLoss). y holds class indices.
 */
import { fastExp } from "./exp";
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
    baseline(y, n, w) {
      const counts = new Float64Array(K);
      let sw = 0;
      for (let i = 0; i < n; i++) {
        const wi = w === undefined ? 1 : w[i]!;
        counts[y[i]!]! += wi;
        sw += wi;
      }
      const out = new Float64Array(K);
      let mean = 0;
      for (let k = 0; k < K; k++) {
        out[k] = Math.log(Math.max(sw > 0 ? counts[k]! / sw : 0, PROB_EPS));
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
          p[k] = fastExp(raw[o + k]! - max);
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
    meanLoss(y, raw, n, w) {
      let s = 0;
      let sw = 0;
      for (let i = 0; i < n; i++) {
        const wi = w === undefined ? 1 : w[i]!;
        sw += wi;
        const o = i * K;
        let max = -Infinity;
        for (let k = 0; k < K; k++) if (raw[o + k]! > max) max = raw[o + k]!;
        let sum = 0;
        for (let k = 0; k < K; k++) sum += Math.exp(raw[o + k]! - max);
        s -= wi * (raw[o + y[i]!]! - max - Math.log(sum));
      }
      return sw > 0 ? s / sw : 0;
    },
  };
}
