// Reads unit prices from the AWS Price List Query API (GetProducts) for the pricing table. The
// client is passed in, so tests replace it (aws-sdk-client-mock) and the script builds the real one.
import { paginateGetProducts, type Filter, type PricingClient } from "@aws-sdk/client-pricing";
import { METERS, type PricingTable, type UnitPrice } from "./pricing";

/** One meter and the Price List product that prices it. */
export interface MeterQuery {
  readonly meter: string;
  readonly serviceCode: string;
  /** Product attributes, matched exactly (TERM_MATCH); the region is added. */
  readonly attributes: Readonly<Record<string, string>>;
  /**
   * Attributes matched as substrings (CONTAINS): usage types carry a region prefix
   * (`EU-CW:AlarmMonitorUsage` in eu-west-1), so the part after it is matched. @default - none
   */
  readonly contains?: Readonly<Record<string, string>>;
  /** The price dimension's unit in the Price List (`Hrs`, `GB-Mo`); any of them when several spellings exist. */
  readonly priceListUnit: string | readonly string[];
  /** The unit the table records. */
  readonly unit: string;
}

/**
 * The queries the refresh runs. Attribute names and values are the Price List's own (SageMaker
 * hosting and volume products as AWS's llmeter samples query them; S3 Standard storage; the
 * usage types of CloudWatch, ECR, serverless inference and EKS as Price List extracts and
 * Infracost's SageMaker resource name them). Meters not listed here keep their cited figures.
 */
export function meterQueries(instanceTypes: { hosting: readonly string[]; training: readonly string[] }): MeterQuery[] {
  return [
    ...instanceTypes.hosting.map((t) => ({
      meter: METERS.hosting(t),
      serviceCode: "AmazonSageMaker",
      attributes: { component: "Hosting", instanceName: t },
      priceListUnit: "Hrs",
      unit: "instance-hour",
    })),
    ...instanceTypes.training.map((t) => ({
      meter: METERS.training(t),
      serviceCode: "AmazonSageMaker",
      attributes: { component: "Training", instanceName: t },
      priceListUnit: "Hrs",
      unit: "instance-hour",
    })),
    {
      meter: METERS.mlStorage,
      serviceCode: "AmazonSageMaker",
      attributes: { volumeType: "General Purpose-Hosting" },
      priceListUnit: "GB-Mo",
      unit: "GB-month",
    },
    {
      meter: METERS.s3Storage,
      serviceCode: "AmazonS3",
      attributes: { storageClass: "General Purpose", volumeType: "Standard" },
      priceListUnit: "GB-Mo",
      unit: "GB-month",
    },
    // Serverless inference is priced per second for each memory size, in proportion to it: the
    // 1 GB size's per-second price is the price of a GB-second.
    {
      meter: METERS.serverlessInference,
      serviceCode: "AmazonSageMaker",
      attributes: {},
      contains: { usagetype: "ServerlessInf:Mem-1GB" },
      priceListUnit: ["Second", "Seconds"],
      unit: "GB-second",
    },
    usageType(METERS.ecrStorage, "AmazonECR", "TimedStorage-ByteHrs", "GB-Mo", "GB-month"),
    usageType(METERS.alarmMetric, "AmazonCloudWatch", "CW:AlarmMonitorUsage", "Alarms", "alarm-metric-month"),
    usageType(METERS.logsIngestion, "AmazonCloudWatch", "-DataProcessing-Bytes", "GB", "GB"),
    usageType(METERS.logsStorage, "AmazonCloudWatch", "-TimedStorage-ByteHrs", "GB-Mo", "GB-month"),
    usageType(METERS.eksCluster, "AmazonEKS", "AmazonEKS-Hours:perCluster", ["Hrs", "Hours"], "cluster-hour"),
  ];
}

function usageType(meter: string, serviceCode: string, usagetype: string, priceListUnit: string | string[], unit: string): MeterQuery {
  return { meter, serviceCode, attributes: {}, contains: { usagetype }, priceListUnit, unit };
}

interface PriceListProduct {
  product?: { sku?: string };
  terms?: {
    OnDemand?: Record<
      string,
      { effectiveDate?: string; priceDimensions?: Record<string, { unit?: string; beginRange?: string; pricePerUnit?: Record<string, string> }> }
    >;
  };
}

/** Runs one query (every page) and reads its on-demand USD price; an ambiguous or empty answer is unpriced, saying why. */
export async function queryPrice(client: PricingClient, region: string, q: MeterQuery): Promise<UnitPrice> {
  const filters: Filter[] = [
    ...[...Object.entries(q.attributes), ["regionCode", region]].map(([Field, Value]) => ({ Type: "TERM_MATCH" as const, Field, Value })),
    ...Object.entries(q.contains ?? {}).map(([Field, Value]) => ({ Type: "CONTAINS" as const, Field, Value })),
  ];
  const units = (typeof q.priceListUnit === "string" ? [q.priceListUnit] : q.priceListUnit).map((u) => u.toLowerCase());
  const products: PriceListProduct[] = [];
  for await (const page of paginateGetProducts({ client }, { ServiceCode: q.serviceCode, Filters: filters, FormatVersion: "aws_v1" })) {
    for (const item of page.PriceList ?? []) products.push(JSON.parse(item) as PriceListProduct);
  }
  const where = `${q.serviceCode} ${JSON.stringify({ ...q.attributes, ...q.contains })} in ${region}`;
  if (products.length !== 1) return { usd: null, unit: q.unit, note: `the Price List API matched ${products.length} products for ${where}` };
  const [product] = products as [PriceListProduct];
  const terms = Object.values(product.terms?.OnDemand ?? {});
  const [term] = terms;
  if (terms.length !== 1 || term === undefined) return { usd: null, unit: q.unit, note: `${terms.length} on-demand terms for ${where}` };
  // Tiered prices (S3) list a dimension per tier: the first tier is what a platform's volumes pay.
  const dimensions = Object.values(term.priceDimensions ?? {}).filter((d) => units.includes(d.unit?.toLowerCase() ?? "") && (d.beginRange ?? "0") === "0");
  const usd = dimensions.length === 1 ? Number(dimensions[0]?.pricePerUnit?.USD) : NaN;
  if (!Number.isFinite(usd)) return { usd: null, unit: q.unit, note: `no single ${units.join("/")} USD price for ${where}` };
  return {
    usd,
    unit: q.unit,
    source: `AWS Price List API: ${q.serviceCode} SKU ${product.product?.sku ?? "?"}`,
    ...(term.effectiveDate ? { asOf: term.effectiveDate.slice(0, 10) } : {}),
  };
}

/**
 * The table with `region`'s queried meters replaced by the Price List's figures. A meter the API
 * could not price keeps its previous figure if it had one (the note says the refresh failed).
 */
export async function refreshRegion(
  client: PricingClient,
  table: PricingTable,
  region: string,
  queries: readonly MeterQuery[],
  today: string,
): Promise<PricingTable> {
  const previous = table.regions[region] ?? {};
  const next: Record<string, UnitPrice> = { ...previous };
  for (const q of queries) {
    const price = await queryPrice(client, region, q);
    const old = previous[q.meter];
    next[q.meter] =
      price.usd === null && old?.usd != null ? { ...old, note: `${old.note ? `${old.note}; ` : ""}refresh of ${today} failed: ${price.note}` } : price;
  }
  const sorted = Object.fromEntries(Object.entries(next).sort(([a], [b]) => a.localeCompare(b)));
  return { ...table, retrieved: today, regions: { ...table.regions, [region]: sorted } };
}
