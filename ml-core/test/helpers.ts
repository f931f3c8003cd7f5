// Shared test helpers: temporary directories, small CSV writers, real datasets from vega-datasets.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { TreeJson } from "../src/index";

export const VEGA = path.resolve(__dirname, "../../node_modules/vega-datasets/data");
export const REPO = path.resolve(__dirname, "../..");
export const BIN = path.join(REPO, "ml-core/bin/ml-core.js");

export function tmpDir(prefix = "ml-core-test-"): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export function writeFile(file: string, text: string): string {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, text);
  return file;
}

/** Rows of objects → CSV text with a header (null → empty field; quotes where needed). */
export function toCsv(rows: Record<string, unknown>[], columns = Object.keys(rows[0])): string {
  const q = (v: unknown): string => {
    if (v === null || v === undefined) return "";
    const s = String(v);
    return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  return [columns.join(","), ...rows.map((r) => columns.map((c) => q(r[c])).join(","))].join("\n") + "\n";
}

export function readVegaJson(name: string): Record<string, unknown>[] {
  return JSON.parse(fs.readFileSync(path.join(VEGA, name), "utf8"));
}

/** A deterministic pseudo-random stream in [0, 1). */
export function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
}

/** Deterministic shuffle-split of rows into train/test. */
export function split<T>(rows: T[], testFraction: number, seed = 7): { train: T[]; test: T[] } {
  const r = lcg(seed);
  const train: T[] = [];
  const test: T[] = [];
  for (const row of rows) (r() < testFraction ? test : train).push(row);
  return { train, test };
}

/** How a random tree's internal node splits: on a feature, by a threshold or a set of category codes. */
export type RandomSplit = { feature: number; threshold: number } | { feature: number; categoriesLeft: number[] };

/**
 * A random tree of `leaves` leaves, node ids in creation order. `chooseSplit` draws each internal
 * node's split; missing-value directions and leaf values are drawn here, in a fixed order.
 */
export function randomTree(rand: () => number, leaves: number, output: number, chooseSplit: (rand: () => number) => RandomSplit): TreeJson {
  const t: TreeJson = {
    output,
    feature: [-1],
    threshold: [null],
    categoriesLeft: [null],
    missingLeft: [0],
    left: [-1],
    right: [-1],
    value: [0],
    count: [1],
    gain: [0],
  };
  const open = [0];
  while (open.length < leaves) {
    const n = open.splice(Math.floor(rand() * open.length), 1)[0];
    const split = chooseSplit(rand);
    t.feature[n] = split.feature;
    if ("categoriesLeft" in split) t.categoriesLeft[n] = split.categoriesLeft;
    else t.threshold[n] = split.threshold;
    t.missingLeft[n] = rand() < 0.5 ? 1 : 0;
    for (const side of ["left", "right"] as const) {
      const id = t.feature.length;
      t.feature.push(-1);
      t.threshold.push(null);
      t.categoriesLeft.push(null);
      t.missingLeft.push(0);
      t.left.push(-1);
      t.right.push(-1);
      t.value.push(rand() - 0.5);
      t.count.push(1);
      t.gain.push(0);
      t[side][n] = id;
      open.push(id);
    }
  }
  return t;
}
