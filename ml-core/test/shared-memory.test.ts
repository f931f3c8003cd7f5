// Threads hand each other buffers in shared memory, never by transfer. A transfer detaches the
// buffer, and a thread's first detach invalidates V8's ArrayBufferDetaching protector for good:
// from then on its optimized code checks every typed-array access for a detached buffer (the
// predictor's walk took 1.2 against 0.88 µs a row; batch/threads.ts). V8 reports the invalidation
// under --trace-protector-invalidation, so these runs fail if a thread ever transfers a buffer
// again. They run the compiled dist/ code (npx tsc -b), as the CLI and its worker threads do.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { lcg, tmpDir, writeFile } from "./helpers";
import { distModule } from "./server-helpers";

const ML_CORE = path.join(__dirname, "..");
const BIN = path.join(ML_CORE, "bin", "ml-core.js");

/** Runs node with V8's protector trace; returns the protectors invalidated, in any thread, and what else it printed. */
function traced(args: string[]): { invalidated: string[]; stdout: string; stderr: string; status: number | null } {
  const run = spawnSync(process.execPath, ["--trace-protector-invalidation", ...args], { encoding: "utf8" });
  const lines = run.stdout.split("\n");
  const trace = /^Invalidating protector cell (\w+)/;
  return {
    invalidated: lines.flatMap((l) => trace.exec(l)?.[1] ?? []),
    stdout: lines.filter((l) => !trace.test(l)).join("\n"),
    stderr: run.stderr,
    status: run.status,
  };
}

/** Rows of three numbers, one category and a binary label that depends on them. */
function csv(nRows: number): string {
  const rand = lcg(11);
  const lines = ["a,b,c,k,y"];
  for (let i = 0; i < nRows; i++) {
    const [a, b, c] = [rand() * 10, rand() * 10, rand() * 10];
    const k = `k${Math.floor(rand() * 12)}`;
    lines.push(`${a.toFixed(3)},${b.toFixed(3)},${c.toFixed(3)},${k},${+(a + b / 2 + (k === "k3" ? 4 : 0) + rand() * 3 > 9)}`);
  }
  return lines.join("\n") + "\n";
}

describe("threads share buffers rather than transfer them", () => {
  const dir = tmpDir();
  const data = writeFile(path.join(dir, "train.csv"), csv(40_000));
  const modelDir = path.join(dir, "model");
  const trainArgs = [
    BIN,
    "train",
    "--train",
    data,
    "--model-dir",
    modelDir,
    ...["label=y", "objective=binary", "num_round=5", "categorical_columns=k", "threads=2"].flatMap((hp) => ["--hp", hp]),
  ];

  it("is seen by the trace when a buffer is transferred (the check can fail)", () => {
    const run = traced(["-e", "const b = new ArrayBuffer(8); structuredClone(b, { transfer: [b] });"]);
    expect(run.status).toBe(0);
    expect(run.invalidated).toEqual(["ArrayBufferDetaching"]);
  });

  it("training on two threads", () => {
    const run = traced(trainArgs);
    expect(run.stderr).toContain("[round 5/5]");
    expect(run.status).toBe(0);
    expect(run.invalidated).toEqual([]);
  });

  it("reading the training data on two threads", () => {
    // 4.6 MB, so the worker starts before this thread has counted every unit and takes some (with
    // 1 MB, this thread counted them all first, and a transfer went unseen).
    const big = writeFile(path.join(dir, "read.csv"), csv(200_000));
    const script = `
      const { readBinnedTrainingData } = require(${distModule("train/binned-data.js")});
      const { Random } = require(${distModule("gbdt/random.js")});
      const r = readBinnedTrainingData([process.argv[1]], "train", { labelColumn: "y" }, 16, new Random(7), { threads: 2, unitBytes: 64 * 1024 });
      console.log(JSON.stringify({ rows: r.table.nRows, shared: r.table.bins.buffer instanceof SharedArrayBuffer }));`;
    const run = traced(["-e", script, big]);
    expect(run.stderr).toBe("");
    // Shared arrays say the read did run on threads.
    expect(JSON.parse(run.stdout)).toEqual({ rows: 200_000, shared: true });
    expect(run.invalidated).toEqual([]);
  });

  it("batch scoring on three threads", () => {
    // The model of the training check, trained here when that check did not run (a filtered run).
    if (!fs.existsSync(path.join(modelDir, "model.json"))) expect(spawnSync(process.execPath, trainArgs).status).toBe(0);
    const input = writeFile(path.join(dir, "score.csv"), csv(20_000));
    const script = `
      const { predictFile } = require(${distModule("batch/predict-file.js")});
      const [modelDir, input, output] = process.argv.slice(1);
      predictFile({ modelDir, input, output, chunkBytes: 16 * 1024, threads: 3 }).then((s) => console.log(JSON.stringify({ rows: s.rows })));`;
    const run = traced(["-e", script, modelDir, input, path.join(dir, "scored.csv")]);
    expect(run.stderr).toBe("");
    expect(JSON.parse(run.stdout)).toEqual({ rows: 20_000 });
    expect(run.invalidated).toEqual([]);
  });
});
