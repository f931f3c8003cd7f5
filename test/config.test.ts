import { describe, expect, it } from "vitest";
import { ConfigError, parsePlatformConfig, platformSettings } from "../infra/config";
import { parseHyperparameters } from "@ml-platform/ml-core";
import { listStacks, readStackConfig } from "../infra/offline/mock-run";

/** A stack's config as the program sees it: keys without the namespace, values decoded. */
function rawConfig(stack: string): { raw: Record<string, unknown>; region: string | undefined } {
  const all = readStackConfig(stack);
  return { raw: platformSettings(all), region: all["aws:region"] };
}

function problemsOf(stack: string, mutate: (raw: Record<string, any>) => void): string[] {
  const { raw, region } = rawConfig(stack);
  const copy = structuredClone(raw);
  mutate(copy);
  try {
    parsePlatformConfig(stack, copy, region);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return [...(e as ConfigError).problems];
  }
  throw new Error("expected the config to be rejected");
}

describe("stack config files", () => {
  it("has the three environments", () => {
    expect(listStacks()).toEqual(["dev", "prod", "staging"]);
  });

  it.each(["dev", "staging", "prod"])("%s validates", (stack) => {
    const { raw, region } = rawConfig(stack);
    const config = parsePlatformConfig(stack, raw, region);
    expect(config.stack).toBe(stack);
    expect(config.region).toBe("eu-west-1");
    expect(config.tags.owner).toBeTruthy();
    expect(config.tags.costCenter).toBeTruthy();
  });

  it("differs between environments where it should: serverless dev, highly available prod", () => {
    const dev = parsePlatformConfig("dev", rawConfig("dev").raw, "eu-west-1");
    const prod = parsePlatformConfig("prod", rawConfig("prod").raw, "eu-west-1");
    expect(dev.serving.mode).toBe("serverless");
    expect(prod.serving).toMatchObject({ mode: "instances", highAvailability: true });
    expect(prod.artifactStore).toMatchObject({ protect: true, retainOnDelete: true, forceDestroy: false });
    expect(dev.artifactStore.forceDestroy).toBe(true);
  });
});

describe("invalid config", () => {
  it.each<[string, string, (raw: Record<string, any>) => void, string]>([
    ["autoscaling bounds inverted", "prod", (r) => { r.serving.autoscaling.min = 3; r.serving.autoscaling.max = 2; r.serving.instanceCount = 2; },
      "prod: mlPlatform:serving.autoscaling.min (3) exceeds serving.autoscaling.max (2)"],
    ["instance count outside the autoscaling bounds", "staging", (r) => { r.serving.instanceCount = 5; },
      "staging: mlPlatform:serving.instanceCount (5) is outside serving.autoscaling bounds [1, 3]"],
    ["high availability with one instance", "prod", (r) => { r.serving.instanceCount = 1; r.serving.autoscaling.min = 1; },
      "prod: mlPlatform:serving.instanceCount (1) must be at least 2 when serving.highAvailability is true"],
    ["unsupported serverless memory size", "dev", (r) => { r.serving.memorySizeMb = 1500; },
      "dev: mlPlatform:serving.memorySizeMb (1500)"],
    ["provisioned concurrency above the maximum", "dev", (r) => { r.serving.provisionedConcurrency = 9; },
      "dev: mlPlatform:serving.provisionedConcurrency (9) exceeds serving.maxConcurrency (5)"],
    ["data capture on serverless", "dev", (r) => { r.dataCapture = { enabled: true, samplingPercent: 10 }; },
      "dev: mlPlatform:dataCapture.enabled (true) is not supported with serving.mode serverless"],
    ["unknown serving mode", "dev", (r) => { r.serving.mode = "lambda"; },
      "dev: mlPlatform:serving.mode (\"lambda\")"],
    ["bad instance type", "prod", (r) => { r.serving.instanceType = "m5.large"; },
      "prod: mlPlatform:serving.instanceType (\"m5.large\") must be a SageMaker instance type such as ml.m5.large"],
    ["log retention CloudWatch does not offer", "dev", (r) => { r.logRetentionDays = 10; },
      "dev: mlPlatform:logRetentionDays (10) must be one of CloudWatch Logs' retention periods"],
    ["missing owner tag", "prod", (r) => { delete r.tags.owner; },
      "prod: mlPlatform:tags.owner is missing"],
    ["image not pinned by digest", "dev", (r) => { r.model = { artifactUri: "s3://b/m/model.tar.gz", image: "123456789012.dkr.ecr.eu-west-1.amazonaws.com/ml-core:latest" }; },
      "dev: mlPlatform:model"],
    ["model package ARN of a group, not a version", "staging", (r) => { r.model.packageArn = "arn:aws:sagemaker:eu-west-1:111122223333:model-package-group/churn"; },
      "staging: mlPlatform:model"],
    ["spot training without a wait limit", "dev", (r) => { delete r.training.maxWaitSeconds; },
      "dev: mlPlatform:training.maxWaitSeconds is required when training.spot is true"],
    ["spot wait shorter than the runtime", "dev", (r) => { r.training.maxWaitSeconds = 60; },
      "dev: mlPlatform:training.maxWaitSeconds (60) is less than training.maxRuntimeSeconds (3600)"],
    ["protected data that is also force-destroyed", "prod", (r) => { r.artifactStore.forceDestroy = true; },
      "prod: mlPlatform:artifactStore.forceDestroy (true) conflicts with artifactStore.protect/retainOnDelete"],
    ["canary larger than SageMaker allows", "prod", (r) => { r.serving.deployment.canaryPercent = 80; },
      "prod: mlPlatform:serving.deployment.canaryPercent (80)"],
    ["a typo in a key", "prod", (r) => { r.servng = r.serving; },
      "prod: mlPlatform:servng is not a known setting"],
    ["a typo in a nested key", "prod", (r) => { r.alarms.modelLatencyP99 = 5; },
      "prod: mlPlatform:alarms.modelLatencyP99 is not a known setting"],
  ])("rejects %s", (_case, stack, mutate, expected) => {
    const problems = problemsOf(stack, mutate);
    expect(problems.some((p) => p.startsWith(expected)), `got:\n${problems.join("\n")}`).toBe(true);
  });

  it("lists every problem at once", () => {
    const problems = problemsOf("prod", (r) => {
      r.serving.autoscaling.min = 3;
      r.serving.autoscaling.max = 2;
      r.logRetentionDays = 10;
      delete r.modelName;
    });
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringContaining("prod: mlPlatform:logRetentionDays (10)"),
        "prod: mlPlatform:modelName is missing",
      ]),
    );
    // Cross-key rules run once every key is individually valid, so this list is the schema's.
    expect(problems).toHaveLength(2);
  });

  it("names the missing region", () => {
    const { raw } = rawConfig("dev");
    expect(() => parsePlatformConfig("dev", raw, undefined)).toThrow(/dev: aws:region is missing/);
  });

  it("puts the stack and every problem in the error message", () => {
    const { raw, region } = rawConfig("prod");
    const broken = { ...raw, logRetentionDays: 10 };
    expect(() => parsePlatformConfig("prod", broken, region)).toThrow(/invalid configuration for stack "prod" \(1 problem\):\n {2}prod: mlPlatform:logRetentionDays/);
  });
});

describe("training settings against ml-core", () => {
  it.each(["dev", "staging", "prod"])("%s's hyperparameters are ones ml-core train accepts", (stack) => {
    const { raw, region } = rawConfig(stack);
    const config = parsePlatformConfig(stack, raw, region);
    // SageMaker hands every hyperparameter to the container as a string.
    const asStrings = Object.fromEntries(Object.entries(config.training.hyperparameters).map(([k, v]) => [k, String(v)]));
    expect(() => parseHyperparameters(asStrings)).not.toThrow();
    expect(() => parseHyperparameters({ ...asStrings, num_rounds: "5" })).toThrow(/unknown hyperparameter "num_rounds"/);
  });
});
