#!/usr/bin/env node
// Batch scoring benchmark: `ml-core predict` on a 1,000,000-row CSV file, end to end (process start,
// model load, read, parse, score, format, write), beside scikit-learn scoring the same rows with the
// same 100 trees: predict_proba alone on an in-memory array, and end to end (read CSV, predict_proba,
// write CSV) as a batch job would run it.
//
//   npx tsc -b && node bench/predict.mjs [--rows 1000000] [--runs 3] [--json]
//
// The best of `runs` is reported (the fastest run is the one least disturbed by other processes).
import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { performance } from "node:perf_hooks";
import { BENCH, BIN, DATA, PYTHON, prepareModel, rows } from "./serve-setup.mjs";

const args = process.argv.slice(2);
const flag = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : fallback;
};
const ROWS = Number(flag("rows", "1000000"));
const RUNS = Number(flag("runs", "3"));
const log = (msg) => process.stderr.write(msg + "\n");

function main() {
  const model = prepareModel();
  const input = path.join(DATA, `predict-${ROWS}.csv`);
  if (!fs.existsSync(input)) {
    log(`writing ${ROWS.toLocaleString("en-US")} rows to ${path.relative(process.cwd(), input)}`);
    fs.writeFileSync(input, rows(ROWS, 5).join("\n") + "\n");
  }
  const bytes = fs.statSync(input).size;
  const output = path.join(DATA, "predict-out.csv");

  const results = [];
  let best = Infinity;
  let summary;
  for (let i = 0; i < RUNS; i++) {
    const t0 = performance.now();
    const run = spawnSync(process.execPath, [BIN, "predict", "--model-dir", model.modelDir, "--input", input, "--output", output, "--json"], {
      encoding: "utf8",
    });
    const seconds = (performance.now() - t0) / 1000;
    if (run.status !== 0) throw new Error(`ml-core predict failed: ${run.stderr}`);
    if (seconds < best) {
      best = seconds;
      summary = JSON.parse(run.stdout);
    }
  }
  results.push({ what: `ml-core predict, end to end (${os.availableParallelism()} threads)`, seconds: best, rowsPerSecond: ROWS / best });

  let agreement;
  if (model.python === undefined) {
    const script = path.join(BENCH, "predict_sklearn.py");
    const py = JSON.parse(
      execFileSync(PYTHON, [script, model.sklearnModel, input, path.join(DATA, "predict-out-sklearn.csv"), String(RUNS), output], {
        encoding: "utf8",
        env: { ...process.env, OMP_NUM_THREADS: String(os.availableParallelism()) },
      }),
    );
    results.push({ what: "scikit-learn predict_proba only (array in memory)", seconds: py.predictSeconds, rowsPerSecond: ROWS / py.predictSeconds });
    results.push({
      what: "scikit-learn end to end (np.loadtxt, predict_proba, np.savetxt)",
      seconds: py.endToEndSeconds,
      rowsPerSecond: ROWS / py.endToEndSeconds,
    });
    agreement = py.maxAbsDiff;
  } else {
    log(`scikit-learn skipped: ${model.python}`);
  }

  if (args.includes("--json")) {
    process.stdout.write(JSON.stringify({ rows: ROWS, bytes, model: model.source, results, maxAbsProbabilityDiff: agreement, summary }, null, 2) + "\n");
    return;
  }
  const lines = [
    `${ROWS.toLocaleString("en-US")} rows (${(bytes / 1e6).toFixed(1)} MB CSV, 8 features); model: ${model.source}; best of ${RUNS}; node ${process.version}`,
  ];
  lines.push(`${"".padEnd(66)} ${"seconds".padStart(8)} ${"rows/s".padStart(11)}`);
  for (const r of results)
    lines.push(`${r.what.padEnd(66)} ${r.seconds.toFixed(2).padStart(8)} ${Math.round(r.rowsPerSecond).toLocaleString("en-US").padStart(11)}`);
  if (agreement !== undefined) lines.push(`largest difference between the two models' probabilities: ${agreement.toExponential(2)}`);
  lines.push(`target: ml-core predict >= 500,000 rows/s end to end: ${results[0].rowsPerSecond >= 500_000 ? "met" : "NOT met"}`);
  process.stdout.write(lines.join("\n") + "\n");
}

try {
  main();
} catch (e) {
  log(`error: ${e.message}`);
  process.exitCode = 1;
}
