import { writeFileSync } from "node:fs";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import * as lib from "../src/index";
import { metricDefinitions } from "@ml-platform/ml-core";
import { trainingJobName } from "../src/training/job";
import { IMAGE, World, bucket, executionRole, kmsKey } from "./world";

let world: World;
let manifestId: string;
beforeEach(async () => {
  world = new World(lib);
  // Training takes a manifest: the dataset is snapshotted first.
  manifestId = (await world.run(["data", "snapshot", "--stack", "dev", "--json"])).json().manifestId;
  world.resetCalls();
});
afterEach(() => world.dispose());

describe("train", () => {
  it("creates the training job from the stack's outputs and training settings", async () => {
    const r = await world.run(["train", "--stack", "dev", "--image", IMAGE, "--json"]);
    expect(r.code).toBe(0);
    const [input] = world.sent("CreateTrainingJobCommand");
    const jobName = r.json().jobName as string;
    expect(jobName).toMatch(/^churn-dev-\d{8}-\d{6}$/);
    expect(input).toMatchObject({
      TrainingJobName: jobName,
      RoleArn: executionRole("dev"),
      AlgorithmSpecification: { TrainingImage: IMAGE, TrainingInputMode: "File" },
      HyperParameters: { objective: "binary", label: "churn", num_round: "200", learning_rate: "0.1", early_stopping_rounds: "10" },
      // The newest snapshot's channels: SageMaker ManifestFiles of content-addressed keys, and the manifest.
      InputDataConfig: [
        {
          ChannelName: "train",
          ContentType: "text/csv",
          DataSource: {
            S3DataSource: { S3DataType: "ManifestFile", S3Uri: `s3://${bucket("dev", "datasets")}/datasets/manifests/${manifestId}/train.manifest` },
          },
        },
        {
          ChannelName: "validation",
          ContentType: "text/csv",
          DataSource: {
            S3DataSource: { S3DataType: "ManifestFile", S3Uri: `s3://${bucket("dev", "datasets")}/datasets/manifests/${manifestId}/validation.manifest` },
          },
        },
        {
          ChannelName: "manifest",
          ContentType: "application/json",
          DataSource: { S3DataSource: { S3DataType: "S3Prefix", S3Uri: `s3://${bucket("dev", "datasets")}/datasets/manifests/${manifestId}.json` } },
        },
      ],
      OutputDataConfig: { S3OutputPath: `s3://${bucket("dev", "artifacts")}/training-output/`, KmsKeyId: kmsKey("dev") },
      ResourceConfig: { InstanceType: "ml.m5.large", InstanceCount: 1, VolumeSizeInGB: 30, VolumeKmsKeyId: kmsKey("dev") },
      StoppingCondition: { MaxRuntimeInSeconds: 3600, MaxWaitTimeInSeconds: 7200 },
      EnableManagedSpotTraining: true,
      CheckpointConfig: { S3Uri: `s3://${bucket("dev", "artifacts")}/checkpoints/${jobName}/`, LocalPath: "/opt/ml/checkpoints" },
      RetryStrategy: { MaximumRetryAttempts: 2 },
      EnableNetworkIsolation: true,
      EnableInterContainerTrafficEncryption: true,
    });
    expect(input!.Tags).toEqual(
      expect.arrayContaining([
        { Key: "owner", Value: "ml-platform-team" },
        { Key: "ml-platform:git-commit", Value: "0123456789abcdef0123456789abcdef01234567" },
        { Key: "ml-platform:dataset", Value: `s3://${bucket("dev", "datasets")}/datasets/churn/v1/` },
        { Key: "ml-platform:dataset-hash", Value: `sha256:${manifestId}` },
        { Key: "ml-platform:dataset-manifest", Value: manifestId },
      ]),
    );
    // ml-core's own definitions for the stack's objective (binary: the classification metrics).
    expect((input!.AlgorithmSpecification as { MetricDefinitions: unknown[] }).MetricDefinitions).toEqual(metricDefinitions("binary"));
  });

  it("without spot, sets no MaxWaitTimeInSeconds and no checkpoints", async () => {
    writeFileSync(world.stackPath("dev"), world.stackText("dev").replace("spot: true", "spot: false"));
    const r = await world.run(["train", "--stack", "dev", "--image", IMAGE]);
    expect(r.code).toBe(0);
    const [input] = world.sent("CreateTrainingJobCommand");
    expect(input!.StoppingCondition).toEqual({ MaxRuntimeInSeconds: 3600 });
    expect(input!.EnableManagedSpotTraining).toBe(false);
    expect(input!.CheckpointConfig).toBeUndefined();
  });

  it("--wait prints each status transition with the elapsed time and the job's metrics", async () => {
    const r = await world.run(["train", "--stack", "dev", "--image", IMAGE, "--wait"]);
    expect(r.code).toBe(0);
    for (const s of ["InProgress / Starting", "InProgress / Downloading - Downloading message", "InProgress / Training", "Completed / Completed"])
      expect(r.stderr).toContain(s);
    expect(r.stderr).toMatch(/\[\s+\d+m\d\ds\] InProgress \/ Training/);
    expect(r.stdout).toContain("validation:auc = 0.9");
    expect(r.stdout).toContain("spot savings   67%");
    expect(r.stdout).toMatch(/next: ml-deploy register --stack dev --job churn-dev-/);
  });

  it("--wait on a failed job prints FailureReason and exits non-zero", async () => {
    world.jobScript = [
      { TrainingJobStatus: "InProgress", SecondaryStatus: "Training" },
      { TrainingJobStatus: "Failed", SecondaryStatus: "Failed", FailureReason: "AlgorithmError: label column churn not found" },
    ];
    const r = await world.run(["train", "--stack", "dev", "--image", IMAGE, "--wait"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/error: training job churn-dev-\S+ failed: AlgorithmError: label column churn not found/);
    expect(r.stderr).toContain("/aws/sagemaker/TrainingJobs");
  });

  it("refuses an image referred to by tag", async () => {
    const r = await world.run(["train", "--stack", "dev", "--image", IMAGE.replace(/@sha256:.*/, ":latest")]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("is not an ECR image by digest");
    expect(world.sent("CreateTrainingJobCommand")).toEqual([]);
  });

  it("snapshot names the empty channel; train refuses a manifest that does not exist; nothing is started", async () => {
    for (const key of [...world.objects.keys()]) if (key.startsWith(`${bucket("dev", "datasets")}/datasets/churn/v1/validation/`)) world.objects.delete(key);
    const snap = await world.run(["data", "snapshot", "--stack", "dev"]);
    expect(snap.code).toBe(1);
    expect(snap.stderr).toContain("the dataset has no data for channel validation");
    const r = await world.run(["train", "--stack", "dev", "--image", IMAGE, "--manifest", "0".repeat(64)]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`dataset manifest ${"0".repeat(64)} does not exist`);
    expect(world.sent("CreateTrainingJobCommand")).toEqual([]);
  });

  it("refuses a --manifest that is not an id", async () => {
    const r = await world.run(["train", "--stack", "dev", "--image", IMAGE, "--manifest", "latest"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("--manifest latest: expected a manifest id (64 hex digits)");
  });
});

describe("hyperparameters: ml-core's parser decides, before any job exists", () => {
  const VALID = "objective, label, categorical_columns, ignore_columns, num_round, learning_rate";

  it("refuses a key ml-core does not know, naming it, the stack it came from and the valid keys; nothing is sent to AWS", async () => {
    writeFileSync(world.stackPath("dev"), world.stackText("dev").replace("num_round: 200", "num_rounds: 200"));
    const r = await world.run(["train", "--stack", "dev", "--image", IMAGE]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('error: stack "dev": invalid hyperparameters; no training job was created');
    expect(r.stderr).toContain('  - mlPlatform:training.hyperparameters of stack "dev": unknown hyperparameter "num_rounds"; valid ones: objective, label,');
    expect(r.stderr).toContain(`hint: the hyperparameters ml-core accepts: ${VALID}`);
    expect(world.sent("CreateTrainingJobCommand")).toEqual([]);
    expect(world.calls()).toEqual([]);
  });

  it("refuses a bad --hp value, naming --hp", async () => {
    const r = await world.run(["train", "--stack", "dev", "--image", IMAGE, "--hp", "learning_rate=2"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('  - --hp: learning_rate: "2" is out of range (allowed: a number in (0, 1])');
    expect(world.sent("CreateTrainingJobCommand")).toEqual([]);
  });

  it("refuses a combination ml-core refuses, naming both sources", async () => {
    const r = await world.run([
      "train",
      "--stack",
      "dev",
      "--image",
      IMAGE,
      "--hp",
      "grow_policy=depthwise",
      "--hp",
      "max_depth=0",
      "--hp",
      "max_leaf_nodes=0",
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      '  - mlPlatform:training.hyperparameters of stack "dev" and --hp: grow_policy depthwise needs max_depth or max_leaf_nodes to bound the tree',
    );
    expect(world.sent("CreateTrainingJobCommand")).toEqual([]);
  });

  it("--hp overrides the stack's value for this job", async () => {
    const r = await world.run(["train", "--stack", "dev", "--image", IMAGE, "--hp", "learning_rate=0.05", "--hp", "seed=7"]);
    expect(r.code).toBe(0);
    const [input] = world.sent("CreateTrainingJobCommand");
    expect(input!.HyperParameters).toMatchObject({ learning_rate: "0.05", seed: "7", num_round: "200" });
  });

  it("with objective auto, defines the metrics of both families", async () => {
    writeFileSync(world.stackPath("dev"), world.stackText("dev").replace("objective: binary", "objective: auto"));
    const r = await world.run(["train", "--stack", "dev", "--image", IMAGE]);
    expect(r.code).toBe(0);
    const [input] = world.sent("CreateTrainingJobCommand");
    expect((input!.AlgorithmSpecification as { MetricDefinitions: unknown[] }).MetricDefinitions).toEqual([
      ...metricDefinitions("binary"),
      ...metricDefinitions("regression"),
    ]);
  });

  it("--hp without '=' is a usage error", async () => {
    const r = await world.run(["train", "--stack", "dev", "--image", IMAGE, "--hp", "seed"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("--hp seed: expected key=value");
  });
});

describe("naming and limits", () => {
  it("names jobs <model>-<stack>-<utc timestamp>", () => {
    expect(trainingJobName("churn", "dev", new Date("2025-03-01T12:34:56Z"))).toBe("churn-dev-20250301-123456");
  });

  it("refuses a name over SageMaker's 63 characters", () => {
    expect(() => trainingJobName("m".repeat(50), "staging", new Date(0))).toThrow(/at most 63/);
  });
});
