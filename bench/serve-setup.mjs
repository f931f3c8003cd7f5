// Shared set-up of the serving benchmarks (serve.mjs, predict.mjs): data, the 100-tree model both
// sides score with, and what is installed. Everything lands in bench/.data/ (git-ignored).
import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";

export const BENCH = path.dirname(fileURLToPath(import.meta.url));
export const REPO = path.resolve(BENCH, "..");
export const DATA = path.join(BENCH, ".data");
export const BIN = path.join(REPO, "ml-core", "bin", "ml-core.js");
export const PYTHON = "/usr/bin/python3";
export const GUNICORN = "/usr/bin/gunicorn";
export const N_FEATURES = 8;
export const TREES = 100;

/** A seeded PRNG (mulberry32): the same data on every run and machine. */
export function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `n` rows of 8 features (3 decimals, about 1% missing), optionally with a label from a noisy rule. */
export function rows(n, seed, withLabel = false) {
  const rand = rng(seed);
  const out = new Array(n);
  for (let i = 0; i < n; i++) {
    const x = [];
    for (let j = 0; j < N_FEATURES; j++) x.push(rand() < 0.01 ? "" : (rand() * 20 - 10).toFixed(3));
    if (withLabel) {
      const v = x.map((s) => (s === "" ? 0 : Number(s)));
      const z = Math.sin(v[0]) * 2 + v[1] * v[2] * 0.05 - Math.abs(v[3]) * 0.3 + (v[4] > 2 ? 1.5 : -0.5) + (rand() - 0.5) * 2;
      x.push(z > 0 ? "1" : "0");
    }
    out[i] = x.join(",");
  }
  return out;
}

export function pythonProblem() {
  const probe = spawnSync(PYTHON, ["-c", "import sklearn, flask, joblib, numpy"], { encoding: "utf8" });
  if (probe.error) return `${PYTHON} not found`;
  if (probe.status !== 0) return `${PYTHON} lacks scikit-learn/Flask (apt-get install python3-sklearn python3-flask)`;
  if (!fs.existsSync(GUNICORN)) return `${GUNICORN} not found (apt-get install gunicorn)`;
  return undefined;
}

/**
 * The model directory ml-core serves and, when Python is there, the scikit-learn model it was
 * converted from (identical trees, so both sides do the same work). Without Python: seeded random
 * trees of the same size (depth 5, like scikit-learn's 31-leaf default).
 */
export function prepareModel() {
  if (!fs.existsSync(path.join(REPO, "ml-core", "dist", "runtime", "cli.js"))) throw new Error("build first: npx tsc -b");
  fs.mkdirSync(DATA, { recursive: true });
  const dir = path.join(DATA, `model-${TREES}`);
  const modelDir = path.join(dir, "model");
  const sklearnModel = path.join(dir, "sklearn-model.joblib");
  const python = pythonProblem();
  const header = [...Array.from({ length: N_FEATURES }, (_, j) => `x${j}`), "y"].join(",");
  if (python === undefined) {
    if (!fs.existsSync(sklearnModel) || !fs.existsSync(path.join(modelDir, "model.json"))) {
      const train = path.join(DATA, "train.csv");
      fs.writeFileSync(train, header + "\n" + rows(20_000, 1, true).join("\n") + "\n");
      execFileSync(PYTHON, [path.join(BENCH, "serve_sklearn.py"), "train", train, dir, String(TREES)], { stdio: "inherit" });
    }
    return { modelDir, sklearnModel, source: `scikit-learn HistGradientBoostingClassifier(max_iter=${TREES}), converted`, python };
  }
  fs.mkdirSync(modelDir, { recursive: true });
  fs.writeFileSync(path.join(modelDir, "model.json"), JSON.stringify(randomModel()));
  return { modelDir, sklearnModel: undefined, source: `${TREES} seeded random trees of depth 5`, python };
}

function randomModel() {
  const rand = rng(3);
  const depth = 5;
  const trees = Array.from({ length: TREES }, () => {
    const nInternal = 2 ** depth - 1;
    const n = 2 ** (depth + 1) - 1;
    const t = { output: 0, feature: [], threshold: [], categoriesLeft: [], missingLeft: [], left: [], right: [], value: [], count: [], gain: [] };
    for (let i = 0; i < n; i++) {
      const internal = i < nInternal;
      t.feature.push(internal ? Math.floor(rand() * N_FEATURES) : -1);
      t.threshold.push(internal ? rand() * 20 - 10 : null);
      t.categoriesLeft.push(null);
      t.missingLeft.push(rand() < 0.5 ? 1 : 0);
      t.left.push(internal ? 2 * i + 1 : 0);
      t.right.push(internal ? 2 * i + 2 : 0);
      t.value.push(internal ? 0 : (rand() - 0.5) * 0.2);
      t.count.push(1);
      t.gain.push(0);
    }
    return t;
  });
  return {
    format: "ml-core-gbdt",
    formatVersion: 1,
    objective: "binary",
    label: "y",
    classes: ["0", "1"],
    features: Array.from({ length: N_FEATURES }, (_, j) => ({ name: `x${j}`, kind: "numeric" })),
    baseline: [0],
    trees,
    hyperparameters: {},
    training: { dataHash: "sha256:bench", trainRows: 0, validationRows: 0, rounds: TREES, roundsRun: TREES, stoppedEarly: false, mlCoreVersion: "bench" },
    metrics: {},
  };
}
