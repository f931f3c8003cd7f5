// The plan's one-line summaries are what a reviewer reads before `pulumi up`: they must not
// overstate who may assume a role.
import { describe, expect, it } from "vitest";
import { summarize } from "../infra/offline/plan-report";
import { principalTrustPolicy } from "../infra/policies/documents";

const role = (assumeRolePolicy: unknown) =>
  summarize({ type: "aws:iam/role:Role", name: "r", urn: "urn", inputs: { assumeRolePolicy: JSON.stringify(assumeRolePolicy) } } as never);

describe("a role's summary in the plan", () => {
  it("lists the principals an Allow trusts", () => {
    expect(role(principalTrustPolicy("Trusted", ["arn:aws:iam::111122223333:role/pipeline"])).settings.trustedBy).toEqual([
      "arn:aws:iam::111122223333:role/pipeline",
    ]);
  });

  it("shows a role whose trust only denies (no principals configured) as trusted by nobody, not by *", () => {
    expect(role(principalTrustPolicy("Trusted", [])).settings.trustedBy).toEqual([]);
  });
});

describe("the pipeline and its schedule in the plan", () => {
  it("names the pipeline's steps and parameters, and the schedule's expression and time zone", () => {
    const definition = {
      Parameters: [{ Name: "DatasetManifest" }],
      Steps: [
        { Name: "Train", Type: "Training" },
        { Name: "Gate", Type: "Condition" },
      ],
    };
    const pipeline = summarize({
      type: "aws:sagemaker/pipeline:Pipeline",
      name: "p",
      urn: "urn",
      inputs: { pipelineName: "m-prod-training", pipelineDefinition: JSON.stringify(definition) },
    } as never);
    expect(pipeline.settings).toEqual({ name: "m-prod-training", steps: ["Train:Training", "Gate:Condition"], parameters: ["DatasetManifest"] });
    const schedule = summarize({
      type: "aws:scheduler/schedule:Schedule",
      name: "s",
      urn: "urn",
      inputs: { scheduleExpression: "cron(0 3 ? * MON *)", scheduleExpressionTimezone: "Europe/Berlin" },
    } as never);
    expect(schedule.settings).toEqual({ schedule: "cron(0 3 ? * MON *)", timezone: "Europe/Berlin" });
  });
});
