// `npm run plan -- <stack> [--json]` and `npm run plan -- --diff <a> <b>`: what `pulumi up` would
// create in a stack, evaluated offline under Pulumi's mocked provider with the stack's real config.
import * as path from "node:path";
import { Command } from "commander";
import {
  budgetPolicyConfig,
  buildReport,
  costOf,
  diffCosts,
  diffReports,
  renderCost,
  renderCostDiff,
  renderCounts,
  renderDiff,
  renderTree,
  toPlanDocument,
} from "../infra/offline/plan-report";
import { renderKubernetesValidation, validateKubernetesObjects } from "../infra/offline/kubernetes-schema";
import { listStacks, ProgramError, runProgram } from "../infra/offline/mock-run";

const INFRA_DIR = path.resolve(__dirname, "..", "infra");

/** Imports the program afresh: it runs once per import, and --diff runs it twice. */
async function loadProgram(): Promise<Record<string, unknown>> {
  for (const file of Object.keys(require.cache))
    if (file.startsWith(INFRA_DIR + path.sep) && !file.includes(`${path.sep}offline${path.sep}`)) delete require.cache[file];
  return require(path.join(INFRA_DIR, "index.ts"));
}

function plan(stack: string) {
  return runProgram(stack, loadProgram);
}

async function main(argv: string[]): Promise<void> {
  const program = new Command("plan")
    .description("Show what `pulumi up` would create for a stack, offline (mocked provider, real config).")
    .argument("[stack]", `stack to plan (${listStacks().join(", ")})`)
    .option(
      "--json",
      'print the plan as JSON: every resource\'s type, name, URN, parent, options and full inputs, the stack outputs (secrets shown as "[secret]") and the monthly cost estimate',
    )
    .option("--diff <stacks...>", "compare two stacks' resources, inputs, options and monthly cost, e.g. --diff dev prod")
    .option("--budget-config", "print the policy pack config of the stack's budget rule (merge it into the file given to --policy-pack-config)")
    .showHelpAfterError()
    .action(async (stack: string | undefined, opts: { json?: boolean; diff?: string[]; budgetConfig?: boolean }) => {
      if (opts.budgetConfig) {
        if (!stack) throw new UsageError("--budget-config needs a stack");
        console.log(JSON.stringify(budgetPolicyConfig(stack), null, 2));
        return;
      }
      if (opts.diff) {
        const [a, b] = opts.diff;
        if (opts.diff.length !== 2 || a === undefined || b === undefined) throw new UsageError("--diff takes exactly two stacks, e.g. --diff dev prod");
        const [planA, planB] = [await plan(a), await plan(b)];
        const d = diffReports(toPlanDocument(planA), toPlanDocument(planB));
        const cost = diffCosts(a, costOf(planA), b, costOf(planB));
        console.log(opts.json ? JSON.stringify({ ...d, cost }, null, 2) : `${renderDiff(d)}\n\n${renderCostDiff(cost)}`);
        return;
      }
      if (!stack) throw new UsageError(`name a stack (${listStacks().join(", ")}) or use --diff <a> <b>`);
      const result = await plan(stack);
      const kubernetes = await validateKubernetesObjects(result.resources);
      if (opts.json) {
        console.log(JSON.stringify({ ...toPlanDocument(result), cost: costOf(result), ...(kubernetes ? { kubernetes } : {}) }, null, 2));
      } else {
        const r = buildReport(result);
        const schema = kubernetes ? `\n\n${renderKubernetesValidation(kubernetes)}` : "";
        console.log(`${renderTree(r)}\n\nresources by type\n${renderCounts(r)}${schema}\n\n${renderCost(stack, costOf(result))}`);
      }
      // An object the API server would reject fails the plan, as it would fail `pulumi up`.
      if (kubernetes && kubernetes.invalid.length > 0) process.exitCode = 1;
    });
  await program.parseAsync(argv, { from: "user" });
}

class UsageError extends Error {}

main(process.argv.slice(2)).catch((error: unknown) => {
  // The same message `pulumi up` prints for an invalid config: every problem, naming stack and key.
  const message = error instanceof ProgramError || error instanceof UsageError || error instanceof Error ? error.message : String(error);
  console.error(`plan: ${message}`);
  process.exitCode = error instanceof UsageError ? 2 : 1;
});
