import { describe, expect, it } from "vitest";
import { IMAGE_BY_DIGEST, joinS3, matchModelPackageArn, matchS3Uri, MODEL_NAME, s3Uri, sagemakerArn } from "../src/patterns";

const digest = "a".repeat(64);

describe("model package version ARNs", () => {
  it("reads partition, region, account, group and version", () => {
    expect(matchModelPackageArn("arn:aws:sagemaker:eu-west-1:111122223333:model-package/churn-prod/12")).toEqual({
      arn: "arn:aws:sagemaker:eu-west-1:111122223333:model-package/churn-prod/12",
      partition: "aws",
      region: "eu-west-1",
      accountId: "111122223333",
      group: "churn-prod",
      version: 12,
    });
    expect(matchModelPackageArn("arn:aws-cn:sagemaker:cn-north-1:111122223333:model-package/g/1")?.partition).toBe("aws-cn");
  });

  it.each([
    "arn:aws:sagemaker:eu-west-1:111122223333:model-package-group/churn",
    "arn:aws:sagemaker:eu-west-1:111122223333:model-package/churn",
    "arn:aws:sagemaker:eu-west-1:1111:model-package/churn/1",
    "arn:aws:s3:::bucket/model-package/churn/1",
  ])("rejects %s", (arn) => {
    expect(matchModelPackageArn(arn)).toBeUndefined();
  });
});

describe("images pinned by digest", () => {
  it.each([
    [`111122223333.dkr.ecr.eu-west-1.amazonaws.com/ml-core@sha256:${digest}`, true],
    [`111122223333.dkr.ecr.cn-north-1.amazonaws.com.cn/team/ml-core@sha256:${digest}`, true],
    ["111122223333.dkr.ecr.eu-west-1.amazonaws.com/ml-core:latest", false],
    [`111122223333.dkr.ecr.eu-west-1.amazonaws.com/ml-core@sha256:${"a".repeat(63)}`, false],
    [`docker.io/library/ml-core@sha256:${digest}`, false],
  ])("%s: %s", (image, ok) => {
    expect(IMAGE_BY_DIGEST.test(image)).toBe(ok);
  });
});

describe("S3 URIs", () => {
  it.each<[string, { bucket: string; key: string } | undefined]>([
    ["s3://churn-artifacts/training-output/job/output/model.tar.gz", { bucket: "churn-artifacts", key: "training-output/job/output/model.tar.gz" }],
    ["s3://churn-artifacts/models/", { bucket: "churn-artifacts", key: "models/" }],
    ["s3://churn-artifacts", { bucket: "churn-artifacts", key: "" }],
    ["s3://Churn/x", undefined],
    ["s3://ab/x", undefined],
    ["https://churn-artifacts.s3.amazonaws.com/x", undefined],
  ])("%s", (uri, expected) => {
    expect(matchS3Uri(uri)).toEqual(expected);
  });

  it("joins a prefix and keys with exactly one slash, and prints a location back", () => {
    expect(joinS3("s3://b-1/datasets/churn/v1/", "/validation/")).toBe("s3://b-1/datasets/churn/v1/validation");
    expect(s3Uri({ bucket: "b-1", key: "models/x" })).toBe("s3://b-1/models/x");
  });
});

describe("names", () => {
  it.each([
    ["churn", true],
    ["flight-delays", true],
    ["c", false],
    ["Churn", false],
    ["churn-", false],
    ["a".repeat(33), false],
  ])("model name %s: %s", (name, ok) => {
    expect(MODEL_NAME.test(name)).toBe(ok);
  });

  it("puts SageMaker resource names into ARNs in lower case", () => {
    expect(sagemakerArn("aws", "eu-west-1", "111122223333", "training-job", "Churn-Dev-1")).toBe(
      "arn:aws:sagemaker:eu-west-1:111122223333:training-job/churn-dev-1",
    );
  });
});
