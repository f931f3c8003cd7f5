// Training benchmark: ml-core against scikit-learn's HistGradientBoosting on the same split of a
// real 3-million-row table (vega-datasets' flights-3m: 2001 US domestic flights), same
// hyperparameters, one run, printed side by side. Not a test.
//
//   node bench/train.mjs [--task binary|regression|both] [--rows N] [--no-sklearn-1thread]
//
// Needs the build (npx tsc -b) and the `zstd` command (to read the parquet file once; the CSVs are
// cached in bench/.data/). scikit-learn is optional (Debian: python3-sklearn python3-pandas).
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { prepareFlights } from "./flights-data.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const arg = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : dflt;
};
const tasks = arg("--task", "both") === "both" ? ["binary", "regression"] : [arg("--task")];
const rows = Number(arg("--rows", "0"));
const sklearn1 = !args.includes("--no-sklearn-1thread");

// Matching hyperparameters: scikit-learn's defaults, no early stopping (same number of trees).
const HP = { num_round: 100, learning_rate: 0.1, max_leaf_nodes: 31, min_samples_leaf: 20, l2_regularization: 0, max_bins: 255 };
const TASKS = {
  binary: { label: "delayed", ignore: "delay", metric: "auc", title: "binary: delayed > 15 min, holdout ROC AUC" },
  regression: { label: "delay", ignore: "delayed", metric: "r2", title: "regression: delay in minutes, holdout R²" },
};
const CATEGORICAL = "origin,destination";

function subset(file, n) {
  if (!n) return file;
  const out = file.replace(/\.csv$/, `-${n}.csv`);
  if (fs.existsSync(out)) return out;
  const lines = fs.readFileSync(file, "utf8").split("\n").filter((l) => l.length > 0);
  const step = Math.max(1, Math.floor((lines.length - 1) / n));
  const keep = [lines[0]];
  for (let i = 1; i < lines.length && keep.length <= n; i += step) keep.push(lines[i]);
  fs.writeFileSync(out, keep.join("\n") + "\n");
  return out;
}

function runJson(cmd, argv, env = {}) {
  const r = spawnSync(cmd, argv, { encoding: "utf8", env: { ...process.env, ...env }, maxBuffer: 1 << 26 });
  if (r.status !== 0) return { error: (r.stderr || r.error?.message || "failed").trim().split("\n").slice(-3).join(" | ") };
  return JSON.parse(r.stdout.trim().split("\n").at(-1));
}

function hasSklearn() {
  const r = spawnSync("/usr/bin/python3", ["-c", "import sklearn, pandas; print(sklearn.__version__)"], { encoding: "utf8" });
  return r.status === 0 ? r.stdout.trim() : null;
}

const files = await prepareFlights();
const train = subset(files.train, rows);
const holdout = files.holdout;
const rawBytes = fs.statSync(train).size;
const skVersion = hasSklearn();
// What each runtime holds before any data: subtracted in the "above baseline" row.
const pyBaseline = skVersion ? runJson("/usr/bin/python3", ["-c", "import json, resource, pandas, numpy, sklearn.ensemble, sklearn.metrics; print(json.dumps({'maxRssBytes': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024}))"]) : undefined;
const nodeBaseline = runJson(process.execPath, ["-e", `require(${JSON.stringify(path.join(here, "../ml-core/dist/index.js"))}); console.log(JSON.stringify({ maxRssBytes: process.resourceUsage().maxRSS * 1024 }))`]);

const mb = (b) => (b / 1e6).toFixed(0);
const f = (x, d = 2) => (x === undefined || Number.isNaN(x) ? "-" : x.toFixed(d));
console.log(`machine: ${os.cpus().length} cores (${os.cpus()[0].model}), load average ${os.loadavg().map((l) => l.toFixed(1)).join(" ")}; node ${process.version}` + (skVersion ? `; scikit-learn ${skVersion}` : ""));
console.log(`data: ${path.relative(process.cwd(), train)} (${mb(rawBytes)} MB raw CSV) → holdout ${path.relative(process.cwd(), holdout)}; features dep_time, weekday, yearday, distance (numeric), origin, destination (categorical)`);
console.log(`hyperparameters (both): ${Object.entries(HP).map(([k, v]) => `${k}=${v}`).join(" ")}, no early stopping; runtime baseline RSS (modules loaded, no data): node ${mb(nodeBaseline.maxRssBytes)} MB` + (pyBaseline ? `, python ${mb(pyBaseline.maxRssBytes)} MB` : ""));
if (!skVersion) console.log("scikit-learn not found (apt-get install python3-sklearn python3-pandas): ml-core only");

for (const task of tasks) {
  const t = TASKS[task];
  const ours = runJson(process.execPath, [path.join(here, "train-worker.mjs"), train, holdout, JSON.stringify({ ...Object.fromEntries(Object.entries(HP).map(([k, v]) => [k, String(v)])), objective: task, label: t.label, ignore_columns: t.ignore, categorical_columns: CATEGORICAL, early_stopping_rounds: "0" })]);
  const skArgs = [path.join(here, "train_sklearn.py"), train, holdout, task, t.label, t.ignore, CATEGORICAL, JSON.stringify(HP)];
  const sk = skVersion ? runJson("/usr/bin/python3", skArgs) : undefined;
  const sk1 = skVersion && sklearn1 ? runJson("/usr/bin/python3", skArgs, { OMP_NUM_THREADS: "1" }) : undefined;
  if (ours.error) throw new Error(`ml-core failed: ${ours.error}`);
  console.log(`\n${t.title} — ${ours.trainRows.toLocaleString("en")} training rows, ${ours.holdoutRows.toLocaleString("en")} holdout rows`);
  const cols = [["ml-core", ours], ...(sk ? [["sklearn", sk]] : []), ...(sk1 ? [["sklearn 1 thread", sk1]] : [])];
  const header = ["", ...cols.map(([n]) => n), ...(sk ? ["ml-core / sklearn"] : []), ...(sk1 ? ["ml-core / sklearn 1 thr"] : [])];
  const ratio = (a, b) => (b && !b.error ? f(a / b, 2) + "×" : "-");
  const diff = (a, b) => (b !== undefined ? (a - b >= 0 ? "+" : "") + f(a - b, 4) : "-");
  const table = [
    ["fit time (s)", ...cols.map(([, r]) => f(r.fitSeconds)), ...(sk ? [ratio(ours.fitSeconds, sk.fitSeconds)] : []), ...(sk1 ? [ratio(ours.fitSeconds, sk1.fitSeconds)] : [])],
    ["fit CPU time (s)", ...cols.map(([, r]) => f(r.fitCpuSeconds)), ...(sk ? [ratio(ours.fitCpuSeconds, sk.fitCpuSeconds)] : []), ...(sk1 ? [ratio(ours.fitCpuSeconds, sk1.fitCpuSeconds)] : [])],
    ["CSV read time (s)", ...cols.map(([, r]) => f(r.readSeconds)), ...(sk ? [ratio(ours.readSeconds, sk.readSeconds)] : []), ...(sk1 ? [ratio(ours.readSeconds, sk1.readSeconds)] : [])],
    ["peak RSS, read + fit (MB)", ...cols.map(([, r]) => mb(r.maxRssBytes)), ...(sk ? [ratio(ours.maxRssBytes, sk.maxRssBytes)] : []), ...(sk1 ? [ratio(ours.maxRssBytes, sk1.maxRssBytes)] : [])],
    ["peak RSS / raw CSV", ...cols.map(([, r]) => f(r.maxRssBytes / rawBytes, 2) + "×"), ...(sk ? [""] : []), ...(sk1 ? [""] : [])],
    ["(peak − baseline) / raw CSV", ...cols.map(([n, r]) => f((r.maxRssBytes - (n === "ml-core" ? nodeBaseline : pyBaseline).maxRssBytes) / rawBytes, 2) + "×"), ...(sk ? [""] : []), ...(sk1 ? [""] : [])],
    [`holdout ${t.metric}`, ...cols.map(([, r]) => f(r.metrics[t.metric], 4)), ...(sk ? [diff(ours.metrics[t.metric], sk.metrics[t.metric])] : []), ...(sk1 ? [diff(ours.metrics[t.metric], sk1.metrics[t.metric])] : [])],
  ];
  if (task === "regression") table.push(["holdout rmse", ...cols.map(([, r]) => f(r.metrics.rmse, 3)), ...(sk ? [diff(ours.metrics.rmse, sk.metrics.rmse)] : []), ...(sk1 ? [diff(ours.metrics.rmse, sk1.metrics.rmse)] : [])]);
  else table.push(["holdout logloss", ...cols.map(([, r]) => f(r.metrics.logloss, 4)), ...(sk ? [diff(ours.metrics.logloss, sk.metrics.logloss)] : []), ...(sk1 ? [diff(ours.metrics.logloss, sk1.metrics.logloss)] : [])]);
  const widths = header.map((_, i) => Math.max(...[header, ...table].map((r) => String(r[i]).length)));
  const line = (r) => "| " + r.map((c, i) => String(c).padEnd(widths[i])).join(" | ") + " |";
  console.log(line(header));
  console.log("|" + widths.map((w) => "-".repeat(w + 2)).join("|") + "|");
  for (const r of table) console.log(line(r));
  for (const [n, r] of cols) if (r.error) console.log(`${n} failed: ${r.error}`);
  console.log(`ml-core scoring (flat predictor, holdout): ${Math.round(ours.predictRowsPerSecond).toLocaleString("en")} rows/s`);
}
