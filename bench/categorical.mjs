#!/usr/bin/env node
// Scoring a categorical model (issue 15): the flights model (100 trees of 31 leaves, origin and
// destination categorical) against the same-size numeric model (the same rows, airports left out).
//
// - Batch: `ml-core predict` end to end, file to file, on the 598,834 holdout rows, for both models,
//   alternating with scikit-learn's in-memory `predict_proba` of its own categorical model fitted
//   on the same rows (OpenMP on every CPU).
// - 100-row requests: `ml-core serve` (1 worker) for each model side by side, autocannon at
//   concurrency 1 and 32, in alternating rounds.
//
//   npx tsc -b && node bench/categorical.mjs [--runs 3] [--rounds 4] [--duration 8]
import autocannon from "autocannon";
import { execFileSync, spawn, spawnSync } from "node:child_process";
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
const ROUNDS = Number(flag("rounds", "4"));
const DURATION = Number(flag("duration", "8"));
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
const nRows = fs.readFileSync(input, "utf8").split("\n").length - 2;

const base = ["--hp", "label=delayed", "--hp", "objective=binary", "--hp", "num_round=100", "--hp", "early_stopping_rounds=0"];
const models = {
  categorical: { dir: path.join(dir, "model-categorical"), hp: [...base, "--hp", "ignore_columns=delay", "--hp", "categorical_columns=origin,destination"] },
  numeric: { dir: path.join(dir, "model-numeric"), hp: [...base, "--hp", "ignore_columns=delay,origin,destination"] },
};
for (const [name, m] of Object.entries(models)) {
  if (fs.existsSync(path.join(m.dir, "model.json"))) continue;
  log(`training the ${name} model`);
  execFileSync(process.execPath, [BIN, "train", "--train", trainFile, "--model-dir", m.dir, ...m.hp], { stdio: ["ignore", "ignore", "inherit"] });
}
for (const [name, m] of Object.entries(models)) {
  const model = JSON.parse(fs.readFileSync(path.join(m.dir, "model.json"), "utf8"));
  const cats = model.trees.reduce((s, t) => s + t.categoriesLeft.filter((c) => c !== null).length, 0);
  const leaves = model.trees.reduce((s, t) => s + t.feature.filter((f) => f < 0).length, 0);
  log(`${name} model: ${model.trees.length} trees, ${leaves} leaves, ${cats} categorical splits`);
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
const sampleRows = fs.readFileSync(input, "utf8").split("\n").slice(1, 101);
const bodies = { categorical: sampleRows.join("\n") + "\n", numeric: sampleRows.map((l) => l.split(",").slice(0, 4).join(",")).join("\n") + "\n" };
log(`batch (s): ${JSON.stringify(batch)}`);
const servers = { categorical: await serve(models.categorical.dir), numeric: await serve(models.numeric.dir) };
// A failed round must not leave the servers running.
process.on("exit", () => {
  for (const s of Object.values(servers)) if (s.proc.exitCode === null) s.proc.kill("SIGTERM");
});
const reqs = { 1: { categorical: [], numeric: [] }, 32: { categorical: [], numeric: [] } };
for (let r = 0; r < ROUNDS; r++) {
  for (const c of [1, 32]) {
    for (const name of r % 2 === 0 ? ["categorical", "numeric"] : ["numeric", "categorical"]) {
      const result = await new Promise((resolve, reject) =>
        autocannon(
          {
            url: `http://127.0.0.1:${servers[name].port}/invocations`,
            method: "POST",
            headers: { "content-type": "text/csv" },
            body: bodies[name],
            connections: c,
            duration: DURATION / ROUNDS,
          },
          (e, res) => (e ? reject(e) : resolve(res)),
        ),
      );
      if (result.non2xx > 0 || result.errors > 0) throw new Error(`${name}: ${result.non2xx} non-2xx, ${result.errors} errors`);
      reqs[c][name].push(result.requests.total / (DURATION / ROUNDS));
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
lines.push(``, `100-row requests, ml-core serve (1 worker), ${ROUNDS} alternating rounds of ${(DURATION / ROUNDS).toFixed(1)} s; median req/s (per round)`);
lines.push(`| concurrency | categorical | numeric | categorical / numeric |`, `|---|---|---|---|`);
for (const c of [1, 32]) {
  const a = median(reqs[c].categorical);
  const b = median(reqs[c].numeric);
  lines.push(
    `| ${c} | ${Math.round(a)} (${reqs[c].categorical.map(Math.round).join(", ")}) | ${Math.round(b)} (${reqs[c].numeric.map(Math.round).join(", ")}) | ${((100 * a) / b).toFixed(0)}% |`,
  );
}
lines.push(`target: categorical ≥ 90% of numeric req/s`);
process.stdout.write(lines.join("\n") + "\n");
