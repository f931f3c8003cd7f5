import { describe, expect, it } from "vitest";
import { parseStackOutputs } from "../src/outputs";

const outputs = {
  region: "eu-west-1",
  accountId: "111122223333",
  datasetBucketName: "churn-dev-datasets",
  artifactBucketName: "churn-dev-artifacts",
  kmsKeyArn: "arn:aws:kms:eu-west-1:111122223333:key/k",
  executionRoleArn: "arn:aws:iam::111122223333:role/churn-dev-execution",
  modelPackageGroupName: "churn-dev",
  datasetUri: "s3://churn-dev-datasets/datasets/churn/v1/",
  trainingOutputUri: "s3://churn-dev-artifacts/training-output/",
  checkpointUri: "s3://churn-dev-artifacts/checkpoints/",
};

describe("parseStackOutputs", () => {
  it("accepts the outputs the tools need, and fills what a stack may lack", () => {
    const result = parseStackOutputs(outputs);
    expect(result).toEqual({ ok: true, outputs: { ...outputs, repositoryUrls: {} } });
  });

  it("keeps the outputs only infra reads (the next stage's deployer)", () => {
    const deployerStage = {
      region: "eu-west-1",
      accountId: "111122223333",
      datasetBucketArn: "arn:aws:s3:::churn-dev-datasets",
      artifactBucketArn: "arn:aws:s3:::churn-dev-artifacts",
      kmsKeyArn: outputs.kmsKeyArn,
      modelPackageGroupName: "churn-dev",
      endpointName: "churn-dev",
      repositoryArns: ["arn:aws:ecr:eu-west-1:111122223333:repository/ml-core-dev"],
    };
    const result = parseStackOutputs({ ...outputs, deployerStage, servedModel: null });
    expect(result.ok && result.outputs.deployerStage).toEqual(deployerStage);
    expect(result.ok && result.outputs.servedModel).toBeNull();
  });

  it("names every missing or malformed output", () => {
    const { kmsKeyArn: _gone, ...rest } = outputs;
    const result = parseStackOutputs({ ...rest, accountId: "1234", trainingOutputUri: "training-output/" });
    expect(result).toEqual({
      ok: false,
      problems: ["accountId: must be a 12-digit AWS account id", "kmsKeyArn: is missing", "trainingOutputUri: must be an s3://<bucket>/<prefix>/ URI"],
    });
  });

  it("says so when there are no outputs at all", () => {
    expect(parseStackOutputs(undefined)).toMatchObject({ ok: false, problems: [expect.stringMatching(/^\(outputs\): /)] });
  });
});
