import { beforeAll, describe, expect, it } from "vitest";
import { mockClient } from "aws-sdk-client-mock";
import { GetProductsCommand, PricingClient } from "@aws-sdk/client-pricing";
import { meterQueries, queryPrice, refreshRegion } from "../infra/cost/price-list";
import { PRICING } from "../infra/cost/pricing";
import { budgetPolicyConfig, costOf, diffCosts, renderCost, renderCostDiff } from "../infra/offline/plan-report";
import type { PlanResult } from "../infra/offline/mock-run";
import { policies } from "../infra/policy-pack/policies";
import { engineView, runStackPolicy } from "./helpers/policy-harness";
import { planStack } from "./helpers/platform";

const plans: Record<string, PlanResult> = {};
// Running the program once per stack takes seconds; more on a loaded machine than the default 10 s.
beforeAll(async () => {
  for (const stack of ["dev", "prod"]) plans[stack] = await planStack(stack);
}, 120_000);

const budgetRule = policies.find((p) => p.name === "stack-monthly-budget")!;

describe("the stack-monthly-budget rule", () => {
  it("passes dev within its budget (the config `npm run plan -- dev --budget-config` prints)", async () => {
    const config = budgetPolicyConfig("dev") as Record<string, Record<string, unknown>>;
    expect(config["stack-monthly-budget"]).toMatchObject({ monthlyUsd: 50, region: "eu-west-1" });
    const outcome = await runStackPolicy(budgetRule, engineView(plans.dev).outputs, config);
    expect(outcome).toEqual({ violations: [] });
  });

  it("reports a stack over its budget, naming the estimate, the budget and the largest lines", async () => {
    const config = budgetPolicyConfig("prod") as Record<string, Record<string, unknown>>;
    // Priced in eu-west-1 (see the plan's table): logs ingestion 20 GB × $0.57 = $11.40, logs
    // storage 20 GB × 365/30.4 months × $0.03 = $7.20, S3 200 GB × $0.023 = $4.60, ...: $29.76.
    const tight = { "stack-monthly-budget": { ...config["stack-monthly-budget"], monthlyUsd: 10 } };
    const { violations } = await runStackPolicy(budgetRule, engineView(plans.prod).outputs, tight);
    expect(violations).toHaveLength(1);
    expect(violations[0].message).toMatch(
      /^the stack's expected monthly cost is \$29\.76, over its budget of \$10\.00 \(largest: cloudwatch\/logs-ingestion \$11\.40, cloudwatch\/logs-storage \$7\.20, s3\/standard-storage \$4\.60; 8 unpriced lines not counted\)$/,
    );
  });

  it("cannot confirm prod's budget while its instances have no price, unless told to accept that", async () => {
    const config = budgetPolicyConfig("prod") as Record<string, Record<string, unknown>>;
    const { violations } = await runStackPolicy(budgetRule, engineView(plans.prod).outputs, config);
    expect(violations.map((v) => v.message)).toEqual([
      "the budget of $1500.00 cannot be confirmed: the pricing table has no eu-west-1 price for sagemaker/hosting/ml.c6i.xlarge, billed without traffic (the priced lines come to $29.76). Run `npm run refresh-pricing -- --region eu-west-1`, or set allowUnpricedIdle to accept it.",
    ]);
    const accepting = { "stack-monthly-budget": { ...config["stack-monthly-budget"], allowUnpricedIdle: true } };
    expect(await runStackPolicy(budgetRule, engineView(plans.prod).outputs, accepting)).toEqual({ violations: [] });
  });

  it("does not apply without a budget, and says what is missing when the config lacks the usage profile", async () => {
    expect((await runStackPolicy(budgetRule, engineView(plans.dev).outputs, {})).notApplicable).toBe("no budget in the pack config");
    const { violations } = await runStackPolicy(budgetRule, engineView(plans.dev).outputs, { "stack-monthly-budget": { monthlyUsd: 10 } });
    expect(violations[0].message).toContain("sets monthlyUsd but not region and usage");
  });
});

describe("the cost in the plan", () => {
  it("shows dev's idle compute as $0: its serverless endpoint bills nothing without traffic", () => {
    const dev = costOf(plans.dev);
    expect(dev.idleComputeUsd).toEqual({ low: 0, expected: 0, high: 0 });
    expect(renderCost("dev", dev)).toMatch(/idle compute \(billed without traffic\) +\$0\.00 +\$0\.00 +\$0\.00/);
  });

  it("prices prod's instances as idle compute, unpriced where the table has no figure", () => {
    const prod = costOf(plans.prod);
    const hosting = prod.lines.find((l) => l.meter === "sagemaker/hosting/ml.c6i.xlarge")!;
    // Autoscaling 2..8; 30M requests a month is 685 a minute, under one instance's target of 800: the minimum.
    expect(hosting).toMatchObject({ idle: true, quantity: { low: 2 * 730, expected: 2 * 730, high: 8 * 730 }, monthlyUsd: null });
    expect(prod.idleComputeUsd).toBeNull();
    expect(prod.lines.map((l) => l.meter)).toEqual(
      expect.arrayContaining(["cloudwatch/alarm-metric", "cloudwatch/dashboard", "events/aws-service-events", "kms/key"]),
    );
  });

  it("shows what prod adds to dev", () => {
    const d = diffCosts("dev", costOf(plans.dev), "prod", costOf(plans.prod));
    expect(d.unpriced).toEqual(expect.arrayContaining(["sagemaker/hosting/ml.c6i.xlarge", "sagemaker/serverless-inference"]));
    // Logs ingestion: (20 − 1) GB × $0.57; ECR: (2 − 2) GB, so no change.
    expect(d.meters.find((m) => m.meter === "cloudwatch/logs-ingestion")!.deltaUsd!.expected).toBeCloseTo(19 * 0.57, 10);
    expect(d.meters.find((m) => m.meter === "ecr/storage")!.deltaUsd!.expected).toBe(0);
    // Data processed: (30,000,000 − 20,000) requests × 2 KB / 1024² × $0.016.
    expect(d.meters.find((m) => m.meter === "sagemaker/data-processed")!.deltaUsd!.expected).toBeCloseTo((((30_000_000 - 20_000) * 2) / 1048576) * 0.016, 10);
    expect(renderCostDiff(d)).toContain("monthly cost: what prod adds to dev (USD)");
  });
});

// The shape GetProducts returns: PriceList is a list of JSON strings, one product each.
const product = (sku: string, unit: string, dimensions: Array<{ usd: string; beginRange?: string }>) =>
  JSON.stringify({
    product: { sku, productFamily: "ML Instance", attributes: { regionCode: "eu-west-1" } },
    serviceCode: "AmazonSageMaker",
    terms: {
      OnDemand: {
        [`${sku}.JRTCKXETXF`]: {
          effectiveDate: "2026-11-01T00:00:00Z",
          priceDimensions: Object.fromEntries(
            dimensions.map((d, i) => [`${sku}.JRTCKXETXF.${i}`, { unit, beginRange: d.beginRange ?? "0", endRange: "Inf", pricePerUnit: { USD: d.usd } }]),
          ),
        },
      },
    },
    version: "20261101000000",
    publicationDate: "2026-11-01T00:00:00Z",
  });

describe("refresh-pricing (the Price List API, mocked)", () => {
  const pricing = mockClient(PricingClient);
  const client = new PricingClient({ region: "us-east-1" });
  const hosting = meterQueries({ hosting: ["ml.c6i.xlarge"], training: [] })[0];

  it("queries by the product's attributes and region, reading the on-demand USD price across pages", async () => {
    pricing.reset();
    pricing
      .on(GetProductsCommand)
      .resolvesOnce({ PriceList: [], NextToken: "page-2" })
      .resolvesOnce({ PriceList: [product("ABC123", "Hrs", [{ usd: "0.2300000000" }])] });
    const price = await queryPrice(client, "eu-west-1", hosting);
    expect(price).toEqual({ usd: 0.23, unit: "instance-hour", source: "AWS Price List API: AmazonSageMaker SKU ABC123", asOf: "2026-11-01" });
    const calls = pricing.commandCalls(GetProductsCommand);
    expect(calls).toHaveLength(2);
    expect(calls[0].args[0].input).toMatchObject({
      ServiceCode: "AmazonSageMaker",
      Filters: [
        { Type: "TERM_MATCH", Field: "component", Value: "Hosting" },
        { Type: "TERM_MATCH", Field: "instanceName", Value: "ml.c6i.xlarge" },
        { Type: "TERM_MATCH", Field: "regionCode", Value: "eu-west-1" },
      ],
    });
    expect(calls[1].args[0].input.NextToken).toBe("page-2");
  });

  it("takes the first tier of a tiered price", async () => {
    pricing.reset();
    pricing.on(GetProductsCommand).resolves({
      PriceList: [
        product("S3STD", "GB-Mo", [
          { usd: "0.0210000000", beginRange: "51200" },
          { usd: "0.0230000000", beginRange: "0" },
        ]),
      ],
    });
    expect(
      (
        await queryPrice(
          client,
          "eu-west-1",
          meterQueries({ hosting: [], training: [] }).find((q) => q.meter === "s3/standard-storage")!,
        )
      ).usd,
    ).toBe(0.023);
  });

  it("matches region-prefixed usage types by substring (CloudWatch alarms, serverless inference)", async () => {
    pricing.reset();
    pricing
      .on(GetProductsCommand)
      .resolvesOnce({ PriceList: [product("GDMKAEDCSYJAKBZQ", "Alarms", [{ usd: "0.1000000000" }])] })
      .resolvesOnce({ PriceList: [product("SRVLS1GB", "Second", [{ usd: "0.0000200000" }])] });
    const queries = meterQueries({ hosting: [], training: [] });
    const alarm = await queryPrice(
      client,
      "eu-west-1",
      queries.find((q) => q.meter === "cloudwatch/alarm-metric")!,
    );
    expect(alarm).toMatchObject({ usd: 0.1, unit: "alarm-metric-month", source: "AWS Price List API: AmazonCloudWatch SKU GDMKAEDCSYJAKBZQ" });
    expect(pricing.commandCalls(GetProductsCommand)[0].args[0].input).toMatchObject({
      ServiceCode: "AmazonCloudWatch",
      Filters: [
        { Type: "TERM_MATCH", Field: "regionCode", Value: "eu-west-1" },
        { Type: "CONTAINS", Field: "usagetype", Value: "CW:AlarmMonitorUsage" },
      ],
    });
    // The 1 GB size's per-second price is the GB-second price.
    const serverless = await queryPrice(
      client,
      "eu-west-1",
      queries.find((q) => q.meter === "sagemaker/serverless-inference")!,
    );
    expect(serverless).toMatchObject({ usd: 0.00002, unit: "GB-second" });
  });

  it("leaves an ambiguous answer unpriced and keeps an earlier figure, noting the failed refresh", async () => {
    pricing.reset();
    pricing.on(GetProductsCommand).resolves({ PriceList: [product("A", "Hrs", [{ usd: "1" }]), product("B", "Hrs", [{ usd: "2" }])] });
    expect(await queryPrice(client, "eu-west-1", hosting)).toMatchObject({ usd: null, note: expect.stringContaining("matched 2 products") });
    const training = meterQueries({ hosting: [], training: ["ml.m5.xlarge"] })[0];
    const table = await refreshRegion(client, PRICING, "eu-west-1", [training], "2026-12-02");
    expect(table.retrieved).toBe("2026-12-02");
    expect(table.regions["eu-west-1"]["sagemaker/training/ml.m5.xlarge"]).toMatchObject({
      usd: 0.257,
      note: expect.stringContaining("refresh of 2026-12-02 failed"),
    });
  });
});
