// `ml-deploy train` on a stack with training.algorithm xgboost: SageMaker's built-in XGBoost
// trains across the instances; the ml-core image serves the model.
import { writeFileSync } from "node:fs";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import * as lib from "../src/index";
import { xgboostHyperparameters, xgboostImageUri } from "../src/training/xgboost";
import { IMAGE, World, bucket, executionRole, kmsKey } from "./world";

let world: World;
beforeEach(() => {
  world = new World(lib);
});
afterEach(() => world.dispose());

/** dev, switched to the built-in XGBoost on 4 instances, its hyperparameters in ml-core's names. */
function xgboostDev(hyperparameters = "      objective: binary\n      num_round: 200\n      learning_rate: 0.1\n      early_stopping_rounds: 10\n"): void {
  const text = world
    .stackText("dev")
    .replace("    instanceCount: 1\n", "    algorithm: xgboost\n    xgboostVersion: 3.0-5\n    instanceCount: 4\n")
    .replace(/ {4}hyperparameters:\n( {6}.*\n)+/, `    hyperparameters:\n${hyperparameters}`);
  writeFileSync(world.stackPath("dev"), text);
}

describe("train with training.algorithm xgboost", () => {
  it("sends the exact CreateTrainingJob request SageMaker's XGBoost expects (dev, 4 instances)", async () => {
    xgboostDev();
    const manifestId = (await world.run(["data", "snapshot", "--stack", "dev", "--json"])).json().manifestId as string;
    const r = await world.run(["train", "--stack", "dev", "--image", IMAGE, "--json"]);
    expect(r.stderr).toContain("Creating training job churn-dev-");
    expect(r.stderr).toContain("(4 × ml.m5.large, spot)");
    expect(r.code).toBe(0);
    const [input] = world.sent("CreateTrainingJobCommand");
    const jobName = r.json().jobName as string;
    const datasets = `s3://${bucket("dev", "datasets")}/datasets/churn/v1`;
    const manifests = `s3://${bucket("dev", "datasets")}/datasets/manifests`;
    // eu-west-1's registry account, from the SageMaker Python SDK's xgboost.json.
    const xgboostImage = "141502667606.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-xgboost:3.0-5";
    expect(r.json().image).toBe(xgboostImage);
    expect(input).toEqual({
      TrainingJobName: jobName,
      RoleArn: executionRole("dev"),
      // No MetricDefinitions: the built-in algorithm publishes its own (validation:logloss here).
      AlgorithmSpecification: { TrainingImage: xgboostImage, TrainingInputMode: "File" },
      HyperParameters: {
        objective: "binary:logistic",
        num_round: "200",
        eta: "0.1",
        tree_method: "hist",
        grow_policy: "lossguide",
        max_leaves: "31",
        max_depth: "0",
        max_bin: "255",
        min_child_weight: "0.001",
        lambda: "0",
        eval_metric: "logloss",
        early_stopping_rounds: "10",
      },
      // The snapshot's ManifestFile channels (content-addressed keys), without the manifest channel
      // ml-core reads: the built-in algorithm takes only train and validation.
      InputDataConfig: [
        {
          ChannelName: "train",
          ContentType: "text/csv",
          CompressionType: "None",
          // Each of the 4 hosts reads its own share of the files.
          DataSource: {
            S3DataSource: { S3DataType: "ManifestFile", S3Uri: `${manifests}/${manifestId}/train.manifest`, S3DataDistributionType: "ShardedByS3Key" },
          },
        },
        {
          ChannelName: "validation",
          ContentType: "text/csv",
          CompressionType: "None",
          DataSource: {
            S3DataSource: { S3DataType: "ManifestFile", S3Uri: `${manifests}/${manifestId}/validation.manifest`, S3DataDistributionType: "FullyReplicated" },
          },
        },
      ],
      OutputDataConfig: { S3OutputPath: `s3://${bucket("dev", "artifacts")}/training-output/`, KmsKeyId: kmsKey("dev") },
      ResourceConfig: { InstanceType: "ml.m5.large", InstanceCount: 4, VolumeSizeInGB: 30, VolumeKmsKeyId: kmsKey("dev") },
      StoppingCondition: { MaxRuntimeInSeconds: 3600, MaxWaitTimeInSeconds: 7200 },
      EnableManagedSpotTraining: true,
      CheckpointConfig: { S3Uri: `s3://${bucket("dev", "artifacts")}/checkpoints/${jobName}/`, LocalPath: "/opt/ml/checkpoints" },
      RetryStrategy: { MaximumRetryAttempts: 2 },
      EnableNetworkIsolation: true,
      EnableInterContainerTrafficEncryption: true,
      Tags: [
        { Key: "owner", Value: "ml-platform-team" },
        { Key: "costCenter", Value: "CC-4711" },
        { Key: "ml-platform:git-commit", Value: "0123456789abcdef0123456789abcdef01234567" },
        { Key: "ml-platform:dataset", Value: `${datasets}/` },
        { Key: "ml-platform:dataset-hash", Value: `sha256:${manifestId}` },
        { Key: "ml-platform:dataset-manifest", Value: manifestId },
        { Key: "ml-platform:stack", Value: "dev" },
        { Key: "ml-platform:algorithm", Value: "xgboost:3.0-5" },
        // register reads it: the ml-core image serves the XGBoost model.
        { Key: "ml-platform:serving-image", Value: IMAGE },
      ],
    });
  });

  it("refuses ml-core hyperparameters XGBoost has no equivalent for, before any AWS call", async () => {
    xgboostDev("      objective: binary\n      label: churn\n      min_samples_leaf: 5\n      early_stopping_metric: f1\n");
    const r = await world.run(["train", "--stack", "dev", "--image", IMAGE]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('error: stack "dev": hyperparameters the built-in XGBoost cannot take; no training job was created');
    expect(r.stderr).toContain(
      'mlPlatform:training.hyperparameters of stack "dev": label has no XGBoost equivalent: XGBoost reads headerless CSV with the label in the first column',
    );
    expect(r.stderr).toContain("min_samples_leaf has no XGBoost equivalent");
    expect(r.stderr).toContain("early_stopping_metric f1 has no XGBoost eval_metric for binary; use loss, logloss, auc");
    expect(world.calls()).toEqual([]);
  });

  it("names a --hp override that has no equivalent", async () => {
    xgboostDev();
    const r = await world.run(["train", "--stack", "dev", "--image", IMAGE, "--hp", "weight_column=w"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("--hp: weight_column has no XGBoost equivalent");
    expect(world.sent("CreateTrainingJobCommand")).toEqual([]);
  });
});

describe("xgboostHyperparameters: ml-core's names in XGBoost's", () => {
  const from = (values: Record<string, string | number>) => xgboostHyperparameters("dev", [{ where: "stack", values }]);

  it.each([
    [
      { objective: "regression", grow_policy: "depthwise" },
      { objective: "reg:squarederror", grow_policy: "depthwise", max_depth: "6", max_leaves: "0", eval_metric: "rmse" },
    ],
    [
      { objective: "multiclass", num_class: 3 },
      { objective: "multi:softprob", num_class: "3", eval_metric: "mlogloss" },
    ],
    [
      { objective: "binary", min_gain_to_split: 2, l2_regularization: 1, subsample: 0.8, colsample_bytree: 0.5, seed: 7 },
      { gamma: "1", lambda: "1", subsample: "0.8", colsample_bytree: "0.5", seed: "7" },
    ],
    [{ objective: "binary", early_stopping_metric: "auc", early_stopping_rounds: 0 }, { eval_metric: "auc" }],
    [
      { objective: "regression", monotone_constraints: "(1,0,-1)", max_bins: 64, min_sum_hessian_in_leaf: 1 },
      { monotone_constraints: "(1,0,-1)", max_bin: "64", min_child_weight: "1" },
    ],
  ])("%j", (given, expected) => {
    expect(from(given)).toMatchObject(expected);
  });

  it("stops early only when ml-core would", () => {
    expect(from({ objective: "binary", early_stopping_rounds: 0 })).not.toHaveProperty("early_stopping_rounds");
  });

  it.each([
    [{}, "objective auto has no XGBoost equivalent: set binary, multiclass or regression"],
    [{ objective: "multiclass" }, "num_class (missing) must be an integer of at least 2 with objective multiclass"],
    [{ objective: "binary", num_class: 2 }, "num_class is only for objective multiclass"],
    [{ objective: "binary", monotone_constraints: "age:1" }, "monotone_constraints by feature name has no XGBoost equivalent"],
    [{ objective: "binary", learning_rate: 3 }, 'learning_rate: "3" is out of range'],
  ])("refuses %j", (given, message) => {
    let details: string[] = [];
    try {
      from(given);
    } catch (e) {
      details = (e as { details?: string[] }).details ?? [];
    }
    expect(details.join("\n")).toContain(message);
  });
});

describe("xgboostImageUri", () => {
  it.each([
    ["us-east-1", "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:3.0-5"],
    ["cn-north-1", "450853457545.dkr.ecr.cn-north-1.amazonaws.com.cn/sagemaker-xgboost:3.0-5"],
  ])("%s", (region, uri) => {
    expect(xgboostImageUri("dev", region, "3.0-5")).toBe(uri);
  });
  it("names the region it has no image in", () => {
    expect(() => xgboostImageUri("dev", "mars-north-1", "3.0-5")).toThrow('stack "dev": SageMaker\'s built-in XGBoost has no image in region mars-north-1');
  });
});
