/**
 * Rows scored by leaf masks: ChainPredictor's fastest walk, where WebAssembly has SIMD and every
 * tree has at most 64 leaves.
 *
 * A tree's leaves are numbered, and for each feature it splits on and each rank or code of that
 * feature, a mask holds the leaves whose path that value does not rule out: a leaf stays unless
 * some node of its path, on that feature, sends the value the other way. A row's leaf is then the
 * one bit left in the AND of its features' masks (its own path is the only one every node of which
 * it takes), the lowest set bit. A tree costs a load and an AND per feature it uses, all
 * independent, instead of a chain of dependent steps, one per feature on the row's path, each
 * waiting for the last; and four trees of up to 32 leaves (or two of up to 64) share a 128-bit
 * load, each tree's mask a lane.
 *
 * Measured on the flights models (100 trees of 31 leaves; the walk alone, 100 rows, in process):
 * the categorical model 39 → 13 µs against the chain walk of resolved steps, numeric A (airports
 * left out) 25 → 11, numeric B (airports as numbers) 28 → 13. One lane a tree (no SIMD): 25, 15
 * and 29. The chain walk's cost follows the features on a row's path (3.27 a tree for the
 * categorical model, 2.07 and 2.22 for the numeric ones); this one's the features a group of
 * trees uses, which for all three is about all of them.
 *
 * The sums are added as FlatPredictor adds them: per output, each tree's leaf value in tree order,
 * onto the baseline; so they are the same to the last bit (tested).
 *
 * Memory: the masks (per group of trees, per feature it uses, 16 bytes a rank or code), the leaf
 * values, then room for the ranks and sums of `rows` rows, which a larger call walks in turn. As
 * for the chain walk, the memory never grows (wasm-walk.ts says why).
 */
import type { TreeJson } from "./format";
import { align, emitter, F64, I32, op, PAGE, uleb, V128, vec, walksModule } from "./wasm-bytecode";

/** Bytes of a rank's or code's masks in a group: one 128-bit vector, a lane a tree. */
const VECTOR = 16;
/**
 * The most memory the masks may take; a model whose masks take more is walked by its chains. Past
 * the second-level cache (1 MiB a core here) a group's loads start to miss: random models of
 * numeric features of 255 thresholds, 2,048 rows / 100 rows, chains against masks (ms / µs): 100
 * trees of 63 leaves (1.5 MiB of masks) 1.58 / 76 against 1.16 / 59; 150 trees (2.2 MiB) 1.99 / 101
 * against 1.67 / 88; 200 trees (3.0 MiB) 3.55 / 181 against 3.03 / 187; 300 trees (4.5 MiB) 3.90 /
 * 200 against 4.06 / 280; 1,000 trees of 31 leaves over 20 features (13.7 MiB) 11.5 / 584 against
 * 38.7 / 1,993. The flights models' masks take 280 KB (categorical) and 210 KB.
 */
export const LEAF_MASKS_MAX_BYTES = 2 << 20;

/** The masks of a model's trees, as plain data (it crosses a thread boundary in ChainTables). */
export interface LeafMaskTables {
  /** Bits a tree's mask: 32 (every tree has at most 32 leaves, four trees a group) or 64 (two). */
  readonly laneBits: 32 | 64;
  /** Per group, its first part (index into `partFeature`), and the parts' count last. */
  readonly groupPart: Int32Array;
  /** Per part (a feature a group's trees split on): the feature, and where its masks start in `masks` (Int32 words). */
  readonly partFeature: Int32Array;
  readonly partAt: Int32Array;
  /** Every part's masks: per rank or code, one vector of the group's lanes (a lane all ones for a tree that does not use the feature). */
  readonly masks: Int32Array;
  /** Per tree, where its leaf values start in `values` (by leaf number), and the values' count last. */
  readonly valueAt: Int32Array;
  readonly values: Float64Array;
}

/**
 * The masks of `trees`, or null when a tree has more than 64 leaves or they would take more than
 * `maxBytes`. `nValues[f]`: the ranks or codes of feature f (missing last); `goesRight(ti, i, v)`:
 * whether node `i` of tree `ti` sends value `v` of its feature right.
 */
export function buildLeafMasks(
  trees: readonly TreeJson[],
  nValues: Int32Array,
  goesRight: (ti: number, i: number, v: number) => boolean,
  maxBytes = LEAF_MASKS_MAX_BYTES,
): LeafMaskTables | null {
  // Each tree's leaves in order (left first), each node's leaves as bits (two Int32 words: leaves
  // 0-31, 32-63), and the features it uses.
  const leaves: number[][] = [];
  const under: Int32Array[] = [];
  const uses: Set<number>[] = [];
  for (const t of trees) {
    const mine: number[] = [];
    const below = new Int32Array(2 * t.feature.length);
    const features = new Set<number>();
    // False past 64 leaves (or a depth that could only hold more), before any deep recursion.
    const visit = (i: number, depth: number): boolean => {
      if (t.feature[i]! < 0) {
        const b = mine.length;
        mine.push(i);
        if (b < 64) below[2 * i + (b >>> 5)] = 1 << (b & 31);
        return b < 64;
      }
      if (depth >= 63) return false;
      features.add(t.feature[i]!);
      const l = t.left[i]!;
      const r = t.right[i]!;
      if (!visit(l, depth + 1) || !visit(r, depth + 1)) return false;
      below[2 * i] = below[2 * l]! | below[2 * r]!;
      below[2 * i + 1] = below[2 * l + 1]! | below[2 * r + 1]!;
      return true;
    };
    if (!visit(0, 0)) return null;
    leaves.push(mine);
    under.push(below);
    uses.push(features);
  }
  const laneBits = leaves.every((l) => l.length <= 32) ? 32 : 64;
  const perGroup = 128 / laneBits;
  const nGroups = Math.ceil(trees.length / perGroup);
  const groupFeatures = Array.from({ length: nGroups }, (_, g) => {
    const fs = new Set<number>();
    for (let ti = g * perGroup; ti < Math.min(trees.length, (g + 1) * perGroup); ti++) for (const f of uses[ti]!) fs.add(f);
    return [...fs].sort((a, b) => a - b);
  });
  const bytes = groupFeatures.reduce((n, fs) => n + fs.reduce((m, f) => m + nValues[f]! * VECTOR, 0), 0);
  if (bytes > maxBytes) return null;

  const groupPart = new Int32Array(nGroups + 1);
  const partFeature: number[] = [];
  const partAt: number[] = [];
  const masks = new Int32Array(bytes / 4).fill(-1);
  const wordsPerLane = laneBits / 32;
  let at = 0;
  groupFeatures.forEach((fs, g) => {
    groupPart[g] = partFeature.length;
    for (const f of fs) {
      partFeature.push(f);
      partAt.push(at);
      for (let lane = 0; lane < perGroup; lane++) {
        const ti = g * perGroup + lane;
        if (ti >= trees.length || !uses[ti]!.has(f)) continue;
        // Every leaf (ones in all bits: only a leaf's bit can be the lowest left), less those on
        // the far side of each node on f from the value.
        const t = trees[ti]!;
        const below = under[ti]!;
        const n = nValues[f]!;
        const lo = new Int32Array(n).fill(-1);
        const hi = new Int32Array(n).fill(-1);
        for (let i = 0; i < t.feature.length; i++) {
          if (t.feature[i] !== f) continue;
          const l = 2 * t.left[i]!;
          const r = 2 * t.right[i]!;
          for (let v = 0; v < n; v++) {
            const far = goesRight(ti, i, v) ? l : r;
            lo[v] = lo[v]! & ~below[far]!;
            hi[v] = hi[v]! & ~below[far + 1]!;
          }
        }
        for (let v = 0; v < n; v++) {
          masks[at + v * 4 + lane * wordsPerLane] = lo[v]!;
          if (wordsPerLane === 2) masks[at + v * 4 + lane * 2 + 1] = hi[v]!;
        }
      }
      at += nValues[f]! * 4;
    }
  });
  groupPart[nGroups] = partFeature.length;
  const valueAt = new Int32Array(trees.length + 1);
  trees.forEach((_, ti) => (valueAt[ti + 1] = valueAt[ti]! + leaves[ti]!.length));
  const values = new Float64Array(valueAt[trees.length]!);
  trees.forEach((t, ti) => leaves[ti]!.forEach((i, b) => (values[valueAt[ti]! + b] = t.value[i]!)));
  return { laneBits, groupPart, partFeature: Int32Array.from(partFeature), partAt: Int32Array.from(partAt), masks, valueAt, values };
}

export interface LeafMaskWalkSpec {
  readonly tables: LeafMaskTables;
  /** Per tree, the output it adds to. */
  readonly treeOutput: Int32Array;
  readonly baseline: Float64Array;
  /** Int32 ranks a row (ChainPredictor stores each row's twice); the walk reads the first `nFeatures`, each times 16. */
  readonly rowWidth: number;
  readonly nFeatures: number;
  /** Rows the memory has room for. */
  readonly rows: number;
}

export class LeafMaskWalk {
  /** Rows whose ranks and sums the memory has room for. */
  readonly rows: number;
  /** Room for the ranks of `rows` rows (each rank or code times 16), in the walk's memory… */
  readonly ranks: Int32Array;
  /** …and their sums, row-major (rows × outputs), which the walk starts from the baseline. */
  readonly sums: Float64Array;
  private readonly run: (rowStart: number, rowEnd: number) => void;

  /** Throws where WebAssembly or its SIMD is missing, or its memory cannot be reserved (callers fall back). */
  constructor(spec: LeafMaskWalkSpec) {
    const { tables, rows, rowWidth } = spec;
    const nOut = spec.baseline.length;
    const masksAt = 0;
    const valuesAt = align(masksAt + 4 * tables.masks.length);
    const ranksAt = align(valuesAt + 8 * tables.values.length);
    const sumsAt = align(ranksAt + 4 * rows * rowWidth);
    const pages = Math.ceil((sumsAt + 8 * rows * nOut) / PAGE);
    const memory = new WebAssembly.Memory({ initial: pages, maximum: pages });
    const buffer = memory.buffer;
    new Int32Array(buffer, masksAt, tables.masks.length).set(tables.masks);
    new Float64Array(buffer, valuesAt, tables.values.length).set(tables.values);
    this.rows = rows;
    this.ranks = new Int32Array(buffer, ranksAt, rows * rowWidth);
    this.sums = new Float64Array(buffer, sumsAt, rows * nOut);
    const body = walkFunction(spec, { masksAt, valuesAt, ranksAt, sumsAt });
    const instance = new WebAssembly.Instance(new WebAssembly.Module(walksModule(2, [body], pages)), { m: { memory } });
    this.run = instance.exports.walk0 as (rowStart: number, rowEnd: number) => void;
  }

  /** Sets the sums of rows `rowStart` … `rowEnd` - 1 (at most `rows`) from their ranks. */
  walk(rowStart: number, rowEnd: number): void {
    this.run(rowStart, rowEnd);
  }
}

/**
 * `walk0(rowStart, rowEnd)`: for each row, its ranks into locals, its sums from the baseline, then
 * every group in turn: the AND of its parts' vectors at the row's ranks, and each of its trees'
 * leaf value (at the lane's lowest set bit) added to the tree's output, in tree order.
 */
function walkFunction(spec: LeafMaskWalkSpec, at: { masksAt: number; valuesAt: number; ranksAt: number; sumsAt: number }): number[] {
  const { tables, treeOutput, baseline, nFeatures } = spec;
  const nOut = baseline.length;
  const nTrees = treeOutput.length;
  const perGroup = 128 / tables.laneBits;
  // Locals: the parameters, r (the row), b (its ranks' and then its sums' byte offset), a rank a
  // feature, a sum an output, the group's vector.
  const ROW_START = 0;
  const ROW_END = 1;
  const R = 2;
  const B = 3;
  const RANK = (f: number): number => 4 + f;
  const SUM = (k: number): number => 4 + nFeatures + k;
  const MASK = 4 + nFeatures + nOut;
  const rowBytes = 4 * spec.rowWidth;
  const { code, emit } = emitter();
  const used = new Set(tables.partFeature);
  emit(op.get(ROW_START), op.set(R));
  emit(op.block, op.loop);
  emit(op.get(R), op.get(ROW_END), op.geS, op.brIf(1));
  emit(op.get(R), op.i32(rowBytes), op.mul, op.set(B));
  for (const f of used) emit(op.get(B), op.load(at.ranksAt + 4 * f), op.set(RANK(f)));
  for (let k = 0; k < nOut; k++) emit(op.f64(baseline[k]!), op.set(SUM(k)));
  const nGroups = tables.groupPart.length - 1;
  for (let g = 0; g < nGroups; g++) {
    const from = tables.groupPart[g]!;
    const to = tables.groupPart[g + 1]!;
    if (from === to) emit(op.v128ones);
    for (let p = from; p < to; p++) {
      emit(op.get(RANK(tables.partFeature[p]!)), op.v128load(at.masksAt + 4 * tables.partAt[p]!));
      if (p > from) emit(op.v128and);
    }
    emit(op.set(MASK));
    for (let ti = g * perGroup; ti < Math.min(nTrees, (g + 1) * perGroup); ti++) {
      const lane = ti - g * perGroup;
      const k = treeOutput[ti]!;
      // sum += value[lowest set bit of the lane]
      emit(op.get(SUM(k)), op.get(MASK));
      emit(tables.laneBits === 32 ? [...op.i32x4lane(lane), ...op.ctz] : [...op.i64x2lane(lane), ...op.i64ctz, ...op.wrap]);
      emit(op.i32(3), op.shl, op.f64load(at.valuesAt + 8 * tables.valueAt[ti]!), op.f64add, op.set(SUM(k)));
    }
  }
  emit(op.get(R), op.i32(8 * nOut), op.mul, op.set(B));
  for (let k = 0; k < nOut; k++) emit(op.get(B), op.get(SUM(k)), op.f64store(at.sumsAt + 8 * k));
  emit(op.get(R), op.i32(1), op.add, op.set(R), op.br(0), op.end, op.end);
  const locals = vec([
    [...uleb(2 + nFeatures), I32],
    [...uleb(nOut), F64],
    [1, V128],
  ]);
  return [...locals, ...code, 0x0b];
}
