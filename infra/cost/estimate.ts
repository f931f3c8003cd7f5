// The monthly cost estimate of a stack: a pure function of its planned resources, the pricing
// table and the stack's usage profile. `npm run plan` and the policy pack's budget rule both call
// it. Three cases, low / expected / high:
// - instance endpoints: the autoscaling minimum / the count the traffic needs within the bounds /
//   the maximum (no autoscaling: the configured count in all three);
// - traffic-driven figures (requests, training runs): scaled by 1 - variation / 1 / 1 + variation;
// - training: the high case bills every run to training.maxRuntimeSeconds; spot saves only in the
//   low case (by the most AWS states);
// - fixed charges (keys, alarms, dashboards, storage, an EKS control plane) are the same in all three;
// - Feature Store (a feature group in the plan) from the usage profile's feature store figures;
// - Kubernetes pods on an existing cluster: their pod-hours, unpriced (the nodes are the cluster's).
// Free tiers are not subtracted. A meter without a price is listed as unpriced and left out of the
// totals, never guessed.
import { METERS, priceOf, SPOT_TRAINING_MAX_SAVINGS, type PricingTable } from "./pricing";
import type { UsageProfile } from "./usage";

/** Resource props: JSON as the engine hands it over, in any provider's shape. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- read field by field, each checked where read
type Json = any;

/** A resource as the plan, the plan document and the policy engine all present it. */
export interface CostedResource {
  readonly type: string;
  readonly name: string;
  readonly props: Readonly<Record<string, Json>>;
}

export interface Range {
  readonly low: number;
  readonly expected: number;
  readonly high: number;
}

export interface CostLine {
  readonly meter: string;
  readonly description: string;
  /** Names of the resources the line prices (empty for training: jobs are not resources). */
  readonly resources: readonly string[];
  readonly quantity: Range;
  readonly unit: string;
  readonly unitPriceUsd: number | null;
  /** null when the meter is unpriced. */
  readonly monthlyUsd: Range | null;
  /** Billed whether or not anyone calls the endpoint. */
  readonly idle: boolean;
  readonly source?: string;
  readonly note?: string;
}

export interface CostEstimate {
  readonly region: string;
  readonly currency: "USD";
  readonly pricingRetrieved: string;
  readonly lines: readonly CostLine[];
  /** Sum of the priced lines. */
  readonly totalUsd: Range;
  /** What is billed whatever the traffic (instances, provisioned concurrency); null if one of those lines is unpriced. */
  readonly idleComputeUsd: Range | null;
  /** Lines whose meter has no price: their cost is not in the totals. */
  readonly unpriced: readonly CostLine[];
  /** Resources no meter covers, by type (IAM, bucket settings, policies: no usage charge the estimate knows of). */
  readonly unmetered: Readonly<Record<string, readonly string[]>>;
}

const HOURS_PER_MONTH = 730;
const DAYS_PER_MONTH = HOURS_PER_MONTH / 24;
const SECONDS_PER_HOUR = 3600;
const KB_PER_GB = 1024 * 1024;

const ENDPOINT_CONFIG = ["aws:sagemaker/endpointConfiguration:EndpointConfiguration", "aws-native:sagemaker:EndpointConfig"];
const SCALABLE_TARGET = ["aws:appautoscaling/target:Target", "aws-native:applicationautoscaling:ScalableTarget"];
const SCALING_POLICY = ["aws:appautoscaling/policy:Policy", "aws-native:applicationautoscaling:ScalingPolicy"];
const BUCKET = ["aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2", "aws-native:s3:Bucket"];
const LIFECYCLE = ["aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", "aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2"];
const KMS_KEY = ["aws:kms/key:Key", "aws-native:kms:Key"];
const REPOSITORY = ["aws:ecr/repository:Repository", "aws-native:ecr:Repository"];
const ALARM = ["aws:cloudwatch/metricAlarm:MetricAlarm", "aws-native:cloudwatch:Alarm"];
const DASHBOARD = ["aws:cloudwatch/dashboard:Dashboard", "aws-native:cloudwatch:Dashboard"];
const LOG_GROUP = ["aws:cloudwatch/logGroup:LogGroup", "aws-native:logs:LogGroup"];
const EVENT_RULE = ["aws:cloudwatch/eventRule:EventRule", "aws-native:events:Rule"];
const FEATURE_GROUP = ["aws:sagemaker/featureGroup:FeatureGroup", "aws-native:sagemaker:FeatureGroup"];
const EKS_CLUSTER = ["aws:eks/cluster:Cluster", "aws-native:eks:Cluster"];
const K8S_WORKLOAD = ["kubernetes:apps/v1:Deployment"];
const K8S_AUTOSCALER = ["kubernetes:autoscaling/v2:HorizontalPodAutoscaler"];
/** Resources that bill, but that the table has no meter for yet: listed as unpriced by type. */
const BILLABLE_WITHOUT_METER: Readonly<Record<string, string>> = {
  "aws:sns/topic:Topic": "SNS notifications",
  "aws:eks/nodeGroup:NodeGroup": "EKS worker instances",
};
/** Every type a line below prices (the rest are unmetered). */
const METERED = new Set([
  ...ENDPOINT_CONFIG,
  ...BUCKET,
  ...KMS_KEY,
  ...REPOSITORY,
  ...ALARM,
  ...DASHBOARD,
  ...LOG_GROUP,
  ...EVENT_RULE,
  ...FEATURE_GROUP,
  ...EKS_CLUSTER,
  ...K8S_WORKLOAD,
  ...K8S_AUTOSCALER,
  ...SCALABLE_TARGET,
  ...SCALING_POLICY,
  ...LIFECYCLE,
]);

const same = (n: number): Range => ({ low: n, expected: n, high: n });
const scale = (r: Range, f: number): Range => ({ low: r.low * f, expected: r.expected * f, high: r.high * f });
const add = (a: Range, b: Range): Range => ({ low: a.low + b.low, expected: a.expected + b.expected, high: a.high + b.high });
const parse = (v: unknown) => (typeof v === "string" && /^\s*[[{]/.test(v) ? JSON.parse(v) : v);

/** The estimate of one stack. `region` is the stack's AWS region. */
export function estimateCost(resources: readonly CostedResource[], pricing: PricingTable, region: string, usage: UsageProfile): CostEstimate {
  const lines: CostLine[] = [];
  const v = usage.variation;
  const traffic = (n: number): Range => ({ low: n * (1 - v), expected: n, high: n * (1 + v) });
  const requests = traffic(usage.requestsPerMonth);

  const line = (
    meter: string,
    description: string,
    names: readonly string[],
    quantity: Range,
    opts: { idle?: boolean; factor?: Range; note?: string } = {},
  ) => {
    const price = priceOf(pricing, region, meter);
    const factor = opts.factor ?? same(1);
    const cost =
      price.usd === null
        ? null
        : {
            low: quantity.low * factor.low * price.usd,
            expected: quantity.expected * factor.expected * price.usd,
            high: quantity.high * factor.high * price.usd,
          };
    const note = [opts.note, price.note].filter(Boolean).join("; ") || undefined;
    lines.push({
      meter,
      description,
      resources: names,
      quantity,
      unit: price.unit,
      unitPriceUsd: price.usd,
      monthlyUsd: cost,
      idle: opts.idle ?? false,
      ...(price.source ? { source: price.source } : {}),
      ...(note ? { note } : {}),
    });
  };
  const ofType = (types: readonly string[]) => resources.filter((r) => types.includes(r.type));

  // Endpoints: one line per production variant.
  for (const config of ofType(ENDPOINT_CONFIG)) {
    for (const variant of (config.props.productionVariants ?? []) as Array<Record<string, Json>>) {
      const serverless = variant.serverlessConfig;
      if (serverless) {
        const gb = Number(serverless.memorySizeInMb) / 1024;
        const seconds = scale(requests, usage.meanDurationMs / 1000);
        line(
          METERS.serverlessInference,
          `serverless inference: ${serverless.memorySizeInMb} MB × ${usage.meanDurationMs} ms × requests`,
          [config.name],
          scale(seconds, gb),
        );
        const provisioned = Number(serverless.provisionedConcurrency ?? 0);
        if (provisioned > 0) {
          line(
            METERS.serverlessProvisioned,
            `provisioned concurrency: ${provisioned} × ${serverless.memorySizeInMb} MB for ${usage.activeHoursPerMonth} h`,
            [config.name],
            same(provisioned * gb * usage.activeHoursPerMonth * SECONDS_PER_HOUR),
            { idle: true },
          );
        }
      } else if (variant.instanceType) {
        const instances = instanceRange(resources, variant, usage);
        line(
          METERS.hosting(variant.instanceType),
          `${variant.instanceType} instances (${instances.low}/${instances.expected}/${instances.high}) for ${usage.activeHoursPerMonth} h`,
          [config.name],
          scale(instances, usage.activeHoursPerMonth),
          { idle: true },
        );
      }
      line(METERS.dataProcessed, `endpoint data in and out: requests × ${usage.payloadKb} KB`, [config.name], scale(requests, usage.payloadKb / KB_PER_GB));
    }
    const capture = config.props.dataCaptureConfig;
    if (capture && capture.enableCapture !== false) {
      const share = Number(capture.initialSamplingPercentage ?? 100) / 100;
      const days = captureRetentionDays(resources);
      // Steady state: each month's capture is kept for `days` (30.4 days a month on average).
      const monthsKept = days === undefined ? 1 : days / DAYS_PER_MONTH;
      line(
        METERS.s3Storage,
        `captured traffic: ${share * 100}% × requests × ${usage.payloadKb} KB, kept ${days ?? "?"} days`,
        [config.name],
        scale(requests, (share * usage.payloadKb * monthsKept) / KB_PER_GB),
      );
    }
  }

  // Training jobs (launched by ml-deploy with this stack's training settings).
  const t = usage.training;
  if (usage.trainingRunsPerMonth > 0) {
    const runs = traffic(usage.trainingRunsPerMonth);
    const hoursPerRun: Range = {
      low: usage.trainingMinutesPerRun / 60,
      expected: usage.trainingMinutesPerRun / 60,
      high: t.maxRuntimeSeconds / SECONDS_PER_HOUR,
    };
    const instanceHours: Range = {
      low: runs.low * hoursPerRun.low * t.instanceCount,
      expected: runs.expected * hoursPerRun.expected * t.instanceCount,
      high: runs.high * hoursPerRun.high * t.instanceCount,
    };
    const spot = t.spot ? { low: 1 - SPOT_TRAINING_MAX_SAVINGS, expected: 1, high: 1 } : same(1);
    line(
      METERS.training(t.instanceType),
      `training: runs × ${t.instanceCount} × ${t.instanceType}${t.spot ? ` (managed spot: the low case takes AWS's "up to ${SPOT_TRAINING_MAX_SAVINGS * 100}%" saving, expected and high none)` : ""}`,
      [],
      instanceHours,
      { factor: spot },
    );
    line(METERS.mlStorage, `training volumes: ${t.volumeSizeGb} GB × instance-hours`, [], scale(instanceHours, t.volumeSizeGb / HOURS_PER_MONTH));
  }

  const buckets = ofType(BUCKET).map((r) => r.name);
  if (buckets.length > 0) line(METERS.s3Storage, `S3 Standard: ${usage.storedGb} GB of datasets and artifacts`, buckets, same(usage.storedGb));
  const keys = ofType(KMS_KEY).map((r) => r.name);
  if (keys.length > 0) {
    line(METERS.kmsKey, "customer managed KMS keys", keys, same(keys.length));
    line(METERS.kmsRequests, `KMS requests: ${usage.kmsRequestsPerMonth} a month`, keys, traffic(usage.kmsRequestsPerMonth / 10_000));
  }
  const repositories = ofType(REPOSITORY).map((r) => r.name);
  if (repositories.length > 0) line(METERS.ecrStorage, `ECR images: ${usage.imageGb} GB`, repositories, same(usage.imageGb));
  const alarms = ofType(ALARM);
  if (alarms.length > 0) {
    const metrics = alarms.reduce((n, a) => n + alarmMetricCount(a.props), 0);
    line(
      METERS.alarmMetric,
      `CloudWatch alarms: ${alarms.length} alarms on ${metrics} metrics`,
      alarms.map((a) => a.name),
      same(metrics),
    );
  }
  const dashboards = ofType(DASHBOARD).map((r) => r.name);
  if (dashboards.length > 0) line(METERS.dashboard, "CloudWatch dashboards", dashboards, same(dashboards.length));
  const logGroups = ofType(LOG_GROUP);
  if (logGroups.length > 0) {
    const names = logGroups.map((r) => r.name);
    line(METERS.logsIngestion, `CloudWatch Logs ingestion: ${usage.logGbPerMonth} GB`, names, traffic(usage.logGbPerMonth));
    // Steady state: a month's logs are kept for the longest retention of the stack's log groups.
    // Logs storage bills compressed bytes, so the ingested volume is an upper bound.
    const days = Math.max(...logGroups.map((r) => Number(r.props.retentionInDays ?? 0)));
    if (days > 0)
      line(
        METERS.logsStorage,
        `CloudWatch Logs storage: ${usage.logGbPerMonth} GB a month kept ${days} days (uncompressed: an upper bound)`,
        names,
        traffic(usage.logGbPerMonth * (days / DAYS_PER_MONTH)),
      );
  }
  // Feature Store (the feature-store component): request units and online storage, from the usage profile.
  const featureGroups = ofType(FEATURE_GROUP);
  if (featureGroups.length > 0) {
    const names = featureGroups.map((r) => r.name);
    line(
      METERS.featureStoreWrites,
      `Feature Store writes: ${usage.featureStoreWritesPerMonth} write units`,
      names,
      traffic(usage.featureStoreWritesPerMonth / 1e6),
    );
    const online = featureGroups.filter((r) => r.props.onlineStoreConfig?.enableOnlineStore === true).map((r) => r.name);
    if (online.length > 0) {
      line(
        METERS.featureStoreReads,
        `Feature Store online reads: ${usage.featureStoreReadsPerMonth} read units`,
        online,
        traffic(usage.featureStoreReadsPerMonth / 1e6),
      );
      line(METERS.featureStoreStorage, `Feature Store online storage: ${usage.featureStoreOnlineGb} GB`, online, same(usage.featureStoreOnlineGb));
    }
  }
  // Kubernetes: a cluster this stack creates bills its control plane every hour; pods of a stack
  // that deploys into an existing cluster run on that cluster's nodes, billed where the nodes are.
  const clusters = ofType(EKS_CLUSTER).map((r) => r.name);
  if (clusters.length > 0) line(METERS.eksCluster, "EKS control plane", clusters, same(clusters.length * HOURS_PER_MONTH), { idle: true });
  for (const workload of ofType(K8S_WORKLOAD)) {
    const pods = podRange(resources, workload);
    line(
      METERS.kubernetesPods,
      `Kubernetes pods (${pods.low}/${pods.high}) of ${workload.name} on the cluster's nodes`,
      [workload.name],
      scale(pods, usage.activeHoursPerMonth),
      {
        idle: true,
        note:
          clusters.length > 0
            ? "pod-hours on the cluster's nodes: priced by the node groups"
            : "pod-hours on an existing cluster's nodes, billed to that cluster; this stack creates no cluster, so no EKS control-plane hour is counted",
      },
    );
  }

  const rules = ofType(EVENT_RULE).map((r) => r.name);
  if (rules.length > 0) line(METERS.serviceEventRule, "EventBridge rules on SageMaker events", rules, same(rules.length));

  const unmetered: Record<string, string[]> = {};
  for (const r of resources) {
    if (METERED.has(r.type) || r.type.startsWith("pulumi:") || !/^[\w-]+:[\w/-]*:\w+$/.test(r.type) || r.type.startsWith("mlplatform:")) continue;
    const billable = BILLABLE_WITHOUT_METER[r.type];
    if (billable) {
      lines.push({
        meter: r.type,
        description: billable,
        resources: [r.name],
        quantity: same(1),
        unit: "resource",
        unitPriceUsd: null,
        monthlyUsd: null,
        idle: false,
        note: "billable; the pricing table has no meter for it yet",
      });
      continue;
    }
    (unmetered[r.type] ??= []).push(r.name);
  }

  const priced = lines.filter((l) => l.monthlyUsd !== null);
  return {
    region,
    currency: "USD",
    pricingRetrieved: pricing.retrieved,
    lines,
    totalUsd: priced.reduce((sum, l) => add(sum, l.monthlyUsd!), same(0)),
    idleComputeUsd: lines.some((l) => l.idle && l.monthlyUsd === null)
      ? null
      : priced.filter((l) => l.idle).reduce((sum, l) => add(sum, l.monthlyUsd!), same(0)),
    unpriced: lines.filter((l) => l.monthlyUsd === null),
    unmetered,
  };
}

/**
 * Instances of a variant: low = autoscaling minimum, high = maximum, expected = the count target
 * tracking settles on for the mean traffic (ceil(requests a minute / target per instance)) within
 * the bounds. Without autoscaling, the configured count.
 */
export function instanceRange(
  resources: readonly CostedResource[],
  variant: Record<string, Json>,
  usage: Pick<UsageProfile, "requestsPerMonth" | "activeHoursPerMonth">,
): Range {
  const initial = Number(variant.initialInstanceCount ?? 1);
  const suffix = `/variant/${variant.variantName}`;
  const target = resources.find(
    (r) => SCALABLE_TARGET.includes(r.type) && r.props.serviceNamespace === "sagemaker" && String(r.props.resourceId ?? "").endsWith(suffix),
  );
  if (!target) return same(initial);
  const min = Number(target.props.minCapacity);
  const max = Number(target.props.maxCapacity);
  const policy = resources.find((r) => SCALING_POLICY.includes(r.type) && String(r.props.resourceId ?? "").endsWith(suffix));
  const perInstance = Number(policy?.props.targetTrackingScalingPolicyConfiguration?.targetValue ?? 0);
  const perMinute = usage.activeHoursPerMonth > 0 ? usage.requestsPerMonth / (usage.activeHoursPerMonth * 60) : 0;
  const needed = perInstance > 0 ? Math.ceil(perMinute / perInstance) : initial;
  return { low: min, expected: Math.min(max, Math.max(min, needed)), high: max };
}

/** Pods of a Deployment: its HorizontalPodAutoscaler's min and max (expected: the min), else its replicas. */
function podRange(resources: readonly CostedResource[], workload: CostedResource): Range {
  const name = workload.props.metadata?.name;
  const hpa = resources.find(
    (r) => K8S_AUTOSCALER.includes(r.type) && r.props.spec?.scaleTargetRef?.kind === "Deployment" && r.props.spec?.scaleTargetRef?.name === name,
  );
  if (hpa) {
    const min = Number(hpa.props.spec.minReplicas ?? 1);
    return { low: min, expected: min, high: Number(hpa.props.spec.maxReplicas) };
  }
  return same(Number(workload.props.spec?.replicas ?? 1));
}

/** Days the artifact bucket keeps captured traffic (its `expire-data-capture` lifecycle rule). */
function captureRetentionDays(resources: readonly CostedResource[]): number | undefined {
  for (const r of resources.filter((x) => LIFECYCLE.includes(x.type))) {
    const rule = ((r.props.rules ?? []) as Array<Record<string, Json>>).find((x) => x.id === "expire-data-capture");
    if (rule?.expiration?.days) return Number(rule.expiration.days);
  }
  return undefined;
}

/** CloudWatch bills an alarm per metric it reads: one, or each metric of a metric-math alarm. */
function alarmMetricCount(props: Readonly<Record<string, Json>>): number {
  const queries = parse(props.metricQueries ?? props.metrics) as Array<Record<string, Json>> | undefined;
  if (!queries || queries.length === 0) return 1;
  return queries.filter((q) => q.metric ?? q.metricStat).length;
}
