/**
 * Histograms built by several threads over shared memory, feature-parallel: each feature's
 * histogram of a node is summed by exactly one thread, by the very loop a single thread runs
 * (`accumulate`), over the same rows in the same order. No partial sums are ever combined, so the
 * bits of every histogram (and so every split and the whole model) are those of one thread,
 * whatever the thread count: determinism by construction, not by a fixed reduction order.
 *
 * Feature-parallel rather than row-parallel: row-parallel needs a partial histogram per thread
 * and a reduction (256 bins × 3 slots × features) per node, and a fixed block layout to stay
 * deterministic, while the per-row work (one load and three adds per feature) is the same. With
 * fewer features than threads, the extra threads idle.
 *
 * The main thread hands out a job by writing it into a shared control array and bumping a
 * sequence number (`Atomics.notify`). Every thread, the main one included, then claims features
 * one at a time (a compare-and-swap of the feature's claim slot from an older job's number to this
 * job's): the main thread from the first feature up, workers from the last down. A worker that
 * wakes late (a busy machine) finds the features taken and the main thread has done them; one that
 * never starts cannot stall training. The main thread waits (`Atomics.wait`) only for features a
 * worker claimed. Training stays synchronous: no promise, no event loop turn per node. This file
 * is also the workers' entry point.
 */
import * as path from "node:path";
import { isMainThread, MessageChannel, receiveMessageOnPort, Worker, workerData, type MessagePort } from "node:worker_threads";
import { accumulate } from "./histogram";
import type { GradientArray, RowIndexArray } from "./types";

// Indexed reads carry `!` (noUncheckedIndexedAccess): control slots and feature lists are sized
// here. A check per read would cost nothing here, but the histogram loop is shared with grower.ts.

/** Control array slots. */
const SEQ = 0;
/** Features of the current job summed so far. */
const DONE = 1;
const STOP = 2;
const FAILED = 3;
const HIST = 4;
const NATURAL = 5;
const START = 6;
const COUNT = 7;
/** -1: the gathered (ordered) gradients; k ≥ 0: output k's gradients indexed by row. */
const SOURCE = 8;
const HAS_H = 9;
const N_FEATURES = 10;
const N_THREADS = 11;
const REGISTERED = 12;
/** Then the job's features, then one claim slot per feature position (the job number that took it). */
const FEATURES = 16;

/** Below this many row × feature additions a node is summed by the main thread alone: waking the workers costs more. */
export const PARALLEL_MIN_WORK = 100_000;

/** The shared arrays every thread reads. */
export interface SharedTrainingArrays {
  readonly bins: Uint8Array;
  readonly nRows: number;
  readonly rows: RowIndexArray;
  readonly orderedG: GradientArray;
  readonly orderedH: GradientArray;
  /** Per output, gradients and hessians indexed by row (hessians empty for a constant hessian). */
  readonly g: readonly GradientArray[];
  readonly h: readonly GradientArray[];
}

interface ThreadInit {
  readonly mlCoreHistogramThread: true;
  readonly index: number;
  readonly control: Int32Array;
  readonly arrays: SharedTrainingArrays;
  readonly port: MessagePort;
}

/** A typed array on a SharedArrayBuffer, so that worker threads see the same memory. */
export function sharedArray<T extends Uint8Array | Uint32Array | Float32Array | Float64Array>(
  Ctor: { new (b: SharedArrayBuffer): T; readonly BYTES_PER_ELEMENT: number },
  length: number,
): T {
  return new Ctor(new SharedArrayBuffer(length * Ctor.BYTES_PER_ELEMENT));
}

export class HistogramThreads {
  /** Threads summing a histogram, the main thread included. */
  readonly size: number;
  private readonly workers: Worker[];
  private readonly ports: MessagePort[];
  private readonly control: Int32Array;
  /** Index of the first claim slot in `control`. */
  private readonly claims: number;
  private readonly maxFeatures: number;
  private readonly histIds = new Map<Float64Array, number>();
  private closed = false;

  constructor(
    threads: number,
    private readonly arrays: SharedTrainingArrays,
    nFeatures: number,
  ) {
    this.size = threads;
    this.control = new Int32Array(new SharedArrayBuffer((FEATURES + 2 * nFeatures) * 4));
    this.claims = FEATURES + nFeatures;
    this.maxFeatures = nFeatures;
    this.ports = [];
    this.workers = Array.from({ length: threads - 1 }, (_, i) => {
      const { port1, port2 } = new MessageChannel();
      this.ports.push(port1);
      const init: ThreadInit = { mlCoreHistogramThread: true, index: i + 1, control: this.control, arrays, port: port2 };
      const w = new Worker(workerEntry(), { workerData: init, transferList: [port2] });
      // A worker must never keep the process alive (the job may end without close()).
      w.unref();
      port1.unref();
      return w;
    });
  }

  /** A histogram buffer on shared memory, made known to every worker. */
  allocate(length: number): Float64Array {
    const h = sharedArray(Float64Array, length);
    this.histIds.set(h, this.histIds.size);
    for (const p of this.ports) p.postMessage(h);
    return h;
  }

  /**
   * Sums `features` of the node `rows[start .. start+count)` into `hist` (from `allocate`),
   * `source` saying which gradients: -1 the gathered ones, k output k's by row (`natural`).
   */
  build(hist: Float64Array, natural: boolean, start: number, count: number, source: number, hasH: boolean, features: ArrayLike<number>): void {
    const c = this.control;
    const id = this.histIds.get(hist);
    if (id === undefined) throw new Error("histogram was not allocated by these threads");
    const T = Math.min(this.size, features.length);
    if (T <= 1 || count * features.length < PARALLEL_MIN_WORK) {
      for (let i = 0; i < features.length; i++) this.sum(hist, natural, start, count, source, hasH, features[i]!);
      return;
    }
    c[HIST] = id;
    c[NATURAL] = natural ? 1 : 0;
    c[START] = start;
    c[COUNT] = count;
    c[SOURCE] = source;
    c[HAS_H] = hasH ? 1 : 0;
    c[N_FEATURES] = features.length;
    c[N_THREADS] = T;
    c[REGISTERED] = this.histIds.size;
    for (let i = 0; i < features.length; i++) c[FEATURES + i] = features[i]!;
    Atomics.store(c, DONE, 0);
    const job = Atomics.load(c, SEQ) + 1;
    // Positions past this job's features are taken in advance: a worker that read a later job's
    // longer feature list while holding this job's number must find nothing to claim.
    for (let i = features.length; i < this.maxFeatures; i++) Atomics.store(c, this.claims + i, job);
    Atomics.store(c, SEQ, job);
    Atomics.notify(c, SEQ);
    const nF = features.length;
    for (let i = 0; i < nF; i++) {
      if (!claim(c, this.claims + i, job)) continue;
      this.sum(hist, natural, start, count, source, hasH, features[i]!);
      Atomics.add(c, DONE, 1);
    }
    for (let d = Atomics.load(c, DONE); d < nF; d = Atomics.load(c, DONE)) Atomics.wait(c, DONE, d);
    if (Atomics.load(c, FAILED) !== 0) throw new Error("a histogram thread failed");
  }

  private sum(hist: Float64Array, natural: boolean, start: number, count: number, source: number, hasH: boolean, f: number): void {
    sumFeature(this.arrays, hist, natural, start, count, source, hasH, f);
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

/** Takes claim slot `slot` for `job` unless a thread already has (job numbers only grow). */
function claim(c: Int32Array, slot: number, job: number): boolean {
  const v = Atomics.load(c, slot);
  return v < job && Atomics.compareExchange(c, slot, v, job) === v;
}

function sumFeature(
  a: SharedTrainingArrays,
  hist: Float64Array,
  natural: boolean,
  start: number,
  count: number,
  source: number,
  hasH: boolean,
  f: number,
): void {
  const g = source < 0 ? a.orderedG : a.g[source]!;
  const h = !hasH ? null : source < 0 ? a.orderedH : a.h[source]!;
  accumulate(hist, f, a.bins.subarray(f * a.nRows, (f + 1) * a.nRows), natural ? null : a.rows, start, count, g, h);
}

/**
 * This module compiled (dist/gbdt/histogram-threads.js): what a worker runs. Under a TypeScript
 * runner (the tests) `__filename` is the .ts source, which node cannot run; the build is used.
 */
function workerEntry(): string {
  if (!__filename.endsWith(".ts")) return __filename;
  return path.join(__dirname, "..", "..", "dist", "gbdt", "histogram-threads.js");
}

function runWorker(init: ThreadInit): void {
  const c = init.control;
  const claims = FEATURES + (c.length - FEATURES) / 2;
  const hists: Float64Array[] = [];
  let seen = 0;
  for (;;) {
    Atomics.wait(c, SEQ, seen);
    seen = Atomics.load(c, SEQ);
    if (Atomics.load(c, STOP) !== 0) return;
    // The job's fields as read now belong to job `seen` as long as a claim for it succeeds: a
    // job ends only when all its features are summed, so a later job cannot have begun.
    const nF = c[N_FEATURES]!;
    if (init.index >= c[N_THREADS]!) continue;
    for (let i = nF - 1; i >= 0; i--) {
      if (!claim(c, claims + i, seen)) continue;
      try {
        // Buffers allocated since the last job: posted before the job was, so already queued.
        const registered = c[REGISTERED]!;
        while (hists.length < registered) {
          const m = receiveMessageOnPort(init.port);
          if (m === undefined) throw new Error(`histogram ${hists.length} was not received`);
          hists.push(m.message as Float64Array);
        }
        sumFeature(init.arrays, hists[c[HIST]!]!, c[NATURAL] === 1, c[START]!, c[COUNT]!, c[SOURCE]!, c[HAS_H] === 1, c[FEATURES + i]!);
      } catch {
        Atomics.store(c, FAILED, 1);
      }
      if (Atomics.add(c, DONE, 1) + 1 === nF) Atomics.notify(c, DONE);
    }
  }
}

if (!isMainThread && (workerData as Partial<ThreadInit> | null)?.mlCoreHistogramThread === true) runWorker(workerData as ThreadInit);
