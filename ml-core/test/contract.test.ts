/**
 * The training contract end to end: `ml-core train` as a child process on a temporary
 * /opt/ml-shaped tree (SAGEMAKER_BASE_DIR), as SageMaker runs `docker run IMAGE train`.
 * Needs the build (`npm test` builds first).
 */
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { loadPredictor } from "../src/model/load";
import { BIN, lcg, tmpDir, toCsv, writeFile } from "./helpers";
import { ensureBuilt } from "./server-helpers";

// The child processes run dist/: rebuild it if any source is newer.
beforeAll(() => ensureBuilt(), 120_000);

function dataset(n: number, seed: number): Record<string, unknown>[] {
  const r = lcg(seed);
  return Array.from({ length: n }, () => {
    const x1 = r();
    const x2 = r();
    const c = ["a", "b", "c"][Math.floor(r() * 3)];
    const y = x1 + (c === "b" ? 0.5 : 0) + 0.3 * r() > 0.9 ? 1 : 0;
    return { y, x1, x2, c };
  });
}

/** A SageMaker-shaped base directory with train (two files) and validation channels. */
function optMl(hyperparameters: Record<string, string>, opts: { rows?: number; headerless?: boolean } = {}): string {
  const base = tmpDir("opt-ml-");
  const rows = dataset(opts.rows ?? 1200, 1);
  const csv = (rs: Record<string, unknown>[]): string => (opts.headerless ? toCsv(rs).split("\n").slice(1).join("\n") : toCsv(rs));
  const half = Math.floor(rows.length / 2);
  writeFile(path.join(base, "input/data/train/part-0.csv"), csv(rows.slice(0, half)));
  writeFile(path.join(base, "input/data/train/part-1.csv"), csv(rows.slice(half)));
  writeFile(path.join(base, "input/data/validation/v.csv"), csv(dataset(400, 2)));
  writeFile(path.join(base, "input/config/hyperparameters.json"), JSON.stringify(hyperparameters));
  writeFile(
    path.join(base, "input/config/inputdataconfig.json"),
    JSON.stringify({ train: { ContentType: "text/csv", TrainingInputMode: "File" }, validation: { ContentType: "text/csv", TrainingInputMode: "File" } }),
  );
  return base;
}

function runTrain(base: string, args: string[] = []): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, "train", ...args], { env: { ...process.env, SAGEMAKER_BASE_DIR: base }, encoding: "utf8" });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe("ml-core train (SageMaker contract)", () => {
  it("trains from the channels, writes model/ and prints one metric line per metric", () => {
    const base = optMl({ label: "y", num_round: "20" });
    const r = runTrain(base);
    expect(r.stderr).toContain("[round 20/20]");
    expect(r.status).toBe(0);
    const lines = r.stdout.trim().split("\n");
    for (const line of lines) expect(line).toMatch(/^(train|validation):(accuracy|auc|logloss|f1)=\d+\.\d{6}$/);
    expect(lines).toHaveLength(8);
    const metrics = JSON.parse(fs.readFileSync(path.join(base, "model/metrics.json"), "utf8"));
    const auc = Number(/validation:auc=([\d.]+)/.exec(r.stdout)?.[1]);
    expect(metrics["validation:auc"]).toBeCloseTo(auc, 6);
    expect(auc).toBeGreaterThan(0.9);
    const p = loadPredictor(path.join(base, "model"));
    expect(p.features.map((f) => f.name)).toEqual(["x1", "x2", "c"]);
    expect(fs.existsSync(path.join(base, "output/failure"))).toBe(false);
  });

  it("reads headerless data with the label first (SageMaker built-in algorithms' convention)", () => {
    const base = optMl({ num_round: "5" }, { headerless: true });
    const r = runTrain(base);
    expect(r.status).toBe(0);
    expect(loadPredictor(path.join(base, "model")).features.map((f) => f.name)).toEqual(["f0", "f1", "f2"]);
  });

  it("on a bad hyperparameter writes the reason to output/failure, listing valid ones, and exits non-zero", () => {
    const base = optMl({ label: "y", num_round: "ten", colour: "red" });
    const r = runTrain(base);
    expect(r.status).not.toBe(0);
    const failure = fs.readFileSync(path.join(base, "output/failure"), "utf8");
    expect(failure).toContain('num_round: "ten" is not an integer in 1-100000');
    expect(failure).toMatch(/unknown hyperparameter "colour"; valid ones: objective, label, .*num_round, learning_rate/);
    expect(r.stderr).toContain("ml-core: error: invalid hyperparameters");
    expect(fs.existsSync(path.join(base, "model/model.json"))).toBe(false);
  });

  it("on bad data names the file, line and column in output/failure", () => {
    const base = optMl({ label: "y", num_round: "5" });
    fs.appendFileSync(path.join(base, "input/data/train/part-1.csv"), "1,0.5,not-a-number,a\n");
    const r = runTrain(base);
    expect(r.status).toBe(1);
    expect(fs.readFileSync(path.join(base, "output/failure"), "utf8")).toMatch(
      /part-1\.csv:602:3: column "x2" \(column 3\) is numeric but has "not-a-number".*categorical_columns/,
    );
  });

  it("rejects a channel it does not know and a content type it cannot read", () => {
    const base = optMl({ label: "y" });
    writeFile(path.join(base, "input/config/inputdataconfig.json"), JSON.stringify({ train: { ContentType: "application/x-parquet" }, test: {} }));
    const r = runTrain(base);
    expect(r.status).toBe(1);
    const failure = fs.readFileSync(path.join(base, "output/failure"), "utf8");
    expect(failure).toContain("ContentType application/x-parquet is not supported");
    expect(failure).toContain("unknown channel(s) test");
  });

  it("on SIGTERM saves a checkpoint and exits; the next run resumes and ends with the same model as an uninterrupted run", async () => {
    const hp = { label: "y", num_round: "300", learning_rate: "0.05", early_stopping_rounds: "1000", subsample: "0.8", colsample_bynode: "0.7", seed: "11" };
    const straight = optMl(hp, { rows: 6000 });
    expect(runTrain(straight).status).toBe(0);

    const interrupted = optMl(hp, { rows: 6000 });
    const child = spawn(process.execPath, [BIN, "train"], { env: { ...process.env, SAGEMAKER_BASE_DIR: interrupted } });
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => {
      stderr += d.toString();
      if (stderr.includes("[round ") && !child.killed) child.kill("SIGTERM");
    });
    const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
    expect(stderr).toMatch(/stop requested: saved a checkpoint at round \d+/);
    expect(code).toBe(143);
    expect(fs.existsSync(path.join(interrupted, "checkpoints/ml-core-checkpoint.json"))).toBe(true);
    expect(fs.existsSync(path.join(interrupted, "model/model.json"))).toBe(false);

    const resumed = runTrain(interrupted);
    expect(resumed.status).toBe(0);
    const from = Number(/resuming from the checkpoint at round (\d+)/.exec(resumed.stderr)?.[1]);
    expect(from).toBeGreaterThan(0);
    expect(from).toBeLessThan(300);
    expect(fs.readFileSync(path.join(interrupted, "model/model.json"), "utf8")).toBe(fs.readFileSync(path.join(straight, "model/model.json"), "utf8"));
    expect(fs.existsSync(path.join(interrupted, "checkpoints/ml-core-checkpoint.json"))).toBe(false);
  }, 60_000);

  it("with checkpoint_interval, a job killed by SIGKILL resumes from the last periodic checkpoint and ends with the uninterrupted model", async () => {
    const hp = { label: "y", num_round: "300", learning_rate: "0.05", early_stopping_rounds: "1000", subsample: "0.8", colsample_bynode: "0.7", seed: "12" };
    const straight = optMl(hp, { rows: 6000 });
    expect(runTrain(straight).status).toBe(0);

    const killed = optMl({ ...hp, checkpoint_interval: "7" }, { rows: 6000 });
    const child = spawn(process.execPath, [BIN, "train"], { env: { ...process.env, SAGEMAKER_BASE_DIR: killed } });
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => {
      stderr += d.toString();
      // No grace: killed right after its second periodic checkpoint, in the middle of later rounds.
      if (/saved a checkpoint at round 14 /.test(stderr) && !child.killed) child.kill("SIGKILL");
    });
    const signal = await new Promise<NodeJS.Signals | null>((resolve) => child.on("close", (_, s) => resolve(s)));
    expect(signal).toBe("SIGKILL");
    expect(stderr).toContain("saved a checkpoint at round 7 ");
    const checkpoints = fs.readdirSync(path.join(killed, "checkpoints"));
    expect(checkpoints).toEqual(["ml-core-checkpoint.json"]); // no temporary file left beside it
    expect(fs.existsSync(path.join(killed, "model/model.json"))).toBe(false);

    const resumed = runTrain(killed);
    expect(resumed.status).toBe(0);
    const from = Number(/resuming from the checkpoint at round (\d+)/.exec(resumed.stderr)?.[1]);
    expect(from % 7).toBe(0);
    expect(from).toBeGreaterThanOrEqual(14);
    expect(from).toBeLessThan(300);
    expect(fs.readFileSync(path.join(killed, "model/model.json"), "utf8")).toBe(fs.readFileSync(path.join(straight, "model/model.json"), "utf8"));
  }, 60_000);
});

describe("ml-core train (convenience form)", () => {
  it("takes files, --hp pairs and --model-dir, goes through the same job, and can print JSON", () => {
    const dir = tmpDir();
    const train = writeFile(path.join(dir, "train.csv"), toCsv(dataset(800, 4)));
    const valid = writeFile(path.join(dir, "valid.csv"), toCsv(dataset(200, 5)));
    const out = path.join(dir, "model");
    const r = spawnSync(
      process.execPath,
      [BIN, "train", "--train", train, "--validation", valid, "--model-dir", out, "--hp", "label=y", "--hp", "num_round=10", "--json"],
      { encoding: "utf8" },
    );
    expect(r.status).toBe(0);
    const outcome = JSON.parse(r.stdout);
    expect(outcome).toMatchObject({ status: "completed", objective: "binary", classes: ["0", "1"], rounds: 10, modelDir: out });
    expect(outcome.metrics["validation:auc"]).toBeGreaterThan(0.9);
    expect(r.stderr).toMatch(/\[round 1\/10\] train_loss=/);
    expect(fs.existsSync(path.join(out, "model.json"))).toBe(true);
  });

  it("reports a bad --hp clearly", () => {
    const dir = tmpDir();
    const train = writeFile(path.join(dir, "train.csv"), toCsv(dataset(50, 4)));
    const r = spawnSync(process.execPath, [BIN, "train", "--train", train, "--model-dir", path.join(dir, "m"), "--hp", "label=y", "--hp", "learning_rate=2"], {
      encoding: "utf8",
    });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('learning_rate: "2" is out of range (allowed: a number in (0, 1])');
  });
});
