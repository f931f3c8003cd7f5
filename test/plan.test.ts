import { execFile } from "node:child_process";
import * as path from "node:path";
import { promisify } from "node:util";
import { beforeAll, describe, expect, it } from "vitest";
import { buildReport, diffReports, renderDiff, renderTree, type PlanReport } from "../infra/offline/plan-report";
import { planStack } from "./helpers/platform";

const run = promisify(execFile);
const ROOT = path.resolve(__dirname, "..");
const TSX = path.join(ROOT, "node_modules", ".bin", "tsx");

const reports: Record<string, PlanReport> = {};
beforeAll(async () => {
  for (const stack of ["dev", "prod"]) reports[stack] = buildReport(await planStack(stack));
});

describe("plan report", () => {
  it("counts resources by type", () => {
    const prod = reports.prod;
    expect(prod.countsByType["aws:s3/bucket:Bucket"]).toBe(2);
    expect(prod.countsByType["aws:appautoscaling/target:Target"]).toBe(1);
    expect(Object.values(prod.countsByType).reduce((a, b) => a + b, 0)).toBe(prod.resourceCount);
  });

  it("draws children under their component, with key settings", () => {
    const tree = renderTree(reports.prod);
    const lines = tree.split("\n");
    const component = lines.findIndex((l) => l.includes("mlplatform:serving:InferenceEndpoint  inference"));
    const config = lines.findIndex((l) => l.includes("EndpointConfiguration  inference-config"));
    expect(component).toBeGreaterThan(0);
    expect(config).toBeGreaterThan(component);
    expect(lines[config]).toMatch(/^[│ ] {2}[├└]─ .*variant=2 x ml\.c6i\.xlarge {2}kmsEncrypted=true {2}dataCapturePercent=20/);
    expect(tree).toMatch(/aws:kms\/key:Key {2}store-key {2}enableKeyRotation=true .*\[protect, retainOnDelete\]/);
  });

  it("shows how prod differs from dev", () => {
    const d = diffReports(reports.dev, reports.prod);
    expect(d.onlyIn.prod).toContain("aws:appautoscaling/target:Target  inference-scaling-target");
    expect(d.onlyIn.dev).toEqual([]);
    expect(d.changed).toContainEqual({
      resource: "aws:sagemaker/endpointConfiguration:EndpointConfiguration  inference-config",
      setting: "variant",
      from: "serverless 2048 MB, max concurrency 5",
      to: "2 x ml.c6i.xlarge",
    });
    expect(d.changed).toContainEqual({ resource: "aws:kms/key:Key  store-key", setting: "protect", from: false, to: true });
    expect(renderDiff(diffReports(reports.prod, reports.prod))).toBe("prod → prod\nno differences");
  });
});

describe("npm run plan", () => {
  it("prints the diff of two real stacks", async () => {
    const { stdout } = await run(TSX, ["scripts/plan.ts", "--diff", "dev", "prod"], { cwd: ROOT });
    expect(stdout).toContain("dev → prod");
    expect(stdout).toContain("+ aws:appautoscaling/policy:Policy  inference-scaling-policy   (only in prod)");
  }, 60_000);

  it("prints JSON for a stack", async () => {
    const { stdout } = await run(TSX, ["scripts/plan.ts", "staging", "--json"], { cwd: ROOT });
    const report = JSON.parse(stdout);
    expect(report.stack).toBe("staging");
    expect(report.resources.find((r: any) => r.type === "aws-native:sagemaker:Endpoint").settings.name).toBe("flight-delays-staging");
  }, 60_000);

  it("fails clearly for a stack that does not exist", async () => {
    const failure = await run(TSX, ["scripts/plan.ts", "qa"], { cwd: ROOT }).catch((e) => e);
    expect(failure.code).toBe(1);
    expect(failure.stderr).toContain('plan: no stack "qa"');
  }, 60_000);
});
