import { describe, expect, it } from "vitest";
import { estimateCost, instanceRange, type CostedResource } from "../infra/cost/estimate";
import { PRICING, SPOT_TRAINING_MAX_SAVINGS, type PricingTable } from "../infra/cost/pricing";
import type { UsageProfile } from "../infra/cost/usage";

// Every figure below is worked by hand from infra/cost/pricing-table.json (the committed table).
const EU = PRICING.regions["eu-west-1"];
const US = PRICING.regions["us-east-1"];

const USAGE: UsageProfile = {
  requestsPerMonth: 1_000_000,
  meanDurationMs: 50,
  payloadKb: 4,
  activeHoursPerMonth: 730,
  trainingRunsPerMonth: 10,
  trainingMinutesPerRun: 30,
  storedGb: 100,
  imageGb: 5,
  kmsRequestsPerMonth: 50_000,
  logGbPerMonth: 8,
  featureStoreWritesPerMonth: 0,
  featureStoreReadsPerMonth: 0,
  featureStoreOnlineGb: 0,
  variation: 0.5,
  training: { instanceType: "ml.m5.xlarge", instanceCount: 2, volumeSizeGb: 50, maxRuntimeSeconds: 7200, spot: false },
};

const instanceConfig = (instanceType = "ml.m5.xlarge", count = 2, capture?: number): CostedResource => ({
  type: "aws:sagemaker/endpointConfiguration:EndpointConfiguration",
  name: "config",
  props: {
    productionVariants: [{ variantName: "primary", instanceType, initialInstanceCount: count }],
    ...(capture === undefined ? {} : { dataCaptureConfig: { enableCapture: true, initialSamplingPercentage: capture } }),
  },
});
const scaling = (min: number, max: number, target: number): CostedResource[] => [
  {
    type: "aws:appautoscaling/target:Target",
    name: "target",
    props: { serviceNamespace: "sagemaker", resourceId: "endpoint/e/variant/primary", minCapacity: min, maxCapacity: max },
  },
  {
    type: "aws:appautoscaling/policy:Policy",
    name: "policy",
    props: { resourceId: "endpoint/e/variant/primary", targetTrackingScalingPolicyConfiguration: { targetValue: target } },
  },
];
const serverless = (memorySizeInMb: number, provisionedConcurrency?: number): CostedResource => ({
  type: "aws:sagemaker/endpointConfiguration:EndpointConfiguration",
  name: "config",
  props: { productionVariants: [{ variantName: "primary", serverlessConfig: { memorySizeInMb, maxConcurrency: 5, provisionedConcurrency } }] },
});
const lineOf = (resources: CostedResource[], meter: string, region = "eu-west-1", usage: UsageProfile = USAGE, pricing: PricingTable = PRICING) => {
  const found = estimateCost(resources, pricing, region, usage).lines.filter((l) => l.meter === meter);
  if (found.length !== 1) throw new Error(`expected one ${meter} line, found ${found.length}`);
  return found[0];
};

describe("the estimate of each priced resource, by hand from the committed table", () => {
  it("reads the figures it is checked against from the table", () => {
    expect(EU["sagemaker/hosting/ml.m5.xlarge"].usd).toBe(0.257);
    expect(EU["sagemaker/ml-storage"].usd).toBe(0.154);
    expect(EU["sagemaker/data-processed"].usd).toBe(0.016);
    expect(EU["s3/standard-storage"].usd).toBe(0.023);
    expect(EU["ecr/storage"].usd).toBe(0.1);
    expect(EU["cloudwatch/alarm-metric"].usd).toBe(0.1);
    expect(EU["cloudwatch/logs-ingestion"].usd).toBe(0.57);
    expect(EU["cloudwatch/logs-storage"].usd).toBe(0.03);
    expect(US["sagemaker/hosting/ml.m5.xlarge"].usd).toBe(0.23);
    expect(US["cloudwatch/dashboard"].usd).toBe(3);
  });

  it("cites a source and a date for every figure, and says why for every missing one", () => {
    for (const [region, meters] of Object.entries(PRICING.regions))
      for (const [meter, price] of Object.entries(meters)) {
        const where = `${region} ${meter}`;
        if (price.usd === null) expect(price.note, where).toMatch(/\w/);
        else {
          expect(price.source, where).toMatch(/^https:\/\//);
          expect(price.asOf, where).toMatch(/^\d{4}(-\d{2}){0,2}$/);
        }
      }
  });

  it.each<[string, CostedResource[], string, string, [number, number, number]]>([
    // 730 h × 0.257 × instances; 1,000,000 req/month over 730 h = 22.8/min, target 10 → 3 instances.
    [
      "an autoscaled instance endpoint: min 2 / needed 3 / max 6",
      [instanceConfig(), ...scaling(2, 6, 10)],
      "sagemaker/hosting/ml.m5.xlarge",
      "eu-west-1",
      [2 * 730 * 0.257, 3 * 730 * 0.257, 6 * 730 * 0.257],
    ],
    [
      "a fixed instance endpoint: its count in all three cases",
      [instanceConfig("ml.m5.xlarge", 2)],
      "sagemaker/hosting/ml.m5.xlarge",
      "eu-west-1",
      [2 * 730 * 0.257, 2 * 730 * 0.257, 2 * 730 * 0.257],
    ],
    // requests × 4 KB / 1024² × 0.016, traffic ×0.5 / ×1.5.
    [
      "endpoint data in and out",
      [instanceConfig()],
      "sagemaker/data-processed",
      "eu-west-1",
      [((0.5e6 * 4) / 1048576) * 0.016, ((1e6 * 4) / 1048576) * 0.016, ((1.5e6 * 4) / 1048576) * 0.016],
    ],
    // us-east-1: 730 h × $0.23 × 2 instances.
    [
      "a fixed instance endpoint in us-east-1",
      [instanceConfig("ml.m5.xlarge", 2)],
      "sagemaker/hosting/ml.m5.xlarge",
      "us-east-1",
      [2 * 730 * 0.23, 2 * 730 * 0.23, 2 * 730 * 0.23],
    ],
    ["a customer managed key", [{ type: "aws:kms/key:Key", name: "key", props: {} }], "kms/key", "eu-west-1", [1, 1, 1]],
    // 100 GB × $0.023 (first 50 TB tier).
    ["S3 Standard storage", [{ type: "aws:s3/bucket:Bucket", name: "b", props: {} }], "s3/standard-storage", "eu-west-1", [2.3, 2.3, 2.3]],
    ["ECR images in eu-west-1", [{ type: "aws:ecr/repository:Repository", name: "repo", props: {} }], "ecr/storage", "eu-west-1", [0.5, 0.5, 0.5]],
    // 8 GB a month × $0.57, traffic-scaled: 4 / 8 / 12 GB.
    [
      "log ingestion in eu-west-1",
      [{ type: "aws:cloudwatch/logGroup:LogGroup", name: "l", props: { retentionInDays: 14 } }],
      "cloudwatch/logs-ingestion",
      "eu-west-1",
      [4 * 0.57, 8 * 0.57, 12 * 0.57],
    ],
    // 8 GB a month kept 73 days = 2.4 months (730/24 days each) × $0.03; the longest retention counts.
    [
      "log storage for the longest retention",
      [
        { type: "aws:cloudwatch/logGroup:LogGroup", name: "l", props: { retentionInDays: 73 } },
        { type: "aws:cloudwatch/logGroup:LogGroup", name: "m", props: { retentionInDays: 14 } },
      ],
      "cloudwatch/logs-storage",
      "eu-west-1",
      [4 * 2.4 * 0.03, 8 * 2.4 * 0.03, 12 * 2.4 * 0.03],
    ],
    // 50,000 requests = 5 × 10,000 × 0.03, traffic-scaled.
    ["key requests", [{ type: "aws:kms/key:Key", name: "key", props: {} }], "kms/requests", "us-east-1", [2.5 * 0.03, 5 * 0.03, 7.5 * 0.03]],
    ["ECR images", [{ type: "aws:ecr/repository:Repository", name: "repo", props: {} }], "ecr/storage", "us-east-1", [5 * 0.1, 5 * 0.1, 5 * 0.1]],
    // Two simple alarms (a metric each) and a metric-math alarm reading two metrics: 4 alarm metrics.
    [
      "alarms, each metric of a metric-math alarm counted",
      [
        { type: "aws:cloudwatch/metricAlarm:MetricAlarm", name: "a", props: { metricName: "Invocations" } },
        { type: "aws:cloudwatch/metricAlarm:MetricAlarm", name: "b", props: { metricName: "ModelLatency" } },
        {
          type: "aws:cloudwatch/metricAlarm:MetricAlarm",
          name: "c",
          props: {
            metricQueries: [
              { id: "r", expression: "a / b" },
              { id: "a", metric: {} },
              { id: "b", metric: {} },
            ],
          },
        },
      ],
      "cloudwatch/alarm-metric",
      "eu-west-1",
      [0.4, 0.4, 0.4],
    ],
    ["a dashboard", [{ type: "aws:cloudwatch/dashboard:Dashboard", name: "d", props: {} }], "cloudwatch/dashboard", "us-east-1", [3, 3, 3]],
    [
      "log ingestion",
      [{ type: "aws:cloudwatch/logGroup:LogGroup", name: "l", props: {} }],
      "cloudwatch/logs-ingestion",
      "us-east-1",
      [4 * 0.5, 8 * 0.5, 12 * 0.5],
    ],
    [
      "rules on SageMaker events: not charged",
      [{ type: "aws:cloudwatch/eventRule:EventRule", name: "r", props: {} }],
      "events/aws-service-events",
      "us-east-1",
      [0, 0, 0],
    ],
  ])("%s", (_case, resources, meter, region, [low, expected, high]) => {
    const line = lineOf(resources, meter, region);
    expect(line.monthlyUsd!.low).toBeCloseTo(low, 10);
    expect(line.monthlyUsd!.expected).toBeCloseTo(expected, 10);
    expect(line.monthlyUsd!.high).toBeCloseTo(high, 10);
  });

  it("prices training: runs × instances × hours, the high case to maxRuntimeSeconds, and its volumes", () => {
    // 10 runs × 2 instances × 0.5 h = 10 instance-hours; low 5 runs; high 15 runs × 2 h.
    const compute = lineOf([], "sagemaker/training/ml.m5.xlarge");
    expect(compute.quantity).toEqual({ low: 5, expected: 10, high: 60 });
    expect(compute.monthlyUsd!.expected).toBeCloseTo(10 * 0.257, 10);
    expect(compute.monthlyUsd!.high).toBeCloseTo(60 * 0.257, 10);
    // 50 GB × instance-hours / 730 h a month × 0.154.
    expect(lineOf([], "sagemaker/ml-storage").monthlyUsd!.expected).toBeCloseTo(((50 * 10) / 730) * 0.154, 10);
  });

  it("takes the spot saving in the low case only", () => {
    const spot = { ...USAGE, training: { ...USAGE.training, spot: true } };
    const line = lineOf([], "sagemaker/training/ml.m5.xlarge", "eu-west-1", spot);
    expect(line.monthlyUsd!.low).toBeCloseTo(5 * 0.257 * (1 - SPOT_TRAINING_MAX_SAVINGS), 10);
    expect(line.monthlyUsd!.expected).toBeCloseTo(10 * 0.257, 10);
  });

  it("sums the priced lines and counts instances as idle compute", () => {
    const e = estimateCost([instanceConfig("ml.m5.xlarge", 2), { type: "aws:kms/key:Key", name: "key", props: {} }], PRICING, "eu-west-1", {
      ...USAGE,
      trainingRunsPerMonth: 0,
    });
    const data = ((1e6 * 4) / 1048576) * 0.016;
    expect(e.totalUsd.expected).toBeCloseTo(2 * 730 * 0.257 + data + 1, 10);
    expect(e.idleComputeUsd!.expected).toBeCloseTo(2 * 730 * 0.257, 10);
  });
});

describe("what the table cannot price", () => {
  it("lists an unpriced meter with its reason and leaves it out of the totals", () => {
    const e = estimateCost([instanceConfig("ml.c6i.xlarge", 2)], PRICING, "eu-west-1", { ...USAGE, trainingRunsPerMonth: 0 });
    const hosting = e.unpriced.find((l) => l.meter === "sagemaker/hosting/ml.c6i.xlarge")!;
    expect(hosting).toMatchObject({ monthlyUsd: null, idle: true, note: expect.stringContaining("no cited eu-west-1 figure found") });
    expect(e.idleComputeUsd).toBeNull();
    expect(e.totalUsd.expected).toBeCloseTo(((1e6 * 4) / 1048576) * 0.016, 10);
  });

  it("says so for a region the table does not have", () => {
    const e = estimateCost([{ type: "aws:kms/key:Key", name: "key", props: {} }], PRICING, "ap-south-1", USAGE);
    expect(e.unpriced.map((l) => l.note)).toContain("the pricing table has no region ap-south-1");
  });

  it("lists billable resources without a meter as unpriced and settings resources as unmetered", () => {
    const e = estimateCost(
      [
        { type: "aws:sns/topic:Topic", name: "topic", props: {} },
        { type: "aws:iam/role:Role", name: "role", props: {} },
        { type: "mlplatform:storage:ArtifactStore", name: "store", props: {} },
      ],
      PRICING,
      "eu-west-1",
      USAGE,
    );
    expect(e.unpriced.map((l) => l.meter)).toEqual(["aws:sns/topic:Topic"]);
    expect(e.unmetered).toEqual({ "aws:iam/role:Role": ["role"] });
  });
});

describe("Feature Store and Kubernetes", () => {
  const FS_USAGE: UsageProfile = {
    ...USAGE,
    trainingRunsPerMonth: 0,
    featureStoreWritesPerMonth: 4_000_000,
    featureStoreReadsPerMonth: 10_000_000,
    featureStoreOnlineGb: 5,
  };
  // The committed table has no Feature Store or EKS figure; the formulas are checked against stated ones.
  const STATED: PricingTable = {
    ...PRICING,
    regions: {
      test: {
        "sagemaker/feature-store-writes": { usd: 1.25, unit: "million write units" },
        "sagemaker/feature-store-reads": { usd: 0.25, unit: "million read units" },
        "sagemaker/feature-store-storage": { usd: 0.45, unit: "GB-month" },
        "eks/cluster": { usd: 0.1, unit: "cluster-hour" },
      },
    },
  };
  const group = (online: boolean): CostedResource => ({
    type: "aws:sagemaker/featureGroup:FeatureGroup",
    name: "features",
    props: online ? { onlineStoreConfig: { enableOnlineStore: true } } : { offlineStoreConfig: {} },
  });

  it("prices a feature group's writes, online reads and online storage from the usage profile", () => {
    const e = estimateCost([group(true)], STATED, "test", FS_USAGE);
    const usd = (meter: string) => e.lines.find((l) => l.meter === meter)!.monthlyUsd!;
    // 4 M writes × $1.25 a million, ×0.5/×1.5 for low/high; 10 M reads × $0.25; 5 GB × $0.45.
    expect(usd("sagemaker/feature-store-writes")).toEqual({ low: 2 * 1.25, expected: 4 * 1.25, high: 6 * 1.25 });
    expect(usd("sagemaker/feature-store-reads").expected).toBeCloseTo(10 * 0.25, 10);
    expect(usd("sagemaker/feature-store-storage").expected).toBeCloseTo(5 * 0.45, 10);
  });

  it("bills no online reads or storage for an offline-only feature group, and nothing without one", () => {
    expect(estimateCost([group(false)], STATED, "test", FS_USAGE).lines.map((l) => l.meter)).toEqual(["sagemaker/feature-store-writes"]);
    expect(estimateCost([], STATED, "test", FS_USAGE).lines).toEqual([]);
  });

  it("lists Feature Store as unpriced where the committed table has no figure", () => {
    const e = estimateCost([group(true)], PRICING, "eu-west-1", FS_USAGE);
    expect(e.unpriced.map((l) => l.meter)).toEqual(
      expect.arrayContaining(["sagemaker/feature-store-writes", "sagemaker/feature-store-reads", "sagemaker/feature-store-storage"]),
    );
  });

  it("bills an EKS cluster the stack creates for every hour, as idle compute", () => {
    const e = estimateCost([{ type: "aws:eks/cluster:Cluster", name: "cluster", props: {} }], STATED, "test", { ...USAGE, trainingRunsPerMonth: 0 });
    // 730 h × $0.10.
    expect(e.idleComputeUsd).toEqual({ low: 73, expected: 73, high: 73 });
  });

  it("counts pods on an existing cluster between the autoscaler's bounds, unpriced, and no control plane", () => {
    const e = estimateCost(
      [
        { type: "kubernetes:apps/v1:Deployment", name: "deployment", props: { metadata: { name: "model" }, spec: { replicas: 2 } } },
        {
          type: "kubernetes:autoscaling/v2:HorizontalPodAutoscaler",
          name: "hpa",
          props: { spec: { minReplicas: 2, maxReplicas: 4, scaleTargetRef: { kind: "Deployment", name: "model" } } },
        },
      ],
      PRICING,
      "eu-west-1",
      { ...USAGE, trainingRunsPerMonth: 0 },
    );
    const pods = e.lines.find((l) => l.meter === "kubernetes/pods")!;
    expect(pods).toMatchObject({ quantity: { low: 2 * 730, expected: 2 * 730, high: 4 * 730 }, monthlyUsd: null, idle: true });
    expect(pods.note).toContain("no EKS control-plane hour is counted");
    expect(e.lines.map((l) => l.meter)).not.toContain("eks/cluster");
    expect(e.idleComputeUsd).toBeNull();
  });
});

describe("serverless endpoints", () => {
  // The committed table has no serverless figure; the formula is checked against a stated one.
  const STATED: PricingTable = {
    ...PRICING,
    regions: {
      test: {
        "sagemaker/serverless-inference": { usd: 0.00002, unit: "GB-second" },
        "sagemaker/serverless-provisioned-concurrency": { usd: 0.000005, unit: "GB-second" },
      },
    },
  };

  it("bills requests × duration × memory, and nothing idle without provisioned concurrency", () => {
    const e = estimateCost([serverless(2048)], STATED, "test", USAGE);
    const line = e.lines.find((l) => l.meter === "sagemaker/serverless-inference")!;
    // 1,000,000 × 0.05 s × 2 GB = 100,000 GB-s.
    expect(line.quantity.expected).toBeCloseTo(100_000, 6);
    expect(line.monthlyUsd!.expected).toBeCloseTo(100_000 * 0.00002, 10);
    expect(e.idleComputeUsd).toEqual({ low: 0, expected: 0, high: 0 });
  });

  it("bills provisioned concurrency for every active hour, as idle compute", () => {
    const e = estimateCost([serverless(1024, 2)], STATED, "test", USAGE);
    // 2 × 1 GB × 730 h × 3600 s.
    expect(e.idleComputeUsd!.expected).toBeCloseTo(2 * 730 * 3600 * 0.000005, 8);
  });

  it("lists serverless duration as unpriced in the committed table's regions", () => {
    expect(estimateCost([serverless(2048)], PRICING, "eu-west-1", USAGE).unpriced.map((l) => l.meter)).toContain("sagemaker/serverless-inference");
  });
});

describe("instances within the autoscaling range", () => {
  it.each<[string, number, [number, number, number]]>([
    ["no traffic: the minimum", 0, [2, 2, 6]],
    ["traffic past the maximum: the maximum", 1e9, [2, 6, 6]],
    ["mean traffic needing 4", 730 * 60 * 35, [2, 4, 6]],
  ])("%s", (_case, requestsPerMonth, [low, expected, high]) => {
    expect(instanceRange(scaling(2, 6, 10), { variantName: "primary", initialInstanceCount: 2 }, { requestsPerMonth, activeHoursPerMonth: 730 })).toEqual({
      low,
      expected,
      high,
    });
  });
});

describe("data capture", () => {
  it("stores the sampled share of the traffic for the artifact bucket's capture retention", () => {
    const lifecycle: CostedResource = {
      type: "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
      name: "lc",
      props: { rules: [{ id: "expire-data-capture", expiration: { days: 73 } }] },
    };
    const e = estimateCost([instanceConfig("ml.m5.xlarge", 2, 20), lifecycle], PRICING, "eu-west-1", USAGE);
    const capture = e.lines.find((l) => l.description.startsWith("captured traffic"))!;
    // 20% × 1,000,000 × 4 KB, kept 73 days = 2.4 months of 730/24 days, at $0.023 a GB-month.
    const gb = ((0.2 * 1e6 * 4) / 1048576) * 2.4;
    expect(capture.quantity.expected).toBeCloseTo(gb, 10);
    expect(capture.monthlyUsd!.expected).toBeCloseTo(gb * 0.023, 10);
  });
});
