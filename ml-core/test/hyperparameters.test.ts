import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { HYPERPARAMETERS, parseHyperparameters } from "../src/train/hyperparameters";

describe("hyperparameters", () => {
  it("all defaults: scikit-learn's HistGradientBoosting defaults, leaf-wise", () => {
    const { params, resolved } = parseHyperparameters({});
    expect(params).toMatchObject({
      objective: "auto",
      numRound: 100,
      learningRate: 0.1,
      growPolicy: "leafwise",
      maxLeafNodes: 31,
      maxDepth: 0,
      minSamplesLeaf: 20,
      l2Regularization: 0,
      maxBins: 255,
      earlyStoppingRounds: 10,
      seed: 0,
    });
    expect(resolved.max_leaf_nodes).toBe("31");
  });

  it("depth-wise growth defaults to XGBoost's max_depth 6 with no leaf limit", () => {
    expect(parseHyperparameters({ grow_policy: "depthwise" }).params).toMatchObject({ maxDepth: 6, maxLeafNodes: 0 });
  });

  it("parses SageMaker's strings (and tolerates plain JSON numbers), ignoring keys SageMaker adds", () => {
    const { params, layout } = parseHyperparameters({
      num_round: "250",
      learning_rate: 0.05,
      label: "target",
      categorical_columns: "a, b",
      _tuning_objective_metric: "validation:auc",
      sagemaker_region: "x",
    });
    expect(params).toMatchObject({ numRound: 250, learningRate: 0.05 });
    expect(layout).toMatchObject({ labelColumn: "target", categoricalColumns: ["a", "b"] });
  });

  it.each([
    [{ num_round: "1.5" }, 'num_round: "1.5" is not an integer in 1-100000'],
    [{ num_round: "0" }, 'num_round: "0" is out of range (allowed: an integer in 1-100000)'],
    [{ learning_rate: "0" }, 'learning_rate: "0" is out of range (allowed: a number in (0, 1])'],
    [{ subsample: "abc" }, 'subsample: "abc" is not a number in (0, 1]'],
    [{ objective: "poisson" }, 'objective: "poisson" is not one of auto, binary, multiclass, regression'],
    [{ max_bins: "300" }, 'max_bins: "300" is out of range (allowed: an integer in 2-255)'],
    [{ max_leaf_nodes: "1" }, "max_leaf_nodes: 1 is not allowed"],
    [{ seed: { n: 1 } }, 'seed: {"n":1} is not a string'],
    [{ depth: "3" }, 'unknown hyperparameter "depth"; valid ones: objective, label,'],
    [{ checkpoint_interval: "10m" }, 'checkpoint_interval: "10m" is not a number of rounds ("10"), of seconds ("60s") or 0'],
    [{ checkpoint_interval: "-5" }, 'checkpoint_interval: "-5" is not a number of rounds'],
    [{ threads: "-1" }, 'threads: "-1" is out of range (allowed: an integer in 0-1024)'],
  ])("rejects %j: %s", (hp, message) => {
    expect(() => parseHyperparameters(hp)).toThrow(message);
  });

  it.each([
    ["10", { rounds: 10, seconds: 0 }],
    ["60s", { rounds: 0, seconds: 60 }],
    ["0", { rounds: 0, seconds: 0 }],
  ])("reads checkpoint_interval %s as a number of rounds or seconds", (text, interval) => {
    expect(parseHyperparameters({ checkpoint_interval: text }).checkpointInterval).toEqual(interval);
  });

  it("leaves what does not change the model (threads, checkpoint_interval) out of the recorded hyperparameters", () => {
    const { params, resolved } = parseHyperparameters({ threads: "3", checkpoint_interval: "5" });
    expect(params.threads).toBe(3);
    expect(Object.keys(resolved)).not.toContain("threads");
    expect(Object.keys(resolved)).not.toContain("checkpoint_interval");
  });

  it("reports every problem at once", () => {
    expect(() => parseHyperparameters({ num_round: "x", eta: "0.1" })).toThrow(
      /num_round: .*\n.*unknown hyperparameter "eta"|unknown hyperparameter "eta"[\s\S]*num_round/,
    );
  });

  it("documents every hyperparameter, here and in the README's table", () => {
    const readme = fs.readFileSync(path.join(__dirname, "../README.md"), "utf8");
    for (const spec of HYPERPARAMETERS) {
      expect(spec.doc.length).toBeGreaterThan(20);
      expect(readme).toContain(`| \`${spec.name}\` | ${spec.default === undefined ? "see meaning" : spec.default === "" ? "none" : `\`${spec.default}\``} |`);
    }
  });
});
