/**
 * Training on several threads gives the model of one thread, byte for byte: each feature's
 * histogram is summed by one thread with the single-thread loop (gbdt/histogram-threads.ts).
 * Worker threads run the compiled module, so these tests need the build (rebuilt if stale).
 */
import * as path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { accumulate, FEATURE_STRIDE } from "../src/gbdt/histogram";
import { HistogramThreads, PARALLEL_MIN_WORK, sharedArray } from "../src/gbdt/histogram-threads";
import { lcg, tmpDir, toCsv, writeFile } from "./helpers";
import { ensureBuilt } from "./server-helpers";
import { trainFiles } from "./train-helpers";

beforeAll(() => ensureBuilt(), 120_000);

describe("histogram threads", () => {
  it("sum every feature of a node into the bits one thread sums (natural order and gathered rows)", () => {
    const n = 50_000;
    const nF = 5;
    const rand = lcg(1);
    // On shared memory (a typed array's map() would copy to an unshared buffer).
    const shared = <T extends Uint8Array | Uint32Array | Float32Array>(
      Ctor: { new (b: SharedArrayBuffer): T; BYTES_PER_ELEMENT: number },
      length: number,
      value: (i: number) => number,
    ): T => {
      const a = sharedArray(Ctor, length);
      for (let i = 0; i < length; i++) a[i] = value(i);
      return a;
    };
    const bins = shared(Uint8Array, n * nF, () => Math.floor(rand() * 256));
    const g = shared(Float32Array, n, () => rand() - 0.5);
    const h = shared(Float32Array, n, () => rand());
    // Odd rows only, gathered, as a child's range is.
    const odd = Array.from({ length: n / 2 }, (_, i) => 2 * i + 1);
    const rows = shared(Uint32Array, n, (i) => odd[i] ?? 0);
    const orderedG = shared(Float32Array, n, (i) => (i < odd.length ? g[odd[i]!]! : 0));
    const orderedH = shared(Float32Array, n, (i) => (i < odd.length ? h[odd[i]!]! : 0));
    const arrays = { bins, nRows: n, rows, orderedG, orderedH, g: [g], h: [h] };
    const features = Uint32Array.from([4, 0, 2, 1, 3]);
    expect(odd.length * nF).toBeGreaterThan(PARALLEL_MIN_WORK);
    for (const [natural, count] of [
      [true, n],
      [false, odd.length],
    ] as const) {
      const expected = new Float64Array(nF * FEATURE_STRIDE);
      for (const f of features)
        accumulate(expected, f, bins.subarray(f * n, (f + 1) * n), natural ? null : rows, 0, count, natural ? g : orderedG, natural ? h : orderedH);
      for (const size of [2, 3]) {
        const threads = new HistogramThreads(size, arrays, nF);
        try {
          const hist = threads.allocate(nF * FEATURE_STRIDE);
          threads.build(hist, natural, 0, count, natural ? 0 : -1, true, features);
          expect(Buffer.from(hist.buffer).equals(Buffer.from(expected.buffer))).toBe(true);
        } finally {
          threads.close();
        }
      }
    }
  });
});

describe("training on threads", () => {
  const rand = lcg(5);
  const colors = ["red", "green", "blue", "black", "white"];
  const rows = Array.from({ length: 30_000 }, () => {
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
  ])("gives the same model.json bytes for 1, 2 and 3 threads (%s)", (_, extra) => {
    const binary = (extra as Record<string, string>).objective === "binary";
    const data = binary ? writeFile(path.join(tmpDir(), "binary.csv"), toCsv(rows.map((r) => ({ ...r, y: r.y === "high" ? 1 : 0 })))) : file;
    const models = ["1", "2", "3"].map((threads) => JSON.stringify(trainFiles([data], { label: "y", num_round: "12", ...extra, threads }).model));
    expect(models[1]).toBe(models[0]);
    expect(models[2]).toBe(models[0]);
    expect(JSON.parse(models[0]!).hyperparameters.threads).toBeUndefined();
  });
});
