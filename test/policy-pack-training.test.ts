import { stackOutputsSchema } from "@ml-platform/contract";
import { StackFiles, trainingJobInput } from "@ml-platform/deploy-scripts";
import { beforeAll, describe, expect, it } from "vitest";
import { STACKS_DIR, type PlanResult } from "../infra/offline/mock-run";
import { TRAINING_JOB_RULES, validateTrainingJobRequest, type TrainingJobRequest } from "../infra/policy-pack/policies";
import { planStack } from "./helpers/platform";

const KEY = "arn:aws:kms:eu-west-1:123456789012:key/k1";
const GOOD: TrainingJobRequest = {
  TrainingJobName: "flight-delays-dev-20250101-000000",
  EnableInterContainerTrafficEncryption: true,
  EnableNetworkIsolation: true,
  EnableManagedSpotTraining: true,
  StoppingCondition: { MaxRuntimeInSeconds: 3600, MaxWaitTimeInSeconds: 7200 },
  ResourceConfig: { InstanceType: "ml.m5.large", InstanceCount: 2, VolumeKmsKeyId: KEY },
  OutputDataConfig: { S3OutputPath: "s3://artifacts/training-output/", KmsKeyId: KEY },
};
const withRequest = (changes: Partial<TrainingJobRequest>): TrainingJobRequest => ({ ...GOOD, ...changes });

describe("training job rules (pure functions over a CreateTrainingJob request)", () => {
  it("passes a request that encrypts everything, isolates the container and bounds its runtime", () => {
    expect(validateTrainingJobRequest(GOOD)).toEqual([]);
  });

  it.each([
    [
      "training-inter-container-encryption",
      { EnableInterContainerTrafficEncryption: false },
      "EnableInterContainerTrafficEncryption is false; set it to true (free on a single instance, required once the job is distributed)",
    ],
    [
      "training-inter-container-encryption",
      { EnableInterContainerTrafficEncryption: undefined },
      "EnableInterContainerTrafficEncryption is null; set it to true (free on a single instance, required once the job is distributed)",
    ],
    [
      "training-stopping-condition",
      { StoppingCondition: undefined, EnableManagedSpotTraining: false },
      "StoppingCondition.MaxRuntimeInSeconds is null; set a whole number of seconds from 1 to 2419200 (28 days)",
    ],
    [
      "training-stopping-condition",
      { StoppingCondition: { MaxRuntimeInSeconds: 30 * 24 * 3600 }, EnableManagedSpotTraining: false },
      "StoppingCondition.MaxRuntimeInSeconds is 2592000; set a whole number of seconds from 1 to 2419200 (28 days)",
    ],
    [
      "training-stopping-condition",
      { StoppingCondition: { MaxRuntimeInSeconds: 3600, MaxWaitTimeInSeconds: 1800 } },
      "StoppingCondition.MaxWaitTimeInSeconds is 1800; managed spot training needs it set and at least MaxRuntimeInSeconds (3600)",
    ],
    [
      "training-volume-kms",
      { ResourceConfig: { InstanceType: "ml.m5.large", InstanceCount: 1 } },
      "ResourceConfig.VolumeKmsKeyId is not set for ml.m5.large; set it to the platform key",
    ],
    ["training-output-kms", { OutputDataConfig: { S3OutputPath: "s3://artifacts/out/" } }, "OutputDataConfig.KmsKeyId is not set; set it to the platform key"],
    ["training-network-isolation", { EnableNetworkIsolation: false }, "EnableNetworkIsolation is false; set it to true"],
  ])("%s: flags %j", (rule, changes, message) => {
    expect(validateTrainingJobRequest(withRequest(changes))).toEqual([{ rule, message }]);
  });

  it("does not demand a volume key for instances with local NVMe storage (SageMaker rejects one), but does for mixed groups", () => {
    expect(validateTrainingJobRequest(withRequest({ ResourceConfig: { InstanceType: "ml.g5.2xlarge", InstanceCount: 1 } }))).toEqual([]);
    const mixed = {
      InstanceGroups: [
        { InstanceType: "ml.p4d.24xlarge", InstanceCount: 1 },
        { InstanceType: "ml.c5.xlarge", InstanceCount: 2 },
      ],
    };
    expect(validateTrainingJobRequest(withRequest({ ResourceConfig: mixed })).map((v) => v.rule)).toEqual(["training-volume-kms"]);
  });

  it("documents every rule with a description and names unique across them", () => {
    expect(new Set(TRAINING_JOB_RULES.map((r) => r.name)).size).toBe(TRAINING_JOB_RULES.length);
    for (const rule of TRAINING_JOB_RULES) expect(rule.description.length, rule.name).toBeGreaterThan(20);
  });
});

describe("the deploy tool's real CreateTrainingJob requests", () => {
  const plans: Record<string, PlanResult> = {};
  beforeAll(async () => {
    for (const stack of ["dev", "staging", "prod"]) plans[stack] = await planStack(stack);
  });

  /** What `ml-deploy train --stack <stack>` sends: the stack file's settings and the program's outputs. */
  async function requestFor(stack: string, training: Record<string, unknown> = {}): Promise<TrainingJobRequest> {
    const { settings } = await new StackFiles(STACKS_DIR).read(stack);
    const outputs = stackOutputsSchema.parse(plans[stack].outputs);
    return trainingJobInput({
      jobName: `flight-delays-${stack}-20250101-000000`,
      image: `123456789012.dkr.ecr.eu-west-1.amazonaws.com/ml-core@sha256:${"a".repeat(64)}`,
      outputs,
      training: { ...settings.training!, ...training },
      tags: settings.tags,
      stack,
      gitCommit: "0".repeat(40),
      datasetHash: `sha256:${"b".repeat(64)}`,
      manifestId: "b".repeat(64),
      maxRetries: 2,
    }) as TrainingJobRequest;
  }

  it.each(["dev", "staging", "prod"])("%s: passes every training rule, single-instance inter-container encryption included", async (stack) => {
    const request = await requestFor(stack);
    expect(request.ResourceConfig?.InstanceCount).toBe(1);
    expect(validateTrainingJobRequest(request)).toEqual([]);
  });

  it("a distributed job from the builder passes every training rule, inter-container encryption included", async () => {
    const request = await requestFor("prod", { instanceCount: 2 });
    expect(request.EnableInterContainerTrafficEncryption).toBe(true);
    expect(validateTrainingJobRequest(request)).toEqual([]);
  });

  it("a job on local NVMe storage from the builder passes: no volume key is demanded where SageMaker rejects it", async () => {
    const request = await requestFor("staging", { instanceType: "ml.m5d.xlarge", instanceCount: 2 });
    expect(request.ResourceConfig?.VolumeKmsKeyId).toBeUndefined();
    expect(validateTrainingJobRequest(request)).toEqual([]);
  });
});
