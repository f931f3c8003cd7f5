// Turns an offline run of the program into what a reviewer reads (the resource tree with each
// resource's key settings, counts by type) and what a machine reads (the plan document: every
// resource's full inputs and options, secrets masked), and the differences between two stacks.
import * as pulumi from "@pulumi/pulumi";
import { stackSettings } from "@ml-platform/contract";
import { decodeConfig } from "../config";
import { estimateCost, type CostEstimate, type Range } from "../cost/estimate";
import { PRICING, type PricingTable } from "../cost/pricing";
import { usageProfile, type UsageProfile } from "../cost/usage";
import { isSecretValue, readStackConfig, type PlannedOptions, type PlannedResource, type PlanResult } from "./mock-run";

/** What `pulumi preview --json` shows for a secret value. */
export const SECRET_MASK = "[secret]";

/** One resource of the plan document. */
export interface PlanDocumentResource {
  readonly urn: string;
  readonly type: string;
  readonly name: string;
  /** Component resource (false) or a provider's resource (true). */
  readonly custom: boolean;
  /** URN of the parent (the stack's URN for top-level resources). */
  readonly parent?: string;
  /** Only the options the program set. */
  readonly options: PlannedOptions;
  /** Every input, as JSON; secrets are `"[secret]"`. */
  readonly inputs: Record<string, unknown>;
}

/**
 * The machine-readable plan (`npm run plan -- <stack> --json`): the contract other tools (the
 * deploy CLI, reviews, policy checks) read instead of re-running the program.
 */
export interface PlanDocument {
  readonly stack: string;
  readonly stackUrn: string;
  readonly resources: PlanDocumentResource[];
  /** Stack outputs; secret outputs are `"[secret]"`. */
  readonly outputs: Record<string, unknown>;
  /** The monthly cost estimate (`npm run plan -- <stack> --json`). */
  readonly cost?: CostEstimate;
}

/**
 * A recorded value as plain JSON: secrets masked, assets by their source, resource references by
 * URN (how the engine serializes them). Anything else non-JSON is a bug in the program and throws.
 */
export function toJsonValue(value: unknown, urnOf: (type: string, name: string) => string | undefined, where = "value"): unknown {
  if (isSecretValue(value)) return SECRET_MASK;
  if (value === null || typeof value === "string" || typeof value === "boolean") return value;
  if (typeof value === "number") return Number.isFinite(value) ? value : String(value);
  if (Array.isArray(value)) return value.map((v, i) => toJsonValue(v, urnOf, `${where}[${i}]`));
  if (pulumi.Resource.isInstance(value)) {
    const r = value as unknown as { __pulumiType: string; __name: string };
    return urnOf(r.__pulumiType, r.__name) ?? `${r.__pulumiType}::${r.__name}`;
  }
  if (pulumi.asset.Asset.isInstance(value) || pulumi.asset.Archive.isInstance(value)) {
    const a = value as unknown as Record<string, unknown>;
    return Object.fromEntries(["path", "text", "uri"].filter((k) => a[k] !== undefined).map((k) => [k, a[k]]));
  }
  if (typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>)
        .filter(([, v]) => v !== undefined)
        .map(([k, v]) => [k, toJsonValue(v, urnOf, `${where}.${k}`)]),
    );
  }
  throw new Error(`plan: ${where} is a ${typeof value}, which has no JSON form`);
}

/** The machine-readable plan of one stack. */
export function toPlanDocument(plan: PlanResult): PlanDocument {
  const urns = new Map(plan.resources.map((r) => [`${r.type}::${r.name}`, r.urn]));
  const urnOf = (type: string, name: string) => urns.get(`${type}::${name}`);
  return {
    stack: plan.stack,
    stackUrn: plan.stackUrn,
    resources: plan.resources.map((r) => ({
      urn: r.urn,
      type: r.type,
      name: r.name,
      custom: r.custom,
      ...(r.parentUrn ? { parent: r.parentUrn } : {}),
      options: r.options,
      inputs: toJsonValue(r.inputs, urnOf, r.name) as Record<string, unknown>,
    })),
    outputs: toJsonValue(plan.outputs, urnOf, "outputs") as Record<string, unknown>,
  };
}

export interface ResourceSummary {
  readonly type: string;
  readonly name: string;
  readonly parent?: string;
  readonly protect: boolean;
  readonly retainOnDelete: boolean;
  /** The settings a reviewer cares about for this type, flattened to dotted paths. */
  readonly settings: Record<string, unknown>;
}

export interface PlanReport {
  readonly stack: string;
  readonly resourceCount: number;
  readonly countsByType: Record<string, number>;
  readonly resources: ResourceSummary[];
  readonly outputs: Record<string, unknown>;
}

const parse = (v: unknown) => (typeof v === "string" && /^[[{]/.test(v) ? JSON.parse(v) : v);

/** The few settings worth showing per resource type; every other type shows none. */
const KEY_SETTINGS: Record<string, (inputs: Record<string, any>) => Record<string, unknown>> = {
  "aws:kms/key:Key": (i) => ({ enableKeyRotation: i.enableKeyRotation, deletionWindowInDays: i.deletionWindowInDays }),
  "aws:s3/bucket:Bucket": (i) => ({ forceDestroy: i.forceDestroy }),
  "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": (i) => ({
    sseAlgorithm: i.rules?.[0]?.applyServerSideEncryptionByDefault?.sseAlgorithm,
    bucketKeyEnabled: i.rules?.[0]?.bucketKeyEnabled,
  }),
  "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": (i) => ({
    allBlocked: Boolean(i.blockPublicAcls && i.blockPublicPolicy && i.ignorePublicAcls && i.restrictPublicBuckets),
  }),
  "aws:s3/bucketVersioning:BucketVersioning": (i) => ({ status: i.versioningConfiguration?.status }),
  "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": (i) =>
    Object.fromEntries((i.rules ?? []).map((r: any) => [r.id, r.expiration?.days ?? r.noncurrentVersionExpiration?.noncurrentDays])),
  "aws:s3/bucketPolicy:BucketPolicy": (i) => ({ statements: (parse(i.policy)?.Statement ?? []).map((s: any) => s.Sid) }),
  "aws:ecr/repository:Repository": (i) => ({
    imageTagMutability: i.imageTagMutability,
    scanOnPush: i.imageScanningConfiguration?.scanOnPush,
    encryptionType: i.encryptionConfigurations?.[0]?.encryptionType,
  }),
  "aws:ecr/lifecyclePolicy:LifecyclePolicy": (i) => ({ rules: (parse(i.policy)?.rules ?? []).map((r: any) => r.description) }),
  "aws:iam/role:Role": (i) => ({
    // Only what an Allow lets in: a role whose trust only denies (no principals configured) is trusted by nobody.
    trustedBy: (parse(i.assumeRolePolicy)?.Statement ?? [])
      .filter((s: any) => s.Effect === "Allow")
      .flatMap((s: any) => [s.Principal?.Service ?? s.Principal?.AWS].flat()),
  }),
  "pulumi:pulumi:StackReference": (i) => ({ stack: i.name }),
  "aws:sagemaker/pipeline:Pipeline": (i) => {
    const definition = parse(i.pipelineDefinition);
    return {
      name: i.pipelineName,
      steps: (definition?.Steps ?? []).map((s: any) => `${s.Name}:${s.Type}`),
      parameters: (definition?.Parameters ?? []).map((p: any) => p.Name),
    };
  },
  "aws:scheduler/schedule:Schedule": (i) => ({ schedule: i.scheduleExpression, timezone: i.scheduleExpressionTimezone, state: i.state }),
  "aws:iam/rolePolicy:RolePolicy": (i) => ({ statements: (parse(i.policy)?.Statement ?? []).map((s: any) => s.Sid) }),
  "aws:sagemaker/modelPackageGroup:ModelPackageGroup": (i) => ({ modelPackageGroupName: i.modelPackageGroupName }),
  "aws:sagemaker/model:Model": (i) => ({
    modelPackageName: i.primaryContainer?.modelPackageName,
    image: i.primaryContainer?.image,
    modelDataUrl: i.primaryContainer?.modelDataUrl,
    enableNetworkIsolation: i.enableNetworkIsolation,
  }),
  "aws:sagemaker/endpointConfiguration:EndpointConfiguration": (i) => {
    const v = i.productionVariants?.[0] ?? {};
    return {
      variant: v.serverlessConfig
        ? `serverless ${v.serverlessConfig.memorySizeInMb} MB, max concurrency ${v.serverlessConfig.maxConcurrency}`
        : `${v.initialInstanceCount} x ${v.instanceType}`,
      kmsEncrypted: Boolean(i.kmsKeyArn),
      dataCapturePercent: i.dataCaptureConfig?.initialSamplingPercentage,
    };
  },
  "aws-native:sagemaker:Endpoint": (i) => {
    const routing = i.deploymentConfig?.blueGreenUpdatePolicy?.trafficRoutingConfiguration;
    return {
      name: i.endpointName,
      retainAllVariantProperties: i.retainAllVariantProperties,
      deployment: routing
        ? `blue/green ${routing.type}${routing.canarySize ? ` ${routing.canarySize.value}%` : ""}, wait ${routing.waitIntervalInSeconds}s`
        : undefined,
      rollbackAlarms: i.deploymentConfig?.autoRollbackConfiguration?.alarms?.length,
    };
  },
  "aws:sagemaker/featureGroup:FeatureGroup": (i) => {
    const offline = i.offlineStoreConfig;
    const online = i.onlineStoreConfig;
    const ttl = online?.ttlDuration;
    return {
      name: i.featureGroupName,
      features: i.featureDefinitions?.length,
      offlineStore: offline ? `${offline.tableFormat ?? "Glue"} ${offline.s3StorageConfig?.s3Uri}` : "off",
      offlineKmsEncrypted: offline ? Boolean(offline.s3StorageConfig?.kmsKeyId) : undefined,
      onlineStore: online?.enableOnlineStore ? (ttl ? `on, ttl ${ttl.value} ${ttl.unit}` : "on") : "off",
      onlineKmsEncrypted: online?.enableOnlineStore ? Boolean(online.securityConfig?.kmsKeyId) : undefined,
    };
  },
  "aws:athena/workgroup:Workgroup": (i) => ({
    results: i.configuration?.resultConfiguration?.outputLocation,
    encryption: i.configuration?.resultConfiguration?.encryptionConfiguration?.encryptionOption,
    enforced: i.configuration?.enforceWorkgroupConfiguration,
  }),
  "aws:appautoscaling/target:Target": (i) => ({ minCapacity: i.minCapacity, maxCapacity: i.maxCapacity }),
  "aws:appautoscaling/policy:Policy": (i) => ({
    metric: i.targetTrackingScalingPolicyConfiguration?.predefinedMetricSpecification?.predefinedMetricType,
    targetValue: i.targetTrackingScalingPolicyConfiguration?.targetValue,
  }),
  "aws:cloudwatch/metricAlarm:MetricAlarm": (i) => ({ metric: i.metricName, threshold: i.threshold, evaluationPeriods: i.evaluationPeriods }),
  "aws:cloudwatch/logGroup:LogGroup": (i) => ({ name: i.name, retentionInDays: i.retentionInDays, kmsEncrypted: Boolean(i.kmsKeyId) }),
  "aws:sns/topic:Topic": (i) => ({ kmsEncrypted: Boolean(i.kmsMasterKeyId) }),
  "aws:sns/topicSubscription:TopicSubscription": (i) => ({ protocol: i.protocol, endpoint: i.endpoint }),
  "pulumi:providers:aws": (i) => ({ region: i.region, defaultTags: parse(i.defaultTags)?.tags }),
};

function withoutUndefined(settings: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(settings).filter(([, v]) => v !== undefined));
}

export function summarize(resource: PlannedResource): ResourceSummary {
  const pick = KEY_SETTINGS[resource.type];
  return {
    type: resource.type,
    name: resource.name,
    parent: resource.parent,
    protect: resource.protect,
    retainOnDelete: resource.retainOnDelete,
    settings: pick ? withoutUndefined(pick(resource.inputs)) : {},
  };
}

export function buildReport(plan: PlanResult): PlanReport {
  const resources = plan.resources.map(summarize);
  const outputs = toPlanDocument({ ...plan, resources: [] }).outputs;
  const countsByType: Record<string, number> = {};
  for (const r of resources) countsByType[r.type] = (countsByType[r.type] ?? 0) + 1;
  return {
    stack: plan.stack,
    resourceCount: resources.length,
    countsByType: Object.fromEntries(Object.entries(countsByType).sort(([a], [b]) => a.localeCompare(b))),
    resources,
    outputs,
  };
}

function formatSettings(r: ResourceSummary): string {
  const flags = [r.protect && "protect", r.retainOnDelete && "retainOnDelete"].filter(Boolean);
  const settings = Object.entries(r.settings).map(([k, v]) => `${k}=${typeof v === "string" ? v : JSON.stringify(v)}`);
  const parts = [...settings, ...(flags.length ? [`[${flags.join(", ")}]`] : [])];
  return parts.length ? `  ${parts.join("  ")}` : "";
}

/** The resource tree, parents before children, as text. */
export function renderTree(report: PlanReport): string {
  const children = new Map<string | undefined, ResourceSummary[]>();
  for (const r of report.resources) {
    const list = children.get(r.parent) ?? [];
    list.push(r);
    children.set(r.parent, list);
  }
  const lines: string[] = [`stack ${report.stack}: ${report.resourceCount} resources`];
  const walk = (parent: string | undefined, prefix: string) => {
    const list = children.get(parent) ?? [];
    list.forEach((r, i) => {
      const last = i === list.length - 1;
      lines.push(`${prefix}${last ? "└─ " : "├─ "}${r.type}  ${r.name}${formatSettings(r)}`);
      walk(r.name, `${prefix}${last ? "   " : "│  "}`);
    });
  };
  walk(undefined, "");
  return lines.join("\n");
}

export function renderCounts(report: PlanReport): string {
  const width = Math.max(...Object.keys(report.countsByType).map((t) => t.length));
  return Object.entries(report.countsByType)
    .map(([type, n]) => `${type.padEnd(width)}  ${String(n).padStart(3)}`)
    .concat(`${"total".padEnd(width)}  ${String(report.resourceCount).padStart(3)}`)
    .join("\n");
}

export interface StackDiff {
  readonly from: string;
  readonly to: string;
  readonly onlyIn: Record<string, string[]>;
  /** Each differing input or option, by dotted path (`inputs.productionVariants[0].instanceType`). */
  readonly changed: Array<{ resource: string; setting: string; from: unknown; to: unknown }>;
}

/**
 * A resource's inputs and options as path → leaf value. Policy documents and other JSON held in a
 * string are expanded, so a diff names the statement that changed rather than the whole string.
 */
export function flatten(value: unknown, path: string, out: Map<string, unknown> = new Map()): Map<string, unknown> {
  if (typeof value === "string" && /^\s*[[{]/.test(value)) {
    try {
      return flatten(JSON.parse(value), path, out);
    } catch {
      // Not JSON after all: a leaf.
    }
  }
  if (Array.isArray(value)) {
    if (value.length === 0) out.set(path, []);
    value.forEach((v, i) => flatten(v, `${path}[${i}]`, out));
  } else if (value !== null && typeof value === "object") {
    // An empty object is no setting (`options: {}`); an empty list can be one (no subscribers).
    for (const [k, v] of Object.entries(value)) flatten(v, `${path}.${k}`, out);
  } else {
    out.set(path, value);
  }
  return out;
}

/** What differs between two stacks: resources only one of them has, and every input and option that differs. */
export function diffReports(a: PlanDocument, b: PlanDocument): StackDiff {
  const key = (r: PlanDocumentResource) => `${r.type}  ${r.name}`;
  const left = new Map(a.resources.map((r) => [key(r), r]));
  const right = new Map(b.resources.map((r) => [key(r), r]));
  const changed: StackDiff["changed"] = [];
  const settingsOf = (r: PlanDocumentResource) => flatten({ options: r.options, inputs: r.inputs }, "").entries();
  for (const [k, l] of left) {
    const r = right.get(k);
    if (!r) continue;
    const lv = new Map([...settingsOf(l)].map(([p, v]) => [p.slice(1), v]));
    const rv = new Map([...settingsOf(r)].map(([p, v]) => [p.slice(1), v]));
    // Stack names appear in URNs; a resource's own identity is not a difference.
    const same = (x: unknown, y: unknown) =>
      JSON.stringify(x) === JSON.stringify(y) ||
      (typeof x === "string" &&
        typeof y === "string" &&
        x.replace(`urn:pulumi:${a.stack}::`, "urn:pulumi:") === y.replace(`urn:pulumi:${b.stack}::`, "urn:pulumi:"));
    for (const setting of new Set([...lv.keys(), ...rv.keys()])) {
      if (!same(lv.get(setting), rv.get(setting))) changed.push({ resource: k, setting, from: lv.get(setting), to: rv.get(setting) });
    }
  }
  return {
    from: a.stack,
    to: b.stack,
    onlyIn: {
      [a.stack]: [...left.keys()].filter((k) => !right.has(k)),
      [b.stack]: [...right.keys()].filter((k) => !left.has(k)),
    },
    changed,
  };
}

export function renderDiff(d: StackDiff): string {
  const show = (v: unknown) => (v === undefined ? "(none)" : typeof v === "string" ? v : JSON.stringify(v));
  const lines = [`${d.from} → ${d.to}`];
  for (const [stack, keys] of Object.entries(d.onlyIn)) {
    for (const k of keys) lines.push(`${stack === d.from ? "-" : "+"} ${k}   (only in ${stack})`);
  }
  for (const c of d.changed) lines.push(`~ ${c.resource}   ${c.setting}: ${show(c.from)} → ${show(c.to)}`);
  if (lines.length === 1) lines.push("no differences");
  return lines.join("\n");
}

// ---- Cost: the estimate of a planned stack, its table and the difference between two stacks ----

/** The stack's usage profile and region, read from its stack file as `pulumi up` would. */
export function stackUsage(stack: string): { region: string; usage: UsageProfile } {
  const config = decodeConfig(readStackConfig(stack));
  return { region: String(config["aws:region"] ?? "us-east-1"), usage: usageProfile(stackSettings(stack, config)) };
}

/**
 * The policy pack's config for the budget rule (`--policy-pack-config`): the pack cannot read stack
 * config, so the budget, region and usage profile are handed to it. Empty without a budget.
 */
export function budgetPolicyConfig(stack: string): Record<string, unknown> {
  const config = decodeConfig(readStackConfig(stack));
  const settings = stackSettings(stack, config);
  if (!settings.budget) return {};
  const { region, usage } = stackUsage(stack);
  return { "stack-monthly-budget": { monthlyUsd: settings.budget.monthlyUsd, region, usage } };
}

/** The monthly cost estimate of a planned stack (components and providers carry no cost). */
export function costOf(plan: PlanResult, pricing: PricingTable = PRICING, profile = stackUsage(plan.stack)): CostEstimate {
  const resources = plan.resources.filter((r) => r.custom).map((r) => ({ type: r.type, name: r.name, props: r.inputs }));
  return estimateCost(resources, pricing, profile.region, profile.usage);
}

const usd = (n: number) => `$${n.toFixed(2)}`;
const rangeText = (r: Range) => [r.low, r.expected, r.high].map((n) => usd(n).padStart(11)).join("");

/** The cost table `npm run plan -- <stack>` ends with. */
export function renderCost(stack: string, c: CostEstimate): string {
  const width = Math.max(40, ...c.lines.map((l) => l.meter.length));
  const lines = [
    `monthly cost estimate of ${stack} (USD, ${c.region}, pricing table of ${c.pricingRetrieved})`,
    `${"meter".padEnd(width)}${"low".padStart(11)}${"expected".padStart(11)}${"high".padStart(11)}  what`,
  ];
  for (const l of c.lines) {
    const cost = l.monthlyUsd ? rangeText(l.monthlyUsd) : "unpriced".padStart(33);
    lines.push(`${l.meter.padEnd(width)}${cost}  ${l.description}${l.idle ? " [idle: billed without traffic]" : ""}`);
  }
  lines.push(`${"total of the priced lines".padEnd(width)}${rangeText(c.totalUsd)}`);
  lines.push(`${"idle compute (billed without traffic)".padEnd(width)}${c.idleComputeUsd ? rangeText(c.idleComputeUsd) : "unpriced".padStart(33)}`);
  if (c.unpriced.length > 0) {
    lines.push(`unpriced (not in the totals): ${c.unpriced.length} line${c.unpriced.length === 1 ? "" : "s"}`);
    for (const l of c.unpriced) lines.push(`  ${l.meter}: ${l.note ?? "no price"}`);
  }
  const unmetered = Object.entries(c.unmetered);
  if (unmetered.length > 0)
    lines.push(`no meter (no usage charge the estimate knows of): ${unmetered.map(([type, names]) => `${type} ×${names.length}`).join(", ")}`);
  lines.push(
    "low/expected/high: instance endpoints at the autoscaling min / the count the traffic needs / the max; traffic and training runs ×(1∓variation); training to maxRuntimeSeconds in the high case; spot savings only in the low case. Free tiers are not subtracted.",
  );
  return lines.join("\n");
}

export interface CostDiff {
  readonly from: string;
  readonly to: string;
  /** to − from, per case. */
  readonly totalUsd: Range;
  readonly idleComputeUsd: Range | null;
  /** Per meter: to − from (a meter in one stack only counts as 0 in the other). */
  readonly meters: Array<{ meter: string; deltaUsd: Range | null; from: Range | null; to: Range | null }>;
  /** Meters unpriced in either stack: their difference is unknown. */
  readonly unpriced: string[];
}

export function diffCosts(fromStack: string, a: CostEstimate, toStack: string, b: CostEstimate): CostDiff {
  const sum = (c: CostEstimate) => {
    const m = new Map<string, Range | null>();
    for (const l of c.lines) {
      const prev = m.get(l.meter);
      m.set(
        l.meter,
        prev === null || l.monthlyUsd === null
          ? null
          : prev === undefined
            ? l.monthlyUsd
            : { low: prev.low + l.monthlyUsd.low, expected: prev.expected + l.monthlyUsd.expected, high: prev.high + l.monthlyUsd.high },
      );
    }
    return m;
  };
  const left = sum(a);
  const right = sum(b);
  const zero = { low: 0, expected: 0, high: 0 };
  const sub = (x: Range, y: Range): Range => ({ low: x.low - y.low, expected: x.expected - y.expected, high: x.high - y.high });
  const meters = [...new Set([...left.keys(), ...right.keys()])].sort().map((meter) => {
    const from = left.has(meter) ? left.get(meter)! : zero;
    const to = right.has(meter) ? right.get(meter)! : zero;
    return { meter, from, to, deltaUsd: from === null || to === null ? null : sub(to, from) };
  });
  return {
    from: fromStack,
    to: toStack,
    totalUsd: sub(b.totalUsd, a.totalUsd),
    idleComputeUsd: a.idleComputeUsd && b.idleComputeUsd ? sub(b.idleComputeUsd, a.idleComputeUsd) : null,
    meters,
    unpriced: meters.filter((m) => m.deltaUsd === null).map((m) => m.meter),
  };
}

export function renderCostDiff(d: CostDiff): string {
  const signed = (n: number) => `${n >= 0 ? "+" : "-"}${usd(Math.abs(n))}`.padStart(12);
  const range = (r: Range) => [r.low, r.expected, r.high].map(signed).join("");
  const width = Math.max(40, ...d.meters.map((m) => m.meter.length));
  const lines = [
    `monthly cost: what ${d.to} adds to ${d.from} (USD)`,
    `${"meter".padEnd(width)}${"low".padStart(12)}${"expected".padStart(12)}${"high".padStart(12)}`,
  ];
  for (const m of d.meters) {
    if (m.deltaUsd && m.deltaUsd.low === 0 && m.deltaUsd.expected === 0 && m.deltaUsd.high === 0) continue;
    lines.push(`${m.meter.padEnd(width)}${m.deltaUsd ? range(m.deltaUsd) : "unpriced".padStart(36)}`);
  }
  lines.push(`${"total of the priced lines".padEnd(width)}${range(d.totalUsd)}`);
  lines.push(`${"idle compute".padEnd(width)}${d.idleComputeUsd ? range(d.idleComputeUsd) : "unpriced".padStart(36)}`);
  if (d.unpriced.length > 0) lines.push(`unpriced in either stack (difference unknown): ${d.unpriced.join(", ")}`);
  return lines.join("\n");
}
