/**
 * Training's data-parallel loops on several threads over shared memory: gradients, the partition
 * of a node's rows at a split, and histograms. Every loop gives the bits of one thread, whatever
 * the thread count:
 *
 * - gradients are element-wise, and a stable partition has one result;
 * - a histogram is summed in fixed blocks of rows (`BLOCK_ROWS`, histogram.ts), each feature of a
 *   block in row order, and the blocks' partials are added in block order by the main thread. The
 *   one-thread path sums the same blocks, so the model does not depend on the thread count, nor on
 *   how the work is cut: a unit is one block of rows and a chunk of features, all of them at once
 *   (`rows`), one (`features`), or `auto` (chunks just narrow enough for every thread to get work);
 * - a split's partition sums the smaller child's histogram block by block as it goes, its blocks
 *   cut by the node's row count alone (`splitBlockRows`), so those bits do not depend on the
 *   threads either.
 *
 * The main thread hands out a job by writing it into a shared control array and bumping a
 * sequence number (`Atomics.notify`). Every thread, the main one included, then claims units of
 * work from one cursor (a compare-and-swap of `job stamp << 12 | next unit`): a worker that wakes
 * late finds the cursor stamped with a later job and claims nothing, and one that never starts
 * cannot stall training, since the main thread claims whatever is left. The main thread waits
 * (`Atomics.wait`) only for units a worker claimed. Training stays synchronous: no promise, no
 * event loop turn per node. This file is also the workers' entry point.
 */
import { availableParallelism } from "node:os";
import * as path from "node:path";
import { isMainThread, MessageChannel, receiveMessageOnPort, Worker, workerData, type MessagePort } from "node:worker_threads";
import { accumulateRows, binCounts, BLOCK_ROWS, blockCount, fillRootCounts, MAX_CHUNK_FEATURES, reduceBlocks } from "./histogram";
import { lossNamed, type Loss } from "./loss";
import { lowerBound } from "../data/sorted";
import type { GradientArray, RowIndexArray } from "./types";

// Indexed reads carry `!` (noUncheckedIndexedAccess): control slots, blocks and feature lists are
// sized here. A check per read would cost the hot loops; the emitted JavaScript is unchanged.

/** Control array slots. */
const SEQ = 0;
/** Units of the current job finished. */
const DONE = 1;
const STOP = 2;
const FAILED = 3;
/** `job stamp << 12 | next unit to claim`. */
const CURSOR = 4;
const KIND = 5;
const UNITS = 6;
/** Items per unit (a job of more than 4095 items groups them). */
const STEP = 7;
const ITEMS = 8;
const REGISTERED = 9;
const P_HIST = 10;
const P_NATURAL = 11;
const P_START = 12;
const P_COUNT = 13;
/** Which output's gradients (indexed by row) a histogram sums. */
const P_SOURCE = 14;
const P_HAS_H = 15;
/** Features per histogram unit. */
const P_CHUNK = 16;
const P_FEATURE = 17;
const P_N_FEATURES = 18;
const P_N_LEAVES = 19;
const P_N_OUTPUTS = 20;
/** Which side of a partition a histogram is summed for (NO_SIDE, LEFT_SIDE or RIGHT_SIDE). */
const P_SIDE = 21;
/** Then the job's features. */
const FEATURES = 24;

const MAX_UNITS = 4095;
/** A cursor no stamp matches (stamps are below 2^19). */
const CLOSED = -1;
const STAMP_MASK = 0x7ffff;

const HISTOGRAM = 0;
const GRADIENTS = 1;
const PARTITION = 2;
const JOIN = 3;
const LEAF_VALUES = 4;

const NO_SIDE = 0;
const LEFT_SIDE = 1;
const RIGHT_SIDE = 2;

/**
 * How long a worker watches for the next job before it sleeps in `Atomics.wait` (ms). Waking a
 * sleeping worker takes ~30 µs here, and a split's jobs come every few hundred µs: the main thread
 * waited ~65 µs a split for the worker's last block. 500k rows, 2 threads, alternating runs: fit
 * median 2.59 → 2.32 s (five pairs; 0.5 ms measured as 0.2), with no more CPU time. An earlier
 * round's trials (50–300 µs) were not faster, when a split's work was dearer and a wake-up a
 * smaller share of it.
 */
const WATCH_MS = 0.2;

/**
 * How long the main thread watches for a job's last units before it sleeps (ms). It waits only for
 * units a worker has claimed and is running, so the wait is at most one unit's time; sleeping in
 * `Atomics.wait` added the ~30 µs of a wake-up to most partitions (500k rows, 2 threads: the
 * partitions' waits 110 → 67 ms a fit, the joins' 19 → 8). Not with more threads than CPUs: the
 * worker it waits for may then need this thread's CPU.
 */
const MAIN_WATCH_MS = 1;

/** Rows per unit of the gradient job (element-wise: any split gives the same bits). */
const GRADIENT_ROWS = 65536;

/** Below this many row × feature additions a node is summed by the main thread alone: waking the workers costs more. */
export const PARALLEL_MIN_WORK = 100_000;
/** Below this many rows a gradient or leaf-value pass runs on the main thread alone. */
export const PARALLEL_MIN_ROWS = 2 * BLOCK_ROWS;

/** The smallest and largest blocks of a split (see `splitBlockRows`). */
const SPLIT_MIN_BLOCK_ROWS = 4096;
const SPLIT_MAX_BLOCK_ROWS = 2 * BLOCK_ROWS;
/** Below this many rows a split runs on the main thread alone. */
export const SPLIT_PARALLEL_MIN_ROWS = 16384;

/**
 * Rows per block of a split's partition (and of the child histogram it sums): a node too small
 * for threads is one block; a larger one is cut in quarters of 4,096 to 65,536 rows, so that
 * threads share the many mid-sized nodes of a tree's last splits, while the main thread adds few
 * blocks' partial histograms. It depends on the node's row count only, so the histogram's bits do
 * not depend on the threads.
 */
export function splitBlockRows(count: number): number {
  if (count < SPLIT_PARALLEL_MIN_ROWS) return Math.max(1, count);
  return Math.min(SPLIT_MAX_BLOCK_ROWS, Math.max(SPLIT_MIN_BLOCK_ROWS, Math.ceil(count / 4)));
}

/** Blocks of a split of `count` rows. */
export function splitBlocks(count: number): number {
  return Math.max(1, Math.ceil(count / splitBlockRows(count)));
}

/** Blocks of summation at most, histogram or split, in a node of up to `nRows` rows: what `partials` and `leftCounts` hold. */
export function maxBlocks(nRows: number): number {
  return Math.max(blockCount(nRows), Math.min(4, Math.ceil(nRows / SPLIT_MIN_BLOCK_ROWS)));
}

/** How histogram work is handed to threads (the model is the same for every choice). */
export type HistogramSchedule = "features" | "rows" | "auto";

/** The shared arrays every thread reads. */
export interface SharedTrainingArrays {
  /** Column-major bins, `bins[f * nRows + row]` (one feature's column: what a partition reads). */
  readonly bins: Uint8Array;
  /** The same bins row-major, `binsByRow[row * nFeatures + f]` (what histograms read). */
  readonly binsByRow: Uint8Array;
  readonly nRows: number;
  readonly nFeatures: number;
  readonly rows: RowIndexArray;
  /** Right-hand rows of a partition, block by block. */
  readonly scratch: RowIndexArray;
  /** Left-hand rows of a partition on threads, block by block (empty with one thread). */
  readonly scratchLeft: RowIndexArray;
  /** Per output, gradients and hessians indexed by row (hessians empty for a constant hessian). */
  readonly g: readonly GradientArray[];
  readonly h: readonly GradientArray[];
  /** Partial histograms of blocks 1, 2, … of a node (block 0 is summed into the node's own). */
  readonly partials: readonly Float64Array[];
  /** Labels and raw predictions (row-major, rows × outputs), for the gradient job. */
  readonly y: Float64Array;
  readonly raw: Float64Array;
  readonly weights: Float64Array | undefined;
  /** A split's side per bin (1 = left), for the partition job. */
  readonly lut: Uint8Array;
  /** Left rows per block of the last partition (`maxBlocks` of the rows). */
  readonly leftCounts: Int32Array;
  /**
   * A tree's leaves in row order, for the leaf-value job: leaf j owns `rows[leafStarts[j] ..
   * leafStarts[j + 1])`, its rows in ascending order (as a stable partition of every row leaves them).
   */
  readonly leafStarts: Int32Array;
  readonly leafValues: Float64Array;
}

/** What the gradient job needs to rebuild the loss in a worker. */
export interface LossSpec {
  readonly name: Loss["name"];
  readonly nOutputs: number;
}

interface ThreadInit {
  readonly mlCoreTrainingThread: true;
  readonly control: Int32Array;
  readonly arrays: SharedTrainingArrays;
  readonly loss: LossSpec;
  readonly port: MessagePort;
}

/** A typed array on a SharedArrayBuffer, so that worker threads see the same memory. */
export function sharedArray<T extends Uint8Array | Int32Array | Uint32Array | Float32Array | Float64Array>(
  Ctor: { new (b: SharedArrayBuffer): T; readonly BYTES_PER_ELEMENT: number },
  length: number,
): T {
  return new Ctor(new SharedArrayBuffer(length * Ctor.BYTES_PER_ELEMENT));
}

/** Partial histogram buffers for nodes of up to `nRows` rows. */
export function partialHistograms(nRows: number, histLength: number, allocate: (length: number) => Float64Array): Float64Array[] {
  return Array.from({ length: maxBlocks(nRows) - 1 }, () => allocate(histLength));
}

/** One job's parameters, as every thread reads them from the control array. */
interface Job {
  readonly kind: number;
  readonly items: number;
  readonly hist: Float64Array | undefined;
  readonly natural: boolean;
  readonly start: number;
  readonly count: number;
  readonly source: number;
  readonly hasH: boolean;
  readonly chunk: number;
  readonly nLeaves: number;
  readonly nOutputs: number;
  readonly feature: number;
  readonly features: Int32Array;
  /** For a partition: the side whose histogram its blocks sum (NO_SIDE: none). */
  readonly side: number;
}

/**
 * The histogram a split's partition sums on its way: the smaller child's. The partition has each
 * block's rows of that side in cache as it writes them, and a separate job would be one more
 * hand-off between threads, and one more pass over the rows, per split.
 */
export interface ChildHistogram {
  /** From `allocate`. */
  readonly hist: Float64Array;
  /** Whether the child is the left side of the split. */
  readonly left: boolean;
  /** Which output's gradients. */
  readonly source: number;
  readonly hasH: boolean;
  readonly features: ArrayLike<number>;
}

export class TrainingThreads {
  /** Threads sharing the work, the main thread included. */
  readonly size: number;
  private readonly workers: Worker[];
  private readonly ports: MessagePort[];
  private readonly control: Int32Array;
  private readonly histIds = new Map<Float64Array, number>();
  private readonly hists: Float64Array[] = [];
  private readonly loss: Loss;
  private job = 0;
  /** MAIN_WATCH_MS, or 0 with more threads than CPUs. */
  private readonly watchMs: number;
  private closed = false;
  /** Every root's count slots (`binCounts`), once a root without subsampling is summed. */
  private rootCounts: Float64Array | undefined;

  constructor(
    threads: number,
    private readonly arrays: SharedTrainingArrays,
    nFeatures: number,
    loss: LossSpec,
    private readonly schedule: HistogramSchedule = "auto",
  ) {
    this.size = threads;
    this.watchMs = threads <= availableParallelism() ? MAIN_WATCH_MS : 0;
    this.loss = lossNamed(loss.name, loss.nOutputs);
    this.control = new Int32Array(new SharedArrayBuffer((FEATURES + nFeatures) * 4));
    this.control[CURSOR] = CLOSED;
    this.ports = [];
    this.workers = Array.from({ length: threads - 1 }, () => {
      const { port1, port2 } = new MessageChannel();
      this.ports.push(port1);
      const init: ThreadInit = { mlCoreTrainingThread: true, control: this.control, arrays, loss, port: port2 };
      const w = new Worker(workerEntry(), { workerData: init, transferList: [port2] });
      // A worker must never keep the process alive (the job may end without close()).
      w.unref();
      port1.unref();
      return w;
    });
  }

  /** A histogram buffer (on shared memory when there are workers), made known to every worker. */
  allocate(length: number): Float64Array {
    const h = this.workers.length > 0 ? sharedArray(Float64Array, length) : new Float64Array(length);
    this.histIds.set(h, this.hists.length);
    this.hists.push(h);
    for (const p of this.ports) p.postMessage(h);
    return h;
  }

  /**
   * Sums `features` of the node `rows[start .. start+count)` into `hist` (from `allocate`), block
   * by block, then adds the blocks' partials in block order. `source`: which output's gradients.
   * `natural`: the node is rows `0 .. count - 1` in order (the root without subsampling).
   */
  build(hist: Float64Array, natural: boolean, start: number, count: number, source: number, hasH: boolean, features: ArrayLike<number>): void {
    const nB = blockCount(count);
    const chunk = this.chunkFor(nB, features.length);
    const c = this.control;
    this.setHistogram(hist, source, hasH, features);
    c[P_NATURAL] = natural ? 1 : 0;
    c[P_START] = start;
    c[P_COUNT] = count;
    c[P_CHUNK] = chunk;
    const parallel = count * features.length >= PARALLEL_MIN_WORK;
    this.run(HISTOGRAM, nB * Math.ceil(features.length / chunk), parallel);
    reduceBlocks(hist, this.arrays.partials, nB, features);
    if (isWholeRoot(this.arrays, natural, count)) {
      this.rootCounts ??= binCounts(this.arrays.bins, this.arrays.nRows, this.arrays.nFeatures);
      fillRootCounts(hist, this.rootCounts, features, hasH);
    }
  }

  /** Writes which histogram a job sums, of which gradients and features. */
  private setHistogram(hist: Float64Array, source: number, hasH: boolean, features: ArrayLike<number>): void {
    const id = this.histIds.get(hist);
    if (id === undefined) throw new Error("histogram was not allocated by these threads");
    const c = this.control;
    c[P_HIST] = id;
    c[P_SOURCE] = source;
    c[P_HAS_H] = hasH ? 1 : 0;
    c[P_N_FEATURES] = features.length;
    for (let i = 0; i < features.length; i++) c[FEATURES + i] = features[i]!;
  }

  /** Features per histogram unit: the widest chunks that still give every thread two units or more. */
  private chunkFor(nBlocks: number, nFeatures: number): number {
    const widest = Math.min(MAX_CHUNK_FEATURES, nFeatures);
    if (this.schedule === "features") return 1;
    if (this.schedule === "rows" || this.size === 1) return widest;
    const chunks = Math.ceil((2 * this.size) / nBlocks);
    return Math.max(1, Math.min(widest, Math.ceil(nFeatures / chunks)));
  }

  /** Gradients and hessians of every row at the current raw predictions (weighted when weights are given). */
  gradients(nRows: number): void {
    this.run(GRADIENTS, Math.ceil(nRows / GRADIENT_ROWS), nRows >= PARALLEL_MIN_ROWS);
  }

  /**
   * A split: the stable partition of `rows[start .. start+count)` by feature `feature` and the side
   * per bin in `lut` (shared `arrays.lut`, filled by the caller), left rows first; returns the left
   * count. `natural`: the range is the rows `0 .. count - 1` in order and `rows` is not read (the
   * root). The partition runs block by block (`splitBlockRows`), and also sums
   * `child`'s histogram when given: each block's rows of that side into the block's partial, in
   * row order, the partials then added in block order, so the bits do not depend on the threads.
   * `beside` runs on this thread while the others write the partition's blocks back in place; it
   * must not touch `rows`.
   */
  split(start: number, count: number, feature: number, natural: boolean, child: ChildHistogram | null, beside: () => void): number {
    if (this.workers.length === 0 || count < SPLIT_PARALLEL_MIN_ROWS) {
      const left = this.splitHere(start, count, feature, natural, child);
      beside();
      return left;
    }
    const c = this.control;
    if (child !== null) this.setHistogram(child.hist, child.source, child.hasH, child.features);
    c[P_SIDE] = child === null ? NO_SIDE : child.left ? LEFT_SIDE : RIGHT_SIDE;
    c[P_START] = start;
    c[P_COUNT] = count;
    c[P_FEATURE] = feature;
    c[P_NATURAL] = natural ? 1 : 0;
    const leftCounts = this.arrays.leftCounts;
    // Each block sends its left rows to scratchLeft and its right rows to scratch, at its own
    // offset; then the blocks copy them back in place, every block's destination known from the
    // counts: no block writes where another still reads.
    const nB = splitBlocks(count);
    this.run(PARTITION, nB, true);
    let left = 0;
    for (let b = 0; b < nB; b++) left += leftCounts[b]!;
    if (child !== null) reduceBlocks(child.hist, this.arrays.partials, nB, child.features);
    this.run(JOIN, nB, true, beside);
    return left;
  }

  /**
   * `split` on this thread alone, in one pass: left rows written in place (never ahead of the row
   * read), right rows to `scratch` and then after them. The same blocks sum the child's histogram.
   */
  private splitHere(start: number, count: number, feature: number, natural: boolean, child: ChildHistogram | null): number {
    const { rows, scratch, bins, nRows, lut, partials, binsByRow, nFeatures } = this.arrays;
    const col = bins.subarray(feature * nRows, (feature + 1) * nRows);
    const size = splitBlockRows(count);
    const end = start + count;
    const g = child === null ? null : this.arrays.g[child.source]!;
    const h = child?.hasH === true ? this.arrays.h[child.source]! : null;
    let l = start;
    let r = 0;
    for (let b = 0, s = start; s < end; b++, s += size) {
      const e = Math.min(end, s + size);
      const l0 = l;
      const r0 = r;
      l = partitionRange(natural ? null : rows, rows, scratch, col, lut, s, e, l0, r0);
      r = r0 + (e - s) - (l - l0);
      if (child === null || g === null) continue;
      const out = b === 0 ? child.hist : partials[b - 1]!;
      if (child.left) accumulateRows(out, binsByRow, nFeatures, rows, l0, l, g, h, child.features, 0, child.features.length);
      else accumulateRows(out, binsByRow, nFeatures, scratch, r0, r, g, h, child.features, 0, child.features.length);
    }
    rows.set(scratch.subarray(0, r), l);
    if (child !== null) reduceBlocks(child.hist, partials, splitBlocks(count), child.features);
    return l - start;
  }

  /**
   * Adds leaf j's value to output `output` of the raw predictions of its rows, for the `nLeaves`
   * leaves written into `arrays.leafStarts`/`leafValues` (in row order, `leafStarts[nLeaves]` the end).
   * The leaves hold every row `0 … leafStarts[nLeaves] - 1` once, each leaf's in ascending order
   * (the leaves of a tree grown on every row: the booster calls this only then).
   */
  addLeafValues(nLeaves: number, output: number, nOutputs: number): void {
    const c = this.control;
    c[P_COUNT] = this.arrays.leafStarts[nLeaves]!;
    c[P_N_LEAVES] = nLeaves;
    c[P_SOURCE] = output;
    c[P_N_OUTPUTS] = nOutputs;
    this.run(LEAF_VALUES, Math.ceil(c[P_COUNT]! / GRADIENT_ROWS), c[P_COUNT]! >= PARALLEL_MIN_ROWS);
  }

  /** Runs job `kind` of `items` items: on every thread when `parallel` and there are workers, else here. */
  private run(kind: number, items: number, parallel: boolean, beside?: () => void): void {
    const c = this.control;
    c[KIND] = kind;
    c[ITEMS] = items;
    const step = Math.ceil(items / MAX_UNITS);
    const units = Math.ceil(items / step);
    c[STEP] = step;
    c[UNITS] = units;
    if (!parallel || this.workers.length === 0 || units < 2) {
      try {
        beside?.();
      } finally {
        const job = readJob(c, this.hists);
        for (let i = 0; i < items; i++) runItem(this.arrays, this.loss, job, i);
      }
      return;
    }
    c[REGISTERED] = this.hists.length;
    this.job++;
    const stamp = this.job & STAMP_MASK;
    Atomics.store(c, DONE, 0);
    Atomics.store(c, CURSOR, stamp << 12);
    Atomics.store(c, SEQ, this.job);
    Atomics.notify(c, SEQ);
    try {
      beside?.();
    } finally {
      // The job is finished even when `beside` threw: the workers may still be writing.
      const job = readJob(c, this.hists);
      for (let u = claim(c, stamp); u >= 0; u = claim(c, stamp)) {
        runUnit(this.arrays, this.loss, job, u, step);
        Atomics.add(c, DONE, 1);
      }
      const watched = performance.now();
      while (Atomics.load(c, DONE) < units && performance.now() - watched < this.watchMs);
      for (let d = Atomics.load(c, DONE); d < units; d = Atomics.load(c, DONE)) Atomics.wait(c, DONE, d);
      // Closed: a worker that read this job's stamp late can claim nothing once the fields change.
      Atomics.store(c, CURSOR, CLOSED);
    }
    if (Atomics.load(c, FAILED) !== 0) throw new Error("a training thread failed");
  }

  /** Stops the workers (idempotent). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    Atomics.store(this.control, STOP, 1);
    Atomics.add(this.control, SEQ, 1);
    Atomics.notify(this.control, SEQ);
    for (const p of this.ports) p.close();
    for (const w of this.workers) void w.terminate();
  }
}

/** Claims the next unit of the job stamped `stamp`; -1 when none is left (or the job is over). */
function claim(c: Int32Array, stamp: number): number {
  for (;;) {
    const v = Atomics.load(c, CURSOR);
    if (v >>> 12 !== stamp) return -1;
    const u = v & 0xfff;
    // Read after the stamp matched: a later job's count can only make the exchange below fail.
    if (u >= c[UNITS]!) return -1;
    if (Atomics.compareExchange(c, CURSOR, v, v + 1) === v) return u;
  }
}

function readJob(c: Int32Array, hists: readonly Float64Array[]): Job {
  const kind = c[KIND]!;
  return {
    kind,
    items: c[ITEMS]!,
    hist: sums(kind, c) ? hists[c[P_HIST]!] : undefined,
    natural: c[P_NATURAL] === 1,
    start: c[P_START]!,
    count: c[P_COUNT]!,
    source: c[P_SOURCE]!,
    hasH: c[P_HAS_H] === 1,
    chunk: c[P_CHUNK]!,
    nLeaves: c[P_N_LEAVES]!,
    nOutputs: c[P_N_OUTPUTS]!,
    feature: c[P_FEATURE]!,
    features: sums(kind, c) ? c.slice(FEATURES, FEATURES + c[P_N_FEATURES]!) : EMPTY,
    side: kind === PARTITION ? c[P_SIDE]! : NO_SIDE,
  };
}

/** Whether the job in `c` sums a histogram. */
function sums(kind: number, c: Int32Array): boolean {
  return kind === HISTOGRAM || (kind === PARTITION && c[P_SIDE] !== NO_SIDE);
}

const EMPTY = new Int32Array(0);

function runUnit(a: SharedTrainingArrays, loss: Loss, job: Job, unit: number, step: number): void {
  const end = Math.min(job.items, (unit + 1) * step);
  for (let i = unit * step; i < end; i++) runItem(a, loss, job, i);
}

function runItem(a: SharedTrainingArrays, loss: Loss, job: Job, i: number): void {
  switch (job.kind) {
    case HISTOGRAM:
      return histogramItem(a, job, i);
    case GRADIENTS:
      return gradientItem(a, loss, i);
    case PARTITION:
      return partitionBlock(a, job, i);
    case JOIN:
      return joinBlock(a, job, i);
    case LEAF_VALUES:
      return leafValuesItem(a, job, i);
  }
}

/** Item i: block `i / chunks` of the node's rows, over chunk `i % chunks` of the features. */
function histogramItem(a: SharedTrainingArrays, job: Job, i: number): void {
  const { features, chunk, start, count } = job;
  const chunks = Math.ceil(features.length / chunk);
  const b = Math.floor(i / chunks);
  const c0 = (i % chunks) * chunk;
  const s = start + b * BLOCK_ROWS;
  const out = b === 0 ? (job.hist as Float64Array) : a.partials[b - 1]!;
  const h = job.hasH ? a.h[job.source]! : null;
  const rows = job.natural ? null : a.rows;
  accumulateRows(
    out,
    a.binsByRow,
    a.nFeatures,
    rows,
    s,
    Math.min(start + count, s + BLOCK_ROWS),
    a.g[job.source]!,
    h,
    features,
    c0,
    Math.min(features.length, c0 + chunk),
    isWholeRoot(a, job.natural, count),
  );
}

/** Every row in order: its counts are known before it is summed (the build fills them in). */
function isWholeRoot(a: SharedTrainingArrays, natural: boolean, count: number): boolean {
  return natural && count === a.nRows;
}

function gradientItem(a: SharedTrainingArrays, loss: Loss, i: number): void {
  const s = i * GRADIENT_ROWS;
  const e = Math.min(a.nRows, s + GRADIENT_ROWS);
  const K = loss.nOutputs;
  const g = a.g.map((x) => x.subarray(s, e));
  const h = a.h.map((x) => (x.length === 0 ? x : x.subarray(s, e)));
  gradientRange(loss, a.y.subarray(s, e), a.raw.subarray(s * K, e * K), e - s, g, h, a.weights?.subarray(s, e));
}

/** Gradients of rows (of the arrays given, from 0 to n), times their weights when there are weights. */
export function gradientRange(
  loss: Loss,
  y: Float64Array,
  raw: Float64Array,
  n: number,
  g: GradientArray[],
  h: GradientArray[],
  w: Float64Array | undefined,
): void {
  loss.gradients(y, raw, n, g, h);
  if (w !== undefined) for (let k = 0; k < g.length; k++) applyWeights(g[k]!, h[k]!, w, loss.constantHessian, n);
}

/** Gradients and hessians of a weighted loss: each row's times its weight (a loss with constant hessian 1 gets h = w). */
function applyWeights(g: GradientArray, h: GradientArray, w: Float64Array, constantHessian: boolean, n: number): void {
  for (let i = 0; i < n; i++) g[i]! *= w[i]!;
  if (constantHessian) for (let i = 0; i < n; i++) h[i] = w[i]!;
  else for (let i = 0; i < n; i++) h[i]! *= w[i]!;
}

/**
 * Block b of the node: its left rows to scratchLeft, its right rows to scratch, at the block's
 * offset; then, for a split that sums a child's histogram, that side's rows into block b's partial.
 */
function partitionBlock(a: SharedTrainingArrays, job: Job, b: number): void {
  const size = splitBlockRows(job.count);
  const s = job.start + b * size;
  const e = Math.min(job.start + job.count, s + size);
  const col = a.bins.subarray(job.feature * a.nRows, (job.feature + 1) * a.nRows);
  const l = partitionRange(job.natural ? null : a.rows, a.scratchLeft, a.scratch, col, a.lut, s, e, s, s) - s;
  a.leftCounts[b] = l;
  if (job.side === NO_SIDE) return;
  const rows = job.side === LEFT_SIDE ? a.scratchLeft : a.scratch;
  const out = b === 0 ? (job.hist as Float64Array) : a.partials[b - 1]!;
  const h = job.hasH ? a.h[job.source]! : null;
  accumulateRows(
    out,
    a.binsByRow,
    a.nFeatures,
    rows,
    s,
    s + (job.side === LEFT_SIDE ? l : e - s - l),
    a.g[job.source]!,
    h,
    job.features,
    0,
    job.features.length,
  );
}

/** Block b's left and right rows back into `rows`, after the left and right rows of the blocks before it. */
function joinBlock(a: SharedTrainingArrays, job: Job, b: number): void {
  const nB = splitBlocks(job.count);
  const blockRows = splitBlockRows(job.count);
  let leftBefore = 0;
  let left = 0;
  for (let k = 0; k < nB; k++) {
    if (k < b) leftBefore += a.leftCounts[k]!;
    left += a.leftCounts[k]!;
  }
  const s = job.start + b * blockRows;
  const size = Math.min(blockRows, job.count - b * blockRows);
  const l = a.leftCounts[b]!;
  a.rows.set(a.scratchLeft.subarray(s, s + l), job.start + leftBefore);
  // Right rows of the blocks before this one: their sizes less their left rows.
  a.rows.set(a.scratch.subarray(s, s + size - l), job.start + left + b * blockRows - leftBefore);
}

/**
 * Unit i: the rows numbered `[i * GRADIENT_ROWS, …)` get their leaf's value. By row number, not by
 * position in the leaves' ranges: a leaf's rows are spread over the whole array, so units of
 * positions had two threads adding to the same cache lines of `raw` at once (500k rows, 2 threads:
 * 70–78 ms a fit, against 92 on one thread; by row number 51–56). Each leaf's rows ascend, so a
 * unit finds its part of every leaf by two binary searches.
 */
function leafValuesItem(a: SharedTrainingArrays, job: Job, i: number): void {
  const { leafStarts, leafValues, rows, raw } = a;
  const { nLeaves, nOutputs: K, source: k } = job;
  const lo = i * GRADIENT_ROWS;
  const hi = Math.min(job.count, lo + GRADIENT_ROWS);
  for (let j = 0; j < nLeaves; j++) {
    const leafEnd = leafStarts[j + 1]!;
    let p = lowerBound(rows, lo, leafStarts[j]!, leafEnd);
    const end = lowerBound(rows, hi, p, leafEnd);
    const v = leafValues[j]!;
    if (K === 1) {
      // Eight rows' indices read before their sums are (as in partitionRange).
      for (; p + 8 <= end; p += 8) {
        const r0 = rows[p]!,
          r1 = rows[p + 1]!,
          r2 = rows[p + 2]!,
          r3 = rows[p + 3]!,
          r4 = rows[p + 4]!,
          r5 = rows[p + 5]!,
          r6 = rows[p + 6]!,
          r7 = rows[p + 7]!;
        raw[r0]! += v;
        raw[r1]! += v;
        raw[r2]! += v;
        raw[r3]! += v;
        raw[r4]! += v;
        raw[r5]! += v;
        raw[r6]! += v;
        raw[r7]! += v;
      }
      for (; p < end; p++) raw[rows[p]!]! += v;
    } else for (; p < end; p++) raw[rows[p]! * K + k]! += v;
  }
}

/**
 * Stable partition of the rows `src[s .. e)` (the rows `s .. e - 1` themselves when `src` is null):
 * left rows to `left[l0 ..]`, right rows to `right[r0 ..]`; returns the end of the left rows. `left`
 * may be `src` itself with `l0 = s` (left rows written at or before the row being read). Branch-free:
 * the row is written to both sides and one side advances. Which side a row goes is data-dependent,
 * so a branch mispredicts often: measured ~5% faster training overall on the flights benchmark.
 *
 * Eight rows at a time, every side looked up before any is written: one row at a time, each
 * lookup waited behind the stores before it. 500k rows, alone: 2.4 against 4.8 ns a row through
 * an index, 2.5 against 3.6 in natural order. In a 500k-row, 100-round fit (240 M rows
 * partitioned, one thread): 2.0 ns a row in natural order, 2.5 through an index on large nodes,
 * 3.4 on nodes under 16,384 rows (sparse: a cache line per row's bin); 0.59 s in all, against
 * 1.25 s before this and the int32 row counts (SplitInfo). (Writing to `src` in place stays safe:
 * a block's rows are all read before its first write, which lands at or before its first row.)
 */
export function partitionRange(
  src: RowIndexArray | null,
  left: RowIndexArray,
  right: RowIndexArray,
  col: Uint8Array,
  lut: Uint8Array,
  s: number,
  e: number,
  l0: number,
  r0: number,
): number {
  let l = l0;
  let r = r0;
  let i = s;
  if (src === null) {
    for (; i + 8 <= e; i += 8) {
      const a0 = lut[col[i]!]!,
        a1 = lut[col[i + 1]!]!,
        a2 = lut[col[i + 2]!]!,
        a3 = lut[col[i + 3]!]!,
        a4 = lut[col[i + 4]!]!,
        a5 = lut[col[i + 5]!]!,
        a6 = lut[col[i + 6]!]!,
        a7 = lut[col[i + 7]!]!;
      left[l] = i;
      right[r] = i;
      l += a0;
      r += a0 ^ 1;
      left[l] = i + 1;
      right[r] = i + 1;
      l += a1;
      r += a1 ^ 1;
      left[l] = i + 2;
      right[r] = i + 2;
      l += a2;
      r += a2 ^ 1;
      left[l] = i + 3;
      right[r] = i + 3;
      l += a3;
      r += a3 ^ 1;
      left[l] = i + 4;
      right[r] = i + 4;
      l += a4;
      r += a4 ^ 1;
      left[l] = i + 5;
      right[r] = i + 5;
      l += a5;
      r += a5 ^ 1;
      left[l] = i + 6;
      right[r] = i + 6;
      l += a6;
      r += a6 ^ 1;
      left[l] = i + 7;
      right[r] = i + 7;
      l += a7;
      r += a7 ^ 1;
    }
    for (; i < e; i++) {
      const isLeft = lut[col[i]!]!;
      left[l] = i;
      right[r] = i;
      l += isLeft;
      r += isLeft ^ 1;
    }
    return l;
  }
  for (; i + 8 <= e; i += 8) {
    const w0 = src[i]!,
      w1 = src[i + 1]!,
      w2 = src[i + 2]!,
      w3 = src[i + 3]!,
      w4 = src[i + 4]!,
      w5 = src[i + 5]!,
      w6 = src[i + 6]!,
      w7 = src[i + 7]!;
    const a0 = lut[col[w0]!]!,
      a1 = lut[col[w1]!]!,
      a2 = lut[col[w2]!]!,
      a3 = lut[col[w3]!]!,
      a4 = lut[col[w4]!]!,
      a5 = lut[col[w5]!]!,
      a6 = lut[col[w6]!]!,
      a7 = lut[col[w7]!]!;
    left[l] = w0;
    right[r] = w0;
    l += a0;
    r += a0 ^ 1;
    left[l] = w1;
    right[r] = w1;
    l += a1;
    r += a1 ^ 1;
    left[l] = w2;
    right[r] = w2;
    l += a2;
    r += a2 ^ 1;
    left[l] = w3;
    right[r] = w3;
    l += a3;
    r += a3 ^ 1;
    left[l] = w4;
    right[r] = w4;
    l += a4;
    r += a4 ^ 1;
    left[l] = w5;
    right[r] = w5;
    l += a5;
    r += a5 ^ 1;
    left[l] = w6;
    right[r] = w6;
    l += a6;
    r += a6 ^ 1;
    left[l] = w7;
    right[r] = w7;
    l += a7;
    r += a7 ^ 1;
  }
  for (; i < e; i++) {
    const row = src[i]!;
    const isLeft = lut[col[row]!]!;
    left[l] = row;
    right[r] = row;
    l += isLeft;
    r += isLeft ^ 1;
  }
  return l;
}

/**
 * This module compiled (dist/gbdt/training-threads.js): what a worker runs. Under a TypeScript
 * runner (the tests) `__filename` is the .ts source, which node cannot run; the build is used.
 */
function workerEntry(): string {
  if (!__filename.endsWith(".ts")) return __filename;
  return path.join(__dirname, "..", "..", "dist", "gbdt", "training-threads.js");
}

function runWorker(init: ThreadInit): void {
  const c = init.control;
  const loss = lossNamed(init.loss.name, init.loss.nOutputs);
  const hists: Float64Array[] = [];
  let seen = 0;
  for (;;) {
    // Watch for the next job a moment before sleeping: most come within it.
    const watched = performance.now();
    while (Atomics.load(c, SEQ) === seen && performance.now() - watched < WATCH_MS);
    Atomics.wait(c, SEQ, seen);
    seen = Atomics.load(c, SEQ);
    if (Atomics.load(c, STOP) !== 0) return;
    const stamp = seen & STAMP_MASK;
    let job: Job | undefined;
    for (let u = claim(c, stamp); u >= 0; u = claim(c, stamp)) {
      // The job's fields, read after a claim for it succeeded, are this job's: a job ends only
      // when all its units are done, so a later one cannot have begun.
      const units = c[UNITS]!;
      try {
        if (job === undefined) {
          // Buffers allocated since the last job: posted before the job was, so already queued.
          const registered = c[REGISTERED]!;
          while (hists.length < registered) {
            const m = receiveMessageOnPort(init.port);
            if (m === undefined) throw new Error(`histogram ${hists.length} was not received`);
            hists.push(m.message as Float64Array);
          }
          job = readJob(c, hists);
        }
        runUnit(init.arrays, loss, job, u, c[STEP]!);
      } catch {
        Atomics.store(c, FAILED, 1);
      }
      if (Atomics.add(c, DONE, 1) + 1 === units) Atomics.notify(c, DONE);
    }
  }
}

if (!isMainThread && (workerData as Partial<ThreadInit> | null)?.mlCoreTrainingThread === true) runWorker(workerData as ThreadInit);
