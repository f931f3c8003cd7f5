"use strict";
const { performance } = require("node:perf_hooks");
// A hand-written Predictor with a formula a test can recompute: three features (age, income:
// numeric; color: categorical red/green/blue), and
//   z = 0.1·age − 0.001·income + (color = red ? 1 : 0), missing values counting as 0;
// binary: P(yes) = sigmoid(z); regression: z; multiclass (a, b, c): softmax(z, 0, −z).

const FEATURES = [
  { name: "age", kind: "numeric" },
  { name: "income", kind: "numeric" },
  { name: "color", kind: "categorical" },
];
const COLORS = new Map([
  ["red", 0],
  ["green", 1],
  ["blue", 2],
]);
const MISSING = new Set(["", "NA", "N/A", "NaN", "nan", "NULL", "null", "None", "?"]);

function score(age, income, color) {
  return 0.1 * (Number.isNaN(age) ? 0 : age) - 0.001 * (Number.isNaN(income) ? 0 : income) + (color === 0 ? 1 : 0);
}

// An age of 666 makes predict throw an Error whose message must never reach a client.
const BUG_AGE = 666;

function fakePredictor({ objective = "binary", slowMicrosPerRow = 0 } = {}) {
  const classes = objective === "binary" ? ["no", "yes"] : objective === "multiclass" ? ["a", "b", "c"] : undefined;
  return {
    objective,
    features: FEATURES,
    classes,
    encode(j, raw) {
      if (raw === null || raw === undefined) return NaN;
      if (j === 2) return COLORS.get(String(raw)) ?? NaN;
      if (typeof raw === "number") return raw;
      if (typeof raw === "boolean") return raw ? 1 : 0;
      const t = raw.trim();
      if (MISSING.has(t)) return NaN;
      const v = Number(t);
      if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(t)) throw new RangeError(`feature "${FEATURES[j].name}" is numeric but got ${JSON.stringify(raw)}`);
      return v;
    },
    predict(x, nRows) {
      if (slowMicrosPerRow > 0) {
        const until = performance.now() + (slowMicrosPerRow * nRows) / 1000;
        while (performance.now() < until);
      }
      for (let r = 0; r < nRows; r++) if (x[r * 3] === BUG_AGE) throw new Error("secret internals: /opt/ml/model/private");
      const k = classes === undefined ? 1 : classes.length;
      const out = new Float64Array(nRows * k);
      for (let r = 0; r < nRows; r++) {
        const z = score(x[r * 3], x[r * 3 + 1], x[r * 3 + 2]);
        if (objective === "regression") out[r] = z;
        else if (objective === "binary") {
          const p = 1 / (1 + Math.exp(-z));
          out[2 * r] = 1 - p;
          out[2 * r + 1] = p;
        } else {
          const e = [Math.exp(z), 1, Math.exp(-z)];
          const s = e[0] + e[1] + e[2];
          for (let c = 0; c < 3; c++) out[3 * r + c] = e[c] / s;
        }
      }
      return out;
    },
  };
}

module.exports = { fakePredictor, score, FEATURES, BUG_AGE };
