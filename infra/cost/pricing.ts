// The committed pricing table (pricing-table.json): unit prices per region and meter, each with the
// page it came from and its date. `npm run refresh-pricing` rewrites it from the AWS Price List API.
import table from "./pricing-table.json";

/** One unit price. `usd: null` is a meter the table has no figure for: the estimate lists it as unpriced. */
export interface UnitPrice {
  readonly usd: number | null;
  readonly unit: string;
  /** Where the figure comes from: a page, or the Price List API with the product's SKU. */
  readonly source?: string;
  /** When the source stated it (YYYY-MM or YYYY-MM-DD). */
  readonly asOf?: string;
  readonly note?: string;
}

export interface PricingTable {
  readonly currency: "USD";
  /** When the table was last compiled or refreshed. */
  readonly retrieved: string;
  readonly method: string;
  /** region → meter → price. */
  readonly regions: Readonly<Record<string, Readonly<Record<string, UnitPrice>>>>;
}

/** The meters the estimate prices; instance meters are `sagemaker/<hosting|training>/<instance type>`. */
export const METERS = {
  hosting: (instanceType: string) => `sagemaker/hosting/${instanceType}`,
  training: (instanceType: string) => `sagemaker/training/${instanceType}`,
  serverlessInference: "sagemaker/serverless-inference",
  serverlessProvisioned: "sagemaker/serverless-provisioned-concurrency",
  mlStorage: "sagemaker/ml-storage",
  dataProcessed: "sagemaker/data-processed",
  s3Storage: "s3/standard-storage",
  kmsKey: "kms/key",
  kmsRequests: "kms/requests",
  ecrStorage: "ecr/storage",
  alarmMetric: "cloudwatch/alarm-metric",
  dashboard: "cloudwatch/dashboard",
  logsIngestion: "cloudwatch/logs-ingestion",
  logsStorage: "cloudwatch/logs-storage",
  /** The hook for the feature store component: priced whenever the plan holds a feature group. */
  featureStoreWrites: "sagemaker/feature-store-writes",
  featureStoreReads: "sagemaker/feature-store-reads",
  featureStoreStorage: "sagemaker/feature-store-storage",
  eksCluster: "eks/cluster",
  kubernetesPods: "kubernetes/pods",
  serviceEventRule: "events/aws-service-events",
} as const;

/**
 * Managed spot training saves "up to 90%" over on-demand (SageMaker Developer Guide, Managed Spot
 * Training: https://docs.aws.amazon.com/sagemaker/latest/dg/model-managed-spot-training.html). The
 * saving is not promised, so only the low case takes it.
 */
export const SPOT_TRAINING_MAX_SAVINGS = 0.9;

/** The committed table. */
export const PRICING: PricingTable = table as PricingTable;

/** The price of `meter` in `region`, or an unpriced entry saying why. */
export function priceOf(pricing: PricingTable, region: string, meter: string): UnitPrice {
  const regional = pricing.regions[region];
  if (!regional) return { usd: null, unit: "", note: `the pricing table has no region ${region}` };
  return regional[meter] ?? { usd: null, unit: "", note: `no ${meter} price for ${region} in the pricing table` };
}
