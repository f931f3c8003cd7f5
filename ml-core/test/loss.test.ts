import { describe, expect, it } from "vitest";
import { lossFor } from "../src/gbdt/loss";
import { fastExp } from "../src/gbdt/loss/exp";

/** Numerical derivative of the summed loss with respect to raw[i]. */
function numericGradient(loss: ReturnType<typeof lossFor>, y: Float64Array, raw: Float64Array, i: number): number {
  const eps = 1e-5;
  const n = y.length;
  const up = raw.slice();
  up[i] += eps;
  const down = raw.slice();
  down[i] -= eps;
  return ((loss.meanLoss(y, up, n) - loss.meanLoss(y, down, n)) * n) / (2 * eps);
}

describe("objectives", () => {
  it.each([
    ["binary", 2, Float64Array.of(0, 1, 1, 0), Float64Array.of(0.3, -1.2, 2, 0.1)],
    ["multiclass", 3, Float64Array.of(0, 2, 1), Float64Array.of(0.1, 0.5, -0.3, 1, 0, 2, -1, 0.2, 0.4)],
  ] as const)("%s: gradients are the derivative of the loss", (objective, nClasses, y, raw) => {
    const loss = lossFor(objective, nClasses);
    const K = loss.nOutputs;
    const n = y.length;
    const g = Array.from({ length: K }, () => new Float32Array(n));
    const h = Array.from({ length: K }, () => new Float32Array(n));
    loss.gradients(y, raw, n, g, h);
    for (let i = 0; i < n; i++) for (let k = 0; k < K; k++) expect(g[k][i]).toBeCloseTo(numericGradient(loss, y, raw, i * K + k), 4);
    for (let k = 0; k < K; k++) for (let i = 0; i < n; i++) expect(h[k][i]).toBeGreaterThan(0);
  });

  it("regression: gradient is prediction − label, hessian 1, mean loss is the MSE", () => {
    const loss = lossFor("regression", 0);
    const g = [new Float32Array(2)];
    const h = [new Float32Array(2)];
    loss.gradients(Float64Array.of(1, 5), Float64Array.of(3, 2), 2, g, h);
    expect(Array.from(g[0])).toEqual([2, -3]);
    expect(Array.from(h[0])).toEqual([1, 1]);
    expect(loss.meanLoss(Float64Array.of(1, 5), Float64Array.of(3, 2), 2)).toBe((4 + 9) / 2);
    expect(loss.constantHessian).toBe(true);
  });

  it.each([
    ["regression", 0, Float64Array.of(1, 2, 6), [3]],
    ["binary", 2, Float64Array.of(1, 0, 0, 0), [Math.log(0.25 / 0.75)]],
  ] as const)("%s: the baseline is the best constant prediction", (objective, k, y, expected) => {
    const b = lossFor(objective, k).baseline(y, y.length);
    expected.forEach((v, i) => expect(b[i]).toBeCloseTo(v, 12));
  });

  it("multiclass: the baseline's softmax gives the class priors", () => {
    const b = lossFor("multiclass", 3).baseline(Float64Array.of(0, 0, 1, 2), 4);
    const e = Array.from(b, Math.exp);
    const s = e.reduce((a, x) => a + x, 0);
    expect(e.map((x) => x / s)).toEqual([expect.closeTo(0.5, 12), expect.closeTo(0.25, 12), expect.closeTo(0.25, 12)]);
  });
});

describe("the gradients' exp", () => {
  /** Distance of a from b in units in the last place of b. */
  const ulps = (a: number, b: number): number => {
    const next = new Float64Array([b]);
    new BigInt64Array(next.buffer)[0]! += 1n;
    return Math.abs(a - b) / (next[0]! - b);
  };

  it("is within 2 ulps of Math.exp on [-700, 700], and NaN for NaN", () => {
    let worst = 0;
    let x = -700;
    // A fine walk near 0 (where probabilities live) and a coarse one over the whole range.
    for (let i = 0; i <= 200_000; i++) worst = Math.max(worst, ulps(fastExp((i - 100_000) / 4000), Math.exp((i - 100_000) / 4000)));
    for (; x <= 700; x += 0.0137) worst = Math.max(worst, ulps(fastExp(x), Math.exp(x)));
    expect(worst).toBeLessThanOrEqual(2);
    expect(fastExp(0)).toBe(1);
    expect(fastExp(NaN)).toBeNaN();
  });

  it("saturates beyond ±700, so a sigmoid stays a probability (never NaN)", () => {
    expect(fastExp(-1e6)).toBe(fastExp(-700));
    expect(fastExp(Infinity)).toBe(fastExp(700));
    expect(Number.isFinite(fastExp(Infinity))).toBe(true);
    const g = new Float32Array(2);
    const h = new Float32Array(2);
    lossFor("binary", 2).gradients(Float64Array.of(1, 0), Float64Array.of(-1e6, 1e6), 2, [g], [h]);
    expect(Array.from(g)).toEqual([-1, 1]);
    expect(Array.from(h)).toEqual([0, 0]);
  });
});
