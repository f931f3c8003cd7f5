#!/usr/bin/env node
"use strict";
// Runs `ml-core serve` (the compiled runtime) over a hand-written predictor, so the server tests can
// control what a model does: how long it takes to load (FAKE_LOAD_MS) and to score a row
// (FAKE_SLOW_US_PER_ROW), whether loading fails (FAKE_LOAD_ERROR), and its objective
// (FAKE_OBJECTIVE). Arguments are serve's flags.
const { serveCommand } = require("../dist/runtime/serve.js");
const { fakePredictor } = require("./server-fake-predictor.cjs");

const loadMs = Number(process.env.FAKE_LOAD_MS ?? 0);
const predictor = fakePredictor({
  objective: process.env.FAKE_OBJECTIVE ?? "binary",
  slowMicrosPerRow: Number(process.env.FAKE_SLOW_US_PER_ROW ?? 0),
});
const served = { predictor, identity: "model-sha256=fake" };
serveCommand({
  loadModel: (modelDir) => {
    if (process.env.FAKE_LOAD_ERROR) throw new Error(`cannot read model ${modelDir}/model.json: ${process.env.FAKE_LOAD_ERROR}`);
    return loadMs > 0 ? new Promise((resolve) => setTimeout(() => resolve(served), loadMs)) : served;
  },
})
  .parseAsync(process.argv.slice(2), { from: "user" })
  .catch((e) => {
    process.stderr.write(`error: ${e.message}\n`);
    process.exitCode = 1;
  });
