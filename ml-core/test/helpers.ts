// Shared test helpers: temporary directories, small CSV writers, real datasets from vega-datasets.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

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
