/**
 * The shipped predictor: every tree of a model packed into one set of flat typed arrays, so that
 * scoring is a tight loop over contiguous memory with no allocation per row. This is what the
 * inference server calls on its hot path; training keeps its own structures (see gbdt/grower.ts).
 */
import { parseNumber } from "../data/values";
import type { FeatureInfo, Objective, Predictor } from "./predictor";
import { outputCount, type ModelJson } from "./format";

/** Words per categorical bitset: 8 × 32 = 256 category codes, the most a feature can have. */
const BITSET_WORDS = 8;
export const MAX_CATEGORY_CODE = BITSET_WORDS * 32 - 1;

export class FlatPredictor implements Predictor {
  readonly objective: Objective;
  readonly features: readonly FeatureInfo[];
  readonly classes: readonly string[] | undefined;
  /** Raw scores per row (one per class for multiclass, else one). */
  readonly nOutputs: number;
  readonly nTrees: number;

  // Node arrays over all trees; node ids are global. A leaf has feature -1.
  private readonly feature: Int32Array;
  private readonly threshold: Float64Array;
  private readonly left: Int32Array;
  private readonly right: Int32Array;
  private readonly value: Float64Array;
  private readonly missingLeft: Uint8Array;
  /** Offset into `bitsets` for a categorical split, -1 for a numeric one. */
  private readonly bitsetOffset: Int32Array;
  private readonly bitsets: Uint32Array;
  private readonly roots: Int32Array;
  private readonly treeOutput: Int32Array;
  private readonly baseline: Float64Array;
  private readonly hasCategoricalSplits: boolean;
  private readonly categoryCodes: (Map<string, number> | undefined)[];

  constructor(model: ModelJson) {
    this.objective = model.objective;
    this.features = model.features.map((f) => ({ name: f.name, kind: f.kind }));
    this.classes = model.classes ?? undefined;
    this.nOutputs = outputCount(model.objective, model.classes);
    this.nTrees = model.trees.length;
    this.categoryCodes = model.features.map((f) =>
      f.kind === "categorical" ? new Map(f.categories.map((c, i) => [c, i])) : undefined,
    );

    let nNodes = 0;
    let nCategorical = 0;
    for (const t of model.trees) {
      nNodes += t.feature.length;
      for (const c of t.categoriesLeft) if (c !== null) nCategorical++;
    }
    this.feature = new Int32Array(nNodes);
    this.threshold = new Float64Array(nNodes);
    this.left = new Int32Array(nNodes);
    this.right = new Int32Array(nNodes);
    this.value = new Float64Array(nNodes);
    this.missingLeft = new Uint8Array(nNodes);
    this.bitsetOffset = new Int32Array(nNodes).fill(-1);
    this.bitsets = new Uint32Array(nCategorical * BITSET_WORDS);
    this.roots = new Int32Array(model.trees.length);
    this.treeOutput = new Int32Array(model.trees.length);
    this.baseline = Float64Array.from(model.baseline);
    this.hasCategoricalSplits = nCategorical > 0;

    let base = 0;
    let nextBitset = 0;
    model.trees.forEach((t, ti) => {
      this.roots[ti] = base;
      this.treeOutput[ti] = t.output;
      for (let i = 0; i < t.feature.length; i++) {
        const g = base + i;
        const f = t.feature[i];
        this.feature[g] = f;
        this.value[g] = t.value[i];
        if (f < 0) continue;
        this.left[g] = base + t.left[i];
        this.right[g] = base + t.right[i];
        this.missingLeft[g] = t.missingLeft[i] ? 1 : 0;
        const cats = t.categoriesLeft[i];
        if (cats !== null) {
          const off = nextBitset;
          nextBitset += BITSET_WORDS;
          this.bitsetOffset[g] = off;
          for (const c of cats) this.bitsets[off + (c >>> 5)] |= 1 << (c & 31);
        } else {
          this.threshold[g] = t.threshold[i] ?? NaN;
        }
      }
      base += t.feature.length;
    });
  }

  encode(featureIndex: number, raw: string | number | boolean | null | undefined): number {
    const info = this.features[featureIndex];
    if (info === undefined) throw new RangeError(`feature index ${featureIndex} is out of range (0-${this.features.length - 1})`);
    if (raw === null || raw === undefined) return NaN;
    const codes = this.categoryCodes[featureIndex];
    if (codes !== undefined) {
      const text = typeof raw === "string" ? raw : String(raw);
      return codes.get(text) ?? NaN;
    }
    if (typeof raw === "number") return raw;
    if (typeof raw === "boolean") return raw ? 1 : 0;
    const v = parseNumber(raw);
    if (v === undefined) {
      throw new RangeError(`feature "${info.name}" is numeric but got ${JSON.stringify(raw.length > 40 ? raw.slice(0, 40) + "…" : raw)}`);
    }
    return v;
  }

  /**
   * Raw scores (before the link function), row-major nRows × nOutputs, written into `out`.
   */
  predictRaw(x: Float64Array, nRows: number, out = new Float64Array(nRows * this.nOutputs)): Float64Array {
    const nFeatures = this.features.length;
    if (x.length < nRows * nFeatures) throw new RangeError(`x has ${x.length} values, fewer than ${nRows} rows × ${nFeatures} features`);
    const { feature, threshold, left, right, value, missingLeft, bitsetOffset, bitsets, roots, treeOutput, baseline } = this;
    const nOut = this.nOutputs;
    const nTrees = roots.length;
    const categorical = this.hasCategoricalSplits;
    for (let r = 0; r < nRows; r++) {
      const rowBase = r * nFeatures;
      const outBase = r * nOut;
      for (let k = 0; k < nOut; k++) out[outBase + k] = baseline[k];
      for (let t = 0; t < nTrees; t++) {
        let node = roots[t];
        let f = feature[node];
        // Hot loop: no allocation, no calls. `x <= t` is false for NaN, so a missing value goes left
        // only through `missingLeft`; `!(x > t)` folds both cases into one comparison.
        while (f >= 0) {
          const v = x[rowBase + f];
          let goLeft: boolean;
          if (categorical && bitsetOffset[node] >= 0) {
            if (v !== v || v < 0 || v > MAX_CATEGORY_CODE) goLeft = missingLeft[node] === 1;
            else {
              const c = v | 0;
              goLeft = ((bitsets[bitsetOffset[node] + (c >>> 5)] >>> (c & 31)) & 1) === 1;
            }
          } else {
            goLeft = missingLeft[node] === 1 ? !(v > threshold[node]) : v <= threshold[node];
          }
          node = goLeft ? left[node] : right[node];
          f = feature[node];
        }
        out[outBase + treeOutput[t]] += value[node];
      }
    }
    return out;
  }

  predict(x: Float64Array, nRows: number): Float64Array {
    const nOut = this.nOutputs;
    switch (this.objective) {
      case "regression":
        return this.predictRaw(x, nRows);
      case "binary": {
        const raw = this.predictRaw(x, nRows);
        const out = new Float64Array(nRows * 2);
        for (let r = 0; r < nRows; r++) {
          const p = sigmoid(raw[r]);
          out[2 * r] = 1 - p;
          out[2 * r + 1] = p;
        }
        return out;
      }
      case "multiclass": {
        const out = this.predictRaw(x, nRows);
        for (let r = 0; r < nRows; r++) softmaxInPlace(out, r * nOut, nOut);
        return out;
      }
    }
  }
}

export function sigmoid(z: number): number {
  // Two branches keep exp() from overflowing for large |z|.
  if (z >= 0) return 1 / (1 + Math.exp(-z));
  const e = Math.exp(z);
  return e / (1 + e);
}

export function softmaxInPlace(a: Float64Array, offset: number, n: number): void {
  let max = -Infinity;
  for (let k = 0; k < n; k++) if (a[offset + k] > max) max = a[offset + k];
  let sum = 0;
  for (let k = 0; k < n; k++) {
    const e = Math.exp(a[offset + k] - max);
    a[offset + k] = e;
    sum += e;
  }
  for (let k = 0; k < n; k++) a[offset + k] /= sum;
}
