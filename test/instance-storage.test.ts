import { hasInstanceStorage } from "@ml-platform/deploy-scripts/dist/aws/limits";
import { describe, expect, it } from "vitest";
import { hasLocalInstanceStorage } from "../infra/limits";
import { planStack, one } from "./helpers/platform";

describe("instances with local NVMe storage", () => {
  it.each([
    ["ml.m5.large", false],
    ["ml.c6i.xlarge", false],
    ["ml.g4dn.xlarge", true],
    ["ml.m5d.2xlarge", true],
    ["ml.c6id.large", true],
    ["ml.p4d.24xlarge", true],
    ["ml.g5.2xlarge", true],
    ["ml.inf2.xlarge", false],
  ])("%s: local storage %s, the same for the endpoint and the training job", (type, local) => {
    expect(hasLocalInstanceStorage(type)).toBe(local);
    // The deploy tool decides the training volume's key by the same fact.
    expect(hasInstanceStorage(type)).toBe(local);
  });

  it("get no endpoint volume key (SageMaker would reject it); EBS-backed instances do", async () => {
    const serving = { mode: "instances", instanceType: "ml.g4dn.xlarge", instanceCount: 2, highAvailability: true, autoscaling: { min: 2, max: 4, targetInvocationsPerInstance: 100 } };
    const gpu = await planStack("prod", { "mlPlatform:serving": serving });
    expect(one(gpu, "aws:sagemaker/endpointConfiguration:EndpointConfiguration").inputs.kmsKeyArn).toBeUndefined();
    const cpu = await planStack("prod");
    expect(one(cpu, "aws:sagemaker/endpointConfiguration:EndpointConfiguration").inputs.kmsKeyArn).toMatch(/^arn:aws:kms:/);
  });
});
