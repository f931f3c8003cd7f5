/**
 * `ml-core predict` writes CSV through Formatter.csvBytes and scoring's predictionBytes; the bytes
 * must be exactly those of the server's text (Formatter.format, Scorer.predictions).
 */
import { describe, expect, it } from "vitest";
import { ChainPredictor } from "../src/model/chain-predictor";
import type { Predictor } from "../src/model/predictor";
import { CsvRows } from "../src/codec/csv";
import { Formatter } from "../src/codec/format";
import { predictionBytes, Scorer } from "../src/codec/scoring";
import { rng } from "./server-helpers";
import { testModel, testRows } from "./server-model";

function formatterFor(objective: Predictor["objective"], classes?: string[]): Formatter {
  return new Formatter({ objective, classes, features: [], encode: () => NaN, predict: () => new Float64Array(0) });
}

/** Probabilities and values of every shape String() has: long fractions, exponents, ties, non-finite. */
function values(n: number, seed: number): Float64Array {
  const rand = rng(seed);
  const special = [
    0,
    -0,
    1,
    0.5,
    1e-7,
    1.7420527170611222e-6,
    -1.2345678901234567e-100,
    1e21,
    123456789012345680000,
    -Number.MAX_VALUE,
    Number.MIN_VALUE,
    NaN,
    Infinity,
    -Infinity,
  ];
  return Float64Array.from({ length: n }, () => (rand() < 0.3 ? special[Math.floor(rand() * special.length)] : rand() ** 8));
}

describe("Formatter.csvBytes", () => {
  it.each([
    ["binary", ["no", "yes"]],
    ["binary", ["0", "1"]],
    ["multiclass", ["setosa", "versi,color", 'vir"ginica', "café ☕"]],
    ["regression", undefined],
  ] as const)('gives the bytes of format("csv") for %s with classes %j', (objective, classes) => {
    const f = formatterFor(objective, classes === undefined ? undefined : [...classes]);
    const k = classes?.length ?? 1;
    for (const nRows of [0, 1, 5, 300]) {
      const y = values(nRows * k, nRows + k);
      expect(Buffer.from(f.csvBytes(y, nRows)).toString("utf8")).toBe(f.format("csv", y, nRows));
    }
  });

  it("picks the first class on a tie, as the text does", () => {
    const f = formatterFor("binary", ["no", "yes"]);
    expect(Buffer.from(f.csvBytes(Float64Array.of(0.5, 0.5), 1)).toString()).toBe("no,0.5,0.5\n");
  });
});

describe("predictionBytes", () => {
  it.each(["binary", "multiclass", "regression"] as const)("gives the UTF-8 of Scorer.predictions, in every output format (%s)", (objective) => {
    // Chunks may be cut differently (CSV's first slices are small); joined, they are the same text.
    const predictor = new ChainPredictor(testModel({ objective, trees: 20, depth: 4 }));
    const scorer = new Scorer(predictor, 64);
    const body = Buffer.from(testRows(500).join("\n") + "\n");
    for (const format of ["csv", "json", "jsonlines"] as const) {
      const text = [...scorer.predictions(new CsvRows(body, 0, body.length, scorer.schema), format)];
      const bytes = [...predictionBytes(scorer, new CsvRows(body, 0, body.length, scorer.schema), format)];
      const separator = format === "json" ? "," : "";
      expect(bytes.map((b) => Buffer.from(b).toString("utf8")).join(separator)).toBe(text.join(separator));
    }
  });
});
