// The storage guardrails the policy pack requires of the real program: access logging to a log
// bucket, uploads that cannot bypass the key, a key policy that separates duties, and the training
// log group - for every real stack, under mocks.
import { beforeAll, describe, expect, it } from "vitest";
import type { PlanResult } from "../infra/offline/mock-run";
import { policies } from "../infra/policy-pack/policies";
import { KEY_ADMINISTRATION_ACTIONS, KEY_USE_ACTIONS, platformKeyPolicy } from "../infra/policies/key-policy";
import { engineView, evaluatePack } from "./helpers/policy-harness";
import { json, ofType, one, planStack } from "./helpers/platform";

const plans: Record<string, PlanResult> = {};
beforeAll(async () => {
  for (const stack of ["dev", "staging", "prod"]) plans[stack] = await planStack(stack);
});

const byName = (plan: PlanResult, name: string) => {
  const found = plan.resources.find((r) => r.name === name);
  if (!found) throw new Error(`no resource ${name}`);
  return found;
};

describe("the platform key's policy", () => {
  const document = platformKeyPolicy({ accountId: "123456789012", partition: "aws", region: "eu-west-1" });

  it("grants no kms:* and keeps administration and use in separate statements", () => {
    const actions = document.Statement.flatMap((s) => [s.Action].flat());
    expect(actions.some((a) => a.includes("*"))).toBe(false);
    const admin = document.Statement.find((s) => s.Sid === "AccountAdministersKeyThroughIam")!;
    const use = document.Statement.find((s) => s.Sid === "AccountUsesKeyThroughIam")!;
    expect(admin.Action).toEqual([...KEY_ADMINISTRATION_ACTIONS]);
    expect(use.Action).toEqual([...KEY_USE_ACTIONS]);
    expect([admin.Action].flat()).not.toContain("kms:Decrypt");
    expect([use.Action].flat()).not.toContain("kms:PutKeyPolicy");
  });

  it("lets AWS services create grants only for AWS resources (SageMaker's encrypted volumes)", () => {
    expect(document.Statement.find((s) => [s.Action].flat().includes("kms:CreateGrant"))!.Condition).toEqual({ Bool: { "kms:GrantIsForAWSResource": true } });
  });
});

describe.each(["dev", "staging", "prod"])("stack %s", (stack) => {
  const plan = () => plans[stack];

  it("logs access of the datasets and artifacts buckets to the log bucket, each under its prefix", () => {
    const logBucket = byName(plan(), "store-access-logs-bucket");
    const logging = ofType(plan(), "aws:s3/bucketLogging:BucketLogging");
    expect(logging.map((l) => [l.name, l.inputs.bucket, l.inputs.targetBucket, l.inputs.targetPrefix]).sort()).toEqual(
      [
        ["store-artifacts-access-logging", "store-artifacts-bucket-id", logBucket.state.bucket, "artifacts/"],
        ["store-datasets-access-logging", "store-datasets-bucket-id", logBucket.state.bucket, "datasets/"],
      ].sort(),
    );
  });

  it("keeps the log bucket private, SSE-S3 (what log delivery supports), and writable only by S3 log delivery for those buckets", () => {
    const logBucketId = "store-access-logs-bucket-id";
    const sse = plan().resources.find((r) => r.name === "store-access-logs-encryption")!;
    expect(sse.inputs).toMatchObject({ bucket: logBucketId, rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } }] });
    expect(byName(plan(), "store-access-logs-public-access").inputs).toMatchObject({
      blockPublicAcls: true,
      blockPublicPolicy: true,
      ignorePublicAcls: true,
      restrictPublicBuckets: true,
    });
    const statements = json(byName(plan(), "store-access-logs-policy").inputs.policy).Statement;
    const delivery = statements.filter((s: any) => s.Principal?.Service === "logging.s3.amazonaws.com");
    expect(delivery.map((s: any) => s.Condition.ArnEquals["aws:SourceArn"]).sort()).toEqual(
      [byName(plan(), "store-artifacts-bucket").state.arn, byName(plan(), "store-datasets-bucket").state.arn].sort(),
    );
    for (const s of delivery)
      expect(s).toMatchObject({ Effect: "Allow", Action: "s3:PutObject", Condition: { StringEquals: { "aws:SourceAccount": "123456789012" } } });
    expect(statements.find((s: any) => s.Sid === "DenyInsecureTransport")).toBeDefined();
  });

  it("denies uploads to the data buckets that would bypass the platform key", () => {
    const keyArn = one(plan(), "aws:kms/key:Key").state.arn;
    for (const name of ["store-datasets-tls-only", "store-artifacts-tls-only"]) {
      const statements = json(byName(plan(), name).inputs.policy).Statement;
      expect(statements.find((s: any) => s.Sid === "DenyUploadsWithAnotherKmsKey").Condition).toEqual({
        StringNotEqualsIfExists: { "s3:x-amz-server-side-encryption-aws-kms-key-id": keyArn },
      });
      expect(statements.map((s: any) => s.Sid)).toEqual(
        expect.arrayContaining([
          "DenyInsecureTransport",
          "DenyUploadsWithAnotherKmsKey",
          "DenyUploadsWithAnotherEncryption",
          "DenyUploadsWithTheAwsManagedKey",
        ]),
      );
    }
  });

  it("creates the training-jobs log group with the key and the stack's log retention", () => {
    const group = byName(plan(), "store-training-logs");
    expect(group.inputs).toEqual({
      name: "/aws/sagemaker/TrainingJobs",
      kmsKeyId: one(plan(), "aws:kms/key:Key").state.arn,
      retentionInDays: { dev: 14, staging: 30, prod: 365 }[stack],
    });
  });
});

describe("a second stack in the same account and region", () => {
  it("leaves the training log group to the stack that owns it, and the pack accepts that only when told", async () => {
    const plan = await planStack("staging", { "mlPlatform:artifactStore": { trainingLogGroup: false } });
    expect(plan.resources.find((r) => r.name === "store-training-logs")).toBeUndefined();
    const missing = await evaluatePack(
      policies.filter((p) => p.name === "sagemaker-training-log-group"),
      engineView(plan),
    );
    expect(missing.violations.map((v) => v.message)).toEqual([expect.stringContaining("creates no /aws/sagemaker/TrainingJobs log group")]);
    const shared = await evaluatePack(
      policies.filter((p) => p.name === "sagemaker-training-log-group"),
      engineView(plan),
      { "sagemaker-training-log-group": { sharedTrainingLogGroup: true } },
    );
    expect(shared.violations).toEqual([]);
  });
});
