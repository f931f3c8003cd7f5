#!/usr/bin/env node
// Scoring a categorical model (issue 15): the flights model (100 trees of 31 leaves, origin and
// destination categorical) against two numeric models of the same size (100 trees of 31 leaves,
// the same rows): one with the airports left out (four columns), and one of the same six columns
// with each airport as a number (its index among the training rows' airports, sorted: what
// scikit-learn's OrdinalEncoder gives), what a user without categorical splits would send.
//
// - Batch: `ml-core predict` end to end, file to file, on the 598,834 holdout rows, for both models,
//   alternating with scikit-learn's in-memory `predict_proba` of its own categorical model fitted
//   on the same rows (OpenMP on every CPU).
// - 100-row requests: `ml-core serve` (1 worker) for each model side by side, autocannon at
//   concurrency 1 and 32, in rounds of one run of each model (the order rotating). Each connection
//   cycles through `--bodies` different requests (consecutive holdout rows, 100 a request), as
//   real traffic does; `--bodies 1` sends the first 100 rows every time. A pair's two runs are
//   seconds apart, so the ratio within a pair (categorical against either numeric model, the same
//   round) is what a machine whose speed drifts can measure: the target is judged on the median of
//   the pairs' ratios. The servers' CPU time per request (from
//   /proc, on Linux) is reported beside it: what the server spends, whatever autocannon, on the
//   same cores, leaves it.
//
// - Before both, how ChainPredictor walks each model: by leaf masks (the loads a group of trees
//   takes), or by chains (the steps walked a tree, 20,000 holdout rows, node by node and as it walks
//   them: a request's walk costs about as many steps).
//
//   npx tsc -b && node bench/categorical.mjs [--runs 3] [--rounds 10] [--duration 30] [--bodies 50]
import autocannon from "autocannon";
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { createRequire } from "node:module";
import * as fs from "node:fs";
import * as http from "node:http";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { prepareFlights } from "./flights-data.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const BIN = path.join(here, "../ml-core/bin/ml-core.js");
const args = process.argv.slice(2);
const flag = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : fallback;
};
const RUNS = Number(flag("runs", "3"));
const ROUNDS = Number(flag("rounds", "10"));
/** Seconds of requests per model and concurrency, over all rounds. */
const DURATION = Number(flag("duration", "30"));
const BODIES = Number(flag("bodies", "50"));
const log = (m) => process.stderr.write(m + "\n");
const median = (xs) => {
  const v = [...xs].sort((a, b) => a - b);
  return v.length % 2 ? v[(v.length - 1) / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
};

const files = await prepareFlights();
const dir = path.join(here, ".data", "categorical");
fs.mkdirSync(dir, { recursive: true });
const trainFile = path.join(path.dirname(files.train), "train-500000.csv");
if (!fs.existsSync(trainFile)) throw new Error(`${trainFile} missing: run node bench/train.mjs --rows 500000 once`);

// The holdout's features only, with a header: what a batch job scores.
const input = path.join(dir, "holdout-features.csv");
if (!fs.existsSync(input)) {
  const lines = fs
    .readFileSync(files.holdout, "utf8")
    .split("\n")
    .filter((l) => l.length > 0);
  fs.writeFileSync(input, lines.map((l) => l.split(",").slice(2).join(",")).join("\n") + "\n");
}
// Its lines, the header first (the file ends with a newline).
const holdoutLines = fs.readFileSync(input, "utf8").split("\n");
const nRows = holdoutLines.length - 2;

// The same rows, the airports as numbers, for the numeric model of the same columns: each airport
// its index among the training rows' airports, sorted; one the training rows never had, missing.
const ordinalTrain = path.join(dir, "train-airports-as-numbers.csv");
const ordinalInput = path.join(dir, "holdout-airports-as-numbers.csv");
if (!fs.existsSync(ordinalTrain) || !fs.existsSync(ordinalInput)) {
  const train = fs.readFileSync(trainFile, "utf8").split("\n");
  const header = train[0].split(",");
  const airportColumns = ["origin", "destination"].map((c) => header.indexOf(c));
  const airports = new Set();
  for (let i = 1; i < train.length; i++) if (train[i]) for (const c of airportColumns) airports.add(train[i].split(",")[c]);
  const index = new Map(
    [...airports]
      .filter((a) => a !== "")
      .sort()
      .map((a, i) => [a, String(i)]),
  );
  const encode = (lines, columns) =>
    lines.map((l, k) =>
      k === 0 || l === ""
        ? l
        : l
            .split(",")
            .map((v, c) => (columns.includes(c) ? (index.get(v) ?? "") : v))
            .join(","),
    );
  fs.writeFileSync(ordinalTrain, encode(train, airportColumns).join("\n"));
  const holdoutHeader = holdoutLines[0].split(",");
  fs.writeFileSync(
    ordinalInput,
    encode(
      holdoutLines,
      ["origin", "destination"].map((c) => holdoutHeader.indexOf(c)),
    ).join("\n"),
  );
}
const ordinalLines = fs.readFileSync(ordinalInput, "utf8").split("\n");

const base = ["--hp", "label=delayed", "--hp", "objective=binary", "--hp", "num_round=100", "--hp", "early_stopping_rounds=0"];
const models = {
  categorical: {
    dir: path.join(dir, "model-categorical"),
    train: trainFile,
    lines: holdoutLines,
    hp: [...base, "--hp", "ignore_columns=delay", "--hp", "categorical_columns=origin,destination"],
  },
  numeric: { dir: path.join(dir, "model-numeric"), train: trainFile, lines: holdoutLines, hp: [...base, "--hp", "ignore_columns=delay,origin,destination"] },
  sameColumns: { dir: path.join(dir, "model-airports-as-numbers"), train: ordinalTrain, lines: ordinalLines, hp: [...base, "--hp", "ignore_columns=delay"] },
};
for (const [name, m] of Object.entries(models)) {
  if (fs.existsSync(path.join(m.dir, "model.json"))) continue;
  log(`training the ${name} model`);
  execFileSync(process.execPath, [BIN, "train", "--train", m.train, "--model-dir", m.dir, ...m.hp], { stdio: ["ignore", "ignore", "inherit"] });
}
/**
 * Steps walked a tree, averaged over `rows` (encoded as the model's features): a node each
 * ("nodes"), a run of nodes on one feature each ("runs"), or each feature on the path once
 * ("features": a resolved tree, at most; fewer where a node whose sides end alike drops out);
 * `by` names one for every tree, or is a function of the tree's index (ChainPredictor's, each
 * tree resolved or along runs). What a request's walk costs is about proportional to it.
 */
function stepsPerTree(model, rows, byTree) {
  let steps = 0;
  for (const [ti, t] of model.trees.entries()) {
    const by = typeof byTree === "function" ? byTree(ti) : byTree;
    for (const x of rows) {
      const tested = new Set();
      for (let i = 0, previous = -1; t.feature[i] >= 0;) {
        const f = t.feature[i];
        if (by === "nodes" || (by === "runs" && f !== previous) || (by === "features" && !tested.has(f))) steps++;
        tested.add(f);
        previous = f;
        const v = x[f];
        const cats = t.categoriesLeft[i];
        const left = Number.isNaN(v) ? t.missingLeft[i] === 1 : cats !== null && cats !== undefined ? cats.includes(v) : v <= t.threshold[i];
        i = left ? t.left[i] : t.right[i];
      }
    }
  }
  return steps / model.trees.length / rows.length;
}
const { loadPredictor } = createRequire(import.meta.url)("../ml-core/dist/index.js");
for (const [name, m] of Object.entries(models)) {
  const sampleLines = m.lines.slice(1, 20_001).filter((l) => l.length > 0);
  const model = JSON.parse(fs.readFileSync(path.join(m.dir, "model.json"), "utf8"));
  const cats = model.trees.reduce((s, t) => s + t.categoriesLeft.filter((c) => c !== null).length, 0);
  const leaves = model.trees.reduce((s, t) => s + t.feature.filter((f) => f < 0).length, 0);
  const predictor = loadPredictor(m.dir);
  const codes = model.features.map((f) => (f.kind === "categorical" ? new Map(f.categories.map((c, i) => [c, i])) : null));
  const rows = sampleLines.map((l) =>
    l
      .split(",")
      .slice(0, model.features.length)
      .map((v, f) => (codes[f] ? (codes[f].get(v) ?? -1) : v === "" ? NaN : Number(v))),
  );
  const { resolved, leafMasks } = predictor.threadTables;
  const groups = leafMasks ? leafMasks.groupPart.length - 1 : 0;
  const walked = leafMasks
    ? `leaf masks (${Math.round((4 * leafMasks.masks.length) / 1024)} KB, ${leafMasks.laneBits}-bit lanes: ${(leafMasks.partFeature.length / groups).toFixed(2)} loads a group of ${128 / leafMasks.laneBits} trees; a path tests ${stepsPerTree(model, rows, "features").toFixed(2)} features a tree)`
    : predictor.steps === "merged"
      ? `merged steps, ${predictor.resolvedTrees} trees resolved: ${stepsPerTree(model, rows, (ti) => (resolved[ti] ? "features" : "runs")).toFixed(2)} steps a tree (every tree resolved ${stepsPerTree(model, rows, "features").toFixed(2)}, none ${stepsPerTree(model, rows, "runs").toFixed(2)})`
      : `${predictor.steps} steps`;
  log(
    `${name} model: ${model.trees.length} trees, ${leaves} leaves, ${cats} categorical splits; scored with ${walked}; node by node ${stepsPerTree(model, rows, "nodes").toFixed(2)}`,
  );
}

// Batch, alternating.
const batch = { categorical: [], numeric: [], sklearn: [] };
const loads = [];
const hasSklearn = spawnSync("/usr/bin/python3", ["-c", "import sklearn, pandas"]).status === 0;
for (let r = 0; r < RUNS; r++) {
  for (const name of ["categorical", "numeric"]) {
    const out = path.join(dir, `out-${name}.csv`);
    const t0 = performance.now();
    execFileSync(process.execPath, [BIN, "predict", "--model-dir", models[name].dir, "--input", input, "--output", out, "--json"], {
      stdio: ["ignore", "ignore", "inherit"],
    });
    batch[name].push((performance.now() - t0) / 1000);
    loads.push(os.loadavg()[0]);
  }
  if (hasSklearn && r === 0) {
    // One fit, RUNS timed predictions (the fit is not what is measured here).
    const py = JSON.parse(
      execFileSync("/usr/bin/python3", [path.join(here, "categorical_sklearn.py"), trainFile, files.holdout, String(RUNS)], {
        encoding: "utf8",
        env: { ...process.env, OMP_NUM_THREADS: String(os.availableParallelism()) },
      }),
    );
    batch.sklearn.push(...py.predictSeconds);
    loads.push(os.loadavg()[0]);
  }
}

// 100-row requests, the two servers side by side.
function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}
async function serve(modelDir) {
  const port = await freePort();
  const proc = spawn(process.execPath, [BIN, "serve", "--model-dir", modelDir, "--host", "127.0.0.1", "--port", String(port), "--workers", "1"], {
    stdio: ["ignore", "ignore", "inherit"],
  });
  for (let i = 0; i < 300; i++) {
    const ok = await new Promise((resolve) =>
      http.get({ host: "127.0.0.1", port, path: "/ping" }, (res) => (res.resume(), resolve(res.statusCode === 200))).on("error", () => resolve(false)),
    );
    if (ok) return { port, proc };
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error("server did not start");
}
// Headerless rows, as /invocations takes them: the numeric model's without the airports.
const requestsOf = (lines, rowText) =>
  Array.from({ length: BODIES }, (_, b) => ({
    method: "POST",
    path: "/invocations",
    headers: { "content-type": "text/csv" },
    body:
      lines
        .slice(1 + 100 * b, 101 + 100 * b)
        .map(rowText)
        .join("\n") + "\n",
  }));
const requests = {
  categorical: requestsOf(holdoutLines, (l) => l),
  numeric: requestsOf(holdoutLines, (l) => l.split(",").slice(0, 4).join(",")),
  sameColumns: requestsOf(ordinalLines, (l) => l),
};
const names = Object.keys(requests);
log(`batch (s): ${JSON.stringify(batch)}`);
const servers = Object.fromEntries(await Promise.all(names.map(async (name) => [name, await serve(models[name].dir)])));
// A failed round must not leave the servers running.
process.on("exit", () => {
  for (const s of Object.values(servers)) if (s.proc.exitCode === null) s.proc.kill("SIGTERM");
});
const perModel = () => Object.fromEntries(names.map((name) => [name, []]));
const reqs = { 1: perModel(), 32: perModel() };
/** Server CPU µs per request, per round. */
const cpuPerReq = { 1: perModel(), 32: perModel() };
/** A process's user + system CPU seconds (Linux), or undefined. */
function cpuSeconds(pid) {
  try {
    const fields = fs.readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  } catch {
    return undefined;
  }
}
const CLOCK_TICKS = Number(spawnSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).stdout) || 100;
for (let r = 0; r < ROUNDS; r++) {
  for (const c of [1, 32]) {
    for (const name of [...names.slice(r % names.length), ...names.slice(0, r % names.length)]) {
      const cpu0 = cpuSeconds(servers[name].proc.pid);
      const result = await new Promise((resolve, reject) =>
        autocannon(
          {
            url: `http://127.0.0.1:${servers[name].port}`,
            requests: requests[name],
            connections: c,
            duration: DURATION / ROUNDS,
          },
          (e, res) => (e ? reject(e) : resolve(res)),
        ),
      );
      if (result.non2xx > 0 || result.errors > 0) throw new Error(`${name}: ${result.non2xx} non-2xx, ${result.errors} errors`);
      reqs[c][name].push(result.requests.total / (DURATION / ROUNDS));
      const cpu1 = cpuSeconds(servers[name].proc.pid);
      if (cpu0 !== undefined && cpu1 !== undefined) cpuPerReq[c][name].push(((cpu1 - cpu0) / result.requests.total) * 1e6);
      loads.push(os.loadavg()[0]);
    }
  }
}
for (const s of Object.values(servers)) s.proc.kill("SIGTERM");

const rate = (s) => Math.round(nRows / s).toLocaleString("en-US");
const lines = [
  `machine: ${os.cpus().length} cores, load average during the runs ${Math.min(...loads).toFixed(1)}–${Math.max(...loads).toFixed(1)}; node ${process.version}`,
  `batch: ${nRows.toLocaleString("en-US")} holdout rows; ${RUNS} alternating runs, median (best)`,
  `| scorer | seconds | rows/s |`,
  `|---|---|---|`,
  `| ml-core predict, categorical model, end to end (file to file, ${os.availableParallelism()} threads) | ${median(batch.categorical).toFixed(2)} (${Math.min(...batch.categorical).toFixed(2)}) | ${rate(median(batch.categorical))} (${rate(Math.min(...batch.categorical))}) |`,
  `| ml-core predict, numeric model of the same size, end to end | ${median(batch.numeric).toFixed(2)} (${Math.min(...batch.numeric).toFixed(2)}) | ${rate(median(batch.numeric))} (${rate(Math.min(...batch.numeric))}) |`,
];
if (batch.sklearn.length > 0) {
  lines.push(
    `| scikit-learn predict_proba, categorical model, array in memory (${os.availableParallelism()} OpenMP threads) | ${median(batch.sklearn).toFixed(2)} (${Math.min(...batch.sklearn).toFixed(2)}) | ${rate(median(batch.sklearn))} (${rate(Math.min(...batch.sklearn))}) |`,
  );
  lines.push(
    `categorical: ml-core end to end / scikit-learn in memory = ${(median(batch.sklearn) / median(batch.categorical)).toFixed(2)}× rows/s (target ≥ 2×)`,
  );
}
lines.push(`categorical / numeric batch rows/s: ${(median(batch.numeric) / median(batch.categorical)).toFixed(2)}`);
lines.push(
  ``,
  `100-row requests (${BODIES === 1 ? "the same one every time" : `${BODIES} different ones, cycled`}), ml-core serve (1 worker), ${ROUNDS} rounds of ${(DURATION / ROUNDS).toFixed(1)} s a model; medians; a pair's ratio is categorical / numeric req/s within one round`,
  `numeric A: airports left out (4 columns); numeric B: the same 6 columns, airports as numbers`,
);
const pct = (x) => `${(100 * x).toFixed(0)}%`;
lines.push(
  `| concurrency | categorical req/s | numeric A req/s | numeric B req/s | pairs' ratio to A: median (min–max) | to B | server CPU µs/request, categorical / A / B |`,
  `|---|---|---|---|---|---|---|`,
);
for (const c of [1, 32]) {
  const r = reqs[c];
  const ratioText = (other) => {
    const ratios = r.categorical.map((a, i) => a / r[other][i]);
    return `${pct(median(ratios))} (${pct(Math.min(...ratios))}–${pct(Math.max(...ratios))})`;
  };
  const cpu = cpuPerReq[c];
  const cpuText = cpu.categorical.length > 0 ? names.map((name) => median(cpu[name]).toFixed(0)).join(" / ") : "-";
  lines.push(`| ${c} | ${names.map((name) => Math.round(median(r[name]))).join(" | ")} | ${ratioText("numeric")} | ${ratioText("sameColumns")} | ${cpuText} |`);
}
lines.push(`target: categorical ≥ 90% of numeric req/s (the pairs' median)`);
process.stdout.write(lines.join("\n") + "\n");
