// Runs the pack's policies in-process, the way the Pulumi engine calls them, without the CLI:
// resource policies get a resource's inputs, stack policies every resource's outputs, each with
// `reportViolation`, `notApplicable` and `getConfig` as the policy SDK's server provides them.
import type { PolicyResource, ReportViolation, ResourceValidationArgs, StackValidationArgs } from "@pulumi/policy";
import type { PlanResult } from "../../infra/offline/mock-run";
import type { PlatformPolicy } from "../../infra/policy-pack/policies";
import { isTaggable } from "./taggable";

export type PolicyConfig = Record<string, Record<string, unknown>>;

/** A resource as a test writes it: type and props, the rest defaulted. */
export interface FakeResource {
  type: string;
  props: Record<string, any>;
  name?: string;
  urn?: string;
  /** The explicit provider's props (e.g. `defaultTags`). */
  providerProps?: Record<string, any>;
  /** Property name → URNs of the resources whose outputs flowed into it. */
  propertyDependencies?: Record<string, string[]>;
}

export interface Outcome {
  violations: Array<{ message: string; urn?: string }>;
  /** Why the policy did not apply, if it said so. */
  notApplicable?: string;
}

class NotApplicable extends Error {}

const notApplicable = (reason?: string): never => {
  throw new NotApplicable(reason ?? "not applicable");
};

const isTypeOf = (type: string) => (cls: unknown) => (cls as { __pulumiType?: string }).__pulumiType === type;

export function urnOf(type: string, name: string, stack = "test"): string {
  return `urn:pulumi:${stack}::mlPlatform::${type}::${name}`;
}

/** Builds the engine's view of a set of resources (dependencies resolved to the objects). */
export function toPolicyResources(resources: FakeResource[]): PolicyResource[] {
  const byUrn = new Map<string, PolicyResource>();
  const out = resources.map((r, i) => {
    const name = r.name ?? `resource-${i}`;
    const resource: PolicyResource = {
      type: r.type,
      name,
      urn: r.urn ?? urnOf(r.type, name),
      props: r.props,
      opts: {
        protect: false,
        ignoreChanges: [],
        aliases: [],
        additionalSecretOutputs: [],
        customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 },
      },
      provider: r.providerProps ? { type: "pulumi:providers:aws", name: "aws", urn: urnOf("pulumi:providers:aws", "aws"), props: r.providerProps } : undefined,
      dependencies: [],
      propertyDependencies: {},
      isType: isTypeOf(r.type),
      asType: ((cls: unknown) => (isTypeOf(r.type)(cls) ? r.props : undefined)) as PolicyResource["asType"],
    };
    byUrn.set(resource.urn, resource);
    return resource;
  });
  resources.forEach((r, i) => {
    for (const [property, urns] of Object.entries(r.propertyDependencies ?? {})) {
      out[i].propertyDependencies[property] = urns.map((u) => byUrn.get(u)).filter((d): d is PolicyResource => d !== undefined);
      out[i].dependencies.push(...out[i].propertyDependencies[property]);
    }
  });
  return out;
}

function collector(): { report: ReportViolation; outcome: Outcome } {
  const outcome: Outcome = { violations: [] };
  return { outcome, report: (message, urn) => outcome.violations.push(urn === undefined ? { message } : { message, urn }) };
}

/** Runs a resource policy on one resource (its inputs). */
export async function runResourcePolicy(policy: PlatformPolicy, resource: FakeResource | PolicyResource, config: PolicyConfig = {}): Promise<Outcome> {
  if (!("validateResource" in policy) || !policy.validateResource) throw new Error(`${policy.name} is not a resource policy`);
  const [r] = "isType" in resource ? [resource] : toPolicyResources([resource]);
  const { report, outcome } = collector();
  const args: ResourceValidationArgs = {
    type: r.type,
    props: r.props,
    urn: r.urn,
    name: r.name,
    opts: r.opts,
    provider: r.provider,
    stackTags: new Map(),
    isType: r.isType,
    asType: r.asType as ResourceValidationArgs["asType"],
    getConfig: <T extends object>() => (config[policy.name] ?? {}) as T,
    notApplicable,
  };
  try {
    for (const validate of [policy.validateResource].flat()) await validate(args, report);
  } catch (e) {
    if (!(e instanceof NotApplicable)) throw e;
    outcome.notApplicable = e.message;
  }
  return outcome;
}

/** Runs a stack policy on a stack's resources (their outputs). */
export async function runStackPolicy(policy: PlatformPolicy, resources: Array<FakeResource> | PolicyResource[], config: PolicyConfig = {}): Promise<Outcome> {
  if (!("validateStack" in policy)) throw new Error(`${policy.name} is not a stack policy`);
  const all = resources.length > 0 && "isType" in resources[0] ? (resources as PolicyResource[]) : toPolicyResources(resources as FakeResource[]);
  const { report, outcome } = collector();
  const args: StackValidationArgs = {
    resources: all,
    stackTags: new Map(),
    getConfig: <T extends object>() => (config[policy.name] ?? {}) as T,
    notApplicable,
  };
  try {
    await policy.validateStack(args, report);
  } catch (e) {
    if (!(e instanceof NotApplicable)) throw e;
    outcome.notApplicable = e.message;
  }
  return outcome;
}

/** A mocked program run as the engine would present it: inputs per resource, and outputs for the stack. */
export interface EngineView {
  inputs: PolicyResource[];
  outputs: PolicyResource[];
}

/**
 * Turns a mocked plan into what the engine hands the policies. Outputs get the `id` a bridged
 * provider returns and lose the mock's `tagsAll` on types the AWS provider does not tag; property
 * dependencies are recovered from which other resource's ID or ARN an input contains (what the
 * engine records from the outputs that flowed into it).
 */
export function engineView(plan: PlanResult): EngineView {
  const providers = new Map(plan.resources.filter((r) => r.type.startsWith("pulumi:providers:")).map((r) => [r.name, r.inputs]));
  const refs = plan.resources
    .filter((r) => r.custom)
    .map((r) => ({ urn: r.urn, markers: [`${r.name}-id`, r.state.arn].filter((m): m is string => typeof m === "string") }));
  const build = (useOutputs: boolean): PolicyResource[] =>
    toPolicyResources(
      plan.resources.map((r) => {
        const propertyDependencies: Record<string, string[]> = {};
        for (const [key, value] of Object.entries(r.inputs)) {
          const text = JSON.stringify(value) ?? "";
          const deps = refs.filter((d) => d.urn !== r.urn && d.markers.some((m) => text.includes(m))).map((d) => d.urn);
          if (deps.length > 0) propertyDependencies[key] = deps;
        }
        let props: Record<string, any> = r.inputs;
        if (useOutputs) {
          const { tagsAll, ...rest } = r.state;
          props = { ...rest, ...(r.custom ? { id: `${r.name}-id` } : {}), ...(isTaggable(r.type) && tagsAll !== undefined ? { tagsAll } : {}) };
        }
        return { type: r.type, name: r.name, urn: r.urn, props, providerProps: r.provider ? providers.get(r.provider) : undefined, propertyDependencies };
      }),
    );
  return { inputs: build(false), outputs: build(true) };
}

export interface PackViolation {
  policy: string;
  message: string;
  urn?: string;
}

/** Runs every policy over an engine view: resource policies per resource, stack policies once. */
export async function evaluatePack(
  policies: readonly PlatformPolicy[],
  view: EngineView,
  config: PolicyConfig = {},
): Promise<{ violations: PackViolation[]; applied: Set<string> }> {
  const violations: PackViolation[] = [];
  const applied = new Set<string>();
  for (const policy of policies) {
    const outcomes =
      "validateStack" in policy
        ? [await runStackPolicy(policy, view.outputs, config)]
        : await Promise.all(view.inputs.map((r) => runResourcePolicy(policy, r, config)));
    for (const o of outcomes) {
      if (o.notApplicable === undefined) applied.add(policy.name);
      violations.push(...o.violations.map((v) => ({ policy: policy.name, ...v })));
    }
  }
  return { violations, applied };
}
