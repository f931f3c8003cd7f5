/**
 * The shipped predictor: the same trees and the same sums as FlatPredictor (bit for bit, tested),
 * walked several times faster, for one row (the server's common request) as for a million
 * (`ml-core predict`). Models it cannot take (a split without a finite threshold, which no model
 * file can spell, a single tree or a feature's thresholds too large for the packed word) are
 * scored by the FlatPredictor it wraps. A model with more trees than one table of words can
 * address takes several tables of consecutive trees, walked one after the other.
 *
 * The ideas, each measured on the benchmarks' model (100 trees of 31 leaves, 8 features, 5.0
 * steps walked per tree on average, deepest leaf at 10.6 on average):
 *
 * - Thresholds become ranks. A feature's split thresholds, sorted and deduplicated, number at most
 *   a few hundred; a value's rank is how many of them lie below it. Then `x > t_j` exactly when
 *   `rank(x) > j`, so after one branch-free binary search per value (~0.1 µs a row) a node is one
 *   Int32 word (child, threshold rank, column), and the table of words fits in the L1 cache.
 * - Missing values need neither a branch nor a NaN test: each row's ranks are stored twice, side
 *   by side, once with NaN ranked lowest and once highest. A node whose missing values go left
 *   reads the first copy, one whose missing values go right the second.
 * - Trees are chained: the edge into a leaf leads straight on to the next tree's root, so a walk
 *   never waits at a leaf, and it carries the leaf's value. A walk ends at END.
 * - Categorical splits: a categorical feature's "rank" is its category code (codes FlatPredictor
 *   would send right whatever the set, an unseen code, share one code; missing values another).
 *   In a model with categorical splits every node is a set test: its word holds, instead of a
 *   threshold rank, the index of a set, the codes that go right (missing included) for a
 *   categorical node, the ranks above its threshold's for a numeric one; so a step is one load.
 *   Measured on the flights model (2,000 of 3,000 splits categorical): 1.3–1.5 µs a row against
 *   1.6–2.2 for a step that computed both the comparison and the bit and picked one
 *   arithmetically. A set is a byte per code when the sets fit in 4 MiB (BYTE_SETS_MAX_BYTES),
 *   else a bit per code.
 * - Merged steps: with byte sets, a node and the descendants it reaches on its own feature are one
 *   step, whose set holds, per rank or code, the index of the edge the row leaves the step by
 *   (mergedSteps), added to the word's first slot as a set's 0 or 1 is. Numeric models whose
 *   trees split on one feature in a row take them too: the flights models walked 4.97 → 3.75
 *   steps a tree (categorical), 4.74 → 2.44 (numeric), and 100 rows took 92.8 → 83.8 and 83.8 →
 *   62.1 µs (in process, WebAssembly). A categorical model whose merged sets would not fit in
 *   BYTE_SETS_MAX_BYTES is walked node by node, with bytes or bits; a numeric model keeps the
 *   plain comparison unless merging pays (NUMERIC_MERGE_MIN).
 * - Resolved trees: merged, a tree of up to 64 inner nodes becomes a diagram in which a path tests
 *   each feature once (resolvedSteps), where that keeps its tables small: a path origin,
 *   destination, origin takes two steps, not three. The flights models: 3.75 → 3.27 steps a tree
 *   (categorical), 2.44 → 2.07 (numeric).
 * - Several walks run side by side for instruction-level parallelism, so none waits on its own
 *   loads (a step is a chain of dependent loads). Many rows: eight rows, each along one chain per
 *   output, adding every edge's value to its sum (an inner edge carries -0, which leaves any sum
 *   unchanged, so the sums are FlatPredictor's in FlatPredictor's order). One row: four chains of
 *   consecutive trees, each writing its leaves' slots in tree order; their values are then summed
 *   in FlatPredictor's order.
 * - Many rows are walked in WebAssembly (wasm-walk.ts), the same steps compiled to about 16
 *   instructions against V8's 40 for the JavaScript walk, which stays for engines without it.
 * - Leaf masks (leaf-masks.ts) take the place of all the chains' walks, one row or many, where
 *   every tree has at most 64 leaves, the masks fit LEAF_MASKS_MAX_BYTES and WebAssembly has SIMD:
 *   a tree is a load and an AND per feature it uses, four trees to a 128-bit vector, instead of a
 *   chain of dependent steps. The flights models' 100-row requests (in process, parse to text):
 *   categorical 77.8 → 49.3 µs, numeric 58.4 → 43.2. The chains are then built only as the
 *   fallback, merged along runs, not resolved.
 *
 * Measured: many rows 0.9 µs a row (FlatPredictor 2.3; four rows walking each tree in lockstep,
 * this predictor's previous form, 1.6, as every row waited for the deepest of its group); one row
 * 1.2 µs (FlatPredictor 2.8). The flights models' walk alone, many rows: categorical 0.77 µs a
 * row with byte sets (0.88 with bits), numeric 0.71, in one run (four rows side by side, earlier:
 * 0.98 and 0.68 against 0.85 and 0.62 for eight).
 */
import { lowerBound } from "../data/sorted";
import { FeatureCodes, FlatPredictor, rawToOutputs } from "./flat-predictor";
import { outputCount, type FeatureSchema, type ModelJson, type TreeJson } from "./format";
import type { FeatureInfo, Objective, Predictor } from "./predictor";
import { buildLeafMasks, LeafMaskWalk, type LeafMaskTables } from "./leaf-masks";
import { WasmRowsWalk } from "./wasm-walk";

// Indexed reads carry `!` (noUncheckedIndexedAccess): words, slots and ranks are built here from a
// model that load.ts checked, and row offsets stay below nRows × width. A check per read would cost
// the hot loops; the emitted JavaScript is unchanged.

/** Chains of trees the one-row walk takes side by side: four measured fastest (six or eight spill registers). */
const LANES = 4;
/**
 * Rows the many-rows walk takes side by side. Eight, each step adding its edge's value at once (no
 * slot kept per row to the end of the step): on the flights models 12–15 % faster than four for
 * the categorical model, 5–8 % for the numeric one; six about as fast, ten slower.
 */
const ROWS_LANES = 8;
/**
 * The rows left over after the many-rows walk's blocks of eight, from which they are walked as one
 * more block (of eight, or of four for up to four rows), padded with copies of the last row,
 * rather than one at a time (each in four chains of trees). Flights models, in process, calls of
 * 4 / 5 / 6 / 7 rows: categorical 17.9 / 21.6 / 25.2 / 29.6 µs one at a time, 19.5 / 19.3 / 19.4 /
 * 19.7 in a padded block of eight; numeric 14.7 / 18.3 / 21.7 / 25.4 against 16.5 / 16.4 / 16.7 /
 * 16.8. And of 2 / 3 / 4 rows: categorical 8.4 / 12.1 / 15.8 one at a time, 10.6 / 10.5 / 10.5 in
 * a block of four; numeric 6.6 / 9.6 / 13.2 against 8.2 / 8.2 / 8.3. A single row stays alone.
 */
const PAD_MIN_ROWS = 5;
const HALF_PAD_MIN_ROWS = 3;
/**
 * Rows the WebAssembly walk's memory has room for, whose ranks and sums a larger call reuses in
 * turn: the server's and `ml-core predict`'s slices of 2,048 rows in one go, in at most about
 * 1 MiB for a wide model (but a block of eight rows at least).
 */
const WASM_ROWS = 2048;
const WASM_ROWS_BYTES = 1 << 20;
function wasmRows(nFeatures: number, nOutputs: number): number {
  const rowBytes = 8 * nFeatures + 8 * nOutputs;
  return Math.max(ROWS_LANES, Math.min(WASM_ROWS, Math.floor(WASM_ROWS_BYTES / rowBytes / ROWS_LANES) * ROWS_LANES));
}

/** Slot 0 ends every chain: it leads to itself (or, in a many-rows table, to slot 1, another END), carries -0. */
const END = 0;
/** Set in the word an edge into a leaf leads to: the one-row walk moves on to its next tree's value. */
const LEAF_BIT = 1 << 30;

/**
 * How a node's word is packed: `(first child slot << childShift) | (rank << columnBits) | column`.
 * Testing sets (merged steps, or a categorical model's nodes), the rank field holds the index of
 * a step's set: of right-going ranks or codes, or of each rank's or code's exit.
 */
interface WordLayout {
  readonly columnBits: number;
  readonly rankBits: number;
  readonly childShift: number;
  /** Whether steps test sets (bytes or bits) rather than compare ranks. */
  readonly bitTest: boolean;
  /** The rank field that sends every row left: the highest rank, or the empty set 0. */
  readonly never: number;
  /** Set in the word an edge into a leaf leads to: LEAF_BIT for the one-row walk, 0 for the many-rows walk. */
  readonly leafBit: number;
  /**
   * END's word, and the slots it takes. One-row tables: one slot, its word's sign bit set. Many-rows
   * tables: two slots (0 and 1) of word 0, which leads back to them whatever the row, so a word's
   * child field is the slot alone (no mask), and a walk ends when all its rows' words are 0.
   */
  readonly endWord: number;
  readonly endSlots: number;
}

/**
 * The sets the steps test. Node by node (a categorical model too large to merge): the ranks or
 * codes going right, `1 << wordsShift` 32-bit words each, back to back: set 0 is empty; a
 * categorical split's set holds the codes it sends right (missing included), a numeric split's
 * the ranks above its threshold's rank. Merged steps: bytes only, each the index of the exit a
 * rank or code leaves its step by (set 0 all 0).
 */
interface CategorySets {
  /** Empty with merged steps. */
  readonly bits: Int32Array;
  readonly wordsShift: number;
  /**
   * The same sets, a byte per rank or code (1: right; merged, the exit), laid out by rank or
   * code, so that the bytes a row's value reads in every set are side by side: node by node, the
   * byte of rank v in set s is at `v × nSets + s`; merged, each feature's sets (numbered from 1
   * per feature, 0 the empty set) are a block of their own, the byte of rank v in its set s at
   * `rankBase[f] + v × rankScale[f] + s`, a feature's block as wide as its own ranks or codes.
   * Null when they would take more than BYTE_SETS_MAX_BYTES: then the walks test bits.
   */
  readonly bytes: Uint8Array | null;
  /**
   * Per feature, what a row's rank or code is multiplied by when stored for the walks, and what
   * is added to it: with byte sets, the sets in its block (node by node, all of them) and where
   * the block starts, so that a step adds its set's index to the stored value; else 1 and 0.
   */
  readonly rankScale: Int32Array;
  readonly rankBase: Int32Array;
  /**
   * Whether a missing value of a numeric feature ranks on its own, one above +Infinity, in both
   * copies of the row (merged steps, whose sets send it each node's way), rather than lowest in
   * the first copy and highest in the second.
   */
  readonly missingRank: boolean;
}

/** How a walk's row ranks are stored: times `rankScale`, plus `rankBase`, missing values on their own or not. */
type StoredRanks = Pick<CategorySets, "rankScale" | "rankBase" | "missingRank">;

/** Bytes of a rank's masks in a group of trees (leaf-masks.ts): what the leaf-mask walk's ranks are stored times. */
const MASK_VECTOR_BYTES = 16;

/**
 * The most memory the byte-per-code sets may take. A step then reads its answer with one load
 * and an add, against a shift, a mask, a load, a shift and a mask for a bit: the flights
 * categorical model's walk (2,236 sets of 256 codes: 572 KB, against 72 KB of bits) took 0.78
 * against 0.88 µs a row, 100 rows 78 against 87 µs (in process). A model whose sets are wider
 * (a numeric feature of thousands of thresholds beside a categorical one) keeps the bits.
 *
 * The bytes are laid out by code, not by set: a row reads one code of each categorical feature
 * in every set it meets, so its reads fall in a few runs of `nSets` bytes instead of one cache
 * line a set. With the sets one after the other, 100-row requests of the flights model (2,084
 * sets) took 104.7 against 96.7 µs, 2,048 rows 1,995 against 1,924 µs (in process, 40 different
 * bodies); the numeric model's were unchanged.
 */
const BYTE_SETS_MAX_BYTES = 4 << 20;

/**
 * The trees as chains of slots, a slot being an edge from a node to one of its children: the two
 * edges of a node are adjacent, so a node's word names the first and the comparison adds 0 or 1.
 */
interface ChainTable {
  /** Per slot, the word of the node the edge leads to (with the layout's `leafBit` when it leaves a leaf); END's slots hold `endWord`. */
  readonly word: Int32Array;
  /** Per slot, the value of the leaf the edge leaves, or -0. */
  readonly value: Float64Array;
  /** Per chain, the word of its first tree's root (END's word for an empty chain). */
  readonly first: Int32Array;
}

/** A ChainPredictor's tables, as plain data that crosses a thread boundary (`threadTables`). */
export interface ChainTables {
  readonly chainTables: true;
  readonly objective: Objective;
  readonly features: readonly FeatureSchema[];
  readonly classes: readonly string[] | null;
  /** Whether the walks take the model; if not, `model` is kept for the FlatPredictor. */
  readonly fast: boolean;
  readonly model: ModelJson | undefined;
  readonly catCount: Int32Array;
  readonly cuts: Float64Array;
  readonly cutsOffset: Int32Array;
  readonly firstStep: Int32Array;
  readonly cutCount: Int32Array;
  /** The one-row tables' word layout… */
  readonly layout: WordLayout;
  /** …and the many-rows tables'. */
  readonly rowsLayout: WordLayout;
  readonly sets: CategorySets;
  readonly baseline: Float64Array;
  readonly treeOutput: Int32Array;
  /** Per tree, 1 when it is walked resolved (resolvedSteps), each path testing a feature once. */
  readonly resolved: Uint8Array;
  /** Per group of consecutive trees, its table for many rows (one chain per output)… */
  readonly rowsTables: readonly ChainTable[];
  /** …and for one row (four chains of consecutive trees starting at `treeStart`). */
  readonly rowTables: readonly { readonly table: ChainTable; readonly treeStart: Int32Array }[];
  /** The trees as leaf masks (leaf-masks.ts), which walk rows fastest; null where a tree has more than 64 leaves or they would not fit. */
  readonly leafMasks: LeafMaskTables | null;
}

export interface ChainPredictorOptions {
  /**
   * Walk many rows in WebAssembly (wasm-walk.ts), the default; false keeps the JavaScript walk,
   * which is also what runs where WebAssembly is missing or its memory cannot be reserved.
   */
  readonly webAssembly?: boolean;
  /**
   * Merge steps (true) or walk node by node (false) whatever the model; by default, as measured
   * to pay (CATEGORICAL_MERGE_MIN, NUMERIC_MERGE_MIN). Either way only as far as the sets fit.
   * For tests and benchmarks.
   */
  readonly merge?: boolean;
  /**
   * Merging, resolve each tree that fits so that a path tests each feature once (resolvedSteps),
   * the default; false merges along runs of one feature only. For tests and benchmarks.
   */
  readonly resolve?: boolean;
  /**
   * Walk rows by leaf masks (leaf-masks.ts) where the model and the engine allow, the default;
   * false keeps the chain walks. For tests and benchmarks.
   */
  readonly leafMasks?: boolean;
}

export class ChainPredictor implements Predictor {
  readonly objective: Objective;
  readonly features: readonly FeatureInfo[];
  readonly classes: readonly string[] | undefined;
  readonly nOutputs: number;
  /** Whether the chained walks are used; false means every call goes to the FlatPredictor. */
  readonly fast: boolean;
  /** Tables of packed words the trees take: one unless the model is too wide or too large for one. */
  readonly tables: number;
  /** Of the trees, how many are walked resolved, a path testing each feature once (merged steps only). */
  readonly resolvedTrees: number;
  /**
   * How the walks step: merged steps of byte sets, node by node with byte or bit sets (a
   * categorical model too large to merge), or comparing ranks (a numeric one); undefined when
   * FlatPredictor scores the model.
   */
  readonly steps: "merged" | "bytes" | "bits" | "compare" | undefined;
  /**
   * Everything this predictor scores with, as plain data (typed arrays, no functions): a scoring
   * thread given it by message builds the same predictor without the model file or the work of
   * building its tables.
   */
  readonly threadTables: ChainTables;

  private readonly codes: FeatureCodes;
  /** The model, kept only when the walks cannot take it, for the FlatPredictor built on first use. */
  private readonly model: ModelJson | undefined;
  private flatPredictor: FlatPredictor | undefined;
  /** Per feature, its sorted distinct thresholds padded with +Infinity to a power of two, back to back. */
  private readonly cuts: Float64Array;
  private readonly cutsOffset: Int32Array;
  /** Per feature, half its padded length (at least 1): the first step of the binary search. */
  private readonly firstStep: Int32Array;
  /** Per feature, its number of distinct thresholds: the rank of +Infinity, and of NaN going right. */
  private readonly cutCount: Int32Array;
  /**
   * Per categorical feature, its category count n: codes 0 … n-1 rank as themselves, any other
   * code as n (every set sends it right, as FlatPredictor's complement bitsets do), missing as
   * n + 1. -1 for a numeric feature.
   */
  private readonly catCount: Int32Array;
  /** Eight rows side by side, one chain per output (unused when not `fast`). */
  private readonly walkRows: RowsWalk = () => {};
  /** Four rows side by side, for a last block of three or four rows. */
  private readonly walkHalfRows: RowsWalk = () => {};
  /** One row, four chains of consecutive trees side by side (unused when not `fast`). */
  private readonly walkRow: RowWalk = () => {};
  /**
   * The ranks of the current call's rows, each row twice (NaN lowest, then NaN highest), times the
   * sets' `rankScale`; grown on demand.
   */
  private ranks = new Int32Array(0);
  /** How the chain walks' ranks are stored: the sets' scale, base and missing rank… */
  private readonly stored: StoredRanks;
  /** …and the leaf-mask walk's: a value's masks' offset in its part, missing values on their own. */
  private readonly maskStored: StoredRanks;
  private readonly baseline: Float64Array;
  /** The WebAssembly many-rows walk: built on the first call of several rows; null when not used. */
  private wasm: WasmRowsWalk | null | undefined;
  /** The leaf-mask walk: built on the first call; null where it is not used (then the chain walks are). */
  private masks: LeafMaskWalk | null | undefined;

  /**
   * From a model, or from another predictor's `threadTables` (a scoring thread: the same
   * predictor without building its tables again).
   */
  constructor(source: ModelJson | ChainTables, flat?: FlatPredictor, options: ChainPredictorOptions = {}) {
    const t = "chainTables" in source ? source : buildTables(source, options.merge, options.resolve ?? true, options.leafMasks ?? true);
    this.threadTables = t;
    this.flatPredictor = flat;
    this.codes = new FeatureCodes(t.features);
    this.objective = t.objective;
    this.features = t.features.map((f) => ({ name: f.name, kind: f.kind }));
    this.classes = t.classes ?? undefined;
    this.nOutputs = outputCount(t.objective, t.classes);
    this.fast = t.fast;
    this.tables = t.rowsTables.length;
    this.resolvedTrees = t.resolved.reduce((n, r) => n + r, 0);
    this.steps = !t.fast ? undefined : t.sets.missingRank ? "merged" : stepKind(t.layout, t.sets);
    this.model = t.model;
    this.catCount = t.catCount;
    this.cuts = t.cuts;
    this.cutsOffset = t.cutsOffset;
    this.firstStep = t.firstStep;
    this.cutCount = t.cutCount;
    this.stored = t.sets;
    const nF = t.features.length;
    this.maskStored = { rankScale: new Int32Array(nF).fill(MASK_VECTOR_BYTES), rankBase: new Int32Array(nF), missingRank: true };
    this.baseline = t.baseline;
    if (options.webAssembly === false) this.wasm = null;
    if (options.webAssembly === false || options.leafMasks === false || t.leafMasks === null) this.masks = null;
    if (!t.fast) return;
    this.walkRows = rowsWalker(t.rowsTables, t.rowsLayout, t.sets, t.baseline, t.features.length, ROWS_LANES);
    this.walkHalfRows = rowsWalker(t.rowsTables, t.rowsLayout, t.sets, t.baseline, t.features.length, ROWS_LANES / 2);
    this.walkRow = rowWalker(t.rowTables, t.layout, t.sets, t.treeOutput, t.baseline);
  }

  /**
   * What walks rows: leaf masks (every call) once a call has built them, else the chain walk of
   * many rows in WebAssembly once a call of several rows has built it, else JavaScript.
   */
  get rowsWalk(): "leaf masks" | "webassembly" | "javascript" {
    return this.masks ? "leaf masks" : this.wasm ? "webassembly" : "javascript";
  }

  encode(featureIndex: number, raw: string | number | boolean | null | undefined): number {
    return this.codes.encode(featureIndex, raw);
  }

  private get flat(): FlatPredictor {
    return (this.flatPredictor ??= new FlatPredictor(this.model as ModelJson));
  }

  /** Raw scores (before the link function), row-major nRows × nOutputs: FlatPredictor.predictRaw's sums. */
  predictRaw(x: Float64Array, nRows: number): Float64Array {
    if (!this.fast) return this.flat.predictRaw(x, nRows);
    const nF = this.features.length;
    if (x.length < nRows * nF) throw new RangeError(`x has ${x.length} values, fewer than ${nRows} rows × ${nF} features`);
    const nOut = this.nOutputs;
    const out = new Float64Array(nRows * nOut);
    const masks = this.maskWalk();
    if (masks) {
      for (let r0 = 0; r0 < nRows; r0 += masks.rows) {
        const n = Math.min(masks.rows, nRows - r0);
        this.rank(x.subarray(r0 * nF), n, masks.ranks, this.maskStored);
        masks.walk(0, n);
        out.set(masks.sums.subarray(0, n * nOut), r0 * nOut);
      }
      return out;
    }
    const wasm = nRows >= HALF_PAD_MIN_ROWS ? this.wasmWalk() : null;
    if (wasm) {
      // The rows in turn, as many as the walk's memory has room for at a time.
      for (let r0 = 0; r0 < nRows; r0 += wasm.rows) this.walkInWasm(wasm, x.subarray(r0 * nF), Math.min(wasm.rows, nRows - r0), out, r0 * nOut);
      return out;
    }
    const ranks = this.rank(x, nRows, this.ranksFor(Math.ceil(nRows / ROWS_LANES) * ROWS_LANES));
    const { inBlocks, left, size } = this.pad(ranks, nRows);
    this.walkRows(ranks, inBlocks, out);
    if (size > 0) {
      const block = new Float64Array(size * nOut);
      (size === ROWS_LANES ? this.walkRows : this.walkHalfRows)(ranks.subarray(inBlocks * 2 * nF), size, block);
      out.set(block.subarray(0, left * nOut), inBlocks * nOut);
    } else {
      for (let r = inBlocks; r < nRows; r++) this.walkRow(ranks, r * 2 * nF, out, r * nOut);
    }
    return out;
  }

  /**
   * The blocks of `nRows` ranked rows: `inBlocks` rows in blocks of eight, then `left`, which a last
   * block of `size` rows takes (0: walked one at a time). That block's rows are followed by copies
   * of the last row (`rank` left room for them; ranks of this model, so a walk never reads outside
   * its sets), and of its sums only the real rows' are kept: the same sums in the same order as the
   * one-row walk's, every tree in turn onto the baseline.
   */
  private pad(ranks: Int32Array, nRows: number): { inBlocks: number; left: number; size: number } {
    const w = 2 * this.features.length;
    const left = nRows % ROWS_LANES;
    const inBlocks = nRows - left;
    const size = left >= PAD_MIN_ROWS ? ROWS_LANES : left >= HALF_PAD_MIN_ROWS ? ROWS_LANES / 2 : 0;
    for (let r = nRows; r < inBlocks + size; r++) ranks.copyWithin(r * w, (nRows - 1) * w, nRows * w);
    return { inBlocks, left, size };
  }

  /** Raw scores of `nRows` rows (at most the walk's rows) into `out` from `o`, walked in WebAssembly. */
  private walkInWasm(wasm: WasmRowsWalk, x: Float64Array, nRows: number, out: Float64Array, o: number): void {
    const nOut = this.nOutputs;
    const { ranks, sums } = wasm;
    this.rank(x, nRows, ranks);
    const { inBlocks, left, size } = this.pad(ranks, nRows);
    const { baseline } = this;
    for (let r = 0; r < inBlocks + size; r++) for (let k = 0; k < nOut; k++) sums[r * nOut + k] = baseline[k]!;
    wasm.walk(0, 0, inBlocks);
    if (size > 0) wasm.walk(size === ROWS_LANES ? 0 : 1, inBlocks, inBlocks + size);
    out.set(sums.subarray(0, (size > 0 ? nRows : inBlocks) * nOut), o);
    for (let r = inBlocks + (size > 0 ? left : 0); r < nRows; r++) this.walkRow(ranks, r * 2 * this.features.length, out, o + r * nOut);
  }

  predict(x: Float64Array, nRows: number): Float64Array {
    if (!this.fast) return this.flat.predict(x, nRows);
    return rawToOutputs(this.objective, this.predictRaw(x, nRows), nRows, this.nOutputs);
  }

  /** The WebAssembly walk, built on first use; null where it cannot be (or is not to be) used. */
  private wasmWalk(): WasmRowsWalk | null {
    if (this.wasm !== undefined) return this.wasm;
    const t = this.threadTables;
    const kind = stepKind(t.rowsLayout, t.sets);
    try {
      this.wasm = new WasmRowsWalk({
        kind,
        columnBits: t.rowsLayout.columnBits,
        rankBits: t.rowsLayout.rankBits,
        childShift: t.rowsLayout.childShift,
        wordsShift: t.sets.wordsShift,
        sets: setsFor(kind, t.sets),
        tables: t.rowsTables,
        nOutputs: this.nOutputs,
        rowWidth: 2 * this.features.length,
        lanes: [ROWS_LANES, ROWS_LANES / 2],
        rows: wasmRows(this.features.length, this.nOutputs),
      });
    } catch {
      this.wasm = null;
    }
    return this.wasm;
  }

  /** The leaf-mask walk, built on first use; null where it cannot be (or is not to be) used. */
  private maskWalk(): LeafMaskWalk | null {
    if (this.masks !== undefined) return this.masks;
    const t = this.threadTables;
    try {
      this.masks = new LeafMaskWalk({
        tables: t.leafMasks!,
        treeOutput: t.treeOutput,
        baseline: t.baseline,
        rowWidth: 2 * this.features.length,
        nFeatures: this.features.length,
        rows: wasmRows(this.features.length, this.nOutputs),
      });
    } catch {
      this.masks = null;
    }
    return this.masks;
  }

  /** The JavaScript walks' ranks, room for `rows` rows. */
  private ranksFor(rows: number): Int32Array {
    const w = 2 * this.features.length;
    if (this.ranks.length < rows * w) this.ranks = new Int32Array(rows * w);
    return this.ranks;
  }

  /**
   * Every value's rank among its feature's thresholds, twice per row (NaN lowest, then highest,
   * unless missing values rank on their own), as the walk's `stored` says, into `ranks` (room for
   * a whole last block, which predictRaw pads).
   */
  private rank(x: Float64Array, nRows: number, ranks: Int32Array, stored: StoredRanks = this.stored): Int32Array {
    const nF = this.features.length;
    const w = 2 * nF;
    const { cuts, cutsOffset, firstStep, cutCount, catCount } = this;
    const { rankScale, rankBase, missingRank } = stored;
    for (let r = 0, i = 0, j = 0; r < nRows; r++, j += w) {
      for (let f = 0; f < nF; f++, i++) {
        const v = x[i]!;
        const nCat = catCount[f]!;
        if (nCat >= 0) {
          // FlatPredictor's code of v (`v & 255`), or n for codes no set lists, n + 1 for missing.
          const code = v & 255;
          ranks[j + f] = ranks[j + nF + f] = (v !== v ? nCat + 1 : code < nCat ? code : nCat) * rankScale[f]! + rankBase[f]!;
          continue;
        }
        // Branch-free binary search for the count of cuts below v (a comparison with NaN is false),
        // unrolled from the feature's first step: 1.8x faster than a loop over the steps. The
        // tests of `step` go the same way for every row, so they cost no mispredictions.
        const base = cutsOffset[f]!;
        const step = firstStep[f]!;
        let p = base;
        if (step >= 256) {
          if (step >= 4096) {
            if (step >= 32768) p += 32768 * +(cuts[p + 32767]! < v);
            if (step >= 16384) p += 16384 * +(cuts[p + 16383]! < v);
            if (step >= 8192) p += 8192 * +(cuts[p + 8191]! < v);
            p += 4096 * +(cuts[p + 4095]! < v);
          }
          if (step >= 2048) p += 2048 * +(cuts[p + 2047]! < v);
          if (step >= 1024) p += 1024 * +(cuts[p + 1023]! < v);
          if (step >= 512) p += 512 * +(cuts[p + 511]! < v);
          p += 256 * +(cuts[p + 255]! < v);
        }
        if (step >= 128) p += 128 * +(cuts[p + 127]! < v);
        if (step >= 64) p += 64 * +(cuts[p + 63]! < v);
        if (step >= 32) p += 32 * +(cuts[p + 31]! < v);
        if (step >= 16) p += 16 * +(cuts[p + 15]! < v);
        if (step >= 8) p += 8 * +(cuts[p + 7]! < v);
        if (step >= 4) p += 4 * +(cuts[p + 3]! < v);
        if (step >= 2) p += 2 * +(cuts[p + 1]! < v);
        p += +(cuts[p]! < v);
        const rank = p - base;
        if (missingRank) {
          ranks[j + f] = ranks[j + nF + f] = (v !== v ? cutCount[f]! + 1 : rank) * rankScale[f]! + rankBase[f]!;
        } else {
          ranks[j + f] = rank * rankScale[f]!;
          ranks[j + nF + f] = (v !== v ? cutCount[f]! : rank) * rankScale[f]!;
        }
      }
    }
    return ranks;
  }
}

function buildTables(model: ModelJson, merge: boolean | undefined, resolve: boolean, leafMasks: boolean): ChainTables {
  const nOutputs = outputCount(model.objective, model.classes);
  const nF = model.features.length;
  const nTrees = model.trees.length;

  // Built once per process and per scoring thread, before the first row: every node is visited
  // once here, its word's rank field (threshold rank or set index) kept for both walks' tables.
  // Sets are deduplicated by their bits: keying them by their codes' text cost 60–200 ms on the
  // flights model (2,000 categorical splits), most of the command's start-up.
  const catCount = Int32Array.from(model.features, (f) => (f.kind === "categorical" ? f.categories.length : -1));
  const maxCode = catCount.reduce((m, n) => Math.max(m, n + 1), 0);
  const catWords = (maxCode >>> 5) + 1;
  const thresholds: number[][] = Array.from({ length: nF }, () => []);
  const catSets: Int32Array[] = [];
  const catSetIndex = new Map<string, number>();
  const scratch = new Int32Array(catWords);
  let supported = true;
  const field: Int32Array[] = new Array<Int32Array>(nTrees);
  for (let ti = 0; ti < nTrees; ti++) {
    const t = model.trees[ti]!;
    const fld = (field[ti] = new Int32Array(t.feature.length));
    for (let i = 0; i < t.feature.length; i++) {
      const f = t.feature[i]!;
      if (f < 0) continue;
      const th = t.threshold[i];
      const cats = t.categoriesLeft[i];
      if (cats !== null && cats !== undefined) {
        const n = catCount[f]!;
        // A category set on a numeric feature (no writer makes one): FlatPredictor's bitset of the value's low byte.
        if (n < 0) {
          supported = false;
          continue;
        }
        // The codes going right: every code but those listed (an unseen code, n, included), and missing (n + 1) unless it goes left.
        scratch.fill(-1);
        for (const c of cats) scratch[c >>> 5]! &= ~(1 << (c & 31));
        if (t.missingLeft[i] === 1) scratch[(n + 1) >>> 5]! &= ~(1 << ((n + 1) & 31));
        let key = "";
        for (let k = 0; k < catWords; k++) key += String.fromCharCode(scratch[k]! & 0xffff, scratch[k]! >>> 16);
        let set = catSetIndex.get(key);
        if (set === undefined) {
          set = 1 + catSets.length;
          catSetIndex.set(key, set);
          catSets.push(scratch.slice());
        }
        fld[i] = set;
      } else if (typeof th !== "number" || !Number.isFinite(th)) supported = false;
      else thresholds[f]!.push(th === 0 ? 0 : th); // -0 and 0 compare alike: one rank for both
    }
  }
  const sortedCuts = thresholds.map((list) => {
    const sorted = Float64Array.from(list).sort();
    let n = 0;
    for (let i = 0; i < sorted.length; i++) if (i === 0 || sorted[i]! !== sorted[n - 1]!) sorted[n++] = sorted[i]!;
    return sorted.slice(0, n);
  });
  const maxCuts = sortedCuts.reduce((m, c) => Math.max(m, c.length), 0);
  const hasCategorical = catSets.length > 0;
  // A numeric split's field: its threshold's rank (for a categorical model walked node by node,
  // turned below into the index of the set of ranks above it).
  const isNumericSplit = (t: TreeJson, i: number): boolean => t.feature[i]! >= 0 && (t.categoriesLeft[i] === null || t.categoriesLeft[i] === undefined);
  if (supported) {
    model.trees.forEach((t, ti) => {
      const fld = field[ti]!;
      for (let i = 0; i < t.feature.length; i++) if (isNumericSplit(t, i)) fld[i] = lowerBound(sortedCuts[t.feature[i]!]!, t.threshold[i] as number);
    });
  }
  // The leaf masks, from each split's threshold rank or set (before a categorical model walked
  // node by node turns its numeric splits' ranks into sets, below). With them, the chains are
  // only what an engine without WebAssembly's SIMD walks: merged along runs, not resolved, whose
  // diagrams took the flights categorical model's tables 60 → 100 ms to build.
  // A feature's values: its ranks (0 … its thresholds) or codes (0 … n, n any unseen one), missing last.
  const nValues = Int32Array.from({ length: nF }, (_, f) => (catCount[f]! >= 0 ? catCount[f]! + 2 : sortedCuts[f]!.length + 2));
  const masks =
    supported && leafMasks
      ? buildLeafMasks(model.trees, nValues, (ti, i, v) => goesRight(model.trees[ti]!, field[ti]!, catSets, catCount, nValues, i, v))
      : null;
  // Every rank and code (0 … max(maxCuts, maxCode)) has its bit in each set; a power of two of words.
  const wordsShift = bitsFor(Math.ceil((Math.max(maxCuts, maxCode) + 1) / 32) - 1);
  const setWords = 1 << wordsShift;
  // A word's column and rank fields. At least `wordsShift` column bits when testing sets: then one
  // shift right and a mask turn a word into its set's first word (see stepSource). Row ranks run
  // 0 … maxCuts (numeric) or 0 … n + 1 (categorical). Comparing, END's rank field (all ones) must
  // be at least every one, so END compares false for every row; testing sets, the field holds a
  // set's index, and END's is the empty set's.
  const wordFields = (setMode: boolean, nSets: number): { columnBits: number; rankBits: number } => ({
    columnBits: Math.max(bitsFor(2 * Math.max(1, nF) - 1), setMode ? wordsShift : 0),
    rankBits: setMode ? bitsFor(nSets - 1) : bitsFor(Math.max(maxCuts, maxCode)),
  });
  // With byte sets, a node and the descendants it reaches on its own feature are one step (see
  // mergedSteps); otherwise every inner node is a step of two exits.
  const minMerge = merge === true ? 0 : hasCategorical ? CATEGORICAL_MERGE_MIN : NUMERIC_MERGE_MIN;
  let merged =
    supported && merge !== false
      ? mergedSteps(
          model,
          field,
          catSets,
          nValues,
          catCount,
          resolve && masks === null,
          minMerge,
          hasCategorical ? BYTE_SETS_MAX_BYTES : NUMERIC_MERGE_MAX_BYTES,
        )
      : null;
  // A merged word holds a set's index where a numeric model's held a rank, and merged sets may
  // outnumber a node's: a model whose words then leave too few bits for a set or for a tree's
  // slots is walked node by node, as it was before merging.
  if (merged) {
    const { columnBits, rankBits } = wordFields(true, merged.nSets);
    const largest = merged.steps.reduce((n, st) => Math.max(n, st.exits.length), 2);
    if (rankBits > 16 || 2 + largest > 2 ** (30 - columnBits - rankBits)) merged = null;
  }
  // Walked node by node, a categorical model's numeric split tests the set of ranks above its own
  // (one set per distinct rank, after the categorical sets).
  const rankSet = new Int32Array(hasCategorical && !merged ? maxCuts : 0).fill(-1);
  let nSets = merged?.nSets ?? 1 + catSets.length;
  if (supported && hasCategorical && !merged) {
    model.trees.forEach((t, ti) => {
      const fld = field[ti]!;
      for (let i = 0; i < t.feature.length; i++) {
        if (!isNumericSplit(t, i)) continue;
        const rank = fld[i]!;
        fld[i] = rankSet[rank]! >= 0 ? rankSet[rank]! : (rankSet[rank] = nSets++);
      }
    });
  }
  const steps = merged?.steps ?? model.trees.map((t, ti) => nodeSteps(t, field[ti]!, nF));
  const setMode = hasCategorical || merged !== null;
  // Slots per tree: its steps' exits; a one-leaf tree becomes a node whose two edges both leave the leaf.
  const treeSlots = Int32Array.from(steps, (st) => Math.max(2, st.exits.length));
  const { columnBits, rankBits } = wordFields(setMode, nSets);
  const never = setMode ? 0 : 2 ** rankBits - 1;
  const childShift = columnBits + rankBits;
  const layout: WordLayout = {
    columnBits,
    rankBits,
    childShift,
    bitTest: setMode,
    never,
    leafBit: LEAF_BIT,
    endWord: (1 << 31) | (END << childShift) | (never << columnBits),
    endSlots: 1,
  };
  const rowsLayout: WordLayout = { ...layout, leafBit: 0, endWord: 0, endSlots: 2 };
  // Consecutive trees in groups whose slots (END's too) fit the word's child field, below LEAF_BIT:
  // a wide or large model takes several tables, walked one after the other, so its sums keep
  // their order.
  const capacity = 2 ** (30 - layout.childShift);
  const groups: number[][] = [];
  let used = capacity;
  treeSlots.forEach((n, i) => {
    if (2 + n > capacity) supported = false;
    if (used + n > capacity) {
      groups.push([]);
      used = 2;
    }
    groups[groups.length - 1]!.push(i);
    used += n;
  });
  if (rankBits > 16) supported = false;
  const cutsOffset = new Int32Array(nF);
  const firstStep = new Int32Array(nF);
  const cutCount = new Int32Array(nF);
  let cutsLength = 0;
  sortedCuts.forEach((c, f) => {
    const padded = 2 ** bitsFor(c.length);
    cutsOffset[f] = cutsLength;
    firstStep[f] = padded >>> 1;
    cutCount[f] = c.length;
    cutsLength += padded;
  });
  const cuts = new Float64Array(supported ? cutsLength : 0).fill(Infinity);
  const common = {
    chainTables: true,
    objective: model.objective,
    features: model.features,
    classes: model.classes,
    catCount,
    cuts,
    cutsOffset,
    firstStep,
    cutCount,
  } as const;
  // Only the models the walks cannot take need the FlatPredictor (built on first use).
  if (!supported)
    return {
      ...common,
      fast: false,
      model,
      layout,
      rowsLayout,
      sets: { bits: new Int32Array(0), wordsShift: 0, bytes: null, rankBase: new Int32Array(nF), rankScale: new Int32Array(nF).fill(1), missingRank: false },
      baseline: new Float64Array(0),
      treeOutput: new Int32Array(0),
      resolved: new Uint8Array(model.trees.length),
      rowsTables: [],
      rowTables: [],
      leafMasks: null,
    };
  sortedCuts.forEach((c, f) => cuts.set(c, cutsOffset[f]));
  // Set 0 is empty; a categorical set's words past its codes' are all ones (any code there goes
  // right); a rank set holds every rank above its own.
  const bits = new Int32Array(hasCategorical && !merged ? nSets * setWords : 0);
  if (!merged) {
    catSets.forEach((set, i) => {
      const at = (1 + i) * setWords;
      bits.set(set, at);
      bits.fill(-1, at + catWords, at + setWords);
    });
    rankSet.forEach((s, rank) => {
      if (s < 0) return;
      const at = s * setWords;
      const from = rank + 1;
      bits[at + (from >>> 5)] = -1 << (from & 31);
      bits.fill(-1, at + (from >>> 5) + 1, at + setWords);
    });
  }
  let bytes: Uint8Array | null = null;
  const rankBase = new Int32Array(nF);
  const rankScale = new Int32Array(nF).fill(1);
  if (merged) {
    // Per feature, a block of its sets by rank or code: rank v of its set s at base + v × (its sets) + s.
    const { featureSets } = merged;
    let at = 0;
    featureSets.forEach((list, f) => {
      rankBase[f] = at;
      rankScale[f] = 1 + list.length;
      at += nValues[f]! * rankScale[f]!;
    });
    bytes = new Uint8Array(at);
    featureSets.forEach((list, f) => {
      list.forEach((exits, i) => {
        for (let v = 0; v < nValues[f]!; v++) bytes![rankBase[f]! + v * rankScale[f]! + 1 + i] = exits[v]!;
      });
    });
  } else if (bits.length * 32 <= BYTE_SETS_MAX_BYTES) {
    // By rank or code: rank v of set s at v × nSets + s.
    bytes = new Uint8Array(bits.length * 32);
    const perSet = setWords * 32;
    for (let s = 0; s < nSets; s++) {
      for (let v = 0; v < perSet; v++) bytes[v * nSets + s] = (bits[s * setWords + (v >>> 5)]! >>> (v & 31)) & 1;
    }
  }
  if (bytes !== null && !merged) rankScale.fill(nSets);
  const sets: CategorySets = { bits, wordsShift, bytes, rankBase, rankScale, missingRank: merged !== null };

  const baseline = Float64Array.from(model.baseline);
  const treeOutput = Int32Array.from(model.trees, (t) => t.output);
  const slotsIn = (trees: readonly number[], l: WordLayout): number => trees.reduce((n, i) => n + treeSlots[i]!, l.endSlots);
  const rowsTables = groups.map((g) =>
    buildChains(
      model.trees,
      Array.from({ length: nOutputs }, (_, k) => g.filter((i) => treeOutput[i] === k)),
      slotsIn(g, rowsLayout),
      steps,
      rowsLayout,
    ),
  );
  const rowTables = groups.map((g) => {
    // Consecutive trees, as evenly as they divide.
    const treeStart = Int32Array.from({ length: LANES + 1 }, (_, a) => g[0]! + Math.floor((a * g.length) / LANES));
    const ranges = Array.from({ length: LANES }, (_, a) => g.slice(treeStart[a]! - g[0]!, treeStart[a + 1]! - g[0]!));
    return { table: buildChains(model.trees, ranges, slotsIn(g, layout), steps, layout), treeStart };
  });
  return {
    ...common,
    fast: true,
    model: undefined,
    layout,
    rowsLayout,
    sets,
    baseline,
    treeOutput,
    resolved: merged?.resolved ?? new Uint8Array(nTrees),
    rowsTables,
    rowTables,
    leafMasks: masks,
  };
}

/**
 * Lays out `chains` (lists of tree indices, each walked in its order) as one table. Each tree's
 * slots are numbered from the last tree of a chain back, so that the edges into its leaves know
 * the root word of the tree after it.
 */
function buildChains(
  trees: readonly TreeJson[],
  chains: readonly (readonly number[])[],
  nSlots: number,
  steps: readonly TreeSteps[],
  layout: WordLayout,
): ChainTable {
  const { columnBits, childShift, leafBit, endWord, endSlots } = layout;
  const word = new Int32Array(nSlots);
  const value = new Float64Array(nSlots).fill(-0);
  const first = new Int32Array(chains.length);
  word.fill(endWord, END, END + endSlots);
  let nextSlot = END + endSlots;
  chains.forEach((chain, c) => {
    let nextRoot = endWord;
    for (let ci = chain.length - 1; ci >= 0; ci--) {
      const t = trees[chain[ci]!]!;
      if (t.feature[0]! < 0) {
        const s = nextSlot;
        nextSlot += 2;
        word[s] = word[s + 1] = nextRoot | leafBit;
        value[s] = value[s + 1] = t.value[0]!;
        // Column 0 and the highest rank (or the empty set): every row takes the first edge.
        nextRoot = (s << childShift) | (layout.never << columnBits);
        continue;
      }
      const st = steps[chain[ci]!]!;
      const nSteps = st.field.length;
      // Per step, the slot of its first exit (its exits adjacent).
      const childSlot = new Int32Array(nSteps);
      for (let k = 0; k < nSteps; k++) {
        childSlot[k] = nextSlot;
        nextSlot += st.exitStart[k + 1]! - st.exitStart[k]!;
      }
      const stepWord = (k: number): number => (childSlot[k]! << childShift) | (st.field[k]! << columnBits) | st.column[k]!;
      for (let k = 0; k < nSteps; k++) {
        for (let x = st.exitStart[k]!, slot = childSlot[k]!; x < st.exitStart[k + 1]!; x++, slot++) {
          const next = st.exitStep[x]!;
          if (next < 0) {
            word[slot] = nextRoot | leafBit;
            value[slot] = t.value[st.exits[x]!]!;
          } else {
            word[slot] = stepWord(next);
          }
        }
      }
      nextRoot = stepWord(0);
    }
    first[c] = nextRoot;
  });
  return { word, value, first };
}

/** The column of a row's ranks node `i` reads: its feature, or (numeric, missing values right) the copy with NaN highest. */
function nodeColumn(t: TreeJson, i: number, nF: number): number {
  const f = t.feature[i]!;
  const cats = t.categoriesLeft[i];
  return (cats !== null && cats !== undefined) || t.missingLeft[i] ? f : nF + f;
}

/**
 * A tree as the walks take it: steps, each a node (with, merged, some of its descendants), whose
 * word's field gives each row the index of an exit; an exit leads to a leaf or another step.
 */
interface TreeSteps {
  /** Per step (step 0 the root's), its word's rank field: a threshold's rank or a set's index… */
  readonly field: Int32Array;
  /** …and its column of the row's ranks (nodeColumn, or a merged step's feature). */
  readonly column: Int32Array;
  /** Per step k, its exits are `exitStart[k] … exitStart[k + 1]`… */
  readonly exitStart: Int32Array;
  /** …each leading to a step (its index), or -1 for a leaf… */
  readonly exitStep: Int32Array;
  /** …whose node this is. */
  readonly exits: Int32Array;
}

/** Every inner node a step, its exits its two children. */
function nodeSteps(t: TreeJson, field: Int32Array, nF: number): TreeSteps {
  const n = t.feature.length;
  let nInner = 0;
  for (let i = 0; i < n; i++) nInner += +(t.feature[i]! >= 0);
  const fields = new Int32Array(nInner);
  const column = new Int32Array(nInner);
  const exitStart = new Int32Array(nInner + 1);
  const exits = new Int32Array(2 * nInner);
  const stepOf = new Int32Array(n).fill(-1);
  for (let i = 0, k = 0; i < n; i++) {
    if (t.feature[i]! < 0) continue;
    fields[k] = field[i]!;
    column[k] = nodeColumn(t, i, nF);
    exits[2 * k] = t.left[i]!;
    exits[2 * k + 1] = t.right[i]!;
    stepOf[i] = k++;
    exitStart[k] = 2 * k;
  }
  return { field: fields, column, exitStart, exits, exitStep: exits.map((c) => stepOf[c]!) };
}

/** Nodes one merged step may take: its exits (one more) must fit a byte. */
const MERGED_STEP_NODES = 64;

/**
 * When a model takes merged steps: when its inner nodes are at least this many times its steps,
 * each weighed by the share of rows that would reach it were every split even (2^-depth), and (a
 * model without categorical splits, whose other way is to compare ranks, with no sets to read)
 * its sets fit in NUMERIC_MERGE_MAX_BYTES. A merged step costs what a node's does, but merged sets
 * deduplicate less well than a node's 0s and 1s, and a set's byte is a load a comparison does not
 * make. Measured on random models (2,048 rows, in process; weighed ratio: merged against node by
 * node): without categorical splits, 100 trees of 31 leaves, 1.57: 0.67, 1.34: 0.81, 1.23: 0.95,
 * 1.17: 1.02, 1.13: 1.04, 1.08: 1.09; 300 trees of 63 leaves, 1.37 (sets of 0.9 MB): 0.97; 500
 * trees of 255 leaves, 1.39 and 1.26 (4.1 and 3.9 MB): 1.31 and 1.39. With two categorical
 * features: 1.24: 0.88, 1.15: 0.94, 1.10: 0.98, 1.08: 1.01, and 500 trees of 255 leaves, 1.09:
 * 1.10. The flights models: categorical 1.17, numeric 1.61 (sets of 526 and 181 KB).
 */
const NUMERIC_MERGE_MIN = 1.2;
const CATEGORICAL_MERGE_MIN = 1.12;
const NUMERIC_MERGE_MAX_BYTES = 1 << 20;

/**
 * Steps of nodes merged along their feature, for byte sets (`field`: a categorical split's set of
 * codes going right, a numeric split's threshold rank): each tree resolved (resolvedSteps) when
 * `resolve` and it fits, else along runs: a child splitting on its parent's feature joins its
 * parent's step (a missing value of a numeric feature has a rank of its own, so the nodes' ways
 * for it may differ). A step's set gives, per rank or code, the index of the exit the row leaves
 * the step by, which the walk adds to the word's first slot as it adds a set's 0 or 1 — the same
 * instructions, fewer of them in a row. Sets are deduplicated by their bytes, per feature (each
 * feature's sets a block of their own, local indices from 1; 0 is every feature's empty set).
 * Null when the inner nodes are fewer than `minMerge` times the runs (weighed), or the sets would
 * take more than `maxBytes`: the walks then go node by node.
 *
 * Measured on the flights models' trees (20,000 holdout rows), steps walked a tree: categorical
 * model (two airports, four numbers) 4.97 node by node, 4.02 merged along the column of the
 * row's ranks (missing values the same way), 3.75 along the feature; numeric 4.74, 3.01, 2.44.
 */
function mergedSteps(
  model: ModelJson,
  field: readonly Int32Array[],
  catSets: readonly Int32Array[],
  nValues: Int32Array,
  catCount: Int32Array,
  resolve: boolean,
  minMerge: number,
  maxBytes: number,
): { steps: TreeSteps[]; featureSets: Uint8Array[][]; nSets: number; resolved: Uint8Array } | null {
  // Inner nodes against steps, each weighed by the share of rows reaching it were every split
  // even (2^-depth), counted before the sets are built: a child on its parent's feature joins
  // its step (the MERGED_STEP_NODES cap aside, which only a deep tree meets).
  let nodes = 0;
  let starts = 0;
  for (const t of model.trees) {
    const stack = t.feature[0]! >= 0 ? [0, 1, -1] : [];
    while (stack.length > 0) {
      const parentFeature = stack.pop()!;
      const weight = stack.pop()!;
      const i = stack.pop()!;
      const f = t.feature[i]!;
      nodes += weight;
      if (f !== parentFeature) starts += weight;
      const left = t.left[i]!;
      const right = t.right[i]!;
      if (t.feature[left]! >= 0) stack.push(left, weight / 2, f);
      if (t.feature[right]! >= 0) stack.push(right, weight / 2, f);
    }
  }
  if (nodes < minMerge * starts) return null;
  const nF = model.features.length;
  // Per feature, its sets (local index 1, 2, …; 0 is every feature's empty set).
  const featureSets: Uint8Array[][] = Array.from({ length: nF }, () => []);
  const setIndex: Map<string, number>[] = Array.from({ length: nF }, () => new Map());
  let setBytes = nValues.reduce((a, b) => a + b, 0);
  const steps: TreeSteps[] = [];
  const resolved = new Uint8Array(model.trees.length);
  const setOf = (f: number, out: Uint8Array): number | null => {
    const key = Buffer.from(out.buffer, 0, nValues[f]!).toString("latin1");
    let set = setIndex[f]!.get(key);
    if (set === undefined) {
      set = 1 + featureSets[f]!.length;
      setIndex[f]!.set(key, set);
      featureSets[f]!.push(out);
      setBytes += nValues[f]!;
      if (setBytes > maxBytes) return null;
    }
    return set;
  };
  for (let ti = 0; ti < model.trees.length; ti++) {
    const t = model.trees[ti]!;
    const fld = field[ti]!;
    const r = resolve ? resolvedSteps(t, fld, catSets, catCount, nValues) : undefined;
    if (r !== undefined) {
      // Its sets kept only now, so that a tree that keeps its runs leaves none behind.
      const fields = new Int32Array(r.sets.length);
      for (let k = 0; k < fields.length; k++) {
        const set = setOf(r.column[k]!, r.sets[k]!);
        if (set === null) return null;
        fields[k] = set;
      }
      steps.push({ ...r, field: fields });
      resolved[ti] = 1;
      continue;
    }
    const n = t.feature.length;
    const stepOf = new Int32Array(n).fill(-1);
    const fields: number[] = [];
    const columns: number[] = [];
    const exitStart: number[] = [0];
    const exits: number[] = [];
    // Per node of the step being built, the exit index of each side, or -1 (the child is in the step).
    const exitOf = new Int32Array(2 * n).fill(-1);
    const inStep = new Uint8Array(n);
    // Steps from the root down, breadth first, so that step 0 is the root's.
    const roots = t.feature[0]! >= 0 ? [0] : [];
    for (let r = 0; r < roots.length; r++) {
      const root = roots[r]!;
      const f = t.feature[root]!;
      const members = [root];
      inStep[root] = 1;
      for (let m = 0; m < members.length; m++) {
        const i = members[m]!;
        for (let side = 0; side < 2; side++) {
          const child = side === 0 ? t.left[i]! : t.right[i]!;
          if (t.feature[child]! === f && members.length < MERGED_STEP_NODES) {
            members.push(child);
            inStep[child] = 1;
          }
        }
      }
      for (const i of members) {
        for (let side = 0; side < 2; side++) {
          const child = side === 0 ? t.left[i]! : t.right[i]!;
          if (inStep[child] === 1) continue;
          exitOf[2 * i + side] = exits.length - exitStart[exitStart.length - 1]!;
          exits.push(child);
          if (t.feature[child]! >= 0) roots.push(child);
        }
      }
      // Per rank or code, the exit a row leaves by: down the step's nodes as FlatPredictor goes.
      const categorical = catCount[f]! >= 0;
      const nv = nValues[f]!;
      const exitFor = (v: number): number => {
        for (let i = root; ;) {
          const right = +goesRight(t, fld, catSets, catCount, nValues, i, v);
          const x = exitOf[2 * i + right]!;
          if (x >= 0) return x;
          i = right === 1 ? t.right[i]! : t.left[i]!;
        }
      };
      const out = valueExits(nv, categorical ? null : members.map((i) => fld[i]!), exitFor);
      const set = setOf(f, out);
      if (set === null) return null;
      stepOf[root] = fields.length;
      fields.push(set);
      columns.push(f);
      exitStart.push(exits.length);
      for (const i of members) inStep[i] = 0;
    }
    steps.push({
      field: Int32Array.from(fields),
      column: Int32Array.from(columns),
      exitStart: Int32Array.from(exitStart),
      exits: Int32Array.from(exits),
      exitStep: Int32Array.from(exits, (c) => stepOf[c]!),
    });
  }
  return { steps, featureSets, nSets: 1 + featureSets.reduce((n, sets) => Math.max(n, sets.length), 0), resolved };
}

/**
 * Whether node `i` of a tree sends rank or code `v` of its feature right, as merged steps rank
 * values: a categorical split by its set of codes going right (`fld[i]`, from 1), a numeric one
 * by its threshold's rank, a missing value ranked last (`nValues[f] - 1`) going its node's way.
 */
function goesRight(t: TreeJson, fld: Int32Array, catSets: readonly Int32Array[], catCount: Int32Array, nValues: Int32Array, i: number, v: number): boolean {
  const f = t.feature[i]!;
  if (catCount[f]! >= 0) return ((catSets[fld[i]! - 1]![v >>> 5]! >>> (v & 31)) & 1) === 1;
  return v === nValues[f]! - 1 ? t.missingLeft[i] !== 1 : v > fld[i]!;
}

/**
 * A step's set: per rank or code (`nValues` of them), the exit `exitFor` gives. A categorical
 * step asks for every code; a numeric one (`thresholds`: its nodes' threshold ranks) once for
 * the ranks between two of its thresholds, which leave alike, and once for missing (ranked last).
 */
function valueExits(nValues: number, thresholds: readonly number[] | null, exitFor: (v: number) => number): Uint8Array {
  const out = new Uint8Array(nValues);
  if (thresholds === null) {
    for (let v = 0; v < nValues; v++) out[v] = exitFor(v);
    return out;
  }
  let from = 0;
  for (const b of [...new Set(thresholds), nValues - 2].sort((x, y) => x - y)) {
    if (b >= from) out.fill(exitFor(from), from, b + 1);
    from = b + 1;
  }
  out[nValues - 1] = exitFor(nValues - 1);
  return out;
}

/**
 * The largest tree resolved (in inner nodes): building a tree's diagram costs about its steps
 * times its nodes times a feature's values, and the trees of 255 leaves, whose diagrams grow
 * most, took seconds (random models of 500 such trees over two categorical and four numeric
 * features: 3–5 s to build, walked 12–30 ms against 11 merged along runs).
 */
const RESOLVE_MAX_NODES = 64;
/**
 * The most nodes a tree's resolving may hash-cons, per inner node of the tree, before it gives
 * up and keeps its runs: the flights models' trees took 8 and 4 on average (all of them within
 * 32), random trees of 63 leaves over six categorical features of 200 codes 121. It bounds the
 * time to build: 500 such trees took 0.90 s to resolve against 0.26 s along runs; 0.43 s with it.
 */
const RESOLVE_WORK = 32;
/**
 * The most slots a resolved tree may take, in multiples of its slots along runs; a tree whose
 * diagram would grow past it keeps its runs (its building stops as soon as it does). The extra
 * slots are reads the walk's caches must hold. Random models, 2,048 rows in process, along runs
 * against resolved (RESOLVE_WORK applied): 200 trees of 63 leaves over two categorical features
 * of 250 codes 1.51 against 1.93 ms with no limit (6.5 times the slots, 1.4 s to build), 1.46
 * against 1.46 with this one (0.48 s to build, 0.13 along runs); at 3 and 5 times, the flights
 * categorical model resolved 79 and 90 trees of 100 (88 at 4) and walked 5 % and 8 % faster.
 */
const RESOLVED_SLOTS_MAX = 4;

/**
 * A tree as a diagram in which a row's path tests each feature at most once: a step on feature f
 * decides every node on f in what is left of the tree, and its exits are the distinct trees that
 * remain (f's nodes replaced by the side each value takes; a node whose sides then match gives
 * way to them). Merged along runs, a path that goes origin, destination, origin takes three
 * steps; resolved, two. The flights models (20,000 holdout rows): categorical, 88 trees of 100
 * resolved, 3.75 → 3.27 steps a tree (3.18 were all resolved), numeric, all, 2.44 → 2.07; their
 * tables hold 1.7 and 1.6 times as many slots.
 *
 * Each step's set comes as its exit per rank or code (`sets`), for the caller to number. Undefined
 * (the caller then merges the tree along runs) for a tree larger than RESOLVE_MAX_NODES, or whose
 * diagram would take more than RESOLVED_SLOTS_MAX times its slots along runs, a step more exits
 * than a byte can number, or more work than RESOLVE_WORK.
 */
function resolvedSteps(
  t: TreeJson,
  fld: Int32Array,
  catSets: readonly Int32Array[],
  catCount: Int32Array,
  nValues: Int32Array,
): (Omit<TreeSteps, "field"> & { readonly sets: readonly Uint8Array[] }) | undefined {
  const n = t.feature.length;
  let nInner = 0;
  for (let i = 0; i < n; i++) nInner += +(t.feature[i]! >= 0);
  if (nInner === 0 || nInner > RESOLVE_MAX_NODES) return undefined;
  // Along runs, a tree's slots are its leaves and the runs but the root's.
  let runs = 1;
  for (let i = 0; i < n; i++) {
    const g = t.feature[i]!;
    if (g >= 0) runs += +(t.feature[t.left[i]!]! >= 0 && t.feature[t.left[i]!]! !== g) + +(t.feature[t.right[i]!]! >= 0 && t.feature[t.right[i]!]! !== g);
  }
  const maxSlots = RESOLVED_SLOTS_MAX * (n - nInner + runs - 1);
  // What is left of the tree, hash-consed: a leaf i is ~i, an inner node an index into these
  // arrays (its original node, which gives its test, and its two sides).
  const node: number[] = [];
  const left: number[] = [];
  const right: number[] = [];
  const known = new Map<number, number>();
  // Nodes hash-consed so far, against RESOLVE_WORK a node of the tree.
  let work = 0;
  const maxWork = RESOLVE_WORK * nInner;
  const inner = (i: number, l: number, r: number): number => {
    work++;
    if (l === r) return l;
    // Sides are above -n, and ids below 2^20: at most RESOLVE_WORK × 64 nodes before a step, which
    // makes at most 257 restrictions of 64 nodes.
    const key = (i * 2 ** 21 + l + n) * 2 ** 21 + r + n;
    let id = known.get(key);
    if (id === undefined) {
      id = node.length;
      node.push(i);
      left.push(l);
      right.push(r);
      known.set(key, id);
    }
    return id;
  };
  const whole = (i: number): number => (t.feature[i]! < 0 ? ~i : inner(i, whole(t.left[i]!), whole(t.right[i]!)));
  const sendsRight = (i: number, v: number): boolean => goesRight(t, fld, catSets, catCount, nValues, i, v);
  // Per feature of at most 30 nodes in the tree, each value's ways at them, as the bits of a
  // number (a node's bit: its place among them): a value's class in a step is its ways at the
  // step's nodes on the feature, so its bits under their mask.
  const bitOf = new Int32Array(n);
  const ways = new Map<number, Int32Array | null>();
  const waysOf = (f: number): Int32Array | null => {
    let w = ways.get(f);
    if (w === undefined) {
      const onF: number[] = [];
      for (let i = 0; i < n; i++) if (t.feature[i] === f) bitOf[i] = onF.push(i) - 1;
      w = onF.length > 30 ? null : new Int32Array(nValues[f]!);
      if (w !== null) for (let v = 0; v < w.length; v++) for (let j = 0; j < onF.length; j++) w[v]! |= +sendsRight(onF[j]!, v) << j;
      ways.set(f, w);
    }
    return w;
  };
  // What is left of `id` once each node on f has sent value v its way.
  const restrict = (id: number, f: number, v: number, memo: Map<number, number>): number => {
    if (id < 0) return id;
    let out = memo.get(id);
    if (out === undefined) {
      const i = node[id]!;
      out =
        t.feature[i]! === f
          ? restrict(sendsRight(i, v) ? right[id]! : left[id]!, f, v, memo)
          : inner(i, restrict(left[id]!, f, v, memo), restrict(right[id]!, f, v, memo));
      memo.set(id, out);
    }
    return out;
  };
  // Steps breadth first from the whole tree's (step 0), each a remaining tree met for the first time.
  const order = [whole(0)];
  const stepOf = new Map<number, number>([[order[0]!, 0]]);
  const sets: Uint8Array[] = [];
  const columns: number[] = [];
  const exitStart: number[] = [0];
  const exits: number[] = [];
  const exitStep: number[] = [];
  for (let k = 0; k < order.length; k++) {
    const id = order[k]!;
    const f = t.feature[node[id]!]!;
    // The nodes on f left in this tree: a value's class is the way it sends each.
    const onF: number[] = [];
    const seen = new Set<number>();
    const visit = (x: number): void => {
      if (x < 0 || seen.has(x)) return;
      seen.add(x);
      if (t.feature[node[x]!]! === f) onF.push(node[x]!);
      visit(left[x]!);
      visit(right[x]!);
    };
    visit(id);
    const categorical = catCount[f]! >= 0;
    const nv = nValues[f]!;
    // Per class of values, the exit: one restriction a class, keyed by its ways at the nodes (as
    // text for a feature of more than 30 nodes in the tree).
    const allWays = waysOf(f);
    const mask = onF.reduce((m, i) => m | (1 << bitOf[i]!), 0);
    const exitOfClass = new Map<number | string, number>();
    const exitIds: number[] = [];
    // The exits this step may have: a byte's worth, and the tree's slots left (two for each step
    // still to come). Past them the step gives up (every further value its first exit, no more
    // restrictions).
    const room = Math.min(255, maxSlots - exits.length - 2 * (order.length - k - 1));
    const exitFor = (v: number): number => {
      if (exitIds.length > room) return 0;
      const key = allWays !== null ? allWays[v]! & mask : onF.map((i) => +sendsRight(i, v)).join("");
      let x = exitOfClass.get(key);
      if (x === undefined) {
        const r = restrict(id, f, v, new Map());
        x = exitIds.indexOf(r);
        if (x < 0) x = exitIds.push(r) - 1;
        exitOfClass.set(key, x);
      }
      return x;
    };
    sets.push(valueExits(nv, categorical ? null : onF.map((i) => fld[i]!), exitFor));
    if (exitIds.length > room) return undefined;
    columns.push(f);
    for (const r of exitIds) {
      let step = -1;
      if (r >= 0) {
        step = stepOf.get(r) ?? order.push(r) - 1;
        stepOf.set(r, step);
      }
      exits.push(r < 0 ? ~r : node[r]!);
      exitStep.push(step);
    }
    exitStart.push(exits.length);
    if (work > maxWork) return undefined;
  }
  return {
    sets,
    column: Int32Array.from(columns),
    exitStart: Int32Array.from(exitStart),
    exits: Int32Array.from(exits),
    exitStep: Int32Array.from(exitStep),
  };
}

/** Walks `nRows` (a multiple of its lanes: ROWS_LANES, or half as many) rows' ranks along every output's chain, writing raw scores to `out`. */
type RowsWalk = (ranks: Int32Array, nRows: number, out: Float64Array) => void;
/** Walks the one row whose ranks start at `at`, writing its raw scores to `out` from `o`. */
type RowWalk = (ranks: Int32Array, at: number, out: Float64Array, o: number) => void;

/*
 * The walks are generated, one function per table from its own source text (`new Function`), with
 * the table's field widths written in as literals. V8 compiles a closure against its captured
 * values as constants (the tables' arrays, their lengths) only while it is the one closure of its
 * function: a second closure of the same function, from a second table or a second predictor in
 * the process, made every walk of the flights models 1.6–1.8× slower (96 rows: categorical 77 →
 * 138 µs, numeric 62 → 99 µs; the arrays then took registers, and eight lanes spilled). Each
 * source carries a serial number, so that V8's compilation cache never hands two walks one
 * function. The three steps (a comparison, a bit of a set, a byte of a set) share one template,
 * as the histogram kernels do (gbdt/histogram.ts).
 */

/** How a step tests its node: the rank against the word's, or the rank's bit or byte in the word's set. */
type StepKind = "compare" | "bits" | "bytes";

let walkSerial = 0;

/** The walks' numbers, as source: integers only. */
function int(n: number): string {
  if (!Number.isInteger(n)) throw new Error(`a walk's constant is not an integer: ${n}`);
  return `(${n})`;
}

/**
 * Statements that set `e` to the slot lane `q` steps to from word `w${q}`, for rows whose ranks
 * start at `base`. `child` is the child slot of the word (an expression of `w`).
 */
function stepSource(kind: StepKind, q: number, base: string, child: string, layout: WordLayout, wordsShift: number): string {
  const w = `w${q}`;
  const { columnBits } = layout;
  const rank = `ranks[${base} + (${w} & ${int((1 << columnBits) - 1)})]`;
  switch (kind) {
    case "compare":
      return `e = ${child} + +(${rank} > ((${w} >> ${int(columnBits)}) & ${int((1 << layout.rankBits) - 1)}));`;
    case "bits":
      // The set's first word, (set << wordsShift), is the word shifted right and masked (the
      // column's top bits shifted in fall outside the mask: columnBits >= wordsShift).
      return (
        `v = ${rank}; ` +
        `e = ${child} + ((S[((${w} >> ${int(columnBits - wordsShift)}) & ${int(((1 << layout.rankBits) - 1) << wordsShift)}) + (v >> 5)] >>> v) & 1);`
      );
    case "bytes":
      // The rank, stored times the number of sets, plus the word's set field.
      return `v = ${rank}; e = ${child} + S[((${w} >> ${int(columnBits)}) & ${int((1 << layout.rankBits) - 1)}) + v];`;
  }
}

/** Adds one table's trees to the running sums in `out`, `nLanes` rows side by side. */
function groupRowsWalker(table: ChainTable, layout: WordLayout, kind: StepKind, sets: CategorySets, nOut: number, nFeatures: number, nLanes: number): RowsWalk {
  const lanes = Array.from({ length: nLanes }, (_, q) => q);
  const w = int(2 * nFeatures);
  const source = [
    `// ml-core chain walk ${walkSerial++}: many rows, ${kind}`,
    "return (ranks, nRows, out) => {",
    // Locals, not the factory's parameters: used from the closure in the loop, every use was a
    // load from the context (96 rows of the categorical model: 90 against 77 µs).
    "const W = table.word, V = table.value, first = table.first, S = sets;",
    `for (let r = 0; r < nRows; r += ${int(nLanes)}) {`,
    `const b0 = r * ${w}${lanes
      .slice(1)
      .map((q) => `, b${q} = b${q - 1} + ${w}`)
      .join("")};`,
    `for (let k = 0; k < ${int(nOut)}; k++) {`,
    `const o = r * ${int(nOut)} + k;`,
    "const start = first[k];",
    `let ${lanes.map((q) => `w${q} = start`).join(", ")};`,
    `let ${lanes.map((q) => `s${q} = out[o + ${q} * ${int(nOut)}]`).join(", ")};`,
    `let e = ${int(END)}, v = 0;`,
    `while ((${lanes.map((q) => `w${q}`).join(" | ")}) !== 0) {`,
    ...lanes.map((q) => `${stepSource(kind, q, `b${q}`, `(w${q} >> ${int(layout.childShift)})`, layout, sets.wordsShift)} w${q} = W[e]; s${q} += V[e];`),
    "}",
    ...lanes.map((q) => `out[o + ${q} * ${int(nOut)}] = s${q};`),
    "}",
    "}",
    "};",
  ];
  const make = new Function("table", "sets", source.join("\n")) as (table: ChainTable, sets: Int32Array | Uint8Array | null) => RowsWalk;
  return make(table, setsFor(kind, sets));
}

/** Adds one table's trees to one row's running sums in `out`, LANES runs of trees side by side. */
function groupRowWalker(
  table: ChainTable,
  treeStart: Int32Array,
  layout: WordLayout,
  kind: StepKind,
  sets: CategorySets,
  treeOutput: Int32Array,
  leaves: Int32Array,
): RowWalk {
  const lanes = Array.from({ length: LANES }, (_, q) => q);
  const childMask = int((LEAF_BIT - 1) >>> layout.childShift);
  const source = [
    `// ml-core chain walk ${walkSerial++}: one row, ${kind}`,
    "return (ranks, b, out, o) => {",
    // Locals, as in groupRowsWalker.
    "const W = table.word, V = table.value, first = table.first, S = sets, treeStart = starts, treeOutput = outputs, leaves = slots;",
    "const t0 = treeStart[0];",
    `let ${lanes.map((q) => `w${q} = first[${q}]`).join(", ")};`,
    `let ${lanes.map((q) => (q === 0 ? "p0 = 0" : `p${q} = treeStart[${q}] - t0 + ${q}`)).join(", ")};`,
    `let e = ${int(END)}, v = 0;`,
    `while ((${lanes.map((q) => `w${q}`).join(" & ")}) >= 0) {`,
    ...lanes.map(
      (q) =>
        `${stepSource(kind, q, "b", `((w${q} >> ${int(layout.childShift)}) & ${childMask})`, layout, sets.wordsShift)} ` +
        `w${q} = W[e]; leaves[p${q}] = e; p${q} += (w${q} >> 30) & 1;`,
    ),
    "}",
    `for (let a = 0; a < ${int(LANES)}; a++) {`,
    "for (let t = treeStart[a], end = treeStart[a + 1]; t < end; t++) out[o + treeOutput[t]] += V[leaves[t - t0 + a]];",
    "}",
    "};",
  ];
  const make = new Function("table", "starts", "outputs", "slots", "sets", source.join("\n")) as (
    table: ChainTable,
    starts: Int32Array,
    outputs: Int32Array,
    slots: Int32Array,
    sets: Int32Array | Uint8Array | null,
  ) => RowWalk;
  return make(table, treeStart, treeOutput, leaves, setsFor(kind, sets));
}

/** Which step a model's walks take. */
function stepKind(layout: WordLayout, sets: CategorySets): StepKind {
  return !layout.bitTest ? "compare" : sets.bytes !== null ? "bytes" : "bits";
}

/** The sets a step of `kind` reads (`S` in its source): none for a comparison. */
function setsFor(kind: StepKind, sets: CategorySets): Int32Array | Uint8Array | null {
  return kind === "bytes" ? sets.bytes : kind === "bits" ? sets.bits : null;
}

function rowsWalker(
  groups: readonly ChainTable[],
  layout: WordLayout,
  sets: CategorySets,
  baseline: Float64Array,
  nFeatures: number,
  nLanes: number,
): RowsWalk {
  const nOut = baseline.length;
  const kind = stepKind(layout, sets);
  const walks = groups.map((table) => groupRowsWalker(table, layout, kind, sets, nOut, nFeatures, nLanes));
  return (ranks, nRows, out) => {
    for (let r = 0; r < nRows; r++) for (let k = 0; k < nOut; k++) out[r * nOut + k] = baseline[k]!;
    for (const walk of walks) walk(ranks, nRows, out);
  };
}

function rowWalker(
  groups: readonly { readonly table: ChainTable; readonly treeStart: Int32Array }[],
  layout: WordLayout,
  sets: CategorySets,
  treeOutput: Int32Array,
  baseline: Float64Array,
): RowWalk {
  const nOut = baseline.length;
  // Walk a writes the slots of its trees' leaf edges from its first tree's place + a on; the one
  // extra place per walk takes what a finished walk keeps writing while the others go on. Slots,
  // not values: the values are read for the leaves alone, not at every step, which in a server
  // (where handling the request has pushed the tables out of the L1 cache) is cache lines saved.
  const leaves = new Int32Array(groups.reduce((n, g) => Math.max(n, g.treeStart[LANES]! - g.treeStart[0]!), 0) + LANES);
  const kind = stepKind(layout, sets);
  const walks = groups.map((g) => groupRowWalker(g.table, g.treeStart, layout, kind, sets, treeOutput, leaves));
  return (ranks, b, out, o) => {
    for (let k = 0; k < nOut; k++) out[o + k] = baseline[k]!;
    for (const walk of walks) walk(ranks, b, out, o);
  };
}

/** Bits to hold every integer 0 … n (at least 1). */
function bitsFor(n: number): number {
  return Math.max(1, Math.ceil(Math.log2(n + 1)));
}
