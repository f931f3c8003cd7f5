import { describe, expect, it } from "vitest";
import { ConfigError, parseStackSettings, stackSettings, type PlatformSettings } from "../src/settings";
import { STACKS, stackConfig } from "./stacks";

/** The problems `mutate` causes in a real stack's settings (mutate gets the `mlPlatform:` keys without the namespace). */
function problemsOf(stack: string, mutate: (settings: Record<string, any>) => void): string[] {
  const config = structuredClone(stackConfig(stack));
  const settings: Record<string, any> = Object.fromEntries(
    Object.entries(config)
      .filter(([k]) => k.startsWith("mlPlatform:"))
      .map(([k, v]) => [k.slice("mlPlatform:".length), v]),
  );
  mutate(settings);
  const mutated = {
    ...Object.fromEntries(Object.entries(config).filter(([k]) => !k.startsWith("mlPlatform:"))),
    ...Object.fromEntries(Object.entries(settings).map(([k, v]) => [`mlPlatform:${k}`, v])),
  };
  const result = parseStackSettings(stack, mutated);
  if (result.ok) throw new Error("expected the settings to be rejected");
  return result.problems.map((p) => p.text);
}

function valid(stack: string): PlatformSettings {
  const result = parseStackSettings(stack, stackConfig(stack));
  if (!result.ok) throw new Error(result.problems.map((p) => p.text).join("\n"));
  return result.settings;
}

describe("the repository's stack files", () => {
  it.each(STACKS)("%s is valid", (stack) => {
    const settings = valid(stack);
    expect(settings.tags.owner).toBeTruthy();
    expect(settings.tags.costCenter).toBeTruthy();
  });

  it("differ where environments should: serverless dev, highly available prod", () => {
    const dev = valid("dev");
    const prod = valid("prod");
    expect(dev.serving).toMatchObject({ target: "sagemaker", mode: "serverless" });
    expect(prod.serving).toMatchObject({ mode: "instances", highAvailability: true });
    expect(prod.artifactStore).toMatchObject({ protect: true, retainOnDelete: true, forceDestroy: false });
    expect(dev.artifactStore.forceDestroy).toBe(true);
  });

  it("ask for a confirmation before promoting or rolling back into prod only", () => {
    expect(valid("prod").deployer.requireConfirmation).toBe(true);
    expect(valid("staging").deployer.requireConfirmation).toBe(false);
    expect(valid("dev").deployer.requireConfirmation).toBe(false);
  });
});

describe("defaults", () => {
  it("fill every optional key a stack leaves out", () => {
    const settings = stackSettings("dev", {
      "mlPlatform:modelName": "churn",
      "mlPlatform:tags": { owner: "team", costCenter: "CC-1" },
      "mlPlatform:logRetentionDays": 7,
      "mlPlatform:serving": { mode: "serverless", memorySizeMb: 2048, maxConcurrency: 5 },
      "mlPlatform:dataCapture": { enabled: false },
      "mlPlatform:alarms": { invocation5xxErrors: 1, modelLatencyP99Ms: 100 },
      "mlPlatform:training": { instanceType: "ml.m5.large", datasetPrefix: "datasets/churn/v1" },
    });
    expect(settings.model).toBeUndefined();
    expect(settings.deployer).toEqual({ trustedPrincipalArns: [], requireConfirmation: false });
    expect(settings.promotion).toEqual({ requireApproval: true, minMetrics: {}, maxMetrics: {}, smokeMaxLatencyMs: 1000 });
    expect(settings.images).toEqual({ repositories: ["ml-core"], untaggedExpiryDays: 7 });
    expect(settings.training).toMatchObject({ instanceCount: 1, volumeSizeGb: 30, maxRuntimeSeconds: 3600, spot: false, hyperparameters: {} });
    expect(settings.artifactStore).toMatchObject({ retainOnDelete: false, protect: false, forceDestroy: false, dataCaptureExpirationDays: 90 });
  });

  it("fill the usage profile, no budget and the monitoring thresholds when a stack sets none", () => {
    const config = Object.fromEntries(
      Object.entries(stackConfig("staging")).filter(([k]) => !["mlPlatform:usage", "mlPlatform:budget", "mlPlatform:monitoring"].includes(k)),
    );
    const settings = stackSettings("staging", config);
    expect(settings.usage).toMatchObject({ requestsPerMonth: 0, activeHoursPerMonth: 730, trainingRunsPerMonth: 0, variation: 0.5 });
    expect(settings.budget).toBeUndefined();
    expect(settings.monitoring).toMatchObject({ invocation4xxRatePercent: 5, atMaxCapacityMinutes: 15, trainingFailures: true, pipelineFailures: true });
    expect(settings.monitoring.noInvocationsMinutes).toBeUndefined();
  });

  it("read an empty `mlPlatform:model:` as no model yet", () => {
    const config = { ...stackConfig("staging"), "mlPlatform:model": null };
    expect(stackSettings("staging", config).model).toBeUndefined();
  });

  it("ignore other namespaces (aws:region is the provider's)", () => {
    const config = { ...stackConfig("dev"), "aws:region": "eu-west-1", "aws:profile": "x" };
    expect(parseStackSettings("dev", config).ok).toBe(true);
  });
});

describe("invalid settings", () => {
  it.each<[string, string, (raw: Record<string, any>) => void, string]>([
    [
      "autoscaling bounds inverted",
      "prod",
      (r) => {
        r.serving.autoscaling.min = 3;
        r.serving.autoscaling.max = 2;
        r.serving.instanceCount = 2;
      },
      "prod: mlPlatform:serving.autoscaling.min (3) exceeds serving.autoscaling.max (2)",
    ],
    [
      "instance count outside the autoscaling bounds",
      "staging",
      (r) => {
        r.serving.instanceCount = 5;
      },
      "staging: mlPlatform:serving.instanceCount (5) is outside serving.autoscaling bounds [1, 3]",
    ],
    [
      "high availability with one instance",
      "prod",
      (r) => {
        r.serving.instanceCount = 1;
        r.serving.autoscaling.min = 1;
      },
      "prod: mlPlatform:serving.instanceCount (1) must be at least 2 when serving.highAvailability is true",
    ],
    [
      "unsupported serverless memory size",
      "dev",
      (r) => {
        r.serving.memorySizeMb = 1500;
      },
      "dev: mlPlatform:serving.memorySizeMb (1500) must be one of 1024, 2048, 3072, 4096, 5120, 6144",
    ],
    [
      "provisioned concurrency above the maximum",
      "dev",
      (r) => {
        r.serving.provisionedConcurrency = 9;
      },
      "dev: mlPlatform:serving.provisionedConcurrency (9) exceeds serving.maxConcurrency (5)",
    ],
    [
      "data capture on serverless",
      "dev",
      (r) => {
        r.dataCapture = { enabled: true, samplingPercent: 10 };
      },
      "dev: mlPlatform:dataCapture.enabled (true) is not supported with serving.mode serverless",
    ],
    [
      "unknown serving mode",
      "dev",
      (r) => {
        r.serving.mode = "lambda";
      },
      'dev: mlPlatform:serving.mode ("lambda") must be one of: serverless, instances',
    ],
    [
      "bad instance type",
      "prod",
      (r) => {
        r.serving.instanceType = "m5.large";
      },
      'prod: mlPlatform:serving.instanceType ("m5.large") must be a SageMaker instance type such as ml.m5.large',
    ],
    [
      "log retention CloudWatch does not offer",
      "dev",
      (r) => {
        r.logRetentionDays = 10;
      },
      "dev: mlPlatform:logRetentionDays (10) must be one of CloudWatch Logs' retention periods",
    ],
    [
      "a policy pack config outside the repository",
      "prod",
      (r) => {
        r.policyPack = { required: true, config: "../pack.json" };
      },
      "prod: mlPlatform:policyPack.config (\"../pack.json\") must not contain '.' or '..' segments",
    ],
    [
      "a policy pack config that is not JSON",
      "prod",
      (r) => {
        r.policyPack = { required: true, config: "infra/policy-pack/prod.yaml" };
      },
      'prod: mlPlatform:policyPack.config ("infra/policy-pack/prod.yaml") must name a .json file',
    ],
    [
      "missing owner tag",
      "prod",
      (r) => {
        delete r.tags.owner;
      },
      "prod: mlPlatform:tags.owner is missing",
    ],
    [
      "image not pinned by digest",
      "dev",
      (r) => {
        r.model = { artifactUri: "s3://b/m/model.tar.gz", image: "123456789012.dkr.ecr.eu-west-1.amazonaws.com/ml-core:latest" };
      },
      "dev: mlPlatform:model",
    ],
    [
      "model package ARN of a group, not a version",
      "staging",
      (r) => {
        r.model.packageArn = "arn:aws:sagemaker:eu-west-1:111122223333:model-package-group/churn";
      },
      "staging: mlPlatform:model",
    ],
    [
      "spot training without a wait limit",
      "dev",
      (r) => {
        delete r.training.maxWaitSeconds;
      },
      "dev: mlPlatform:training.maxWaitSeconds is required when training.spot is true",
    ],
    [
      "spot wait shorter than the runtime",
      "dev",
      (r) => {
        r.training.maxWaitSeconds = 60;
      },
      "dev: mlPlatform:training.maxWaitSeconds (60) is less than training.maxRuntimeSeconds (3600)",
    ],
    [
      "an unknown training algorithm",
      "dev",
      (r) => {
        r.training.algorithm = "lightgbm";
      },
      'dev: mlPlatform:training.algorithm ("lightgbm")',
    ],
    [
      "an XGBoost container version whose artifact ml-core cannot serve",
      "dev",
      (r) => {
        r.training.algorithm = "xgboost";
        r.training.xgboostVersion = "1.7-1";
      },
      'dev: mlPlatform:training.xgboostVersion ("1.7-1") must be one of 3.0-5 (versions whose model ml-core can serve)',
    ],
    [
      "an XGBoost version on an ml-core stack",
      "dev",
      (r) => {
        r.training.xgboostVersion = "3.0-5";
      },
      "dev: mlPlatform:training.xgboostVersion (3.0-5) is only used with training.algorithm xgboost (it is ml-core)",
    ],
    [
      "a dataset prefix with a trailing slash",
      "dev",
      (r) => {
        r.training.datasetPrefix = "datasets/x/";
      },
      'dev: mlPlatform:training.datasetPrefix ("datasets/x/") must be an S3 key prefix',
    ],
    [
      "a dataset prefix that climbs out of its folder",
      "dev",
      (r) => {
        r.training.datasetPrefix = "datasets/../other";
      },
      "dev: mlPlatform:training.datasetPrefix (\"datasets/../other\") must not contain '.' or '..' segments",
    ],
    [
      "a dataset prefix with a wildcard",
      "dev",
      (r) => {
        r.training.datasetPrefix = "datasets/*";
      },
      'dev: mlPlatform:training.datasetPrefix ("datasets/*") must be an S3 key prefix',
    ],
    [
      "training instance types that leave out the training instance type",
      "dev",
      (r) => {
        r.training.allowedInstanceTypes = ["ml.c5.xlarge"];
      },
      'dev: mlPlatform:training.allowedInstanceTypes (["ml.c5.xlarge"]) does not include training.instanceType',
    ],
    [
      "a policy pack config that is not a JSON file",
      "prod",
      (r) => {
        r.policyPack.config = "infra/policy-pack/config/prod.yaml";
      },
      'prod: mlPlatform:policyPack.config ("infra/policy-pack/config/prod.yaml") must name a .json file',
    ],
    [
      "protected data that is also force-destroyed",
      "prod",
      (r) => {
        r.artifactStore.forceDestroy = true;
      },
      "prod: mlPlatform:artifactStore.forceDestroy (true) conflicts with artifactStore.protect/retainOnDelete",
    ],
    [
      "canary larger than SageMaker allows",
      "prod",
      (r) => {
        r.serving.deployment.canaryPercent = 80;
      },
      "prod: mlPlatform:serving.deployment.canaryPercent (80)",
    ],
    [
      "a gate on something that is not a metric name",
      "prod",
      (r) => {
        r.promotion.minMetrics = { auc: 0.8 };
      },
      "prod: mlPlatform:promotion.minMetrics.auc is not a valid key: metric names look like <channel>:<metric>, e.g. validation:auc",
    ],
    [
      "a confirmation flag that is not a boolean",
      "prod",
      (r) => {
        r.deployer.requireConfirmation = "yes";
      },
      'prod: mlPlatform:deployer.requireConfirmation ("yes") Invalid input: expected boolean',
    ],
    [
      "negative traffic in the usage profile",
      "prod",
      (r) => {
        r.usage.requestsPerMonth = -1;
      },
      "prod: mlPlatform:usage.requestsPerMonth (-1) Too small: expected number to be >=0",
    ],
    [
      "more active hours than a month has",
      "dev",
      (r) => {
        r.usage.activeHoursPerMonth = 800;
      },
      "dev: mlPlatform:usage.activeHoursPerMonth (800) Too big: expected number to be <=744",
    ],
    [
      "a usage variation above 1",
      "staging",
      (r) => {
        r.usage.variation = 1.5;
      },
      "staging: mlPlatform:usage.variation (1.5) Too big: expected number to be <=1",
    ],
    [
      "a typo in a usage key",
      "prod",
      (r) => {
        r.usage.requestPerMonth = 5;
      },
      "prod: mlPlatform:usage.requestPerMonth is not a known setting",
    ],
    [
      "a budget of zero",
      "prod",
      (r) => {
        r.budget.monthlyUsd = 0;
      },
      "prod: mlPlatform:budget.monthlyUsd (0) Too small: expected number to be >0",
    ],
    [
      "a budget without its amount",
      "dev",
      (r) => {
        r.budget = {};
      },
      "dev: mlPlatform:budget.monthlyUsd is missing",
    ],
    [
      "a 4XX rate above 100%",
      "prod",
      (r) => {
        r.monitoring.invocation4xxRatePercent = 150;
      },
      "prod: mlPlatform:monitoring.invocation4xxRatePercent (150) Too big: expected number to be <=100",
    ],
    [
      "a no-traffic alarm after a fraction of a minute",
      "prod",
      (r) => {
        r.monitoring.noInvocationsMinutes = 0.5;
      },
      "prod: mlPlatform:monitoring.noInvocationsMinutes (0.5) Invalid input: expected int, received number",
    ],
    [
      "a monitoring period CloudWatch's standard alarms do not take",
      "prod",
      (r) => {
        r.monitoring.periodSeconds = 30;
      },
      "prod: mlPlatform:monitoring.periodSeconds (30) Too small: expected number to be >=60",
    ],
    [
      "a typo in a key",
      "prod",
      (r) => {
        r.servng = r.serving;
      },
      "prod: mlPlatform:servng is not a known setting",
    ],
    [
      "a typo in a nested key",
      "prod",
      (r) => {
        r.alarms.modelLatencyP99 = 5;
      },
      "prod: mlPlatform:alarms.modelLatencyP99 is not a known setting",
    ],
  ])("rejects %s", (_case, stack, mutate, expected) => {
    const problems = problemsOf(stack, mutate);
    expect(
      problems.some((p) => p.startsWith(expected)),
      `got:\n${problems.join("\n")}`,
    ).toBe(true);
  });

  it("lists every problem at once, each with its key and path", () => {
    const config = { ...stackConfig("prod"), "mlPlatform:logRetentionDays": 10, "mlPlatform:modelName": undefined, "mlPlatform:servng": {} };
    const result = parseStackSettings("prod", config);
    expect(result.ok).toBe(false);
    const problems = result.ok ? [] : result.problems;
    expect(problems.map((p) => p.text)).toEqual(
      expect.arrayContaining([
        expect.stringContaining("prod: mlPlatform:logRetentionDays (10)"),
        "prod: mlPlatform:modelName is missing",
        "prod: mlPlatform:servng is not a known setting",
      ]),
    );
    expect(problems).toHaveLength(3);
    expect(problems.find((p) => p.key === "mlPlatform:logRetentionDays")).toMatchObject({
      path: ["logRetentionDays"],
      message: expect.stringMatching(/^\(10\) must be one of/),
    });
  });

  it("runs the rules that span keys once every key is valid on its own", () => {
    const problems = problemsOf("prod", (r) => {
      r.serving.autoscaling.min = 3;
      r.serving.autoscaling.max = 2;
      r.logRetentionDays = 10;
    });
    expect(problems).toEqual([expect.stringContaining("prod: mlPlatform:logRetentionDays (10)")]);
  });

  it("throws one ConfigError naming the stack and every problem", () => {
    const broken = { ...stackConfig("prod"), "mlPlatform:logRetentionDays": 10 };
    expect(() => stackSettings("prod", broken)).toThrow(ConfigError);
    expect(() => stackSettings("prod", broken)).toThrow(/^invalid configuration for stack "prod" \(1 problem\):\n {2}prod: mlPlatform:logRetentionDays \(10\)/);
  });
});
