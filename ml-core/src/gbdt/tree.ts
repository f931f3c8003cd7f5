/**
 * A grown tree in bin space (what training needs) and its conversion to and from the shipped
 * value-space format (gbdt/types.ts `TreeJson`, the trees of model.json).
 */
import type { BinMapper } from "./binning";
import { MISSING_BIN, type BinMatrix, type TreeJson } from "./types";

// Indexed reads carry `!` (noUncheckedIndexedAccess): node ids are the tree's own. A check per read
// would cost the hot loops; the emitted JavaScript is unchanged.

export interface BinTree {
  readonly feature: number[];
  /** Numeric split: bins <= binThreshold go left; -1 for leaves and categorical splits. */
  readonly binThreshold: number[];
  readonly categoriesLeft: (number[] | null)[];
  readonly missingLeft: boolean[];
  readonly left: number[];
  readonly right: number[];
  readonly value: number[];
  readonly count: number[];
  readonly gain: number[];
}

export function toTreeJson(t: BinTree, mapper: BinMapper, output: number): TreeJson {
  return {
    output,
    feature: t.feature.slice(),
    threshold: t.feature.map((f, i) => (f >= 0 && t.categoriesLeft[i] === null ? mapper.threshold(f, t.binThreshold[i]!) : null)),
    categoriesLeft: t.categoriesLeft.map((c) => (c === null ? null : c.slice())),
    missingLeft: t.missingLeft.map((m) => (m ? 1 : 0)),
    left: t.left.slice(),
    right: t.right.slice(),
    value: t.value.slice(),
    count: t.count.slice(),
    gain: t.gain.slice(),
  };
}

export function fromTreeJson(j: TreeJson, mapper: BinMapper): BinTree {
  return {
    feature: j.feature.slice(),
    binThreshold: j.feature.map((f, i) => {
      const thr = j.threshold[i]!;
      return f >= 0 && thr !== null ? mapper.binOf(f, thr) : -1;
    }),
    categoriesLeft: j.categoriesLeft.map((c) => (c === null ? null : c.slice())),
    missingLeft: j.missingLeft.map((m) => m === 1),
    left: j.left.slice(),
    right: j.right.slice(),
    value: j.value.slice(),
    count: j.count.slice(),
    gain: j.gain.slice(),
  };
}

/**
 * Adds the tree's leaf values to `raw[row * nOut + k]` for the given rows (all when `rows` is
 * undefined), reading binned data. Each split becomes a 256-entry "goes left" table indexed by
 * bin, which covers numeric, categorical and missing in one lookup.
 */
export function addBinnedPredictions(t: BinTree, bins: BinMatrix, nRows: number, raw: Float64Array, nOut: number, k: number, rows?: Uint32Array): void {
  const n = t.feature.length;
  const goLeft = new Uint8Array(n * 256);
  for (let i = 0; i < n; i++) {
    if (t.feature[i]! < 0) continue;
    const lut = goLeft.subarray(i * 256, (i + 1) * 256);
    const cats = t.categoriesLeft[i]!;
    if (cats === null) lut.fill(1, 0, t.binThreshold[i]! + 1);
    else for (const c of cats) lut[c] = 1;
    lut[MISSING_BIN] = t.missingLeft[i] ? 1 : 0;
  }
  const { feature, left, right, value } = t;
  const count = rows ? rows.length : nRows;
  for (let j = 0; j < count; j++) {
    const r = rows ? rows[j]! : j;
    let node = 0;
    let f = feature[0]!;
    while (f >= 0) {
      node = goLeft[node * 256 + bins[f * nRows + r]!]! === 1 ? left[node]! : right[node]!;
      f = feature[node]!;
    }
    raw[r * nOut + k]! += value[node]!;
  }
}
