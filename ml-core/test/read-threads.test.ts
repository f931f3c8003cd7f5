// Reading the training channel on several threads (train/binned-read-threads.ts) gives the bits of
// the one-thread read. The workers run the compiled dist/ code (npx tsc -b), as training's do.
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { fieldText, readCsvRange, readCsvRecordsAt } from "../src/data/csv";
import { BINNING_SAMPLE } from "../src/gbdt/binning";
import { Random } from "../src/gbdt/random";
import { readBinnedTrainingData } from "../src/train/binned-data";
import { lcg, tmpDir, writeFile } from "./helpers";

type Read = ReturnType<typeof readBinnedTrainingData>;

function read(files: string[], threads: number, unitBytes?: number, layout: object = {}): Read {
  return readBinnedTrainingData(files, "train", { labelColumn: "y", maxCategories: 16, ...layout }, 16, new Random(7), { threads, unitBytes });
}

/** An array's bytes as text: shared and unshared arrays compare alike, and `toEqual` compares one string, not 200,000 numbers. */
const bytesOf = (a: ArrayBufferView | undefined): string | undefined => a && Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString("base64");

/** Everything a read returns, as plain values. */
function plain(r: Read): unknown {
  const { table } = r;
  return {
    schema: r.schema,
    bins: r.mapper.features.map((f) => ({ categorical: f.categorical, nBins: f.nBins, thresholds: Array.from(f.thresholds) })),
    nRows: table.nRows,
    matrix: bytesOf(table.bins),
    labels: bytesOf(table.label.numeric),
    labelCodes: bytesOf(table.label.textCode),
    labelTexts: table.label.texts,
    weights: bytesOf(table.weights),
    dataHash: table.dataHash,
    bytes: table.bytes,
  };
}

/**
 * Rows with numbers (some missing), 40 categories (more than the 16 kept: the most frequent, ties
 * by first seen), quoted categories with commas and escaped quotes, missing tokens, text labels
 * and weights; category "late" first shows up in the last part.
 */
function mixedCsv(nRows: number, seed: number, late = false): string {
  const rand = lcg(seed);
  const lines = ["x,c,q,w,y"];
  for (let i = 0; i < nRows; i++) {
    const x = rand() < 0.05 ? "" : (rand() * 1000 - 500).toFixed(rand() < 0.5 ? 0 : 3);
    const k = Math.floor(rand() * rand() * 40);
    const c = late && i > nRows / 2 && rand() < 0.01 ? "late" : rand() < 0.03 ? "NA" : `k${k}`;
    const q = rand() < 0.3 ? `"a, ""b"" ${k % 5}"` : rand() < 0.05 ? "" : `p${k % 7}`;
    const w = (rand() * 3).toFixed(2);
    const y = ["low", "mid", "high"][Math.floor(rand() * 3)];
    lines.push(`${x},${c},${q},${w},${y}`);
  }
  return lines.join("\n") + "\n";
}

describe("reading on several threads", () => {
  it(`gives the one-thread schema, thresholds, bins, labels, weights and hash (two files, ${BINNING_SAMPLE} + rows: a sampled reservoir)`, () => {
    const dir = tmpDir();
    const files = [writeFile(path.join(dir, "a.csv"), mixedCsv(130_000, 1)), writeFile(path.join(dir, "b.csv"), mixedCsv(90_000, 2, true))];
    const layout = { categoricalColumns: ["q"], weightColumn: "w" };
    const one = plain(read(files, 1, undefined, layout));
    expect((one as { nRows: number }).nRows).toBeGreaterThan(BINNING_SAMPLE);
    expect(plain(read(files, 2, 256 << 10, layout))).toEqual(one);
    expect(plain(read(files, 3, 100_000, layout))).toEqual(one);
  }, 60_000);

  it("gives the one-thread result on small data cut into many units (every row in the sample)", () => {
    const files = [writeFile(path.join(tmpDir(), "a.csv"), mixedCsv(3000, 3, true))];
    const one = plain(read(files, 1));
    for (const unitBytes of [64, 1000, 20_000]) expect(plain(read(files, 2, unitBytes))).toEqual(one);
  });

  it("falls back to one thread when a cut falls inside a quoted field that spans lines", () => {
    // Read from just after the quoted line feed, "7,zz\",1" is a row of three fields too.
    const rows = Array.from({ length: 400 }, (_, i) => `${i % 13},"a\n${i % 7},zz",${i % 2}`);
    const files = [writeFile(path.join(tmpDir(), "a.csv"), ["x,note,y", ...rows].join("\n"))];
    const one = plain(read(files, 1));
    expect(plain(read(files, 2, 50))).toEqual(one);
  });

  it("names the file, line and column of bad data in a late unit, as on one thread", () => {
    const rows = Array.from({ length: 5000 }, (_, i) => (i === 4321 ? "oops,b,1" : `${i % 97},${i % 2 ? "a" : "b"},${i % 2}`));
    const files = [writeFile(path.join(tmpDir(), "bad.csv"), ["x,c,y", ...rows].join("\n"))];
    const message = /bad\.csv:4323:1: column "x" \(column 1\) is numeric but has "oops"/;
    expect(() => read(files, 1)).toThrow(message);
    expect(() => read(files, 2, 4096)).toThrow(message);
  });
});

describe("reading CSV by byte ranges", () => {
  it("ranges cut after line ends join up, and records read back from their offsets", () => {
    const text = 'a,b\n1,"x\ny"\n\n2,z\r\n3,"q"\n4,w';
    const file = writeFile(path.join(tmpDir(), "r.csv"), text);
    const whole: [number, string][] = [];
    const next = readCsvRange(file, 0, Infinity, (r) => void whole.push([r.offset, fieldText(r, 1)]));
    expect(next).toBe(fs.statSync(file).size);
    expect(whole).toEqual([
      [0, "b"],
      [4, "x\ny"],
      [13, "z"],
      [18, "q"],
      [24, "w"],
    ]);
    // A cut at 13 (after the blank line) joins up; one at 9 (after the quoted line feed) does not:
    // the record that holds it ends at 12.
    expect(readCsvRange(file, 0, 13, () => {})).toBe(13);
    const parts: number[] = [];
    readCsvRange(file, 13, Infinity, (r) => void parts.push(r.offset));
    expect(parts).toEqual([13, 18, 24]);
    expect(readCsvRange(file, 0, 9, () => {})).toBe(12);

    const again: string[] = [];
    readCsvRecordsAt(file, [4, 18, 24], (r, k) => again.push(`${k}:${fieldText(r, 0)}`));
    expect(again).toEqual(["0:1", "1:3", "2:4"]);
  });
});
