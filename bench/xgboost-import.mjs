// Issue 18's target: an imported XGBoost model scores at ml-core's speed (batch throughput within
// 10 % of an ml-core model of the same size), beside XGBoost's own predict, in one run.
//
//   node bench/xgboost-import.mjs [--rows 200000] [--repeat 3]      (build first: npx tsc -b)
//
// Same data for both: 8 numeric features with missing values, binary labels; 100 rounds of at
// most 31 leaves, grown leaf-wise by each library. XGBoost's predict runs in Debian's
// python3-xgboost on one thread (inplace_predict on a float64 matrix, as ml-core scores one).
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { performance } from "node:perf_hooks";

const root = path.join(import.meta.dirname, "..");
const { loadModel, loadPredictor } = await import(path.join(root, "ml-core/dist/model/load.js"));
const { values } = parseArgs({
  options: { rows: { type: "string", default: "200000" }, repeat: { type: "string", default: "3" }, train: { type: "string", default: "20000" } },
});
const nRows = Number(values.rows),
  repeat = Number(values.repeat),
  nTrain = Number(values.train);
const F = 8;

let seed = 18;
const rand = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
const feature = () => (rand() < 0.1 ? NaN : (rand() - 0.5) * 10);
const row = () => Array.from({ length: F }, feature);
const labelOf = (r) => (Math.sin(r[0] || 0) + 0.3 * (r[1] || 0) - 0.2 * (r[2] || 0) * (r[3] || 0) + (rand() - 0.5) > 0 ? 1 : 0);

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bench-xgb-"));
const trainRows = Array.from({ length: nTrain }, row);
const csv = trainRows.map((r) => [labelOf(r), ...r.map((v) => (Number.isNaN(v) ? "" : v))].join(",")).join("\n") + "\n";
const x = new Float64Array(nRows * F);
for (let i = 0; i < x.length; i++) x[i] = feature();
fs.writeFileSync(path.join(dir, "rows.bin"), Buffer.from(x.buffer));

// ml-core: trained through its container contract on the same rows.
const base = path.join(dir, "opt/ml");
fs.mkdirSync(path.join(base, "input/config"), { recursive: true });
fs.mkdirSync(path.join(base, "input/data/train"), { recursive: true });
fs.writeFileSync(path.join(base, "input/data/train/train.csv"), csv);
const hp = { objective: "binary", num_round: "100", max_leaf_nodes: "31", learning_rate: "0.1", early_stopping_rounds: "0", threads: "1" };
fs.writeFileSync(path.join(base, "input/config/hyperparameters.json"), JSON.stringify(hp));
fs.writeFileSync(path.join(base, "input/config/inputdataconfig.json"), JSON.stringify({ train: { ContentType: "text/csv" } }));
execFileSync(process.execPath, [path.join(root, "ml-core/bin/ml-core.js"), "train"], { env: { ...process.env, SAGEMAKER_BASE_DIR: base }, stdio: "ignore" });

// XGBoost: trained by XGBoost on the same CSV (empty fields read as NaN), its predict timed there.
fs.writeFileSync(path.join(dir, "train-nan.csv"), csv.replace(/,(?=,|\n)/g, ",nan"));
const xgbDir = path.join(dir, "xgb");
fs.mkdirSync(xgbDir);
const py = JSON.parse(
  execFileSync(
    "/usr/bin/python3",
    [
      path.join(import.meta.dirname, "xgboost_import.py"),
      path.join(dir, "train-nan.csv"),
      path.join(dir, "rows.bin"),
      String(F),
      path.join(xgbDir, "xgboost-model"),
      String(repeat),
    ],
    { encoding: "utf8" },
  ),
);

const mlCore = loadPredictor(path.join(base, "model"));
const imported = loadPredictor(xgbDir);
const size = (dir) => {
  const trees = loadModel(dir).trees;
  return { trees: trees.length, leaves: trees.reduce((s, t) => s + t.feature.filter((f) => f < 0).length, 0) };
};
const mlCoreSize = size(path.join(base, "model")),
  importedSize = size(xgbDir);
const time = (p) => {
  const t = performance.now();
  p.predict(x, nRows);
  return (performance.now() - t) / 1000;
};
const runs = { mlCore: [], imported: [] };
time(mlCore); // warm-up
time(imported);
for (let i = 0; i < repeat; i++) {
  runs.mlCore.push(time(mlCore));
  runs.imported.push(time(imported));
}
const median = (a) => [...a].sort((p, q) => p - q)[Math.floor(a.length / 2)];
const rate = (s) => Math.round(nRows / s).toLocaleString("en-US");
const m = median(runs.mlCore),
  i = median(runs.imported);
console.log(`${nRows.toLocaleString("en-US")} rows × ${F} features (10 % missing), ${repeat} alternating runs, load average ${os.loadavg()[0].toFixed(1)}`);
console.log("| model | trees | leaves | batch time (s) | rows/s |");
console.log("|---|---|---|---|---|");
console.log(`| ml-core, trained by ml-core | ${mlCoreSize.trees} | ${mlCoreSize.leaves} | ${m.toFixed(3)} | ${rate(m)} |`);
console.log(`| ml-core, imported from XGBoost ${py.version} | ${importedSize.trees} | ${importedSize.leaves} | ${i.toFixed(3)} | ${rate(i)} |`);
console.log(`| XGBoost ${py.version} inplace_predict, 1 thread | ${py.trees} | ${py.leaves} | ${py.seconds.toFixed(3)} | ${rate(py.seconds)} |`);
console.log(`imported / ml-core throughput: ${(m / i).toFixed(3)}× (target ≥ 0.90×)`);
fs.rmSync(dir, { recursive: true, force: true });
