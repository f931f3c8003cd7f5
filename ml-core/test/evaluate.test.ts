import * as fs from "node:fs";
import * as path from "node:path";
import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { evaluateModel, unpackedModelDir, writeReport, EVALUATION_FILE } from "../src/runtime/evaluate";
import { runTrainingJob } from "../src/train/training-job";
import { metricDefinitions } from "../src/eval/metrics";
import { REPO, tmpDir, writeFile } from "./helpers";

const DATA = path.join(REPO, "examples/flight-delays/data");
const quiet = { progress: () => {}, metric: () => {}, stopRequested: () => false };

async function trainExample(): Promise<string> {
  const modelDir = tmpDir();
  await runTrainingJob(
    {
      trainFiles: [path.join(DATA, "train.csv")],
      validationFiles: [path.join(DATA, "validation.csv")],
      hyperparameters: { objective: "binary", label: "delayed", num_round: "20", seed: "7" },
      modelDir,
    },
    quiet,
  );
  return modelDir;
}

describe("ml-core evaluate", () => {
  it("reproduces training's validation metrics on the example data, under the MetricDefinitions' names", async () => {
    const modelDir = await trainExample();
    const trained = JSON.parse(fs.readFileSync(path.join(modelDir, "metrics.json"), "utf8")) as Record<string, number>;
    const report = evaluateModel(modelDir, path.join(DATA, "validation.csv"));
    const defined = new Set(metricDefinitions("binary").map((d) => d.Name));
    expect(Object.keys(report.metrics).sort()).toEqual(["validation:accuracy", "validation:auc", "validation:f1", "validation:logloss"]);
    for (const [name, value] of Object.entries(report.metrics)) {
      expect(defined.has(name)).toBe(true);
      expect(value).toBeCloseTo(trained[name]!, 9);
    }

    const out = tmpDir();
    writeReport(report, out);
    const nested = JSON.parse(fs.readFileSync(path.join(out, EVALUATION_FILE), "utf8")) as { validation: Record<string, number>; rows: number };
    expect(nested.validation.auc).toBe(report.metrics["validation:auc"]);
    expect(nested.rows).toBe(report.rows);
    expect(JSON.parse(fs.readFileSync(path.join(out, "metrics.json"), "utf8"))).toEqual(report.metrics);
  });

  it("unpacks the training job's model.tar.gz, as a Processing step receives it", async () => {
    const modelDir = await trainExample();
    const input = tmpDir();
    execFileSync("tar", ["-czf", path.join(input, "model.tar.gz"), "-C", modelDir, "."]);
    const unpacked = unpackedModelDir(input);
    expect(unpacked).not.toBe(input);
    expect(evaluateModel(unpacked, DATA + "/validation.csv").metrics).toEqual(evaluateModel(modelDir, DATA + "/validation.csv").metrics);
  });

  it("names the file, line and column of a label the model does not know", async () => {
    const modelDir = await trainExample();
    const bad = writeFile(path.join(tmpDir(), "v.csv"), "departure_hour,weekday,month,distance,origin,destination,delayed\n1.13,sun,mar,679,SEA,SFO,maybe\n");
    expect(() => evaluateModel(modelDir, bad)).toThrow(/v\.csv:2:7: label "maybe" is not one of the model's classes/);
  });
});
