#!/usr/bin/env node
// The chain predictor's walk in process, on the flights models (bench/categorical.mjs makes them):
// 100-row calls and 65,536-row calls, for one predictor alone, for one with a second predictor of
// the same model in the process, and for a 400-tree categorical model (more slots than one table
// holds, so its trees are walked in several tables). Each case runs in a fresh process, min of 15
// repetitions. `--base DIR` also runs another build's ml-core/dist (say, a worktree of an older
// commit) for a side-by-side table.
//
//   npx tsc -b && node bench/categorical.mjs --runs 1 --rounds 1 && node bench/walk.mjs [--base ../wt/ml-core/dist]
import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const flag = (name) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
};

if (args[0] === "--child") {
  // One case: --child DIST MODEL_DIR INPUT TWO
  const [, dist, modelDir, input, two] = args;
  const { createRequire } = await import("node:module");
  const require = createRequire(import.meta.url);
  const { loadPredictor } = require(path.join(dist, "model/load.js"));
  const p = loadPredictor(modelDir);
  // A second predictor of the same model, made before any walk runs.
  const other = two === "1" ? loadPredictor(modelDir) : null;
  const [head, ...lines] = fs.readFileSync(input, "utf8").split("\n").slice(0, 65537);
  // The model's features by name (the numeric model has no airports).
  const column = p.features.map((f) => head.split(",").indexOf(f.name));
  const nF = p.features.length;
  const n = lines.length;
  const x = new Float64Array(n * nF);
  lines.forEach((l, r) => {
    const fields = l.split(",");
    p.features.forEach((f, j) => (x[r * nF + j] = f.kind === "categorical" ? p.encode(j, fields[column[j]]) : Number(fields[column[j]])));
  });
  const time = (f, reps) => {
    let best = Infinity;
    for (let k = 0; k < 15; k++) {
      const t = performance.now();
      for (let i = 0; i < reps; i++) f();
      best = Math.min(best, (performance.now() - t) / reps);
    }
    return best * 1000;
  };
  for (let i = 0; i < 2000; i++) p.predictRaw(x, 100);
  const hundred = time(() => p.predictRaw(x, 100), 2000);
  const many = time(() => p.predictRaw(x, n), 1) / n;
  // The second predictor scores too, so that it is not a predictor that never ran.
  if (other !== null && other.predictRaw(x, 8)[0] !== p.predictRaw(x, 8)[0]) throw new Error("two predictors disagree");
  console.log(JSON.stringify({ hundred, many, tables: p.tables }));
  process.exit(0);
}

const dir = path.join(here, ".data", "categorical");
const input = path.join(dir, "holdout-features.csv");
if (!fs.existsSync(path.join(dir, "model-categorical", "model.json"))) throw new Error(`${dir}: run node bench/categorical.mjs once first`);
const big = path.join(dir, "model-categorical-400");
if (!fs.existsSync(path.join(big, "model.json"))) {
  process.stderr.write("training the 400-tree categorical model\n");
  const hp = [
    "label=delayed",
    "objective=binary",
    "num_round=400",
    "early_stopping_rounds=0",
    "ignore_columns=delay",
    "categorical_columns=origin,destination",
  ];
  execFileSync(
    process.execPath,
    [
      path.join(here, "../ml-core/bin/ml-core.js"),
      "train",
      "--train",
      path.join(here, ".data/flights-3000000/train-500000.csv"),
      "--model-dir",
      big,
      ...hp.flatMap((h) => ["--hp", h]),
    ],
    { stdio: ["ignore", "ignore", "inherit"] },
  );
}

const builds = [["this build", path.join(here, "../ml-core/dist")]];
if (flag("base")) builds.push(["base", path.resolve(flag("base"))]);
const cases = [
  ["categorical, 100 trees", "model-categorical", "0"],
  ["categorical, 100 trees, + a second predictor", "model-categorical", "1"],
  ["numeric, 100 trees", "model-numeric", "0"],
  ["numeric, 100 trees, + a second predictor", "model-numeric", "1"],
  ["categorical, 400 trees", "model-categorical-400", "0"],
];
const rows = [];
for (const [label, model, two] of cases) {
  const row = [label];
  let tables = 0;
  for (const [, dist] of builds) {
    const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url), "--child", dist, path.join(dir, model), input, two], { encoding: "utf8" });
    if (r.status !== 0) throw new Error(r.stderr);
    const m = JSON.parse(r.stdout);
    tables = m.tables;
    row.push(`${m.hundred.toFixed(1)} µs`, `${m.many.toFixed(3)} µs`);
  }
  rows.push([`${label} (${tables} table${tables === 1 ? "" : "s"})`, ...row.slice(1)]);
}
const header = ["", ...builds.flatMap(([name]) => [`${name}: 100 rows`, `${name}: a row of 65,536`])];
const widths = header.map((_, i) => Math.max(...[header, ...rows].map((r) => r[i].length)));
const line = (r) => "| " + r.map((c, i) => c.padEnd(widths[i])).join(" | ") + " |";
console.log(line(header));
console.log("|" + widths.map((w) => "-".repeat(w + 2)).join("|") + "|");
for (const r of rows) console.log(line(r));
