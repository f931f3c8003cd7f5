// The pack's feature-store rules: each with a violating example, and the real stacks passing them.
import type { Unwrap } from "@pulumi/pulumi";
import type * as aws from "@pulumi/aws";
import { beforeAll, describe, expect, expectTypeOf, it } from "vitest";
import type { FeatureGroupProps } from "../infra/policy-pack/lib/types";
import { featureStorePolicies } from "../infra/policy-pack/rules/feature-store";
import { policies, type PlatformPolicy } from "../infra/policy-pack/policies";
import { engineView, evaluatePack, runResourcePolicy, runStackPolicy, urnOf, type FakeResource } from "./helpers/policy-harness";
import { planStack } from "./helpers/platform";
import type { PlanResult } from "../infra/offline/mock-run";

const policy = (name: string): PlatformPolicy => featureStorePolicies.find((p) => p.name === name)!;
const KEY_ARN = "arn:aws:kms:eu-west-1:123456789012:key/k1";
const OTHER_KEY = "arn:aws:kms:eu-west-1:999999999999:key/theirs";
const GROUP = "aws:sagemaker/featureGroup:FeatureGroup";

const key: FakeResource = { type: "aws:kms/key:Key", name: "key", props: { arn: KEY_ARN, id: "k1", keyId: "k1" } };
const bucket: FakeResource = {
  type: "aws:s3/bucket:Bucket",
  name: "datasets",
  props: { id: "datasets-b", bucket: "datasets-b", arn: "arn:aws:s3:::datasets-b" },
};
const group = (props: Record<string, unknown>, type = GROUP): FakeResource => ({ type, name: "flights", props: { featureGroupName: "flights", ...props } });
const offline = (s3Uri: string, kmsKeyId?: string) => ({
  offlineStoreConfig: { s3StorageConfig: { s3Uri, ...(kmsKeyId ? { kmsKeyId } : {}) }, tableFormat: "Iceberg" },
});
const online = (kmsKeyId?: string) => ({ onlineStoreConfig: { enableOnlineStore: true, ...(kmsKeyId ? { securityConfig: { kmsKeyId } } : {}) } });

const stackMessages = async (name: string, resources: FakeResource[]) => (await runStackPolicy(policy(name), resources)).violations.map((v) => v.message);
const resourceMessages = async (name: string, resource: FakeResource) => (await runResourcePolicy(policy(name), resource)).violations.map((v) => v.message);

describe("the props the feature-store rules read", () => {
  it("are the AWS SDK's fields, with its types (checked by tsc)", () => {
    expectTypeOf<Exclude<keyof FeatureGroupProps, keyof aws.sagemaker.FeatureGroupArgs>>().toEqualTypeOf<never>();
    expectTypeOf<Unwrap<aws.sagemaker.FeatureGroupArgs>>().toExtend<FeatureGroupProps>();
  });

  it("are registered in the pack", () => {
    for (const p of featureStorePolicies) expect(policies).toContain(p);
  });
});

describe("sagemaker-feature-group-offline-store-cmk", () => {
  const name = "sagemaker-feature-group-offline-store-cmk";
  it.each([
    ["no key (S3 would use aws/s3)", offline("s3://datasets-b/feature-store/"), "kmsKeyId: no KMS key is named"],
    ["the AWS managed key", offline("s3://datasets-b/feature-store/", "alias/aws/s3"), '"alias/aws/s3" is an AWS managed key'],
    ["another account's key", offline("s3://datasets-b/feature-store/", OTHER_KEY), `(${JSON.stringify(OTHER_KEY)}) is not a KMS key of this stack`],
  ])("flags %s", async (_, props, message) => {
    expect(await stackMessages(name, [key, bucket, group(props)])).toEqual([expect.stringContaining(message)]);
  });

  it("flags aws-native's FeatureGroup too", async () => {
    expect(await stackMessages(name, [key, group(offline("s3://datasets-b/x/"), "aws-native:sagemaker:FeatureGroup")])).toHaveLength(1);
  });

  it("passes the stack's key, named by ARN or flowing in from the key (a preview)", async () => {
    expect(await stackMessages(name, [key, group(offline("s3://datasets-b/feature-store/", KEY_ARN))])).toEqual([]);
    const unknownYet: FakeResource = {
      ...group(offline("s3://datasets-b/feature-store/", "")),
      propertyDependencies: { offlineStoreConfig: [urnOf("aws:kms/key:Key", "key")] },
    };
    // An empty key is still "no key", whatever flows in.
    expect(await stackMessages(name, [key, unknownYet])).toHaveLength(1);
    const flowing: FakeResource = {
      ...group(offline("s3://datasets-b/feature-store/", "k-not-known-by-value")),
      propertyDependencies: { offlineStoreConfig: [urnOf("aws:kms/key:Key", "key")] },
    };
    expect(await stackMessages(name, [key, flowing])).toEqual([]);
  });

  it("does not apply without feature groups, nor to a group without an offline store", async () => {
    expect((await runStackPolicy(policy(name), [key])).notApplicable).toBe("no feature groups in the stack");
    expect(await stackMessages(name, [key, group(online(KEY_ARN))])).toEqual([]);
  });
});

describe("sagemaker-feature-group-online-store-kms", () => {
  const name = "sagemaker-feature-group-online-store-kms";
  it("flags an online store without a key (an AWS owned key) or with an AWS managed one", async () => {
    expect(await resourceMessages(name, group(online()))).toEqual([expect.stringContaining("onlineStoreConfig.securityConfig.kmsKeyId: no KMS key is named")]);
    expect(await resourceMessages(name, group(online("alias/aws/sagemaker")))).toEqual([expect.stringContaining("is an AWS managed key")]);
  });

  it("passes a customer key, and does not apply without an online store", async () => {
    expect(await resourceMessages(name, group(online(KEY_ARN)))).toEqual([]);
    expect((await runResourcePolicy(policy(name), group({ onlineStoreConfig: { enableOnlineStore: false } }))).notApplicable).toBe("no online store");
  });
});

describe("sagemaker-feature-group-offline-store-in-stack-bucket", () => {
  const name = "sagemaker-feature-group-offline-store-in-stack-bucket";
  it("flags an offline store in a bucket the stack does not own (the pack cannot see it is private)", async () => {
    expect(await stackMessages(name, [bucket, group(offline("s3://public-data-lake/features/", KEY_ARN))])).toEqual([
      expect.stringContaining('s3Uri ("s3://public-data-lake/features/") is not in a bucket of this stack'),
    ]);
  });

  it("passes the stack's dataset bucket", async () => {
    expect(await stackMessages(name, [bucket, group(offline("s3://datasets-b/feature-store/", KEY_ARN))])).toEqual([]);
  });
});

describe("the real stacks", () => {
  const plans: Record<string, PlanResult> = {};
  beforeAll(async () => {
    for (const stack of ["dev", "prod"]) plans[stack] = await planStack(stack);
  }, 120_000);

  it.each(["dev", "prod"])("%s passes every feature-store rule, and they apply", async (stack) => {
    const { violations, applied } = await evaluatePack(featureStorePolicies, engineView(plans[stack]!));
    expect(violations).toEqual([]);
    const expected = ["sagemaker-feature-group-offline-store-cmk", "sagemaker-feature-group-offline-store-in-stack-bucket"];
    if (stack === "prod") expected.push("sagemaker-feature-group-online-store-kms");
    expect([...applied].sort()).toEqual(expected.sort());
  });

  it("prod's feature group fails the pack once its offline store loses the key", async () => {
    const view = engineView(plans.prod!);
    const fg = view.outputs.find((r) => r.type === GROUP)!;
    const config = fg.props.offlineStoreConfig as { s3StorageConfig: Record<string, unknown> };
    fg.props = { ...fg.props, offlineStoreConfig: { ...config, s3StorageConfig: { ...config.s3StorageConfig, kmsKeyId: undefined } } };
    const { violations } = await evaluatePack(featureStorePolicies, view);
    expect(violations.map((v) => v.policy)).toEqual(["sagemaker-feature-group-offline-store-cmk"]);
  });
});
