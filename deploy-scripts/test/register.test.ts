import { afterEach, beforeEach, describe, expect, it } from "vitest";
import * as lib from "../src/index";
import { createHash } from "node:crypto";
import { COMPLETED_JOB, IMAGE, World, bucket, group, identityOf, kmsKey, modelJsonOf, tarGz } from "./world";

let world: World;
beforeEach(() => {
  world = new World(lib);
});
afterEach(() => world.dispose());

describe("register", () => {
  it("registers a completed job with image, model data, content types, metrics from metrics.json and metadata, pending approval", async () => {
    const r = await world.run(["register", "--stack", "dev", "--job", COMPLETED_JOB, "--json"]);
    expect(r.code).toBe(0);
    const result = r.json();
    expect(result).toMatchObject({ created: true, metricsSource: "model.tar.gz", version: { version: 3, approval: "PendingManualApproval" } });
    const [input] = world.sent("CreateModelPackageCommand");
    expect(input).toMatchObject({
      ModelPackageGroupName: group("dev"),
      ModelApprovalStatus: "PendingManualApproval",
      InferenceSpecification: {
        Containers: [{ Image: IMAGE, ModelDataUrl: `s3://${bucket("dev", "artifacts")}/training-output/${COMPLETED_JOB}/output/model.tar.gz` }],
        SupportedContentTypes: ["text/csv", "application/json"],
        SupportedResponseMIMETypes: ["application/json", "text/csv"],
      },
      MetadataProperties: { CommitId: "abc123", GeneratedBy: expect.stringContaining(`training-job/${COMPLETED_JOB}`) },
      ModelMetrics: {
        ModelQuality: {
          Statistics: { ContentType: "application/json", S3Uri: `s3://${bucket("dev", "artifacts")}/models/registered/${COMPLETED_JOB}/model-quality.json` },
        },
      },
      CustomerMetadataProperties: {
        trainingJobName: COMPLETED_JOB,
        gitCommit: "abc123",
        datasetHash: "sha256:feed",
        "metric:validation:auc": "0.91",
        "metric:validation:logloss": "0.31",
        "metric:train:auc": "0.95",
      },
      ClientToken: expect.stringMatching(/^[0-9a-f]{36}$/),
    });
    const [put] = world.sent("PutObjectCommand");
    expect(put).toMatchObject({ ServerSideEncryption: "aws:kms", SSEKMSKeyId: kmsKey("dev") });
    const report = JSON.parse(world.objects.get(`${bucket("dev", "artifacts")}/models/registered/${COMPLETED_JOB}/model-quality.json`)!.toString());
    expect(report.binary_classification_metrics.auc.value).toBe(0.91);
    expect(report.metrics["validation:logloss"]).toBe(0.31);
  });

  it("records which bytes the version is: the model's identity, the artifact's S3 version and its SHA-256", async () => {
    const key = `${bucket("dev", "artifacts")}/training-output/${COMPLETED_JOB}/output/model.tar.gz`;
    const r = await world.run(["register", "--stack", "dev", "--job", COMPLETED_JOB]);
    expect(r.code, r.stderr).toBe(0);
    const [input] = world.sent("CreateModelPackageCommand");
    expect(input!.CustomerMetadataProperties).toMatchObject({
      // ml-core serve answers with model-sha256=<hex of model.json> (CustomAttributes).
      modelIdentity: identityOf(modelJsonOf(COMPLETED_JOB)),
      artifactVersionId: world.versions.get(key),
      artifactSha256: createHash("sha256").update(world.objects.get(key)!).digest("hex"),
    });
    // The version is read as one pinned S3 version, whatever the key holds later.
    expect(world.sent("GetObjectCommand").filter((g) => g.Key === key.slice(key.indexOf("/") + 1))).toEqual([
      expect.objectContaining({ VersionId: world.versions.get(key) }),
    ]);
  });

  it("refuses an archive without model.json: nothing to serve, no identity", async () => {
    world.addJob("churn-dev-20250103-000000", { "validation:auc": 0.9 });
    const key = `${bucket("dev", "artifacts")}/training-output/churn-dev-20250103-000000/output/model.tar.gz`;
    world.putObject(key, tarGz({ "metrics.json": "{}" }));
    const r = await world.run(["register", "--stack", "dev", "--job", "churn-dev-20250103-000000"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("has no model.json (nor xgboost-model): it is not a model ml-core can serve");
    expect(world.sent("CreateModelPackageCommand")).toEqual([]);
  });

  it("registers a built-in XGBoost job's model with the ml-core image recorded on the job, and xgboost-model's identity", async () => {
    const job = "churn-dev-20250104-000000";
    world.addJob(job, undefined);
    const key = `${bucket("dev", "artifacts")}/training-output/${job}/output/model.tar.gz`;
    const xgboostModel = '{"learner":{}}';
    world.putObject(key, tarGz({ "xgboost-model": xgboostModel }));
    const state = world.jobs.get(job)! as unknown as { AlgorithmSpecification: { TrainingImage: string }; tags: Array<{ Key: string; Value: string }> };
    state.AlgorithmSpecification.TrainingImage = "141502667606.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-xgboost:3.0-5";
    state.tags.push({ Key: "ml-platform:serving-image", Value: IMAGE });
    const r = await world.run(["register", "--stack", "dev", "--job", job]);
    expect(r.code, r.stderr).toBe(0);
    const [input] = world.sent("CreateModelPackageCommand");
    expect(input!.InferenceSpecification).toMatchObject({ Containers: [{ Image: IMAGE }] });
    expect(input!.CustomerMetadataProperties).toMatchObject({ modelIdentity: identityOf(xgboostModel) });
  });

  it("running it twice for the same job creates no second version", async () => {
    const first = await world.run(["register", "--stack", "dev", "--job", COMPLETED_JOB, "--json"]);
    const second = await world.run(["register", "--stack", "dev", "--job", COMPLETED_JOB, "--json"]);
    expect(second.code).toBe(0);
    expect(second.json()).toMatchObject({ created: false, version: { arn: first.json().version.arn } });
    expect(world.sent("CreateModelPackageCommand")).toHaveLength(1);
    expect(second.stderr).toContain("already registered as version 3");
  });

  it("falls back to the job's log metrics when the archive has no metrics.json, and says so", async () => {
    world.addJob("churn-dev-20250102-000000", undefined);
    const r = await world.run(["register", "--stack", "dev", "--job", "churn-dev-20250102-000000", "--json"]);
    expect(r.code).toBe(0);
    expect(r.json()).toMatchObject({ metricsSource: "training-job", version: { metrics: { "validation:auc": 0.9 } } });
    expect(r.stderr).toContain("has no metrics.json");
  });

  it("refuses a job that has not completed, with its failure reason", async () => {
    world.addJob("churn-dev-20250103-000000", {}, { TrainingJobStatus: "Failed", SecondaryStatus: "Failed", FailureReason: "OutOfMemory" });
    const r = await world.run(["register", "--stack", "dev", "--job", "churn-dev-20250103-000000"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("is Failed: OutOfMemory; only a completed job can be registered");
    expect(world.sent("CreateModelPackageCommand")).toEqual([]);
  });

  it("reports an unknown job with AWS's own message", async () => {
    const r = await world.run(["register", "--stack", "dev", "--job", "nope"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("ValidationException: Requested resource not found: nope");
  });
});

describe("approve and reject", () => {
  it("approves a version by number, recording the reason", async () => {
    const r = await world.run(["approve", "--stack", "dev", "--version", "2", "--reason", "reviewed metrics and data", "--json"]);
    expect(r.code).toBe(0);
    expect(world.sent("UpdateModelPackageCommand")).toEqual([
      { ModelPackageArn: expect.stringMatching(/churn-dev-group\/2$/), ModelApprovalStatus: "Approved", ApprovalDescription: "reviewed metrics and data" },
    ]);
    expect(r.json()).toMatchObject({
      decision: "Approved",
      previous: "PendingManualApproval",
      version: { approval: "Approved", approvalDescription: "reviewed metrics and data" },
    });
    // validation:auc 0.75 meets dev's own minimum of 0.70: nothing to warn about.
    expect(r.json().warnings).toEqual([]);
  });

  it("warns, without refusing, when the version misses the stack's own thresholds", async () => {
    world.addPackage("dev", { approval: "PendingManualApproval", metrics: { "validation:auc": 0.6 } });
    const r = await world.run(["approve", "--stack", "dev", "--version", "latest", "--reason", "exploratory"]);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('warning: metric validation:auc = 0.6 is below stack "dev"\'s minimum 0.7');
  });

  it("rejects a version by ARN", async () => {
    const arn = [...world.packages.keys()].find((k) => k.endsWith("churn-dev-group/2"))!;
    const r = await world.run(["reject", "--stack", "dev", "--version", arn, "--reason", "leaks the label"]);
    expect(r.code).toBe(0);
    expect(world.packages.get(arn)).toMatchObject({ ModelApprovalStatus: "Rejected", ApprovalDescription: "leaks the label" });
  });

  it("refuses a version of another stack's group", async () => {
    const arn = [...world.packages.keys()].find((k) => k.includes("churn-prod-group"))!;
    const r = await world.run(["approve", "--stack", "dev", "--version", arn, "--reason", "x"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('is not in stack "dev"\'s model package group churn-dev-group');
    expect(world.sent("UpdateModelPackageCommand")).toEqual([]);
  });

  it("refuses an empty reason", async () => {
    const r = await world.run(["reject", "--stack", "dev", "--version", "2", "--reason", " "]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("--reason must not be empty");
  });
});
