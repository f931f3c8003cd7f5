// The stack's monthly budget: the same estimate `npm run plan` prints, summed over the resources
// the engine hands the pack. The pack cannot read stack config, so the budget, region and usage
// profile come through its policy config (`npm run plan -- <stack> --budget-config` writes it).
import { estimateCost } from "../../cost/estimate";
import { PRICING } from "../../cost/pricing";
import type { UsageProfile } from "../../cost/usage";
import { controlTags, type PlatformPolicy } from "../lib/policy";

export interface BudgetConfig {
  /** The most the stack's expected monthly cost may be, in USD. */
  monthlyUsd?: number;
  /** The stack's AWS region (prices differ by region). */
  region?: string;
  usage?: UsageProfile;
  /**
   * Pass although a line billed without traffic (instances, provisioned concurrency) has no price.
   * @default false - the budget cannot be confirmed, which is a violation
   */
  allowUnpricedIdle?: boolean;
}

export const stackMonthlyBudget: PlatformPolicy = {
  name: "stack-monthly-budget",
  description:
    "The stack's expected monthly cost (the estimate `npm run plan` prints, from the committed pricing table) does not exceed the budget in the pack config.",
  severity: "high",
  controls: [],
  configSchema: {
    properties: {
      monthlyUsd: { type: "number", exclusiveMinimum: 0, description: "The stack's monthly budget in USD (mlPlatform:budget.monthlyUsd)." },
      region: { type: "string", description: "The stack's AWS region." },
      usage: { type: "object", description: "The stack's usage profile (mlPlatform:usage plus the training settings)." },
      allowUnpricedIdle: { type: "boolean", description: "Pass although idle compute (instances) has no price in the table." },
    },
  },
  validateStack: (args, reportViolation) => {
    const config = args.getConfig<BudgetConfig>();
    if (config.monthlyUsd === undefined) return args.notApplicable("no budget in the pack config");
    if (!config.region || !config.usage) {
      return reportViolation(
        "stack-monthly-budget: the pack config sets monthlyUsd but not region and usage; write it with `npm run plan -- <stack> --budget-config`",
      );
    }
    const resources = args.resources.map((r) => ({ type: r.type, name: r.name, props: r.props }));
    const estimate = estimateCost(resources, PRICING, config.region, config.usage);
    const expected = estimate.totalUsd.expected;
    if (expected > config.monthlyUsd) {
      const top = estimate.lines
        .filter((l) => l.monthlyUsd !== null)
        .sort((a, b) => b.monthlyUsd!.expected - a.monthlyUsd!.expected)
        .slice(0, 3)
        .map((l) => `${l.meter} $${l.monthlyUsd!.expected.toFixed(2)}`);
      reportViolation(
        `the stack's expected monthly cost is $${expected.toFixed(2)}, over its budget of $${config.monthlyUsd.toFixed(2)} (largest: ${top.join(", ")}; ${estimate.unpriced.length} unpriced line${estimate.unpriced.length === 1 ? "" : "s"} not counted)`,
      );
      return;
    }
    // What is billed whatever the traffic is usually most of the bill: without its price, a total
    // under the budget proves nothing.
    const unpricedIdle = estimate.unpriced.filter((l) => l.idle).map((l) => l.meter);
    if (unpricedIdle.length > 0 && !config.allowUnpricedIdle) {
      reportViolation(
        `the budget of $${config.monthlyUsd.toFixed(2)} cannot be confirmed: the pricing table has no ${config.region} price for ${unpricedIdle.join(", ")}, billed without traffic (the priced lines come to $${expected.toFixed(2)}). Run \`npm run refresh-pricing -- --region ${config.region}\`, or set allowUnpricedIdle to accept it.`,
      );
    }
  },
};

export const budgetPolicies: PlatformPolicy[] = [stackMonthlyBudget].map((p) => ({ ...p, tags: controlTags(p.controls) }));
