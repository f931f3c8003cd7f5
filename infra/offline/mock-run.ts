// Runs the real program, with a stack's real config file, under Pulumi's mocked provider: no CLI,
// no plugins, no cloud. Used by the tests and by `npm run plan`.
import * as fs from "node:fs";
import * as path from "node:path";
import { createHash } from "node:crypto";
import * as pulumi from "@pulumi/pulumi";
import { parse as parseYaml } from "yaml";
// Internal, but it is exactly what the Node.js runtime awaits before the program exits.
const { waitForRPCs, getMonitor } = require("@pulumi/pulumi/runtime/settings") as { waitForRPCs: () => Promise<void>; getMonitor: () => unknown };

export const PROJECT_NAME = "mlPlatform";
export const REPO_ROOT = path.resolve(__dirname, "..", "..");
export const STACKS_DIR = path.join(REPO_ROOT, "stacks");

/** What the mocked account looks like. */
export const MOCK_ACCOUNT = { accountId: "123456789012", partition: "aws" } as const;

/** Resource options as the program set them (only those set), resources named by URN. */
export interface PlannedOptions {
  readonly protect?: true;
  readonly retainOnDelete?: true;
  /** URNs of the explicit `dependsOn` resources. */
  readonly dependsOn?: string[];
  /** URN of the provider that manages the resource (custom resources). */
  readonly provider?: string;
  readonly deleteBeforeReplace?: true;
  readonly ignoreChanges?: string[];
  readonly replaceOnChanges?: string[];
  /** Former names, as strings (URNs) or alias specs. */
  readonly aliases?: unknown[];
}

export interface PlannedResource {
  readonly type: string;
  readonly name: string;
  /** The URN the engine gives it: the parents' types joined with `$` (the stack itself omitted). */
  readonly urn: string;
  /** Logical name of the parent component, if any. */
  readonly parent?: string;
  /** URN of the parent (the stack, for top-level resources). */
  readonly parentUrn?: string;
  /**
   * Inputs as the engine receives them: a secret (`pulumi.secret`, secret config) stays wrapped
   * in the runtime's secret signature object (see `isSecretValue`), as it is on the wire.
   */
  readonly inputs: Record<string, any>;
  /** Outputs as the mock computed them (inputs plus names, ARNs and tagsAll a provider would fill in). */
  readonly state: Record<string, any>;
  /** Logical name of the explicit provider, for custom resources. */
  readonly provider?: string;
  readonly custom: boolean;
  readonly protect: boolean;
  readonly retainOnDelete: boolean;
  readonly dependsOn: string[];
  readonly options: PlannedOptions;
}

export interface PlanResult {
  readonly stack: string;
  /** URN of the stack resource, the root of the tree. */
  readonly stackUrn: string;
  readonly resources: PlannedResource[];
  /** Stack outputs, secrets wrapped as in `inputs`. */
  readonly outputs: Record<string, unknown>;
}

// The runtime's wire encoding of a secret: `{ [SIG_KEY]: SECRET_SIG, value }` (runtime/rpc).
const {
  specialSigKey: SIG_KEY,
  specialSecretSig: SECRET_SIG,
  deserializeProperty,
} = require("@pulumi/pulumi/runtime/rpc") as {
  specialSigKey: string;
  specialSecretSig: string;
  deserializeProperty: (value: unknown) => unknown;
};

/** Whether a recorded input or output value is a secret (its plaintext is under `.value`). */
export function isSecretValue(value: unknown): value is { value: unknown } {
  return value !== null && typeof value === "object" && (value as Record<string, unknown>)[SIG_KEY] === SECRET_SIG;
}

/**
 * The engine's URN for a resource (pulumi/sdk/go/common/resource/urn.go, CreateURN): the type is
 * qualified by the parent's qualified type, except under the root stack. The mock monitor's own
 * URNs prefix only the immediate parent's type, stack included, so they are built here instead.
 */
export function engineUrn(stack: string, type: string, name: string, parentUrn?: string): string {
  const parentType = parentUrn?.split("::")[2];
  const qualified = parentType && parentType !== "pulumi:pulumi:Stack" ? `${parentType}$${type}` : type;
  return `urn:pulumi:${stack}::${PROJECT_NAME}::${qualified}::${name}`;
}

/** The program failed; carries what it had registered by then (nothing, for a config error). */
export class ProgramError extends Error {
  constructor(
    readonly stackName: string,
    override readonly cause: unknown,
    readonly registeredResources: string[],
  ) {
    super(cause instanceof Error ? cause.message : String(cause));
    this.name = "ProgramError";
  }
}

/** A stack's raw config as the Pulumi CLI hands it to the program: `ns:key` → string (JSON for structured values). */
export function readStackConfig(stack: string, stacksDir = STACKS_DIR): Record<string, string> {
  const file = path.join(stacksDir, `Pulumi.${stack}.yaml`);
  if (!fs.existsSync(file)) {
    const known = listStacks(stacksDir);
    throw new Error(`no stack "${stack}": ${file} does not exist (stacks: ${known.join(", ") || "none"})`);
  }
  const doc = parseYaml(fs.readFileSync(file, "utf8")) as { config?: Record<string, unknown> } | null;
  const config: Record<string, string> = {};
  for (const [key, value] of Object.entries(doc?.config ?? {})) {
    config[key] = typeof value === "string" ? value : JSON.stringify(value);
  }
  return config;
}

export function listStacks(stacksDir = STACKS_DIR): string[] {
  return fs
    .readdirSync(stacksDir)
    .map((f) => /^Pulumi\.(.+)\.yaml$/.exec(f)?.[1])
    .filter((s): s is string => s !== undefined)
    .sort();
}

const shortHash = (s: string) => createHash("sha256").update(s).digest("hex").slice(0, 7);

/** Outputs a real provider would compute on create, so downstream wiring sees realistic values. */
function computedState(type: string, name: string, inputs: Record<string, any>, region: string): Record<string, any> {
  const { accountId, partition } = MOCK_ACCOUNT;
  const physical = `${name}-${shortHash(`${type}/${name}`)}`;
  const [, mod = "", cls = ""] = /^aws:([^/]+)\/[^:]+:(.+)$/.exec(type) ?? [];
  const state: Record<string, any> = {};
  switch (type) {
    case "aws:s3/bucket:Bucket":
      state.bucket = inputs.bucket ?? physical;
      state.arn = `arn:${partition}:s3:::${state.bucket}`;
      return state;
    case "aws:kms/key:Key":
      state.keyId = shortHash(name) + "-key";
      state.arn = `arn:${partition}:kms:${region}:${accountId}:key/${state.keyId}`;
      return state;
    case "aws:ecr/repository:Repository":
      state.name = inputs.name ?? physical;
      state.arn = `arn:${partition}:ecr:${region}:${accountId}:repository/${state.name}`;
      state.repositoryUrl = `${accountId}.dkr.ecr.${region}.amazonaws.com/${state.name}`;
      return state;
    case "aws:iam/role:Role":
      state.name = inputs.name ?? physical;
      state.arn = `arn:${partition}:iam::${accountId}:role/${state.name}`;
      return state;
    case "aws:sagemaker/modelPackageGroup:ModelPackageGroup":
      state.arn = `arn:${partition}:sagemaker:${region}:${accountId}:model-package-group/${inputs.modelPackageGroupName}`;
      return state;
    default:
      if (mod) {
        state.name = inputs.name ?? physical;
        state.arn = `arn:${partition}:${mod}:${region}:${accountId}:${cls.toLowerCase()}/${state.name}`;
      }
      return state;
  }
}

/**
 * What another stack of this project exports, as far as a stack reference reads it: the same
 * physical names the mocks give that stack's resources.
 */
function referencedStackOutputs(stack: string, region: string): Record<string, unknown> {
  const bucketArn = (logical: string) => computedState("aws:s3/bucket:Bucket", logical, {}, region).arn;
  const config = readStackConfig(stack);
  const modelName = config["mlPlatform:modelName"] ?? "model";
  const images: string[] = JSON.parse(config["mlPlatform:images"] ?? "{}").repositories ?? ["ml-core"];
  return {
    deployerStage: {
      region,
      accountId: MOCK_ACCOUNT.accountId,
      datasetBucketArn: bucketArn("store-datasets-bucket"),
      artifactBucketArn: bucketArn("store-artifacts-bucket"),
      kmsKeyArn: computedState("aws:kms/key:Key", "store-key", {}, region).arn,
      modelPackageGroupName: `${modelName}-${stack}`,
      endpointName: `${modelName}-${stack}`,
      repositoryArns: images.map((image) => computedState("aws:ecr/repository:Repository", `images-${image}`, {}, region).arn),
    },
  };
}

/**
 * What a stack of another project (a Kubernetes cluster's) exports offline: a kubeconfig the
 * mocked provider never dials.
 */
export const FOREIGN_STACK_OUTPUTS: Readonly<Record<string, unknown>> = {
  kubeconfig: "apiVersion: v1\nkind: Config\n# offline plan: no cluster is contacted\n",
};

function decodeProviderTags(defaultTags: unknown): Record<string, string> {
  const value = typeof defaultTags === "string" ? JSON.parse(defaultTags) : defaultTags;
  return (value as { tags?: Record<string, string> } | undefined)?.tags ?? {};
}

/**
 * Evaluates the program for one stack under mocks and returns every resource it registers, with
 * its inputs and resource options, and the stack outputs. `loadProgram` must import the program
 * afresh (a new module instance), e.g. after `vi.resetModules()` or clearing `require.cache`.
 * `configOverrides` replaces whole keys of the stack's config (for negative tests);
 * `referencedOutputs` adds to or replaces outputs a stack reference reads, by stack name (e.g. the
 * stack's own previous deployment).
 */
export async function runProgram(
  stack: string,
  loadProgram: () => Promise<Record<string, unknown>>,
  configOverrides: Record<string, unknown> = {},
  referencedOutputs: Record<string, Record<string, unknown>> = {},
): Promise<PlanResult> {
  const config = readStackConfig(stack);
  for (const [key, value] of Object.entries(configOverrides)) {
    if (value === undefined) delete config[key];
    else config[key] = typeof value === "string" ? value : JSON.stringify(value);
  }
  const region = config["aws:region"] ?? "us-east-1";

  const byUrn = new Map<string, { type: string; name: string; inputs: any; state: any; provider?: string; custom: boolean }>();
  const providerTags = new Map<string, Record<string, string>>();
  interface RecordedOptions {
    resource: { __protect?: boolean };
    retainOnDelete: boolean;
    dependsOn: string[];
    parent?: string;
    parentType?: string;
    deleteBeforeReplace?: boolean;
    ignoreChanges?: string[];
    replaceOnChanges?: string[];
    aliases?: unknown[];
  }
  const options = new Map<string, RecordedOptions>();

  await pulumi.runtime.setMocks(
    {
      newResource(args: pulumi.runtime.MockResourceArgs): pulumi.runtime.MockResourceResult {
        const urn = `urn:pulumi:${stack}::${PROJECT_NAME}::${args.type}::${args.name}`;
        const id = `${args.name}-id`;
        let state: Record<string, any> = { ...args.inputs, ...computedState(args.type, args.name, args.inputs, region) };
        if (args.type === "pulumi:pulumi:StackReference") {
          const ref = String(args.inputs.name ?? args.name);
          const [, project] = ref.split("/");
          const referenced = ref.split("/").pop()!;
          const outputs =
            project !== undefined && project !== PROJECT_NAME
              ? FOREIGN_STACK_OUTPUTS
              : { ...referencedStackOutputs(referenced, region), ...referencedOutputs[referenced] };
          state = { name: ref, outputs, secretOutputNames: [] };
        } else if (args.type.startsWith("pulumi:providers:")) {
          providerTags.set(`${args.name}::${id}`, decodeProviderTags(args.inputs.defaultTags));
        } else if (args.provider && args.type.startsWith("aws:")) {
          // Like the AWS provider: tagsAll = provider default tags overlaid by the resource's own.
          // A provider reference is "<urn>::<id>"; the URN ends in "::<name>".
          const defaults = providerTags.get(args.provider.split("::").slice(-2).join("::")) ?? {};
          state = { ...state, tagsAll: { ...defaults, ...(args.inputs.tags ?? {}) } };
        }
        byUrn.set(urn, { type: args.type, name: args.name, inputs: args.inputs, state, provider: args.provider, custom: args.custom ?? true });
        return { id, state };
      },
      call(args: pulumi.runtime.MockCallArgs): pulumi.runtime.MockCallResult {
        switch (args.token) {
          case "aws:index/getCallerIdentity:getCallerIdentity":
            return {
              accountId: MOCK_ACCOUNT.accountId,
              arn: `arn:aws:iam::${MOCK_ACCOUNT.accountId}:user/offline`,
              userId: "OFFLINE",
              id: MOCK_ACCOUNT.accountId,
            };
          case "aws:index/getPartition:getPartition":
            return { partition: MOCK_ACCOUNT.partition, dnsSuffix: "amazonaws.com", id: MOCK_ACCOUNT.partition };
          case "aws:index/getRegion:getRegion":
            return { name: region, region, id: region };
          default:
            throw new Error(`the offline plan has no mock for the call ${args.token}`);
        }
      },
    },
    PROJECT_NAME,
    stack,
    false,
    // Self-managed backends name the organization "organization" too.
    "organization",
  );
  pulumi.runtime.setAllConfig(config);

  const registered = () => [...byUrn.values()].filter((r) => r.type !== "pulumi:pulumi:Stack").map((r) => `${r.type}::${r.name}`);
  let failure: { error: unknown } | undefined;
  const outputs = await pulumi.runtime.runInPulumiStack(async () => {
    // Legacy stack transformations run in-process, so they see every resource's options.
    pulumi.runtime.registerStackTransformation((t) => {
      const opts = t.opts as pulumi.CustomResourceOptions & pulumi.ComponentResourceOptions;
      const deps = ([] as unknown[]).concat(opts.dependsOn ?? []) as Array<{ __name?: string; __pulumiType?: string }>;
      const parent = opts.parent as { __name?: string; __pulumiType?: string } | undefined;
      options.set(`${t.type}::${t.name}`, {
        // The constructor resolves `protect` (inherited from the parent) after transformations run.
        resource: t.resource as unknown as { __protect?: boolean },
        retainOnDelete: opts.retainOnDelete ?? false,
        dependsOn: deps.map((d) => `${d.__pulumiType}::${d.__name}`),
        parent: parent?.__name === undefined ? undefined : `${parent.__pulumiType}::${parent.__name}`,
        deleteBeforeReplace: opts.deleteBeforeReplace,
        ignoreChanges: opts.ignoreChanges,
        replaceOnChanges: opts.replaceOnChanges,
        aliases: opts.aliases?.length ? aliasesOf(opts.aliases) : undefined,
      });
      return undefined;
    });
    try {
      return { ...(await loadProgram()) };
    } catch (error) {
      // Reported after the stack settles, so the runtime has no rejected promise left dangling.
      failure = { error };
      return {};
    }
  });
  // Resources whose inputs wait on other resources' outputs register after the stack's outputs
  // resolve; drain the RPC queue (as the real runtime does before exiting) so none is missed.
  await waitForRPCs();
  if (failure) throw new ProgramError(stack, failure.error, registered());

  // URNs as the engine builds them, parents first (a parent registers before its children).
  const stackUrn = engineUrn(stack, "pulumi:pulumi:Stack", `${PROJECT_NAME}-${stack}`);
  const urnOf = new Map<string, string>();
  const resolveUrn = (key: string): string => {
    const known = urnOf.get(key);
    if (known) return known;
    const [type, name] = [key.slice(0, key.lastIndexOf("::")), key.slice(key.lastIndexOf("::") + 2)];
    const parent = options.get(key)?.parent;
    const urn = engineUrn(stack, type, name, parent ? resolveUrn(parent) : stackUrn);
    urnOf.set(key, urn);
    return urn;
  };
  const nameOf = (key: string) => key.slice(key.lastIndexOf("::") + 2);

  const resources: PlannedResource[] = [];
  for (const r of byUrn.values()) {
    if (r.type === "pulumi:pulumi:Stack") continue;
    const key = `${r.type}::${r.name}`;
    const o = options.get(key);
    const protect = o?.resource.__protect ?? false;
    // A provider reference is "<urn>::<id>"; the URN's third part is the (qualified) type.
    const ref = r.provider ? r.provider.split("::") : undefined;
    const providerKey = ref && ref.length >= 4 ? `${ref[2]!.split("$").pop()}::${ref[3]}` : undefined;
    const planned: PlannedOptions = {
      ...(protect ? { protect: true as const } : {}),
      ...(o?.retainOnDelete ? { retainOnDelete: true as const } : {}),
      ...(o?.dependsOn.length ? { dependsOn: o.dependsOn.map(resolveUrn) } : {}),
      ...(providerKey ? { provider: resolveUrn(providerKey) } : {}),
      ...(o?.deleteBeforeReplace ? { deleteBeforeReplace: true as const } : {}),
      ...(o?.ignoreChanges?.length ? { ignoreChanges: o.ignoreChanges } : {}),
      ...(o?.replaceOnChanges?.length ? { replaceOnChanges: o.replaceOnChanges } : {}),
      ...(o?.aliases ? { aliases: o.aliases } : {}),
    };
    resources.push({
      type: r.type,
      name: r.name,
      urn: resolveUrn(key),
      parent: o?.parent ? nameOf(o.parent) : undefined,
      parentUrn: o?.parent ? resolveUrn(o.parent) : stackUrn,
      inputs: r.inputs,
      state: r.state,
      provider: providerKey ? nameOf(providerKey) : undefined,
      custom: r.custom,
      protect,
      retainOnDelete: o?.retainOnDelete ?? false,
      dependsOn: (o?.dependsOn ?? []).map(nameOf),
      options: planned,
    });
  }
  return { stack, stackUrn, resources, outputs: stackOutputs() ?? ((outputs ?? {}) as Record<string, unknown>) };
}

/** Aliases as data: a string is a URN; an alias spec keeps its plain fields, a parent by name. */
function aliasesOf(aliases: readonly unknown[]): unknown[] {
  return aliases.map((a) => {
    if (typeof a === "string") return a;
    const spec = a as Record<string, unknown>;
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(spec)) {
      if (v === undefined) continue;
      out[k] = k === "parent" && v !== null && typeof v === "object" ? (v as { __name?: string }).__name : v;
    }
    return out;
  });
}

/**
 * The stack's outputs as the stack resource registered them with the (mock) monitor: serialized,
 * so a secret output is still marked secret (the program's resolved exports lose that).
 */
function stackOutputs(): Record<string, unknown> | undefined {
  const monitor = getMonitor() as unknown as { getRegisteredResources?: () => Map<string, { urn: string; state: unknown }> };
  for (const [urn, r] of monitor.getRegisteredResources?.() ?? []) {
    if (urn.split("::")[2]?.split("$").pop() !== "pulumi:pulumi:Stack") continue;
    const state = r.state as { toJavaScript?: () => Record<string, unknown> } | Record<string, unknown>;
    const plain = typeof state.toJavaScript === "function" ? (state.toJavaScript as () => Record<string, unknown>)() : (state as Record<string, unknown>);
    return Object.fromEntries(Object.entries(plain).map(([k, v]) => [k, deserializeProperty(v)]));
  }
  return undefined;
}
