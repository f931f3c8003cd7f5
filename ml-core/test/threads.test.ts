/**
 * Training on several threads gives the model of one thread, byte for byte, whichever way the
 * histogram work is shared (gbdt/training-threads.ts): histograms are summed in fixed blocks of
 * rows added in block order, and gradients, partitions and leaf values are exact whatever the split.
 * Worker threads run the compiled module, so these tests need the build (rebuilt if stale).
 */
import * as path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { accumulateRows, binsByRow, BLOCK_ROWS, blockCount, FEATURE_STRIDE, reduceBlocks } from "../src/gbdt/histogram";
import { binaryLogloss } from "../src/gbdt/loss/binary-logloss";
import {
  PARALLEL_MIN_ROWS,
  PARALLEL_MIN_WORK,
  maxBlocks,
  partialHistograms,
  sharedArray,
  SPLIT_PARALLEL_MIN_ROWS,
  splitBlockRows,
  TrainingThreads,
  type HistogramSchedule,
  type SharedTrainingArrays,
} from "../src/gbdt/training-threads";
import { lcg, tmpDir, toCsv, writeFile } from "./helpers";
import { ensureBuilt } from "./server-helpers";
import { trainFiles } from "./train-helpers";

beforeAll(() => ensureBuilt(), 120_000);

const equalBits = (a: Float64Array | Float32Array | Uint32Array, b: Float64Array | Float32Array | Uint32Array): boolean =>
  Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));

describe("training threads", () => {
  // More rows than two blocks per thread, so that both schedules split nodes by rows and features.
  const n = 5 * BLOCK_ROWS + 1234;
  const nF = 5;
  const rand = lcg(1);
  // On shared memory (a typed array's map() would copy to an unshared buffer).
  const shared = <T extends Uint8Array | Uint32Array | Float32Array | Float64Array>(
    Ctor: { new (b: SharedArrayBuffer): T; BYTES_PER_ELEMENT: number },
    length: number,
    value: (i: number) => number,
  ): T => {
    const a = sharedArray(Ctor, length);
    for (let i = 0; i < length; i++) a[i] = value(i);
    return a;
  };
  // Runs of equal bins, as sorted or few-valued columns have, and missing values.
  const bins = shared(Uint8Array, n * nF, (i) => (i % 7 === 0 ? 255 : Math.floor(rand() * 40) * (1 + (i % nF))));
  const g = shared(Float32Array, n, () => rand() - 0.5);
  const h = shared(Float32Array, n, () => rand());
  const y = shared(Float64Array, n, () => (rand() < 0.3 ? 1 : 0));
  const raw = shared(Float64Array, n, () => rand() * 6 - 3);
  const byRow = binsByRow(bins, n, nF, sharedArray(Uint8Array, n * nF));
  // Odd rows only, as a child's range is.
  const odd = Array.from({ length: Math.floor(n / 2) }, (_, i) => 2 * i + 1);
  const arraysFor = (rows: Uint32Array): SharedTrainingArrays => ({
    bins,
    nRows: n,
    rows,
    scratch: sharedArray(Uint32Array, n),
    scratchLeft: sharedArray(Uint32Array, n),
    binsByRow: byRow,
    nFeatures: nF,
    leafStarts: sharedArray(Int32Array, 65),
    leafValues: sharedArray(Float64Array, 64),
    g: [g],
    h: [h],
    partials: partialHistograms(n, nF * FEATURE_STRIDE, (length) => sharedArray(Float64Array, length)),
    y,
    raw,
    weights: undefined,
    lut: sharedArray(Uint8Array, 256),
    leftCounts: sharedArray(Int32Array, maxBlocks(n)),
  });
  const features = Uint32Array.from([4, 0, 2, 1, 3]);
  const withThreads = (size: number, arrays: SharedTrainingArrays, schedule: HistogramSchedule, run: (t: TrainingThreads) => void): void => {
    const t = new TrainingThreads(size, arrays, nF, { name: "binary_logloss", nOutputs: 1 }, schedule);
    try {
      run(t);
    } finally {
      t.close();
    }
  };

  it("sum a node's histogram into the bits of one thread's block sums, feature by feature, for every schedule (natural order and a child's rows)", () => {
    expect(odd.length * nF).toBeGreaterThan(PARALLEL_MIN_WORK);
    // The whole root (natural order) has its counts filled in rather than summed: the same bits.
    for (const [natural, hh] of [
      [true, h],
      [true, null],
      [false, h],
      [false, null],
    ] as const) {
      const count = natural ? n : odd.length;
      const arrays = arraysFor(shared(Uint32Array, n, (i) => (natural ? i : (odd[i] ?? 0))));
      // The reference: one thread, block by block, one feature at a time.
      const expected = new Float64Array(nF * FEATURE_STRIDE);
      const partials = partialHistograms(n, nF * FEATURE_STRIDE, (length) => new Float64Array(length));
      for (let i = 0; i < features.length; i++)
        for (let b = 0; b < blockCount(count); b++) {
          const out = b === 0 ? expected : partials[b - 1]!;
          accumulateRows(out, byRow, nF, natural ? null : arrays.rows, b * BLOCK_ROWS, Math.min(count, (b + 1) * BLOCK_ROWS), g, hh, features, i, i + 1);
        }
      reduceBlocks(expected, partials, blockCount(count), features);
      for (const size of [1, 2, 3])
        for (const schedule of ["rows", "features", "auto"] as const)
          withThreads(size, arrays, schedule, (t) => {
            const hist = t.allocate(nF * FEATURE_STRIDE);
            t.build(hist, natural, 0, count, 0, hh !== null, features);
            expect(equalBits(hist, expected), `${size} thread(s), ${schedule}, natural ${natural}, hessians ${hh !== null}`).toBe(true);
          });
    }
  }, 30_000);

  it("partition a node's rows stably, as one pass does, and compute every row's gradients", () => {
    const feature = 3;
    const start = 777;
    const count = n - 2000;
    expect(count).toBeGreaterThan(PARALLEL_MIN_ROWS);
    const isLeft = (row: number): boolean => bins[feature * n + row]! % 3 === 0 || bins[feature * n + row] === 255;
    const initial = Uint32Array.from({ length: n }, (_, i) => (i * 7919) % n);
    const node = Array.from(initial.subarray(start, start + count));
    const expected = Uint32Array.from([
      ...initial.subarray(0, start),
      ...node.filter(isLeft),
      ...node.filter((r) => !isLeft(r)),
      ...initial.subarray(start + count),
    ]);
    const gExpected = new Float32Array(n);
    const hExpected = new Float32Array(n);
    binaryLogloss.gradients(y, raw, n, [gExpected], [hExpected]);
    for (const size of [1, 2, 3]) {
      const arrays = arraysFor(shared(Uint32Array, n, (i) => initial[i]!));
      for (let bin = 0; bin < 256; bin++) arrays.lut[bin] = bin % 3 === 0 || bin === 255 ? 1 : 0;
      withThreads(size, arrays, "auto", (t) => {
        expect(t.split(start, count, feature, false, null, () => undefined)).toBe(node.filter(isLeft).length);
        expect(equalBits(arrays.rows, expected), `${size} thread(s)`).toBe(true);
        t.gradients(n);
        expect(equalBits(arrays.g[0]!, gExpected) && equalBits(arrays.h[0]!, hExpected), `${size} thread(s)`).toBe(true);
        // The root in natural order: its rows are written, not read (the array holds anything).
        arrays.rows.fill(0xdeadbeef);
        const identity = Array.from({ length: n }, (_, i) => i);
        expect(t.split(0, n, feature, true, null, () => undefined)).toBe(identity.filter(isLeft).length);
        expect(equalBits(arrays.rows, Uint32Array.from([...identity.filter(isLeft), ...identity.filter((r) => !isLeft(r))]))).toBe(true);
      });
    }
  }, 30_000);

  it("split a node: partition it stably, sum the chosen side's histogram in the blocks of its size, and run `beside` meanwhile", () => {
    const feature = 2;
    const isLeft = (row: number): boolean => bins[feature * n + row]! % 4 === 1 || bins[feature * n + row] === 255;
    const initial = Uint32Array.from({ length: n }, (_, i) => (i * 7919) % n);
    // A large node and a mid-sized one (cut in quarters), a small one (one block), and the root in
    // natural order, whose rows are written, not read.
    for (const [start, count, natural] of [
      [777, n - 2000, false],
      [1000, 3 * SPLIT_PARALLEL_MIN_ROWS + 17, false],
      [5, 3000, false],
      [0, n, true],
    ] as const)
      for (const left of [true, false])
        for (const hh of [h, null]) {
          const node = natural ? Array.from({ length: n }, (_, i) => i) : Array.from(initial.subarray(start, start + count));
          const side = node.filter((r) => isLeft(r) === left);
          // The reference: the side's rows of each block of the node, in row order, one feature at a time.
          const expected = new Float64Array(nF * FEATURE_STRIDE);
          const partials = partialHistograms(n, nF * FEATURE_STRIDE, (length) => new Float64Array(length));
          const size = splitBlockRows(count);
          const nB = Math.ceil(count / size);
          for (let b = 0; b < nB; b++) {
            const rows = Uint32Array.from(node.slice(b * size, (b + 1) * size).filter((r) => isLeft(r) === left));
            for (let i = 0; i < features.length; i++)
              accumulateRows(b === 0 ? expected : partials[b - 1]!, byRow, nF, rows, 0, rows.length, g, hh, features, i, i + 1);
          }
          reduceBlocks(expected, partials, nB, features);
          const rowsExpected = [...initial.subarray(0, start), ...node.filter(isLeft), ...node.filter((r) => !isLeft(r)), ...initial.subarray(start + count)];
          for (const threads of [1, 2, 3]) {
            const arrays = arraysFor(shared(Uint32Array, n, (i) => (natural ? 0xdeadbeef : initial[i]!)));
            for (let bin = 0; bin < 256; bin++) arrays.lut[bin] = bin % 4 === 1 || bin === 255 ? 1 : 0;
            const what = `${threads} thread(s), rows ${start}+${count}${natural ? " in natural order" : ""}, ${left ? "left" : "right"}, hessians ${hh !== null}`;
            withThreads(threads, arrays, "auto", (t) => {
              const hist = t.allocate(nF * FEATURE_STRIDE).fill(NaN);
              let besides = 0;
              const child = { hist, left, source: 0, hasH: hh !== null, features };
              expect(
                t.split(start, count, feature, natural, child, () => besides++),
                what,
              ).toBe(node.filter(isLeft).length);
              expect(besides, what).toBe(1);
              expect(equalBits(arrays.rows, Uint32Array.from(rowsExpected)), what).toBe(true);
              expect(equalBits(hist, expected), what).toBe(true);
            });
          }
          expect(side.length).toBeGreaterThan(0);
        }
  }, 60_000);

  it("finish a split's partition when the work beside it throws, and then report the error", () => {
    const isLeft = (row: number): boolean => bins[n + row]! < 20;
    for (const threads of [1, 2]) {
      const arrays = arraysFor(shared(Uint32Array, n, (i) => i));
      for (let bin = 0; bin < 256; bin++) arrays.lut[bin] = bin < 20 ? 1 : 0;
      const all = Array.from({ length: n }, (_, i) => i);
      withThreads(threads, arrays, "auto", (t) => {
        expect(() =>
          t.split(0, n, 1, false, null, () => {
            throw new Error("split finding failed");
          }),
        ).toThrow("split finding failed");
        expect(equalBits(arrays.rows, Uint32Array.from([...all.filter(isLeft), ...all.filter((r) => !isLeft(r))]))).toBe(true);
      });
    }
  });

  it("add each leaf's value to the raw predictions of the rows in its range", () => {
    // As a tree leaves them: every row once, each leaf's rows ascending and spread over all rows.
    // Leaves of very different sizes: one of 3 rows, one of 1, some spanning several units of rows.
    const sizes = [3, 69_997, 1, 79_999, n - 150_010, 10];
    const starts = sizes.map((_, j) => sizes.slice(0, j).reduce((a, b) => a + b, 0));
    const leafOf = new Int32Array(n);
    const pick = lcg(11);
    const left = sizes.slice();
    for (let r = 0; r < n; r++) {
      let j = Math.floor(pick() * sizes.length);
      while (left[j] === 0) j = (j + 1) % sizes.length;
      left[j]!--;
      leafOf[r] = j;
    }
    const next = starts.slice();
    const rows = shared(Uint32Array, n, () => 0);
    for (let r = 0; r < n; r++) rows[next[leafOf[r]!]!++] = r;
    const values = [0.5, -1.25, 3, 0.125, -0.75, 2];
    const expected = Float64Array.from(raw);
    starts.forEach((s, j) => {
      for (let p = s; p < (starts[j + 1] ?? n); p++) expected[rows[p]!]! += values[j]!;
    });
    for (const size of [1, 2, 3]) {
      const arrays = { ...arraysFor(rows), raw: shared(Float64Array, n, (i) => raw[i]!) };
      starts.forEach((s, j) => {
        arrays.leafStarts[j] = s;
        arrays.leafValues[j] = values[j]!;
      });
      arrays.leafStarts[starts.length] = n;
      withThreads(size, arrays, "auto", (t) => t.addLeafValues(starts.length, 0, 1));
      expect(equalBits(arrays.raw, expected), `${size} thread(s)`).toBe(true);
    }
  });
});

describe("training on threads", () => {
  const rand = lcg(5);
  const colors = ["red", "green", "blue", "black", "white"];
  // Enough rows for several summation blocks and for partitions shared among threads.
  const rows = Array.from({ length: PARALLEL_MIN_ROWS + 5000 }, () => {
    const a = rand() * 4 - 2;
    const color = colors[Math.floor(rand() * colors.length)];
    const m = rand() < 0.2 ? null : rand();
    const b = Math.round(rand() * 50);
    const score = Math.sin(a * 2) + (color === "red" ? 1 : color === "blue" ? -1 : 0) + (m ?? 1.5) + b / 50 + (rand() - 0.5);
    return { y: score < 0.5 ? "low" : score < 1.5 ? "mid" : "high", a, color, m, b, noise: rand() };
  });
  const file = writeFile(path.join(tmpDir(), "train.csv"), toCsv(rows));

  it.each([
    ["binary", { objective: "binary" }],
    ["multiclass, row and column subsampling", { subsample: "0.8", colsample_bytree: "0.8", colsample_bynode: "0.8" }],
  ])(
    "gives the same model.json bytes for 1, 2 and 3 threads and every histogram schedule (%s)",
    (_, extra) => {
      const binary = (extra as Record<string, string>).objective === "binary";
      const data = binary ? writeFile(path.join(tmpDir(), "binary.csv"), toCsv(rows.map((r) => ({ ...r, y: r.y === "high" ? 1 : 0 })))) : file;
      const runs: [string, string][] = [
        ["1", "auto"],
        ["2", "auto"],
        ["3", "auto"],
        ["2", "rows"],
        ["2", "features"],
      ];
      const models = runs.map(([threads, histogram_schedule]) =>
        JSON.stringify(trainFiles([data], { label: "y", num_round: "8", ...extra, threads, histogram_schedule }).model),
      );
      for (let i = 1; i < models.length; i++) expect(models[i], runs[i]!.join(" threads, ")).toBe(models[0]);
      const hp = JSON.parse(models[0]!).hyperparameters;
      expect(hp.threads).toBeUndefined();
      expect(hp.histogram_schedule).toBeUndefined();
    },
    60_000,
  );
});
