// One timed training run of ml-core in a fresh process (so that its peak RSS is this run's own), for
// bench/train.mjs. Prints one JSON line.
import { createRequire } from "node:module";
import { performance } from "node:perf_hooks";
import { peakRssBytes } from "./peak-rss.mjs";
const require = createRequire(import.meta.url);
const mlcore = require("../ml-core/dist/index.js");

const [trainFile, holdoutFile, hpJson] = process.argv.slice(2);
const hp = mlcore.parseHyperparameters(JSON.parse(hpJson));

// As the training job does: the tables go out of scope once the session is built.
function start() {
  const { schema, mapper, table } = mlcore.readBinnedTrainingData(
    [trainFile],
    "train",
    { ...hp.layout, maxCategories: hp.params.maxBins },
    hp.params.maxBins,
    new mlcore.Random(mlcore.binningSeed(hp.params.seed)),
    { threads: hp.params.threads },
  );
  return { schema, nRows: table.nRows, session: new mlcore.TrainingSession({ schema, mapper, train: table, params: hp.params, hyperparameters: hp.resolved }) };
}

const t0 = performance.now();
const c0 = process.cpuUsage();
const { schema, nRows, session } = start();
const t1 = performance.now();
const c1 = process.cpuUsage();
while (!session.done) session.step();
const { model } = session.finish();
const t2 = performance.now();
const c2 = process.cpuUsage(c1);
const readCpu = (c1.user + c1.system - c0.user - c0.system) / 1e6;
// High-water mark of reading and training only (before the holdout is read and scored).
const trainMaxRss = peakRssBytes();

const holdout = mlcore.readTableWithSchema([holdoutFile], "holdout", schema);
// The shipped scorer (what loadPredictor returns), categorical splits included.
const predictor = new mlcore.ChainPredictor(model);
const nF = schema.features.length;
const x = new Float64Array(holdout.nRows * nF);
for (let f = 0; f < nF; f++) for (let i = 0; i < holdout.nRows; i++) x[i * nF + f] = holdout.columns[f][i];
const t3 = performance.now();
const pred = predictor.predict(x, holdout.nRows);
const t4 = performance.now();
const { numeric, textCode, texts } = holdout.label;
const y = model.classes ? Float64Array.from(numeric, (v, i) => model.classes.indexOf(textCode && textCode[i] >= 0 ? texts[textCode[i]] : String(v))) : numeric;
const metrics = mlcore.computeMetrics(model.objective, y, pred, model.classes?.length ?? 0);
console.log(
  JSON.stringify({
    readSeconds: (t1 - t0) / 1000,
    readCpuSeconds: readCpu,
    fitSeconds: (t2 - t1) / 1000,
    fitCpuSeconds: (c2.user + c2.system) / 1e6,
    predictRowsPerSecond: holdout.nRows / ((t4 - t3) / 1000),
    maxRssBytes: trainMaxRss,
    trainRows: nRows,
    holdoutRows: holdout.nRows,
    trees: model.trees.length,
    threads: hp.params.threads,
    metrics,
  }),
);
