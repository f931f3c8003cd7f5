/**
 * Training data read straight into the algorithm's bins: the data room's channel scan (data/table.ts)
 * composed with the binning of gbdt/, which is why it lives above both.
 */
import { availableParallelism } from "node:os";
import { BINNING_SAMPLE, BinMapper, thresholdsInPlace } from "../gbdt/binning";
import type { Random } from "../gbdt/random";
import { MIN_PARALLEL_BYTES, OneThreadInstead, readBinnedInParallel } from "./binned-read-threads";
import {
  categoryState,
  DataError,
  fileSize,
  growTo,
  inferSchema,
  keepCategories,
  LabelBuilder,
  scan,
  type ColumnSpec,
  type DataSchema,
  type LabelColumn,
  type LayoutOptions,
} from "../data/table";

// Indexed reads carry `!` (noUncheckedIndexedAccess): features and rows index arrays sized from the
// schema and the row count. A check per read would cost the hot loops; the emitted JavaScript is
// unchanged.

/** A channel read straight into bins (see `readBinnedTrainingData`). */
export interface BinnedTable {
  readonly nRows: number;
  /** Column-major bins, `bins[f * nRows + row]`. */
  readonly bins: Uint8Array;
  readonly label: LabelColumn;
  /** Sample weights, when the schema has a weight column. */
  readonly weights?: Float64Array;
  readonly dataHash: string;
  readonly bytes: number;
}

/**
 * Reads the training channel straight into bins, in two passes over the files, so that the raw
 * values never sit in memory (8 bytes each, against 1 for a bin; LightGBM loads the same way):
 * pass 1 checks every row, learns the categories and their counts, keeps the labels and a uniform
 * sample of `BINNING_SAMPLE` rows (reservoir sampling, seeded); the bin thresholds come from the
 * sample; pass 2 bins every value. With fewer rows than the sample size every row is used, and the
 * thresholds are exactly those of `BinMapper.fit` on the full columns.
 *
 * With `threads` above 1 (0, the default: one per CPU) and enough plain (not gzipped) data, the
 * files are read on that many threads (binned-read-threads.ts), with the same result; the arrays
 * of the table are then on shared memory. `unitBytes` sets the size of a thread's unit of work
 * (tests use small ones to read small files on threads).
 */
export function readBinnedTrainingData(
  files: readonly string[],
  channel: string,
  opts: LayoutOptions,
  maxBins: number,
  rng: Random,
  { threads = 0, unitBytes }: { readonly threads?: number; readonly unitBytes?: number } = {},
): { schema: DataSchema; mapper: BinMapper; table: BinnedTable } {
  if (files.length === 0) throw new DataError(`channel "${channel}" has no files`);
  const inferred = inferSchema(files[0]!, opts);
  const nThreads = threads > 0 ? threads : availableParallelism();
  if (nThreads > 1 && !files.some((f) => f.endsWith(".gz"))) {
    const sizes = files.map(fileSize);
    const bytes = sizes.reduce((a, b) => a + b, 0);
    if (bytes >= MIN_PARALLEL_BYTES || unitBytes !== undefined) {
      try {
        const r = readBinnedInParallel(files, sizes, inferred, maxBins, rng, nThreads, unitBytes, (learned, counts) =>
          keptCategories(inferred, learned, counts, maxBins),
        );
        const { schema, mapper, ...table } = r;
        return { schema, mapper, table: { ...table, bytes } };
      } catch (e) {
        if (!(e instanceof OneThreadInstead)) throw e;
      }
    }
  }
  return readOnOneThread(files, channel, inferred, maxBins, rng, nThreads > 1);
}

function readOnOneThread(
  files: readonly string[],
  channel: string,
  inferred: ReturnType<typeof inferSchema>,
  maxBins: number,
  rng: Random,
  /** Bins and labels on shared memory, where training threads read them (no copy for them later). */
  shared: boolean,
): { schema: DataSchema; mapper: BinMapper; table: BinnedTable } {
  const nF = inferred.features.length;
  const { codeMaps, learned } = categoryState(inferred, true);
  const numeric = inferred.features.map((f, j) => (f.kind === "numeric" ? j : -1)).filter((j) => j >= 0);
  const K = BINNING_SAMPLE;
  // The reservoir, at its full size from the start: pages never written take no memory, and
  // arrays grown by doubling left as much again for the collector (peak memory of a 500k-row,
  // two-thread training, where no collection came before training's own allocations).
  const sample = numeric.map(() => new Float64Array(K));
  // The sampled rows' weights: thresholds are weighted quantiles (a row of weight 2 counts twice).
  const weighted = inferred.weightColumn >= 0;
  const sampleWeights = new Float64Array(weighted ? K : 0);
  const counts: number[][] = inferred.features.map(() => []);
  const labelTexts = { texts: [] as string[], codes: new Map<string, number>() };
  let sampleRows = 0;
  const summary = scan(files, channel, inferred, codeMaps, learned, true, labelTexts, (row, values, _ln, _lc, w) => {
    for (let j = 0; j < nF; j++) {
      const v = values[j]!;
      if (codeMaps[j] !== undefined && v === v) counts[j]![v] = (counts[j]![v] ?? 0) + 1;
    }
    // Algorithm R: row i replaces a random slot with probability K / (i + 1).
    let slot = row;
    if (row >= K) {
      slot = rng.int(row + 1);
      if (slot >= K) return;
    } else {
      sampleRows = row + 1;
    }
    for (let k = 0; k < numeric.length; k++) sample[k]![slot] = values[numeric[k]!]!;
    if (weighted) sampleWeights[slot] = w;
  });

  const { schema, remaps } = keptCategories(inferred, learned, counts, maxBins);
  const features = schema.features;
  const nCategories = features.map((f) => (f.kind === "categorical" ? (f.categories as string[]).length : undefined));
  const mapper = new BinMapper(
    features.map((f, j) => {
      if (f.kind === "categorical") return { categorical: true, nBins: Math.max(nCategories[j] as number, 1), thresholds: new Float64Array(0) };
      // The reservoir is scratch: its thresholds are found in place.
      const thresholds = thresholdsInPlace(sample[numeric.indexOf(j)]!, sampleRows, maxBins, weighted ? sampleWeights : undefined);
      return { categorical: false, nBins: thresholds.length + 1, thresholds };
    }),
  );

  // Pass 2: bins and labels, exactly sized. The category and label maps already hold every text.
  const n = summary.nRows;
  const bins = new Uint8Array(shared ? new SharedArrayBuffer(nF * n) : new ArrayBuffer(nF * n));
  const labels = new LabelBuilder(n, labelTexts.texts, labelTexts.codes, shared);
  const weights = weighted ? new Float64Array(n) : undefined;
  scan(files, channel, inferred, codeMaps, learned, false, labels, (row, values, ln, lc, w) => {
    labels.add(row, ln, lc);
    if (weights !== undefined) weights[row] = w;
    for (let j = 0; j < nF; j++) {
      const remap = remaps[j];
      const v = values[j]!;
      bins[j * n + row] = mapper.binOfValue(j, remap === undefined || v !== v ? v : remap[v]!);
    }
  });
  return { schema, mapper, table: { nRows: n, bins, label: labels.build(), weights, dataHash: summary.dataHash, bytes: summary.bytes } };
}

/** Categories: the most frequent maxBins, ordered by name; the remaps take old codes to new ones. */
function keptCategories(
  inferred: DataSchema,
  learned: readonly (string[] | undefined)[],
  counts: readonly number[][],
  maxBins: number,
): { schema: DataSchema; remaps: (Float64Array | undefined)[] } {
  const remaps: (Float64Array | undefined)[] = [];
  const features: ColumnSpec[] = inferred.features.map((f, j) => {
    if (f.kind !== "categorical") return f;
    const seen = learned[j] as string[];
    const c = Float64Array.from(seen, (_, i) => counts[j]![i] ?? 0);
    const { categories, remap } = keepCategories(seen, c, maxBins);
    remaps[j] = remap;
    return { ...f, categories };
  });
  return { schema: { ...inferred, features }, remaps };
}

/** Reads another channel (validation) straight into bins with the training schema and bins. */
export function readBinnedTable(files: readonly string[], channel: string, schema: DataSchema, mapper: BinMapper): BinnedTable {
  if (files.length === 0) throw new DataError(`channel "${channel}" has no files`);
  const { codeMaps, learned } = categoryState(schema, false);
  const nF = schema.features.length;
  let capacity = 1024;
  let bins = schema.features.map(() => new Uint8Array(capacity));
  const labels = new LabelBuilder();
  let weights = schema.weightColumn >= 0 ? new Float64Array(capacity) : undefined;
  const summary = scan(files, channel, schema, codeMaps, learned, false, labels, (row, values, ln, lc, w) => {
    if (row === capacity) {
      capacity *= 2;
      if (weights !== undefined) weights = growTo(weights, capacity);
      bins = bins.map((b) => {
        const c = new Uint8Array(capacity);
        c.set(b);
        return c;
      });
    }
    for (let j = 0; j < nF; j++) bins[j]![row] = mapper.binOfValue(j, values[j]!);
    labels.add(row, ln, lc);
    if (weights !== undefined) weights[row] = w;
  });
  const n = summary.nRows;
  const all = new Uint8Array(nF * n);
  bins.forEach((b, j) => all.set(b.subarray(0, n), j * n));
  return { nRows: n, bins: all, label: labels.build(), weights: weights?.slice(0, n), dataHash: summary.dataHash, bytes: summary.bytes };
}
