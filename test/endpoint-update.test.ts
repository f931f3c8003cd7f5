import { beforeAll, describe, expect, it } from "vitest";
import type { PlanResult, PlannedResource } from "../infra/offline/mock-run";
import { readStackConfig } from "../infra/offline/mock-run";
import { planStack } from "./helpers/platform";

/**
 * How the AWS provider applies a change to each SageMaker resource (the Terraform AWS provider's
 * schemas that pulumi-aws wraps): a Model and an EndpointConfiguration are immutable in the API, so
 * any change but tags replaces them; an Endpoint is replaced only when its name changes, and a new
 * endpointConfigName is applied in place by UpdateEndpoint; a scalable target is replaced when its
 * resource ID, dimension or namespace change.
 */
const REPLACE_ON_CHANGE: Record<string, (key: string) => boolean> = {
  "aws:sagemaker/model:Model": (key) => key !== "tags",
  "aws:sagemaker/endpointConfiguration:EndpointConfiguration": (key) => key !== "tags",
  "aws:sagemaker/endpoint:Endpoint": (key) => key === "name",
  "aws:appautoscaling/target:Target": (key) => ["resourceId", "scalableDimension", "serviceNamespace"].includes(key),
};

type Step = "same" | "update" | "replace" | "create" | "delete";

/**
 * What `pulumi up` would do to go from `before` to `after`, by resource. Physical names that a
 * replacement would regenerate (auto-named resources) count as changed when what they name changed.
 */
function diff(before: PlanResult, after: PlanResult): Map<string, { step: Step; changed: string[] }> {
  const steps = new Map<string, { step: Step; changed: string[] }>();
  const old = new Map(before.resources.map((r) => [r.urn, r]));
  const replaced = new Set<string>();
  for (const r of after.resources) {
    const prev = old.get(r.urn);
    if (!prev) {
      steps.set(r.urn, { step: "create", changed: [] });
      continue;
    }
    const changed = changedKeys(prev, r);
    const forcesReplacement = REPLACE_ON_CHANGE[r.type] ?? (() => false);
    const step: Step = changed.length === 0 ? "same" : changed.some(forcesReplacement) ? "replace" : "update";
    if (step === "replace") replaced.add(r.urn);
    steps.set(r.urn, { step, changed });
  }
  // A replacement of an auto-named resource gets a new name; whatever refers to that name changes
  // too, and may be replaced in turn: propagate until nothing more changes.
  const newName = (dep: PlannedResource) => replaced.has(dep.urn) && !dep.inputs.name;
  for (let changedSomething = true; changedSomething; ) {
    changedSomething = false;
    for (const r of after.resources) {
      const entry = steps.get(r.urn)!;
      if (entry.step !== "same" && entry.step !== "update") continue;
      const keys = Object.keys(r.inputs).filter((k) =>
        !entry.changed.includes(k) && after.resources.some((dep) => newName(dep) && JSON.stringify(r.inputs[k]).includes(`"${dep.state.name}"`)));
      if (keys.length === 0) continue;
      const forcesReplacement = REPLACE_ON_CHANGE[r.type] ?? (() => false);
      const changed = [...entry.changed, ...keys];
      const step: Step = changed.some(forcesReplacement) ? "replace" : "update";
      if (step === "replace") replaced.add(r.urn);
      steps.set(r.urn, { step, changed });
      changedSomething = true;
    }
  }
  for (const r of before.resources) if (!steps.has(r.urn)) steps.set(r.urn, { step: "delete", changed: [] });
  return steps;
}

function changedKeys(a: PlannedResource, b: PlannedResource): string[] {
  const keys = new Set([...Object.keys(a.inputs), ...Object.keys(b.inputs)]);
  return [...keys].filter((k) => JSON.stringify(a.inputs[k]) !== JSON.stringify(b.inputs[k]));
}

const urnOf = (plan: PlanResult, type: string) => plan.resources.find((r) => r.type === type)!.urn;

describe("changing the pinned model version (staging)", () => {
  let before: PlanResult;
  let after: PlanResult;
  let steps: Map<string, { step: Step; changed: string[] }>;

  beforeAll(async () => {
    const pinned = JSON.parse(readStackConfig("staging")["mlPlatform:model"]);
    const next = pinned.packageArn.replace(/\/(\d+)$/, (_: string, v: string) => `/${Number(v) + 1}`);
    before = await planStack("staging");
    after = await planStack("staging", { "mlPlatform:model": { packageArn: next, previousPackageArns: [pinned.packageArn] } });
    steps = diff(before, after);
  });

  it("replaces the Model", () => {
    expect(steps.get(urnOf(after, "aws:sagemaker/model:Model"))).toEqual({ step: "replace", changed: ["primaryContainer"] });
  });

  it("replaces the EndpointConfiguration (it names the new model)", () => {
    expect(steps.get(urnOf(after, "aws:sagemaker/endpointConfiguration:EndpointConfiguration"))?.step).toBe("replace");
  });

  it("updates the Endpoint in place, switching only its config, under the same name", () => {
    const endpoint = urnOf(after, "aws:sagemaker/endpoint:Endpoint");
    expect(steps.get(endpoint)).toEqual({ step: "update", changed: ["endpointConfigName"] });
    expect(after.outputs.endpointName).toBe(before.outputs.endpointName);
  });

  it("creates the replacements before deleting the old ones, with no name clash", () => {
    // Pulumi replaces create-before-delete unless a resource asks otherwise; that is only safe
    // because the replaced resources have no fixed names.
    for (const type of ["aws:sagemaker/model:Model", "aws:sagemaker/endpointConfiguration:EndpointConfiguration"]) {
      const r = after.resources.find((x) => x.type === type)!;
      expect(r.inputs.name, `${type} must be auto-named`).toBeUndefined();
    }
  });

  it("leaves autoscaling, alarms and everything else untouched", () => {
    const touched = [...steps.entries()].filter(([, s]) => s.step !== "same").map(([urn]) => urn.split("::").pop());
    expect(touched.sort()).toEqual(["inference-config", "inference-endpoint", "inference-model"]);
    expect(steps.get(urnOf(after, "aws:appautoscaling/target:Target"))?.step).toBe("same");
  });
});

describe("the diff itself", () => {
  it("sees a change that would replace the Endpoint (so the checks above can fail)", async () => {
    const before = await planStack("staging");
    const after = await planStack("staging", { "mlPlatform:modelName": "flight-delays2" });
    const steps = diff(before, after);
    expect(steps.get(urnOf(after, "aws:sagemaker/endpoint:Endpoint"))?.step).toBe("replace");
  });
});
