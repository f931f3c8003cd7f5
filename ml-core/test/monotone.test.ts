/** Monotonic constraints (monotone_constraints): predictions only rise (or fall) with a feature. */
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { parseHyperparameters } from "../src/train/hyperparameters";
import { lcg, tmpDir, toCsv, writeFile } from "./helpers";
import { trainFiles } from "./train-helpers";

// y rises with `up` only on the whole (a sine on top), falls with `down` likewise; `free` matters non-monotonically.
const r = lcg(41);
const data = Array.from({ length: 4000 }, () => {
  const up = r() * 6;
  const down = r() * 6;
  const free = r() * 6;
  const score = up + Math.sin(3 * up) * 1.5 - down - Math.sin(3 * down) * 1.5 + Math.sin(2 * free) + (r() - 0.5);
  return { y: score, c: score > 0 ? "yes" : "no", up, down, free: r() < 0.05 ? null : free };
});
const dir = tmpDir();
const regression = writeFile(path.join(dir, "r.csv"), toCsv(data.map(({ c: _, ...x }) => x)));
const binary = writeFile(path.join(dir, "b.csv"), toCsv(data.map(({ y: _, ...x }) => ({ ...x, y: x.c })).map(({ c: _, ...x }) => x)));

/** Largest drop (for +1) along a sweep of `feature` from random starting rows: 0 when monotone. */
function worstViolation(predict: (x: Float64Array, n: number) => Float64Array, feature: number, sign: number, outputs: number, column: number): number {
  const rand = lcg(7);
  let worst = 0;
  for (let trial = 0; trial < 200; trial++) {
    const base = [rand() * 6, rand() * 6, rand() < 0.1 ? NaN : rand() * 6];
    const steps = 60;
    const x = new Float64Array(steps * 3);
    const sweep = Array.from({ length: steps }, () => rand() * 7 - 0.5).sort((a, b) => a - b);
    sweep.forEach((v, i) => {
      x.set(base, i * 3);
      x[i * 3 + feature] = v;
    });
    const p = predict(x, steps);
    for (let i = 1; i < steps; i++) worst = Math.max(worst, sign * (p[(i - 1) * outputs + column]! - p[i * outputs + column]!));
  }
  return worst;
}

describe("monotone_constraints", () => {
  it.each([
    ["by name, regression", regression, { monotone_constraints: "up:1,down:-1" }, 1, 0],
    ["by position, regression", regression, { monotone_constraints: "(1,-1,0)" }, 1, 0],
    ["by name, binary (probability of yes)", binary, { monotone_constraints: "up:1,down:-1" }, 2, 1],
  ] as const)("makes predictions monotone on random inputs (%s)", (_, file, hp, outputs, column) => {
    const free = trainFiles([file], { label: "y", num_round: "60", learning_rate: "0.3" });
    const constrained = trainFiles([file], { label: "y", num_round: "60", learning_rate: "0.3", ...hp });
    const p = constrained.predictor;
    expect(worstViolation((x, n) => p.predict(x, n), 0, 1, outputs, column)).toBe(0);
    expect(worstViolation((x, n) => p.predict(x, n), 1, -1, outputs, column)).toBe(0);
    // Without the constraints the same data gives a model that is not monotone: the test can fail.
    expect(worstViolation((x, n) => free.predictor.predict(x, n), 0, 1, outputs, column)).toBeGreaterThan(0);
    expect(worstViolation((x, n) => free.predictor.predict(x, n), 1, -1, outputs, column)).toBeGreaterThan(0);
    // The unconstrained feature is still used non-monotonically.
    expect(worstViolation((x, n) => p.predict(x, n), 2, 1, outputs, column)).toBeGreaterThan(0);
  });

  it.each([
    ["up:2", 'monotone_constraints: "up:2" is not feature:1, feature:-1 or feature:0'],
    ["1,x,0", 'monotone_constraints: "x" is not 1, -1 or 0'],
    ["up:1,up:-1", 'monotone_constraints: feature "up" is listed twice'],
  ])("refuses %s before any data is read", (text, message) => {
    expect(() => parseHyperparameters({ monotone_constraints: text })).toThrow(message);
  });

  it("refuses unknown features, a wrong count and categorical features once the data is read", () => {
    expect(() => trainFiles([regression], { label: "y", monotone_constraints: "height:1" })).toThrow(
      'monotone_constraints: "height" is not a feature; features are: up, down, free',
    );
    expect(() => trainFiles([regression], { label: "y", monotone_constraints: "1,0" })).toThrow(
      "monotone_constraints: 2 values for 3 features (up, down, free)",
    );
    expect(() => trainFiles([binary], { label: "y", categorical_columns: "up", monotone_constraints: "up:1" })).toThrow('"up" is categorical');
  });
});
