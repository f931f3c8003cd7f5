import * as fs from "node:fs";
import * as path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import type { PlanResult } from "../infra/offline/mock-run";
import { policies } from "../infra/policy-pack/policies";
import { engineView, evaluatePack, type PolicyConfig } from "./helpers/policy-harness";
import { planStack } from "./helpers/platform";

const packConfig = (file: string) => JSON.parse(fs.readFileSync(path.join(__dirname, "..", "infra", "policy-pack", "config", file), "utf8")) as PolicyConfig;
const PROD_CONFIG = packConfig("prod.json");

const plans: Record<string, PlanResult> = {};
beforeAll(async () => {
  for (const stack of ["dev", "staging", "prod"]) plans[stack] = await planStack(stack);
});

describe.each([
  ["dev", {}],
  ["staging", {}],
  ["prod", PROD_CONFIG],
] as const)("stack %s under the mocked provider", (stack, config) => {
  it("passes every policy of the pack", async () => {
    const { violations } = await evaluatePack(policies, engineView(plans[stack]), config);
    expect(violations).toEqual([]);
  });
});

describe("the real stacks exercise the rules (a pass is not a rule that never ran)", () => {
  const ALWAYS = [
    "s3-bucket-kms-encryption",
    "s3-bucket-public-access-blocked",
    "s3-bucket-tls-only",
    "s3-bucket-versioning",
    "s3-bucket-lifecycle",
    "s3-bucket-acls-disabled",
    "s3-bucket-deny-non-cmk-uploads",
    "s3-bucket-access-logging",
    "kms-key-rotation",
    "resource-policy-principals",
    "kms-key-policy-separation-of-duties",
    "ecr-scan-on-push",
    "ecr-immutable-tags",
    "ecr-kms-encryption",
    "ecr-lifecycle-policy",
    "iam-no-wildcard-actions",
    "iam-no-wildcard-resource",
    "iam-no-full-access-managed-policies",
    "iam-trust-policy",
    "sagemaker-model-network-isolation",
    "sagemaker-training-log-group",
    "sagemaker-separate-training-hosting-roles",
    "cloudwatch-log-group-retention-kms",
    "sns-topic-kms",
    "cloudwatch-alarm-actions",
    "required-tags",
  ];

  it.each(["dev", "staging", "prod"])("%s: every resource rule meets a resource it governs", async (stack) => {
    const { applied } = await evaluatePack(policies, engineView(plans[stack]), stack === "prod" ? PROD_CONFIG : {});
    expect([...applied].sort()).toEqual(expect.arrayContaining(ALWAYS));
  });

  it("applies the instance-only and production rules to prod, and not the production rules to staging or the instance rules to dev", async () => {
    const prod = await evaluatePack(policies, engineView(plans.prod), PROD_CONFIG);
    expect([...prod.applied]).toEqual(
      expect.arrayContaining([
        "sagemaker-endpoint-config-kms",
        "sagemaker-data-capture-kms",
        "sagemaker-prod-data-capture",
        "sagemaker-prod-high-availability",
      ]),
    );
    const staging = await evaluatePack(policies, engineView(plans.staging));
    expect([...staging.applied]).toContain("sagemaker-endpoint-config-kms");
    expect([...staging.applied]).not.toContain("sagemaker-prod-high-availability");
    const dev = await evaluatePack(policies, engineView(plans.dev));
    // Serverless: no KMS key on the endpoint config, no data capture, no isolation - and no violation.
    expect([...dev.applied]).not.toContain("sagemaker-endpoint-config-kms");
    expect([...dev.applied]).not.toContain("sagemaker-data-capture-kms");
  });

  it("recognises prod by its environment tag alone, without the prod policy config", async () => {
    const { applied, violations } = await evaluatePack(policies, engineView(plans.prod));
    expect(violations).toEqual([]);
    expect([...applied]).toEqual(expect.arrayContaining(["sagemaker-prod-data-capture", "sagemaker-prod-high-availability"]));
  });
});

describe("the pack catches a stack that regresses", () => {
  it("fails staging run as production: one instance, and autoscaling down to one", async () => {
    const { violations } = await evaluatePack(policies, engineView(plans.staging), PROD_CONFIG);
    expect(violations.map((v) => `${v.policy}: ${v.message}`)).toEqual(
      [
        'sagemaker-prod-high-availability: EndpointConfiguration "inference-config": variant "primary" initialInstanceCount is 1; production needs at least 2 (SageMaker spreads them over Availability Zones)',
        'sagemaker-prod-high-availability: Target "inference-scaling-target": minCapacity is 1; a production variant must not scale below 2 instances',
        'cloudwatch-log-group-retention-kms: LogGroup "store-training-logs": retentionInDays is 30; this stack requires at least 365',
        'cloudwatch-log-group-retention-kms: LogGroup "inference-logs": retentionInDays is 30; this stack requires at least 365',
      ].sort((a, b) => policies.findIndex((p) => a.startsWith(p.name)) - policies.findIndex((p) => b.startsWith(p.name))),
    );
  });

  it("fails prod when data capture is switched off", async () => {
    const plan = await planStack("prod", { "mlPlatform:dataCapture": { enabled: false } });
    const { violations } = await evaluatePack(policies, engineView(plan), PROD_CONFIG);
    expect(violations).toEqual([
      {
        policy: "sagemaker-prod-data-capture",
        message:
          'EndpointConfiguration "inference-config": data capture is off in production; set dataCaptureConfig with enableCapture true, a destination and a KMS key',
      },
    ]);
  });

  it("fails a prod stack moved to serverless inference: no capture, no isolation - it must serve from instances", async () => {
    const plan = await planStack("prod", {
      "mlPlatform:serving": { mode: "serverless", memorySizeMb: 2048, maxConcurrency: 5 },
      "mlPlatform:dataCapture": { enabled: false },
    });
    const violations = (await evaluatePack(policies, engineView(plan), PROD_CONFIG)).violations;
    expect(violations.map((v) => v.policy)).toEqual(["sagemaker-prod-data-capture"]);
    expect(violations[0].message).toContain('variant "primary" is serverless, which cannot capture data: serve production from instances');
  });
});
