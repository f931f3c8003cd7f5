import { describe, expect, it } from "vitest";
import { parseStackSettings } from "../src/settings";
import { stackConfig } from "./stacks";

function problems(stack: string, pipeline: unknown, extra: Record<string, unknown> = {}): string[] {
  const result = parseStackSettings(stack, { ...stackConfig(stack), "mlPlatform:pipeline": pipeline, ...extra });
  return result.ok ? [] : result.problems.map((p) => p.text);
}

const IMAGE = "111122223333.dkr.ecr.eu-west-1.amazonaws.com/images-ml-core-8d2e6b1@sha256:" + "a".repeat(64);

describe("mlPlatform:pipeline", () => {
  it("prod retrains weekly; dev on new data, on no schedule", () => {
    const prod = parseStackSettings("prod", stackConfig("prod"));
    const dev = parseStackSettings("dev", stackConfig("dev"));
    if (!prod.ok || !dev.ok) throw new Error("the stack files are invalid");
    expect(prod.settings.pipeline).toMatchObject({ schedule: "cron(0 3 ? * MON *)", onNewData: false, maxAttempts: 3 });
    expect(dev.settings.pipeline).toMatchObject({ onNewData: true, cacheExpireAfter: "P30D" });
    expect(dev.settings.pipeline?.schedule).toBeUndefined();
  });

  it("is optional: no block, no pipeline", () => {
    const result = parseStackSettings("dev-k8s", stackConfig("dev-k8s"));
    expect(result.ok && result.settings.pipeline).toBeUndefined();
  });

  it.each([
    [{ image: "ml-core:latest" }, 'prod: mlPlatform:pipeline.image ("ml-core:latest") must be an ECR image pinned by digest'],
    [
      { image: IMAGE, schedule: "every monday" },
      'prod: mlPlatform:pipeline.schedule ("every monday") must be rate(<n> <minutes|hours|days>) or cron(<6 fields>)',
    ],
    [{ image: IMAGE, schedule: "cron(0 3 * * MON)" }, "must be rate(<n> <minutes|hours|days>) or cron(<6 fields>)"],
    [{ image: IMAGE, cacheExpireAfter: "30 days" }, 'prod: mlPlatform:pipeline.cacheExpireAfter ("30 days") must be an ISO 8601 duration'],
    [{ image: IMAGE, maxAttempts: 0 }, "prod: mlPlatform:pipeline.maxAttempts (0) Too small"],
    [{ image: IMAGE, notifyTopicArn: "alarms" }, 'prod: mlPlatform:pipeline.notifyTopicArn ("alarms") must be an SNS topic ARN'],
    [{ image: IMAGE, shedule: "rate(7 days)" }, "prod: mlPlatform:pipeline.shedule is not a known setting"],
  ])("rejects %j", (pipeline, message) => {
    expect(problems("prod", pipeline).join("\n")).toContain(message);
  });

  it("accepts a block without image (the stack files' state until an image is pushed)", () => {
    expect(problems("prod", { schedule: "rate(7 days)" })).toEqual([]);
  });

  it("accepts rate and six-field cron expressions and ISO durations", () => {
    expect(problems("prod", { image: IMAGE, schedule: "rate(7 days)", cacheExpireAfter: "PT12H" })).toEqual([]);
    expect(problems("prod", { image: IMAGE, schedule: "cron(0 3 ? * MON *)", cacheExpireAfter: "P1W" })).toEqual([]);
  });

  it("refuses a promotion gate on a channel the evaluate step does not report", () => {
    const promotion = { minMetrics: { "train:auc": 0.7 } };
    expect(problems("prod", { image: IMAGE }, { "mlPlatform:promotion": promotion })).toEqual([
      'prod: mlPlatform:promotion.minMetrics ("train:auc") is not a validation: metric: the pipeline\'s evaluate step reports validation metrics only',
    ]);
    // Without a pipeline, such a gate is ml-deploy's business alone.
    const { "mlPlatform:pipeline": _pipeline, ...withoutPipeline } = stackConfig("prod");
    const result = parseStackSettings("prod", { ...withoutPipeline, "mlPlatform:promotion": promotion });
    expect(result.ok).toBe(true);
  });
});
