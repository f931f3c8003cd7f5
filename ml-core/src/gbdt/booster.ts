/**
 * The boosting loop: each round computes gradients of the loss at the current predictions, grows
 * one tree per output on them, and adds the trees' (shrunk) leaf values to the predictions.
 *
 * The loop is a step function over explicit state (`BoosterState`) so that a caller can stop
 * between rounds, save the state, and later resume to the very same model: everything random comes
 * from one seeded generator whose state is part of the checkpoint, and predictions are rebuilt by
 * adding the saved trees in their original order (float addition in the same order gives the same
 * bits).
 */
import type { BinMapper } from "./binning";
import { growTree, type GrowerContext, type GrowerOptions } from "./grower";
import { binsByRow, FEATURE_STRIDE, HistogramPool } from "./histogram";
import { maxBlocks, partialHistograms, sharedArray, TrainingThreads, type HistogramSchedule, type SharedTrainingArrays } from "./training-threads";
import type { Loss } from "./loss";
import { Random } from "./random";
import { addBinnedPredictions, fromTreeJson, toTreeJson } from "./tree";
import { GradientArray, RowIndexArray, type BinMatrix, type TreeJson } from "./types";

// Indexed reads carry `!` (noUncheckedIndexedAccess): rows and outputs run below nRows and
// nOutputs. A check per read would cost the hot loops; the emitted JavaScript is unchanged.

export interface BoosterOptions extends GrowerOptions {
  readonly numRound: number;
  /** Fraction of rows drawn (without replacement) for each round; 1 = all. */
  readonly subsample: number;
  /** Fraction of features drawn for each tree; 1 = all. */
  readonly colsampleBytree: number;
  /** Stop after this many rounds without improvement of the watched validation metric; 0 = off. */
  readonly earlyStoppingRounds: number;
  /** An improvement must better the watched metric by more than this. */
  readonly earlyStoppingTol: number;
  readonly seed: number;
  /** Threads training (1 = this thread alone). The model does not depend on it. */
  readonly threads: number;
  /** How histogram work is shared among threads (default `auto`). The model does not depend on it. */
  readonly histogramSchedule?: HistogramSchedule;
}

export interface BinnedData {
  readonly bins: BinMatrix;
  readonly nRows: number;
  /** Labels: class index for classification, the value for regression. */
  readonly y: Float64Array;
  /** Sample weights (non-negative); none: every row counts once. */
  readonly weights?: Float64Array;
}

/**
 * What early stopping watches on the validation set, from its raw scores (rows × outputs): the
 * loss unless the caller names another metric (eval/ knows metrics; gbdt/ does not import it).
 */
export interface StoppingMetric {
  readonly name: string;
  readonly higherIsBetter: boolean;
  evaluate(validRaw: Float64Array): number;
}

/** Everything needed to continue training exactly where it stopped. */
export interface BoosterState {
  readonly round: number;
  readonly trees: TreeJson[];
  readonly rng: number[];
  readonly bestRound: number;
  /** The best value of the watched metric so far, negated when higher is better (lower is better here). */
  readonly bestLoss: number | null;
  readonly trainLoss: number[];
  readonly validationLoss: number[];
  /** Per round, the watched metric's value (as reported, not negated). */
  readonly validationMetric?: number[];
}

export class Booster {
  readonly baseline: Float64Array;
  /** Raw predictions, row-major nRows × nOutputs. */
  readonly trainRaw: Float64Array;
  readonly validRaw: Float64Array | undefined;
  private round = 0;
  private trees: TreeJson[] = [];
  private rng: Random;
  private bestRound = 0;
  private bestLoss: number | null = null;
  private bestTrainRaw: Float64Array | undefined;
  private bestValidRaw: Float64Array | undefined;
  private readonly trainLoss: number[] = [];
  private readonly validationLoss: number[] = [];
  private readonly validationMetric: number[] = [];
  private stopped = false;
  private readonly ctx: GrowerContext;
  private readonly g: GradientArray[];
  private readonly h: GradientArray[];
  private readonly allFeatures: Uint32Array;
  private readonly threads: TrainingThreads;
  private readonly arrays: SharedTrainingArrays;
  /** `rows` and `scratch`, one buffer (two words a row): free between rounds, and lent by `result`. */
  private readonly rowBuffers: RowIndexArray;
  private readonly constantHessian: boolean;

  constructor(
    readonly loss: Loss,
    readonly mapper: BinMapper,
    readonly train: BinnedData,
    readonly valid: BinnedData | undefined,
    readonly opts: BoosterOptions,
    resume?: BoosterState,
    /** What early stopping watches; default: the mean validation loss. */
    readonly stoppingMetric?: StoppingMetric,
  ) {
    const K = loss.nOutputs;
    const n = train.nRows;
    this.baseline = loss.baseline(train.y, n, train.weights);
    // Weights make every hessian differ (h = w for squared error): the histograms must sum them.
    this.constantHessian = loss.constantHessian && train.weights === undefined;
    const constantHessian = this.constantHessian;
    const nFeatures = mapper.features.length;
    const threaded = opts.threads > 1;
    // With threads, what they read and write lives on shared memory (inputs copied there once).
    const float32 = (length: number): GradientArray => (threaded ? sharedArray(GradientArray, length) : new GradientArray(length));
    const float64 = (length: number): Float64Array => (threaded ? sharedArray(Float64Array, length) : new Float64Array(length));
    const shared = <T extends Uint8Array | Float64Array>(a: T): T => {
      if (!threaded || a.buffer instanceof SharedArrayBuffer) return a;
      const s = (a instanceof Uint8Array ? sharedArray(Uint8Array, a.length) : sharedArray(Float64Array, a.length)) as T;
      s.set(a);
      return s;
    };
    this.trainRaw = float64(n * K);
    for (let i = 0; i < n; i++) for (let k = 0; k < K; k++) this.trainRaw[i * K + k] = this.baseline[k]!;
    if (valid) {
      this.validRaw = new Float64Array(valid.nRows * K);
      for (let i = 0; i < valid.nRows; i++) for (let k = 0; k < K; k++) this.validRaw[i * K + k] = this.baseline[k]!;
    }
    this.g = Array.from({ length: K }, () => float32(n));
    this.h = Array.from({ length: K }, () => float32(constantHessian ? 0 : n));
    this.allFeatures = Uint32Array.from({ length: nFeatures }, (_, i) => i);
    this.rowBuffers = threaded ? sharedArray(RowIndexArray, 2 * n) : new RowIndexArray(2 * n);
    const arrays = {
      bins: shared(train.bins),
      binsByRow: binsByRow(train.bins, n, nFeatures, threaded ? sharedArray(Uint8Array, train.bins.length) : undefined),
      nRows: n,
      nFeatures,
      rows: this.rowBuffers.subarray(0, n),
      scratch: this.rowBuffers.subarray(n),
      scratchLeft: threaded ? sharedArray(RowIndexArray, n) : new RowIndexArray(0),
      g: this.g,
      h: this.h,
      partials: partialHistograms(n, nFeatures * FEATURE_STRIDE, float64),
      y: shared(train.y),
      raw: this.trainRaw,
      weights: train.weights && shared(train.weights),
      lut: threaded ? sharedArray(Uint8Array, 256) : new Uint8Array(256),
      leftCounts: threaded ? sharedArray(Int32Array, maxBlocks(n)) : new Int32Array(maxBlocks(n)),
      leafStarts: threaded ? sharedArray(Int32Array, MAX_LEAVES + 1) : new Int32Array(MAX_LEAVES + 1),
      leafValues: float64(MAX_LEAVES),
    };
    this.arrays = arrays;
    this.threads = new TrainingThreads(Math.max(1, opts.threads), arrays, nFeatures, { name: loss.name, nOutputs: K }, opts.histogramSchedule);
    const threads = this.threads;
    this.ctx = {
      featureBins: mapper.features,
      pool: new HistogramPool(nFeatures, (length) => threads.allocate(length)),
      rows: arrays.rows,
      threads,
      lut: arrays.lut,
    };
    this.rng = new Random(opts.seed);
    if (resume) this.restore(resume);
  }

  get roundsRun(): number {
    return this.round;
  }

  /** True once `numRound` rounds ran or early stopping fired. */
  get done(): boolean {
    return this.stopped || this.round >= this.opts.numRound;
  }

  get stoppedEarly(): boolean {
    return this.stopped;
  }

  /** Runs one boosting round. */
  step(): void {
    if (this.done) return;
    const { loss, train, opts, ctx } = this;
    const K = loss.nOutputs;
    const n = train.nRows;
    this.threads.gradients(n);

    let nSample = n;
    const natural = opts.subsample >= 1;
    if (!natural) {
      nSample = 0;
      for (let i = 0; i < n; i++) if (this.rng.next() < opts.subsample) ctx.rows[nSample++] = i;
    }
    const sampled = natural ? undefined : ctx.rows.slice(0, nSample);

    for (let k = 0; k < K; k++) {
      // Natural order: the root's partition writes the rows (it reads none).
      if (!natural) ctx.rows.set(sampled as Uint32Array);
      const features = opts.colsampleBytree < 1 ? sampleSorted(this.allFeatures.length, opts.colsampleBytree, this.rng) : this.allFeatures;
      const { tree, leaves } = growTree(ctx, nSample, natural, this.g[k]!, this.constantHessian ? null : this.h[k]!, features, opts, this.rng, k);
      if (natural) {
        // Every row sits in exactly one leaf's range: no tree walk needed for the training set.
        this.addLeafValues(leaves, tree.value, k);
      } else {
        addBinnedPredictions(tree, train.bins, n, this.trainRaw, K, k);
      }
      if (this.valid && this.validRaw) addBinnedPredictions(tree, this.valid.bins, this.valid.nRows, this.validRaw, K, k);
      this.trees.push(toTreeJson(tree, this.mapper, k));
    }
    this.round++;
    this.afterRound();
  }

  private afterRound(): void {
    const { valid, validRaw, opts } = this;
    if (!valid || !validRaw) return;
    const vLoss = this.loss.meanLoss(valid.y, validRaw, valid.nRows, valid.weights);
    this.validationLoss.push(vLoss);
    let watched = vLoss;
    if (this.stoppingMetric !== undefined) {
      const m = this.stoppingMetric.evaluate(validRaw);
      this.validationMetric.push(m);
      // NaN (an AUC with one class present) never improves.
      watched = m !== m ? Infinity : this.stoppingMetric.higherIsBetter ? -m : m;
    }
    if (this.bestLoss === null || watched < this.bestLoss - opts.earlyStoppingTol) {
      this.bestLoss = watched;
      this.bestRound = this.round;
      if (opts.earlyStoppingRounds > 0) {
        this.bestTrainRaw = this.trainRaw.slice();
        this.bestValidRaw = validRaw.slice();
      }
    } else if (opts.earlyStoppingRounds > 0 && this.round - this.bestRound >= opts.earlyStoppingRounds) {
      this.stopped = true;
    }
  }

  /** Adds each leaf's value to its rows' raw predictions of output k (the leaves' ranges cover the rows). */
  private addLeafValues(leaves: readonly { node: number; start: number; count: number }[], value: readonly number[], k: number): void {
    const K = this.loss.nOutputs;
    if (leaves.length > MAX_LEAVES) {
      for (const leaf of leaves) addToRows(this.trainRaw, this.ctx.rows, leaf.start, leaf.start + leaf.count, value[leaf.node]!, K, k);
      return;
    }
    const { leafStarts, leafValues } = this.arrays;
    const inRowOrder = leaves.slice().sort((a, b) => a.start - b.start);
    inRowOrder.forEach((leaf, j) => {
      leafStarts[j] = leaf.start;
      leafValues[j] = value[leaf.node]!;
    });
    const last = inRowOrder.at(-1)!;
    leafStarts[inRowOrder.length] = last.start + last.count;
    this.threads.addLeafValues(inRowOrder.length, k, K);
  }

  /** Stops the histogram threads; the booster can still report, not train. */
  close(): void {
    this.threads.close();
  }

  /** Mean training loss at the current round (costs a pass over the data; for progress lines). */
  currentTrainLoss(): number {
    return this.loss.meanLoss(this.train.y, this.trainRaw, this.train.nRows, this.train.weights);
  }

  currentValidationLoss(): number | undefined {
    return this.validationLoss.at(-1);
  }

  /** The watched metric's last value, when one other than the loss is watched. */
  currentValidationMetric(): number | undefined {
    return this.validationMetric.at(-1);
  }

  /** The round whose model early stopping keeps (so far). */
  get bestIteration(): number {
    return this.bestRound;
  }

  /**
   * The model to keep: with early stopping on a validation set, the trees up to the best round;
   * otherwise all of them. Raw predictions match the kept trees. `scratch`: the rows' two buffers
   * (two words a training row), which a round leaves with nothing training needs: room to sort the
   * scores in.
   */
  result(): { trees: TreeJson[]; rounds: number; trainRaw: Float64Array; validRaw: Float64Array | undefined; scratch: Uint32Array } {
    const K = this.loss.nOutputs;
    const scratch = this.rowBuffers;
    if (this.valid && this.opts.earlyStoppingRounds > 0 && this.bestRound > 0 && this.bestRound < this.round) {
      return {
        trees: this.trees.slice(0, this.bestRound * K),
        rounds: this.bestRound,
        trainRaw: this.bestTrainRaw as Float64Array,
        validRaw: this.bestValidRaw,
        scratch,
      };
    }
    return { trees: this.trees.slice(), rounds: this.round, trainRaw: this.trainRaw, validRaw: this.validRaw, scratch };
  }

  state(): BoosterState {
    return {
      round: this.round,
      trees: this.trees.slice(),
      rng: this.rng.state,
      bestRound: this.bestRound,
      bestLoss: this.bestLoss,
      trainLoss: this.trainLoss.slice(),
      validationLoss: this.validationLoss.slice(),
      validationMetric: this.validationMetric.slice(),
    };
  }

  private restore(s: BoosterState): void {
    const K = this.loss.nOutputs;
    if (s.trees.length !== s.round * K) throw new Error(`checkpoint holds ${s.trees.length} trees for ${s.round} rounds of ${K} output(s)`);
    this.rng = new Random(s.rng);
    this.bestLoss = s.bestLoss;
    this.bestRound = s.bestRound;
    this.validationLoss.push(...s.validationLoss);
    this.validationMetric.push(...(s.validationMetric ?? []));
    this.trainLoss.push(...s.trainLoss);
    for (let t = 0; t < s.trees.length; t++) {
      const tree = fromTreeJson(s.trees[t]!, this.mapper);
      const k = s.trees[t]!.output;
      addBinnedPredictions(tree, this.train.bins, this.train.nRows, this.trainRaw, K, k);
      if (this.valid && this.validRaw) addBinnedPredictions(tree, this.valid.bins, this.valid.nRows, this.validRaw, K, k);
      this.trees.push(s.trees[t]!);
      if ((t + 1) % K === 0 && (t + 1) / K === s.bestRound && this.opts.earlyStoppingRounds > 0 && this.validRaw) {
        this.bestTrainRaw = this.trainRaw.slice();
        this.bestValidRaw = this.validRaw.slice();
      }
    }
    this.round = s.round;
    if (this.valid && this.opts.earlyStoppingRounds > 0 && this.round - this.bestRound >= this.opts.earlyStoppingRounds && this.round > 0) this.stopped = true;
  }
}

// Small hot loops live in their own functions: V8 optimizes them on their own, whatever the rest
// of `step` does (measured: the same loops inline in `step` ran ~2x slower).
function addToRows(raw: Float64Array, rows: Uint32Array, start: number, end: number, v: number, K: number, k: number): void {
  if (K === 1) for (let i = start; i < end; i++) raw[rows[i]!]! += v;
  else for (let i = start; i < end; i++) raw[rows[i]! * K + k]! += v;
}

/** Leaves a tree's values are added by the threads for (a tree with more adds them here). */
const MAX_LEAVES = 4096;

function sampleSorted(n: number, fraction: number, rng: Random): Uint32Array {
  return rng.sample(n, Math.max(1, Math.round(n * fraction)));
}
