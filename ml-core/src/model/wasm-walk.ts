/**
 * ChainPredictor's many-rows walk as WebAssembly: the same chains, words and steps as its
 * JavaScript walk (`groupRowsWalker`), compiled from bytecode written here for each model, with the
 * model's field widths and table addresses as constants.
 *
 * Why: V8 compiles the JavaScript step to about 40 instructions (320 a pass of eight lanes on the
 * flights categorical model, 84 of them spills to the stack, with a bounds check on every typed
 * array read and an overflow check on the set's index). The same step in WebAssembly is 16: its
 * memory is bounds-checked by guard pages, its integers wrap, and one row base in a register with
 * each lane's offset in the load instruction leaves room for all eight lanes' words. Measured on
 * the flights models, 96 rows, 50 different requests cycled: categorical 62.5 → 49.5 µs, numeric
 * 55.8 → 46.1 (4 lanes 70.1 / 60.6, 6 lanes 52.5 / 47.9, 12 lanes 50.1 / 48.1, 16 lanes 54.3 / 51.8).
 *
 * The bytecode is emitted by hand (wasm-bytecode.ts). The walk's results are tested bit for bit
 * against FlatPredictor and against the JavaScript walk, which stays for engines without
 * WebAssembly (`node --jitless`) or where its memory cannot be reserved (a low `ulimit -v`).
 *
 * Memory: the tables (each group's words, values and first words), then the sets, then room for
 * the ranks and sums of `rows` rows, which a larger call walks in turn. The memory never grows:
 * growing detaches its old buffer, and V8's first detach in a process (its ArrayBufferDetaching
 * protector) makes every typed-array access in the process check for one from then on.
 */

import { align, emitter, F64, I32, op, PAGE, uleb, vec, walksModule } from "./wasm-bytecode";

/** How a step tests its node (ChainPredictor's StepKind). */
export type WasmStepKind = "compare" | "bits" | "bytes";

/** One group of consecutive trees: ChainPredictor's ChainTable. */
export interface WasmWalkTable {
  readonly word: Int32Array;
  readonly value: Float64Array;
  readonly first: Int32Array;
}

export interface WasmWalkSpec {
  readonly kind: WasmStepKind;
  /** The many-rows tables' word layout: `(child << childShift) | (field << columnBits) | column`. */
  readonly columnBits: number;
  readonly rankBits: number;
  readonly childShift: number;
  /** CategorySets.wordsShift (bit sets). */
  readonly wordsShift: number;
  /** The sets a step reads: bytes, bits as 32-bit words, or none (comparisons). */
  readonly sets: Uint8Array | Int32Array | null;
  readonly tables: readonly WasmWalkTable[];
  readonly nOutputs: number;
  /** Int32 ranks a row: twice the features. */
  readonly rowWidth: number;
  /** Rows walked side by side, per exported walk (8 and 4). */
  readonly lanes: readonly number[];
  /** Rows the memory has room for (a multiple of every lane count). */
  readonly rows: number;
}

export class WasmRowsWalk {
  /** Rows whose ranks and sums the memory has room for. */
  readonly rows: number;
  /** Room for the ranks of `rows` rows, in the walk's memory: where the caller ranks them… */
  readonly ranks: Int32Array;
  /** …and their sums, row-major (rows × nOutputs), which the caller sets to the baseline before a walk. */
  readonly sums: Float64Array;
  private readonly walks: ((rowStart: number, rowEnd: number, outAt: number) => void)[];
  private readonly sumsAt: number;

  /** Throws where WebAssembly is missing or its memory cannot be reserved (callers fall back). */
  constructor(spec: WasmWalkSpec) {
    const { tables, nOutputs, sets, rows } = spec;
    let at = 0;
    const placed = tables.map((t) => {
      const wordAt = at;
      const valueAt = align(wordAt + 4 * t.word.length);
      const firstAt = align(valueAt + 8 * t.value.length);
      at = align(firstAt + 4 * t.first.length);
      return { wordAt, valueAt, firstAt };
    });
    const setsAt = at;
    const ranksAt = align(setsAt + (sets?.byteLength ?? 0));
    const rowBytes = 4 * spec.rowWidth;
    this.sumsAt = align(ranksAt + rows * rowBytes);
    const pages = Math.ceil((this.sumsAt + rows * 8 * nOutputs) / PAGE);
    const memory = new WebAssembly.Memory({ initial: pages, maximum: pages });
    const buffer = memory.buffer;
    tables.forEach((t, g) => {
      new Int32Array(buffer, placed[g]!.wordAt, t.word.length).set(t.word);
      new Float64Array(buffer, placed[g]!.valueAt, t.value.length).set(t.value);
      new Int32Array(buffer, placed[g]!.firstAt, t.first.length).set(t.first);
    });
    if (sets !== null) new Uint8Array(buffer, setsAt, sets.byteLength).set(new Uint8Array(sets.buffer, sets.byteOffset, sets.byteLength));
    this.rows = rows;
    this.ranks = new Int32Array(buffer, ranksAt, rows * spec.rowWidth);
    this.sums = new Float64Array(buffer, this.sumsAt, rows * nOutputs);
    const module = new WebAssembly.Module(walkModule(spec, placed, setsAt, ranksAt, pages));
    const instance = new WebAssembly.Instance(module, { m: { memory } });
    this.walks = spec.lanes.map((_, i) => instance.exports[`walk${i}`] as (rowStart: number, rowEnd: number, outAt: number) => void);
  }

  /** Adds every tree's values to the sums of rows `rowStart` … `rowEnd` - 1, with the `lanes[i]` walk (the count a multiple of its lanes). */
  walk(i: number, rowStart: number, rowEnd: number): void {
    this.walks[i]!(rowStart, rowEnd, this.sumsAt);
  }
}

interface Placed {
  readonly wordAt: number;
  readonly valueAt: number;
  readonly firstAt: number;
}

/**
 * A module of one walk per lane count: `walk{i}(rowStart, rowEnd, outAt)`. For each block of
 * rows, each group and each output, the lanes step along the output's chain until every lane's
 * word is END's (0), each adding its edges' values to its row's sum, as the JavaScript walk does.
 */
function walkModule(spec: WasmWalkSpec, placed: readonly Placed[], setsAt: number, ranksAt: number, pages: number): Uint8Array {
  const functions = spec.lanes.map((lanes) => walkFunction(spec, lanes, placed, setsAt, ranksAt));
  return walksModule(3, functions, pages);
}

function walkFunction(spec: WasmWalkSpec, lanes: number, placed: readonly Placed[], setsAt: number, ranksAt: number): number[] {
  const { kind, columnBits, rankBits, childShift, wordsShift, nOutputs } = spec;
  const rowBytes = 4 * spec.rowWidth;
  // Locals: the parameters, then r (the block's first row), b (its ranks' byte offset), k (the
  // output), o (its first sum's byte offset), e (the slot a step leads to), a word and a sum a lane.
  const ROW_START = 0;
  const ROW_END = 1;
  const OUT_AT = 2;
  const R = 3;
  const B = 4;
  const K = 5;
  const O = 6;
  const E = 7;
  const V = 8;
  const W = (q: number): number => 9 + q;
  const S = (q: number): number => 9 + lanes + q;
  const columnMask = (1 << columnBits) - 1;
  const fieldMask = (1 << rankBits) - 1;
  const { code, emit } = emitter();
  emit(op.get(ROW_START), op.set(R));
  emit(op.block, op.loop);
  emit(op.get(R), op.get(ROW_END), op.geS, op.brIf(1));
  emit(op.get(R), op.i32(rowBytes), op.mul, op.set(B));
  for (const { wordAt, valueAt, firstAt } of placed) {
    emit(op.i32(0), op.set(K));
    emit(op.block, op.loop);
    emit(op.get(K), op.i32(nOutputs), op.geS, op.brIf(1));
    // o = outAt + (r × nOutputs + k) × 8; lane q's sum is nOutputs × 8 q bytes on.
    emit(op.get(OUT_AT), op.get(R), op.i32(nOutputs), op.mul, op.get(K), op.add, op.i32(3), op.shl, op.add, op.set(O));
    emit(op.get(K), op.i32(2), op.shl, op.load(firstAt));
    for (let q = 0; q < lanes; q++) emit(q + 1 < lanes ? op.tee(W(q)) : op.set(W(q)));
    for (let q = 0; q < lanes; q++) emit(op.get(O), op.f64load(q * nOutputs * 8), op.set(S(q)));
    emit(op.block, op.loop);
    emit(op.get(W(0)));
    for (let q = 1; q < lanes; q++) emit(op.get(W(q)), op.or);
    emit(op.eqz, op.brIf(1));
    for (let q = 0; q < lanes; q++) {
      const w = op.get(W(q));
      // The child slot; then the rank (or code) in the word's column of lane q's row.
      emit(w, op.i32(childShift), op.shrS);
      const rank = [...w, ...op.i32(columnMask), ...op.and, ...op.i32(2), ...op.shl, ...op.get(B), ...op.add, ...op.load(ranksAt + q * rowBytes)];
      switch (kind) {
        case "compare":
          emit(rank, w, op.i32(columnBits), op.shrS, op.i32(fieldMask), op.and, op.gtS);
          break;
        case "bytes":
          // The rank is stored times the number of sets: plus the word's set, its byte.
          emit(w, op.i32(columnBits), op.shrS, op.i32(fieldMask), op.and, rank, op.add, op.load8u(setsAt));
          break;
        case "bits":
          // The set's first word (set << wordsShift), plus the rank's word; its bit.
          emit(rank, op.tee(V));
          emit(op.i32(5), op.shrS, w, op.i32(columnBits - wordsShift), op.shrS, op.i32(fieldMask << wordsShift), op.and, op.add);
          emit(op.i32(2), op.shl, op.load(setsAt), op.get(V), op.shrU, op.i32(1), op.and);
          break;
      }
      emit(op.add, op.tee(E), op.i32(2), op.shl, op.load(wordAt), op.set(W(q)));
      emit(op.get(S(q)), op.get(E), op.i32(3), op.shl, op.f64load(valueAt), op.f64add, op.set(S(q)));
    }
    emit(op.br(0), op.end, op.end);
    for (let q = 0; q < lanes; q++) emit(op.get(O), op.get(S(q)), op.f64store(q * nOutputs * 8));
    emit(op.get(K), op.i32(1), op.add, op.set(K), op.br(0), op.end, op.end);
  }
  emit(op.get(R), op.i32(lanes), op.add, op.set(R), op.br(0), op.end, op.end);
  const locals = vec([
    [...uleb(6 + lanes), I32],
    [...uleb(lanes), F64],
  ]);
  return [...locals, ...code, 0x0b];
}
