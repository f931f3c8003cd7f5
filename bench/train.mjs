// Training benchmark: ml-core against scikit-learn's HistGradientBoosting on the same split of a
// real 3-million-row table (vega-datasets' flights-3m: 2001 US domestic flights), same
// hyperparameters, one run, printed side by side. Not a test.
//
//   node bench/train.mjs [--task binary|regression|both] [--rows N] [--threads 1,2] [--repeat N]
//                        [--schedule auto|rows|features[,…]]
//
// Each thread count runs ml-core (`threads` hyperparameter) and scikit-learn (OMP_NUM_THREADS)
// alternately, `repeat` times; medians are reported with the spread and the load average.
// Needs the build (npx tsc -b). scikit-learn is optional (Debian: python3-sklearn python3-pandas).
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
const threadCounts = arg("--threads", `1,${os.availableParallelism()}`).split(",").map(Number);
const skThreads = threadCounts;
const repeat = Number(arg("--repeat", "1"));
// ml-core's histogram_schedule; several (rows,features) run each multi-thread count once per schedule.
const schedules = arg("--schedule", "auto").split(",");

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
  const lines = fs
    .readFileSync(file, "utf8")
    .split("\n")
    .filter((l) => l.length > 0);
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
const pyBaseline = skVersion
  ? runJson("/usr/bin/python3", [
      "-c",
      `import sys; sys.path.insert(0, ${JSON.stringify(here)}); import json, pandas, numpy, sklearn.ensemble, sklearn.metrics; from peak_rss import peak_rss_bytes; print(json.dumps({'maxRssBytes': peak_rss_bytes()}))`,
    ])
  : undefined;
const nodeBaseline = runJson(process.execPath, [
  "--input-type=module",
  "-e",
  `import ${JSON.stringify(path.join(here, "../ml-core/dist/index.js"))}; import { peakRssBytes } from ${JSON.stringify(path.join(here, "peak-rss.mjs"))}; console.log(JSON.stringify({ maxRssBytes: peakRssBytes() }))`,
]);

const mb = (b) => (b / 1e6).toFixed(0);
const f = (x, d = 2) => (x === undefined || Number.isNaN(x) ? "-" : x.toFixed(d));
console.log(
  `machine: ${os.cpus().length} cores (${os.cpus()[0].model}), load average ${os
    .loadavg()
    .map((l) => l.toFixed(1))
    .join(" ")}; node ${process.version}` + (skVersion ? `; scikit-learn ${skVersion}` : ""),
);
console.log(
  `data: ${path.relative(process.cwd(), train)} (${mb(rawBytes)} MB raw CSV) → holdout ${path.relative(process.cwd(), holdout)}; features dep_time, weekday, yearday, distance (numeric), origin, destination (categorical)`,
);
console.log(
  `hyperparameters (both): ${Object.entries(HP)
    .map(([k, v]) => `${k}=${v}`)
    .join(" ")}, no early stopping; runtime baseline RSS (modules loaded, no data): node ${mb(nodeBaseline.maxRssBytes)} MB` +
    (pyBaseline ? `, python ${mb(pyBaseline.maxRssBytes)} MB` : ""),
);
if (!skVersion) console.log("scikit-learn not found (apt-get install python3-sklearn python3-pandas): ml-core only");

const median = (xs) => {
  const v = xs.filter((x) => x !== undefined && !Number.isNaN(x)).sort((a, b) => a - b);
  return v.length === 0 ? NaN : v.length % 2 ? v[(v.length - 1) / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
};
const load1 = () => os.loadavg()[0];

for (const task of tasks) {
  const t = TASKS[task];
  const ourHp = (threads, schedule) =>
    JSON.stringify({
      ...Object.fromEntries(Object.entries(HP).map(([k, v]) => [k, String(v)])),
      objective: task,
      label: t.label,
      ignore_columns: t.ignore,
      categorical_columns: CATEGORICAL,
      early_stopping_rounds: "0",
      threads: String(threads),
      histogram_schedule: schedule,
    });
  const skArgs = [path.join(here, "train_sklearn.py"), train, holdout, task, t.label, t.ignore, CATEGORICAL, JSON.stringify(HP)];
  // The configurations, run alternately (ours, theirs, ours, theirs, ...) `repeat` times, so a change
  // in the shared machine's load hits both sides alike; each run records the load average beside it.
  const configs = [
    ...threadCounts.flatMap((n) =>
      (n > 1 ? schedules : schedules.slice(0, 1)).map((schedule, i) => ({
        name: i === 0 ? `ml-core ${n} thr` : `ml-core ${n} thr ${schedule}`,
        threads: n,
        run: () => runJson(process.execPath, [path.join(here, "train-worker.mjs"), train, holdout, ourHp(n, schedule)]),
      })),
    ),
    ...(skVersion
      ? skThreads.map((n) => ({ name: `sklearn ${n} thr`, threads: n, run: () => runJson("/usr/bin/python3", skArgs, { OMP_NUM_THREADS: String(n) }) }))
      : []),
  ];
  // Interleave: ml-core n, sklearn n, for each thread count.
  const order = threadCounts.flatMap((n) => configs.filter((c) => c.threads === n));
  for (const c of configs) if (!order.includes(c)) order.push(c);
  const runs = new Map(configs.map((c) => [c.name, []]));
  for (let r = 0; r < repeat; r++) {
    for (const c of order) {
      const before = load1();
      const out = c.run();
      if (out.error) throw new Error(`${c.name} failed: ${out.error}`);
      runs.get(c.name).push({ ...out, load: (before + load1()) / 2 });
      process.stderr.write(`${task} run ${r + 1}/${repeat} ${c.name}: fit ${out.fitSeconds.toFixed(2)} s, load ${load1().toFixed(1)}\n`);
    }
  }
  const first = runs.get(configs[0].name)[0];
  console.log(
    (schedules.length > 1
      ? `\nml-core ${threadCounts.filter((n) => n > 1).join(", ")} thr: histogram_schedule ${schedules[0]}; "… thr <schedule>": the others`
      : "") +
      `\n${t.title} — ${first.trainRows.toLocaleString("en")} training rows, ${(first.holdoutRows ?? 598834).toLocaleString("en")} holdout rows; ${repeat} alternating run(s) each, medians (min–max)`,
  );
  const names = configs.map((c) => c.name);
  const med = (name, key) => median(runs.get(name).map((x) => x[key]));
  const span = (name, key, d = 2) => {
    const v = runs.get(name).map((x) => x[key]);
    return v.length > 1 ? `${f(med(name, key), d)} (${f(Math.min(...v), d)}–${f(Math.max(...v), d)})` : f(v[0], d);
  };
  const table = [
    ["fit time (s)", ...names.map((n) => span(n, "fitSeconds"))],
    ["fit CPU time (s)", ...names.map((n) => f(med(n, "fitCpuSeconds")))],
    ["CSV read time (s)", ...names.map((n) => f(med(n, "readSeconds")))],
    // ml-core bins while reading, scikit-learn inside fit: the sum compares like with like.
    ["read + fit (s)", ...names.map((n) => f(median(runs.get(n).map((x) => x.readSeconds + x.fitSeconds))))],
    ["peak RSS, read + fit (MB)", ...names.map((n) => mb(med(n, "maxRssBytes")))],
    [`holdout ${t.metric}`, ...names.map((n) => f(med(n, "metric"), 4))],
    ["load average during runs", ...names.map((n) => f(median(runs.get(n).map((x) => x.load)), 1))],
  ];
  for (const n of names) for (const x of runs.get(n)) x.metric = x.metrics[t.metric];
  table[5] = [`holdout ${t.metric}`, ...names.map((n) => f(med(n, "metric"), 4))];
  const header = ["", ...names];
  const widths = header.map((_, i) => Math.max(...[header, ...table].map((r) => String(r[i]).length)));
  const line = (r) => "| " + r.map((c, i) => String(c).padEnd(widths[i])).join(" | ") + " |";
  console.log(line(header));
  console.log("|" + widths.map((w) => "-".repeat(w + 2)).join("|") + "|");
  for (const r of table) console.log(line(r));
  if (skVersion) {
    for (const n of threadCounts) {
      const sk = runs.get(`sklearn ${n} thr`);
      if (!sk) continue;
      const ours = `ml-core ${n} thr`;
      const ratio = med(ours, "fitSeconds") / med(`sklearn ${n} thr`, "fitSeconds");
      const perRun = runs
        .get(ours)
        .map((x, i) => (sk[i] ? (x.fitSeconds / sk[i].fitSeconds).toFixed(2) + "×" : "-"))
        .join(", ");
      const total = (name) => median(runs.get(name).map((x) => x.readSeconds + x.fitSeconds));
      console.log(
        `${n} thread(s): fit time ml-core / sklearn ${ratio.toFixed(2)}× (per alternating pair: ${perRun}); ` +
          `read + fit ${(total(ours) / total(`sklearn ${n} thr`)).toFixed(2)}×; ` +
          `${t.metric} ${med(ours, "metric") - med(`sklearn ${n} thr`, "metric") >= 0 ? "+" : ""}${(med(ours, "metric") - med(`sklearn ${n} thr`, "metric")).toFixed(4)}; ` +
          `peak RSS ${(med(ours, "maxRssBytes") / med(`sklearn ${n} thr`, "maxRssBytes")).toFixed(2)}×`,
      );
    }
  }
  if (threadCounts.length > 1) {
    const base = med(`ml-core ${threadCounts[0]} thr`, "fitSeconds");
    console.log(
      `ml-core scaling: ${threadCounts.map((n) => `${n} thr ${(base / med(`ml-core ${n} thr`, "fitSeconds")).toFixed(2)}×`).join(", ")} (fit time of ${threadCounts[0]} thread / n threads)`,
    );
  }
  console.log(`ml-core scoring (ChainPredictor, holdout, in memory): ${Math.round(med(configs[0].name, "predictRowsPerSecond")).toLocaleString("en")} rows/s`);
}
