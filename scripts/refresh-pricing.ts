// `npm run refresh-pricing -- --region <region>`: rewrites infra/cost/pricing-table.json with the
// AWS Price List API's figures for the instance types the stacks use. Needs AWS credentials with
// pricing:GetProducts; the Price List endpoint is in us-east-1.
import * as fs from "node:fs";
import * as path from "node:path";
import { PricingClient } from "@aws-sdk/client-pricing";
import { stackSettings } from "@ml-platform/contract";
import { Command } from "commander";
import { decodeConfig } from "../infra/config";
import { meterQueries, refreshRegion } from "../infra/cost/price-list";
import { PRICING } from "../infra/cost/pricing";
import { listStacks, readStackConfig } from "../infra/offline/mock-run";

const TABLE = path.resolve(__dirname, "..", "infra", "cost", "pricing-table.json");

async function main(argv: string[]): Promise<void> {
  const program = new Command("refresh-pricing")
    .description("Refresh the committed pricing table from the AWS Price List API.")
    .option("--region <regions...>", "regions to refresh (default: every stack's region)")
    .action(async (opts: { region?: string[] }) => {
      const stacks = listStacks().map((s) => ({ config: decodeConfig(readStackConfig(s)), stack: s }));
      const settings = stacks.map(({ stack, config }) => ({ region: String(config["aws:region"]), s: stackSettings(stack, config) }));
      const hosting = [
        ...new Set(settings.flatMap(({ s }) => (s.serving.target === "sagemaker" && s.serving.mode === "instances" ? [s.serving.instanceType] : []))),
      ];
      const training = [...new Set(settings.map(({ s }) => s.training.instanceType))];
      const regions = opts.region ?? [...new Set(settings.map((x) => x.region))];
      const client = new PricingClient({ region: "us-east-1" });
      let table = PRICING;
      const today = new Date().toISOString().slice(0, 10);
      for (const region of regions) table = await refreshRegion(client, table, region, meterQueries({ hosting, training }), today);
      table = { ...table, method: `${table.method.split(" Refreshed")[0]} Refreshed from the AWS Price List API on ${today} for ${regions.join(", ")}.` };
      fs.writeFileSync(TABLE, `${JSON.stringify(table, null, 2)}\n`);
      console.log(`refresh-pricing: wrote ${path.relative(process.cwd(), TABLE)} (${regions.join(", ")})`);
    });
  await program.parseAsync(argv, { from: "user" });
}

main(process.argv.slice(2)).catch((error: unknown) => {
  console.error(`refresh-pricing: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
});
