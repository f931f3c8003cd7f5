// The rule itself is tested once, in contract/test/limits.test.ts; this is what the program does with it.
import { describe, expect, it } from "vitest";
import { planStack, one } from "./helpers/platform";

describe("instances with local NVMe storage", () => {
  it("get no endpoint volume key (SageMaker would reject it); EBS-backed instances do", async () => {
    const serving = {
      mode: "instances",
      instanceType: "ml.g4dn.xlarge",
      instanceCount: 2,
      highAvailability: true,
      autoscaling: { min: 2, max: 4, targetInvocationsPerInstance: 100 },
    };
    const gpu = await planStack("prod", { "mlPlatform:serving": serving });
    expect(one(gpu, "aws:sagemaker/endpointConfiguration:EndpointConfiguration").inputs.kmsKeyArn).toBeUndefined();
    const cpu = await planStack("prod");
    expect(one(cpu, "aws:sagemaker/endpointConfiguration:EndpointConfiguration").inputs.kmsKeyArn).toMatch(/^arn:aws:kms:/);
    // Two programs planned: more than the default 5 s on a loaded machine.
  }, 30_000);
});
