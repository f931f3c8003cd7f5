/**
 * What `pulumi up` does to the serving resources when a stack's settings change, decided by the
 * providers' own rules: for aws-native resources the `replaceOnChanges` their SDK classes declare
 * (recorded as the program constructs them), for classic resources the cited ForceNew facts in
 * test/data/classic-replace-rules.ts. A resource that changes without a known rule fails the test.
 */
import { beforeAll, describe, expect, it } from "vitest";
import type { PlannedResource } from "../infra/offline/mock-run";
import { readStackConfig } from "../infra/offline/mock-run";
import { parseEndpointDeployment } from "../infra/components/inference-endpoint";
import { CLASSIC_REPLACE_RULES } from "./data/classic-replace-rules";
import { one, planStack, type Plan } from "./helpers/platform";

type Step = "same" | "update" | "replace" | "create" | "delete";
interface Change {
  step: Step;
  changed: string[];
}

const NATIVE_ENDPOINT = "aws-native:sagemaker:Endpoint";
const MODEL = "aws:sagemaker/model:Model";
const CONFIG = "aws:sagemaker/endpointConfiguration:EndpointConfiguration";

const valueAt = (inputs: Record<string, unknown>, path: string): unknown =>
  path.split(".").reduce<unknown>((node, key) => (node !== null && typeof node === "object" ? (node as Record<string, unknown>)[key] : undefined), inputs);
const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/** Whether changing `changed` (top-level input keys) replaces `r`, by the provider's rule. */
function forcesReplacement(plan: Plan, before: PlannedResource, r: PlannedResource, changed: string[]): boolean {
  if (r.type.startsWith("aws-native:")) {
    // The SDK's entries are property paths (`productionVariants[*]`); their first segment is the input.
    const declared = (plan.replaceOnChanges.get(r.urn) ?? []).map((p) => p.split(/[.[]/)[0]);
    return changed.some((k) => declared.includes(k));
  }
  const rule = CLASSIC_REPLACE_RULES[r.type];
  if (!rule) throw new Error(`${r.type} (${r.name}) changes (${changed.join(", ")}) but has no cited replace rule in test/data/classic-replace-rules.ts`);
  if ("updatableOnly" in rule) return changed.some((k) => !rule.updatableOnly.includes(k));
  return rule.forceNew.some((path) => changed.includes(path.split(".")[0]) && !same(valueAt(before.inputs, path), valueAt(r.inputs, path)));
}

/**
 * What `pulumi up` would do to go from `before` to `after`, by resource. A replaced auto-named
 * resource gets a new physical name, so whatever refers to its name changes too (and may be
 * replaced in turn): propagated until nothing more changes.
 */
function diff(before: Plan, after: Plan): Map<string, Change> {
  const steps = new Map<string, Change>();
  const old = new Map(before.resources.map((r) => [r.urn, r]));
  const replaced = new Set<string>();
  const decide = (r: PlannedResource, changed: string[]) => {
    const step: Step = changed.length === 0 ? "same" : forcesReplacement(after, old.get(r.urn)!, r, changed) ? "replace" : "update";
    if (step === "replace") replaced.add(r.urn);
    steps.set(r.urn, { step, changed });
  };
  for (const r of after.resources) {
    const prev = old.get(r.urn);
    if (!prev) steps.set(r.urn, { step: "create", changed: [] });
    else
      decide(
        r,
        Object.keys({ ...prev.inputs, ...r.inputs }).filter((k) => !same(prev.inputs[k], r.inputs[k])),
      );
  }
  const renamed = (dep: PlannedResource) => replaced.has(dep.urn) && dep.inputs.name === undefined && typeof dep.state.name === "string";
  for (let again = true; again;) {
    again = false;
    for (const r of after.resources) {
      const entry = steps.get(r.urn)!;
      if (entry.step !== "same" && entry.step !== "update") continue;
      const keys = Object.keys(r.inputs).filter(
        (k) => !entry.changed.includes(k) && after.resources.some((dep) => renamed(dep) && JSON.stringify(r.inputs[k]).includes(`"${dep.state.name}"`)),
      );
      if (keys.length === 0) continue;
      decide(r, [...entry.changed, ...keys]);
      again = true;
    }
  }
  for (const r of before.resources) if (!steps.has(r.urn)) steps.set(r.urn, { step: "delete", changed: [] });
  return steps;
}

const urnOf = (plan: Plan, type: string) => one(plan, type).urn;
/** The Endpoint, whichever provider's it is: the one resource that names an endpoint config. */
const endpointOf = (plan: Plan) => {
  const found = plan.resources.filter((r) => r.inputs.endpointConfigName !== undefined);
  if (found.length !== 1) throw new Error(`expected one endpoint, found ${found.length}`);
  return found[0];
};
const touched = (steps: Map<string, Change>) =>
  [...steps.entries()]
    .filter(([, s]) => s.step !== "same")
    .map(([urn, s]) => `${urn.split("::").pop()}: ${s.step}`)
    .sort();

/** A stack's plan, then the plan after `overrides`, the second reading the first's outputs back as its previous deployment. */
async function change(stack: string, overrides: Record<string, unknown>, base: Record<string, unknown> = {}) {
  const before = await planStack(stack, base);
  const after = await planStack(stack, { ...base, ...overrides }, { [stack]: { endpointDeployment: before.outputs.endpointDeployment } });
  return { before, after, steps: diff(before, after) };
}

const stagingConfig = (key: string) => JSON.parse(readStackConfig("staging")[`mlPlatform:${key}`]!);

describe("the replace rules come from the providers", () => {
  it("records the Endpoint's replaceOnChanges as its SDK class declares it (only the name)", async () => {
    const plan = await planStack("staging");
    expect(plan.replaceOnChanges.get(endpointOf(plan).urn)).toEqual(["endpointName"]);
  });
});

describe("changing the pinned model version (staging)", () => {
  let c: Awaited<ReturnType<typeof change>>;
  beforeAll(async () => {
    const pinned = stagingConfig("model");
    const next = pinned.packageArn.replace(/\/(\d+)$/, (_: string, v: string) => `/${Number(v) + 1}`);
    c = await change("staging", { "mlPlatform:model": { packageArn: next, previousPackageArns: [pinned.packageArn] } });
  });

  it("replaces the Model and the EndpointConfiguration (it names the new model)", () => {
    expect(c.steps.get(urnOf(c.after, MODEL))).toEqual({ step: "replace", changed: ["primaryContainer"] });
    expect(c.steps.get(urnOf(c.after, CONFIG))?.step).toBe("replace");
  });

  it("updates the Endpoint in place, switching only its config, under the same name", () => {
    expect(c.steps.get(endpointOf(c.after).urn)).toEqual({ step: "update", changed: ["endpointConfigName"] });
    expect(c.after.outputs.endpointName).toBe(c.before.outputs.endpointName);
  });

  it("keeps the live instance count: the update retains all variant properties", () => {
    // The Endpoint taking the update must be one whose UpdateEndpoint sends RetainAllVariantProperties
    // (aws-native's input); classic's never sends it (provider-semantics §2) and resets the fleet.
    const endpoint = endpointOf(c.after);
    expect(endpoint.type).toBe(NATIVE_ENDPOINT);
    expect(endpoint.inputs.retainAllVariantProperties).toBe(true);
  });

  it("creates the replacements before deleting the old ones, with no name clash", () => {
    for (const type of [MODEL, CONFIG]) expect(one(c.after, type).inputs.name, `${type} must be auto-named`).toBeUndefined();
  });

  it("leaves autoscaling, alarms and everything else untouched", () => {
    expect(touched(c.steps)).toEqual(["inference-config: replace", "inference-endpoint: update", "inference-model: replace"]);
  });
});

describe("changing the rollback alarms or the deployment config never replaces the Endpoint", () => {
  it.each([
    ["removing the latency alarm", { "mlPlatform:alarms": { ...stagingConfig("alarms"), modelLatencyP99Ms: undefined } }, {}],
    [
      "adding the latency alarm",
      { "mlPlatform:alarms": stagingConfig("alarms") },
      { "mlPlatform:alarms": { ...stagingConfig("alarms"), modelLatencyP99Ms: undefined } },
    ],
    [
      "switching to canary deployments",
      {
        "mlPlatform:serving": {
          ...stagingConfig("serving"),
          deployment: { ...stagingConfig("serving").deployment, trafficRouting: "CANARY", canaryPercent: 20 },
        },
      },
      {},
    ],
  ])("%s: the Endpoint is updated in place", async (_what, overrides, base) => {
    const c = await change("staging", overrides, base);
    expect(c.steps.get(endpointOf(c.after).urn)).toEqual({ step: "update", changed: ["deploymentConfig"] });
    expect(endpointOf(c.after).type).toBe(NATIVE_ENDPOINT);
    // Nothing else about the serving fleet changes: no new config, no UpdateEndpoint that resets it.
    expect(c.steps.get(urnOf(c.after, CONFIG))?.step).toBe("same");
  });
});

describe("changing data capture (staging)", () => {
  let c: Awaited<ReturnType<typeof change>>;
  beforeAll(async () => {
    c = await change("staging", { "mlPlatform:dataCapture": { enabled: true, samplingPercent: 10 } });
  });

  it("replaces the EndpointConfiguration and updates the Endpoint in place", () => {
    expect(c.steps.get(urnOf(c.after, CONFIG))).toEqual({ step: "replace", changed: ["dataCaptureConfig"] });
    const endpoint = c.steps.get(endpointOf(c.after).urn)!;
    expect(endpoint.step).toBe("update");
    expect(endpoint.changed.sort()).toEqual(["endpointConfigName", "retainAllVariantProperties"]);
  });

  it("applies the new capture settings: this update does not retain the variant properties", () => {
    // Retention would keep the old DataCaptureConfig, and excluding it is documented as unsupported.
    expect(endpointOf(c.after).inputs.retainAllVariantProperties).toBe(false);
    expect(one(c.after, CONFIG).inputs.dataCaptureConfig.initialSamplingPercentage).toBe(10);
  });

  it("sends no further update on the next run, and retains again on the next model update", async () => {
    const overrides = { "mlPlatform:dataCapture": { enabled: true, samplingPercent: 10 } };
    const previous = { staging: { endpointDeployment: c.after.outputs.endpointDeployment } };
    const rerun = await planStack("staging", overrides, previous);
    expect(diff(c.after, rerun).get(endpointOf(rerun).urn)?.step).toBe("same");

    const pinned = stagingConfig("model");
    const next = { packageArn: pinned.packageArn.replace(/\/(\d+)$/, "/99"), previousPackageArns: [pinned.packageArn] };
    const modelUpdate = await planStack("staging", { ...overrides, "mlPlatform:model": next }, previous);
    expect(endpointOf(modelUpdate).inputs.retainAllVariantProperties).toBe(true);
  });

  it("a capture change the test did not make would go unnoticed: the record really changes", () => {
    const [before, after] = [c.before, c.after].map((p) => p.outputs.endpointDeployment as Record<string, string>);
    expect(after.dataCaptureFingerprint).not.toBe(before.dataCaptureFingerprint);
    expect(after.configFingerprint).not.toBe(before.configFingerprint);
  });
});

describe("the record of the previous deployment, read back through the stack reference", () => {
  it.each([
    [{ configFingerprint: "x", dataCaptureFingerprint: "a".repeat(64), retainAllVariantProperties: true }, "configFingerprint must be a hex SHA-256"],
    [
      { configFingerprint: "a".repeat(64), dataCaptureFingerprint: "a".repeat(64), retainAllVariantProperties: "yes" },
      "retainAllVariantProperties Invalid input: expected boolean",
    ],
    ["a string", "(value) Invalid input: expected object"],
  ])("rejects %j naming the stack and the output", (value, problem) => {
    expect(() => parseEndpointDeployment("staging", value)).toThrow(
      `stack staging: output endpointDeployment of its previous deployment is invalid: ${problem}`,
    );
  });

  it("treats an absent record as a first deployment", () => {
    expect(parseEndpointDeployment("staging", undefined)).toBeUndefined();
  });
});

describe("the diff itself", () => {
  it("sees a change that would replace the Endpoint (so the checks above can fail)", async () => {
    const c = await change("staging", { "mlPlatform:modelName": "flight-delays2" });
    expect(c.steps.get(endpointOf(c.after).urn)?.step).toBe("replace");
  });
});

describe("with the training pipeline on (staging, its image set)", () => {
  const withPipeline = {
    "mlPlatform:pipeline": {
      ...stagingConfig("pipeline"),
      image: "111122223333.dkr.ecr.eu-west-1.amazonaws.com/images-ml-core-8d2e6b1@sha256:" + "ab".repeat(32),
    },
  };

  it("a new model version touches no pipeline resource", async () => {
    const pinned = stagingConfig("model");
    const next = pinned.packageArn.replace(/\/(\d+)$/, (_: string, v: string) => `/${Number(v) + 1}`);
    const c = await change("staging", { "mlPlatform:model": { packageArn: next, previousPackageArns: [pinned.packageArn] } }, withPipeline);
    expect(touched(c.steps)).toEqual(["inference-config: replace", "inference-endpoint: update", "inference-model: replace"]);
  });

  it("a new schedule updates the schedule in place; a new model name replaces the pipeline (its name)", async () => {
    const schedule = await change("staging", { "mlPlatform:pipeline": { ...withPipeline["mlPlatform:pipeline"], schedule: "rate(7 days)" } }, withPipeline);
    expect(touched(schedule.steps)).toEqual(["training-schedule: update"]);
    const renamed = await change("staging", { "mlPlatform:modelName": "flight-delays2" }, withPipeline);
    const pipeline = one(renamed.after, "aws:sagemaker/pipeline:Pipeline");
    expect(renamed.steps.get(pipeline.urn)?.step).toBe("replace");
  });
});
