// Turns an offline run of the program into what a reviewer reads: the resource tree with each
// resource's key settings, counts by type, and the differences between two stacks.
import type { PlannedResource, PlanResult } from "./mock-run";

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
  "aws:iam/role:Role": (i) => ({ trustedBy: (parse(i.assumeRolePolicy)?.Statement ?? []).flatMap((s: any) => [s.Principal?.Service ?? s.Principal?.AWS].flat()) }),
  "pulumi:pulumi:StackReference": (i) => ({ stack: i.name }),
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
      deployment: routing ? `blue/green ${routing.type}${routing.canarySize ? ` ${routing.canarySize.value}%` : ""}, wait ${routing.waitIntervalInSeconds}s` : undefined,
      rollbackAlarms: i.deploymentConfig?.autoRollbackConfiguration?.alarms?.length,
    };
  },
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
  const countsByType: Record<string, number> = {};
  for (const r of resources) countsByType[r.type] = (countsByType[r.type] ?? 0) + 1;
  return {
    stack: plan.stack,
    resourceCount: resources.length,
    countsByType: Object.fromEntries(Object.entries(countsByType).sort(([a], [b]) => a.localeCompare(b))),
    resources,
    outputs: plan.outputs,
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
  readonly changed: Array<{ resource: string; setting: string; from: unknown; to: unknown }>;
}

/** What differs between two stacks: resources only one of them has, and settings that differ. */
export function diffReports(a: PlanReport, b: PlanReport): StackDiff {
  const key = (r: ResourceSummary) => `${r.type}  ${r.name}`;
  const left = new Map(a.resources.map((r) => [key(r), r]));
  const right = new Map(b.resources.map((r) => [key(r), r]));
  const changed: StackDiff["changed"] = [];
  for (const [k, l] of left) {
    const r = right.get(k);
    if (!r) continue;
    const settings = new Set([...Object.keys(l.settings), ...Object.keys(r.settings), "protect", "retainOnDelete"]);
    for (const s of settings) {
      const lv = s === "protect" || s === "retainOnDelete" ? l[s] : l.settings[s];
      const rv = s === "protect" || s === "retainOnDelete" ? r[s] : r.settings[s];
      if (JSON.stringify(lv) !== JSON.stringify(rv)) changed.push({ resource: k, setting: s, from: lv, to: rv });
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
