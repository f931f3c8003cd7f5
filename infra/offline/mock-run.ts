// Runs the real program, with a stack's real config file, under Pulumi's mocked provider: no CLI,
// no plugins, no cloud. Used by the tests and by `npm run plan`.
import * as fs from "node:fs";
import * as path from "node:path";
import { createHash } from "node:crypto";
import * as pulumi from "@pulumi/pulumi";
import { parse as parseYaml } from "yaml";
// Internal, but it is exactly what the Node.js runtime awaits before the program exits.
const { waitForRPCs } = require("@pulumi/pulumi/runtime/settings") as { waitForRPCs: () => Promise<void> };

export const PROJECT_NAME = "mlPlatform";
export const REPO_ROOT = path.resolve(__dirname, "..", "..");
export const STACKS_DIR = path.join(REPO_ROOT, "stacks");

/** What the mocked account looks like. */
export const MOCK_ACCOUNT = { accountId: "123456789012", partition: "aws" } as const;

export interface PlannedResource {
  readonly type: string;
  readonly name: string;
  readonly urn: string;
  /** Logical name of the parent component, if any. */
  readonly parent?: string;
  readonly inputs: Record<string, any>;
  /** Outputs as the mock computed them (inputs plus names, ARNs and tagsAll a provider would fill in). */
  readonly state: Record<string, any>;
  /** Logical name of the explicit provider, for custom resources. */
  readonly provider?: string;
  readonly custom: boolean;
  readonly protect: boolean;
  readonly retainOnDelete: boolean;
  readonly dependsOn: string[];
}

export interface PlanResult {
  readonly stack: string;
  readonly resources: PlannedResource[];
  readonly outputs: Record<string, unknown>;
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
  const modelName = readStackConfig(stack)["mlPlatform:modelName"] ?? "model";
  return {
    deployerStage: {
      region,
      accountId: MOCK_ACCOUNT.accountId,
      datasetBucketArn: bucketArn("store-datasets-bucket"),
      artifactBucketArn: bucketArn("store-artifacts-bucket"),
      kmsKeyArn: computedState("aws:kms/key:Key", "store-key", {}, region).arn,
      modelPackageGroupName: `${modelName}-${stack}`,
      endpointName: `${modelName}-${stack}`,
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
 * `configOverrides` replaces whole keys of the stack's config (for negative tests).
 */
export async function runProgram(
  stack: string,
  loadProgram: () => Promise<Record<string, unknown>>,
  configOverrides: Record<string, unknown> = {},
): Promise<PlanResult> {
  const config = readStackConfig(stack);
  for (const [key, value] of Object.entries(configOverrides)) {
    if (value === undefined) delete config[key];
    else config[key] = typeof value === "string" ? value : JSON.stringify(value);
  }
  const region = config["aws:region"] ?? "us-east-1";

  const byUrn = new Map<string, { type: string; name: string; inputs: any; state: any; provider?: string; custom: boolean }>();
  const providerTags = new Map<string, Record<string, string>>();
  const options = new Map<string, { resource: { __protect?: boolean }; retainOnDelete: boolean; dependsOn: string[]; parent?: string }>();

  await pulumi.runtime.setMocks(
    {
      newResource(args: pulumi.runtime.MockResourceArgs): pulumi.runtime.MockResourceResult {
        const urn = `urn:pulumi:${stack}::${PROJECT_NAME}::${args.type}::${args.name}`;
        const id = `${args.name}-id`;
        let state: Record<string, any> = { ...args.inputs, ...computedState(args.type, args.name, args.inputs, region) };
        if (args.type === "pulumi:pulumi:StackReference") {
          const ref = String(args.inputs.name ?? args.name);
          const [, project] = ref.split("/");
          const outputs = project !== undefined && project !== PROJECT_NAME ? FOREIGN_STACK_OUTPUTS : referencedStackOutputs(ref.split("/").pop()!, region);
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
            return { accountId: MOCK_ACCOUNT.accountId, arn: `arn:aws:iam::${MOCK_ACCOUNT.accountId}:user/offline`, userId: "OFFLINE", id: MOCK_ACCOUNT.accountId };
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
      const deps = ([] as unknown[]).concat(opts.dependsOn ?? []) as Array<{ __name?: string }>;
      options.set(`${t.type}::${t.name}`, {
        // The constructor resolves `protect` (inherited from the parent) after transformations run.
        resource: t.resource as unknown as { __protect?: boolean },
        retainOnDelete: opts.retainOnDelete ?? false,
        dependsOn: deps.map((d) => d.__name ?? "?"),
        parent: (opts.parent as { __name?: string } | undefined)?.__name,
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

  const resources: PlannedResource[] = [];
  for (const [urn, r] of byUrn) {
    if (r.type === "pulumi:pulumi:Stack") continue;
    const o = options.get(`${r.type}::${r.name}`);
    resources.push({
      type: r.type,
      name: r.name,
      urn,
      parent: o?.parent,
      inputs: r.inputs,
      state: r.state,
      provider: r.provider?.split("::")[3],
      custom: r.custom,
      protect: o?.resource.__protect ?? false,
      retainOnDelete: o?.retainOnDelete ?? false,
      dependsOn: o?.dependsOn ?? [],
    });
  }
  return { stack, resources, outputs: (outputs ?? {}) as Record<string, unknown> };
}
