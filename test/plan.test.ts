import { execFile } from "node:child_process";
import * as path from "node:path";
import { promisify } from "node:util";
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import { runProgram, type PlanResult } from "../infra/offline/mock-run";
import {
  buildReport,
  diffReports,
  flatten,
  renderDiff,
  renderTree,
  SECRET_MASK,
  toPlanDocument,
  type PlanDocument,
  type PlanDocumentResource,
} from "../infra/offline/plan-report";
import { renderKubernetesValidation, validateKubernetesObjects, type KubernetesValidation } from "../infra/offline/kubernetes-schema";
import { planStack } from "./helpers/platform";

const run = promisify(execFile);
const ROOT = path.resolve(__dirname, "..");
const TSX = path.join(ROOT, "node_modules", ".bin", "tsx");

const plans: Record<string, PlanResult> = {};
const docs: Record<string, PlanDocument> = {};
beforeAll(async () => {
  for (const stack of ["dev", "prod"]) {
    plans[stack] = await planStack(stack);
    docs[stack] = toPlanDocument(plans[stack]);
  }
});

const byName = (doc: PlanDocument, name: string): PlanDocumentResource => {
  const found = doc.resources.find((r) => r.name === name);
  if (!found) throw new Error(`no resource named ${name} in ${doc.stack}`);
  return found;
};

describe("plan document (npm run plan -- <stack> --json)", () => {
  it("carries every input of a resource, policy documents and endpoint variants included", () => {
    const policy = byName(docs.prod, "store-datasets-tls-only");
    const document = JSON.parse(policy.inputs.policy as string);
    expect(document.Statement.find((s: any) => s.Condition?.Bool?.["aws:SecureTransport"] === "false")).toMatchObject({ Effect: "Deny", Principal: "*" });
    const config = byName(docs.prod, "inference-config");
    expect(config.inputs.productionVariants).toEqual([
      expect.objectContaining({ variantName: "primary", instanceType: "ml.c6i.xlarge", initialInstanceCount: 2 }),
    ]);
    expect(config.inputs.kmsKeyArn).toMatch(/^arn:aws:kms:eu-west-1:123456789012:key\//);
    expect((config.inputs.dataCaptureConfig as any).initialSamplingPercentage).toBe(20);
  });

  it("names each resource by the engine's URN, with its parent's URN", () => {
    const bucket = byName(docs.prod, "store-datasets-bucket");
    expect(bucket.urn).toBe(
      "urn:pulumi:prod::mlPlatform::mlplatform:storage:ArtifactStore$mlplatform:storage:SecureBucket$aws:s3/bucket:Bucket::store-datasets-bucket",
    );
    expect(bucket.parent).toBe(byName(docs.prod, "store-datasets").urn);
    expect(byName(docs.prod, "store").parent).toBe(docs.prod.stackUrn);
    expect(docs.prod.stackUrn).toBe("urn:pulumi:prod::mlPlatform::pulumi:pulumi:Stack::mlPlatform-prod");
    const urns = new Set([docs.prod.stackUrn, ...docs.prod.resources.map((r) => r.urn)]);
    expect(urns.size).toBe(docs.prod.resources.length + 1);
    for (const r of docs.prod.resources) expect(urns.has(r.parent!), `${r.name}'s parent`).toBe(true);
  });

  it("lists the options the program set, resources by URN", () => {
    const bucket = byName(docs.prod, "store-datasets-bucket");
    expect(bucket.options).toMatchObject({ protect: true, retainOnDelete: true, provider: byName(docs.prod, "aws").urn });
    expect(bucket.options.aliases).toContainEqual({ type: "aws:s3/bucketV2:BucketV2" });
    const endpoint = byName(docs.prod, "inference-endpoint");
    expect(endpoint.options.dependsOn).toEqual([byName(docs.prod, "inference-logs").urn]);
    // Options not set are absent, not false: dev protects nothing.
    expect(byName(docs.dev, "store-datasets-bucket").options).not.toHaveProperty("protect");
    expect(byName(docs.prod, "store").options).toEqual({});
  });

  it("masks secret inputs and secret stack outputs as pulumi preview --json does", async () => {
    const plan = await runProgram("dev", async () => {
      const provider = new aws.Provider("aws", { region: "eu-west-1" });
      new aws.ssm.Parameter("db-password", { type: "SecureString", value: pulumi.secret("hunter2"), description: "visible" }, { provider });
      return { password: pulumi.secret("hunter2"), nested: { token: pulumi.secret("t0ken"), plain: "shown" }, region: "eu-west-1" };
    });
    const doc = toPlanDocument(plan);
    expect(byName(doc, "db-password").inputs).toMatchObject({ value: SECRET_MASK, description: "visible", type: "SecureString" });
    expect(doc.outputs).toEqual({ password: SECRET_MASK, nested: SECRET_MASK, region: "eu-west-1" });
    const text = JSON.stringify(doc);
    expect(text).not.toContain("hunter2");
    expect(text).not.toContain("t0ken");
    expect(buildReport(plan).outputs).toEqual(doc.outputs);
  });

  it("keeps stack outputs that are not secret", () => {
    expect(docs.prod.outputs.region).toBe("eu-west-1");
    expect(docs.prod.outputs.kmsKeyArn).toMatch(/^arn:aws:kms:/);
  });
});

describe("plan report (the human view)", () => {
  it("counts resources by type", () => {
    const prod = buildReport(plans.prod);
    expect(prod.countsByType["aws:s3/bucket:Bucket"]).toBe(3);
    expect(prod.countsByType["aws:appautoscaling/target:Target"]).toBe(1);
    expect(Object.values(prod.countsByType).reduce((a, b) => a + b, 0)).toBe(prod.resourceCount);
  });

  it("draws children under their component, with key settings", () => {
    const tree = renderTree(buildReport(plans.prod));
    const lines = tree.split("\n");
    const component = lines.findIndex((l) => l.includes("mlplatform:serving:InferenceEndpoint  inference"));
    const config = lines.findIndex((l) => l.includes("EndpointConfiguration  inference-config"));
    expect(component).toBeGreaterThan(0);
    expect(config).toBeGreaterThan(component);
    expect(lines[config]).toMatch(/^[│ ] {2}[├└]─ .*variant=2 x ml\.c6i\.xlarge {2}kmsEncrypted=true {2}dataCapturePercent=20/);
    expect(tree).toMatch(/aws:kms\/key:Key {2}store-key {2}enableKeyRotation=true .*\[protect, retainOnDelete\]/);
  });
});

describe("stack diff", () => {
  it("compares full inputs and options of two stacks", () => {
    const d = diffReports(docs.dev, docs.prod);
    expect(d.onlyIn.prod).toContain("aws:appautoscaling/target:Target  inference-scaling-target");
    expect(d.onlyIn.dev).toEqual([]);
    const config = "aws:sagemaker/endpointConfiguration:EndpointConfiguration  inference-config";
    expect(d.changed).toContainEqual({ resource: config, setting: "inputs.productionVariants[0].instanceType", from: undefined, to: "ml.c6i.xlarge" });
    expect(d.changed).toContainEqual({ resource: config, setting: "inputs.productionVariants[0].serverlessConfig.memorySizeInMb", from: 2048, to: undefined });
    expect(d.changed).toContainEqual({ resource: "aws:kms/key:Key  store-key", setting: "options.protect", from: undefined, to: true });
    // A policy held as a JSON string is compared statement by statement.
    expect(
      d.changed.some((c) => c.resource === "aws:iam/rolePolicy:RolePolicy  deployer-permissions" && c.setting.startsWith("inputs.policy.Statement[")),
    ).toBe(true);
    expect(renderDiff(diffReports(docs.prod, docs.prod))).toBe("prod → prod\nno differences");
  });

  it("flattens JSON held in strings, lists by index", () => {
    expect([...flatten({ p: '{"Statement":[{"Sid":"A"}]}', l: [], e: {} }, "x").entries()]).toEqual([
      ["x.p.Statement[0].Sid", "A"],
      ["x.l", []],
    ]);
  });
});

describe("npm run plan", () => {
  it("prints the diff of two real stacks", async () => {
    const { stdout } = await run(TSX, ["scripts/plan.ts", "--diff", "dev", "prod"], { cwd: ROOT });
    expect(stdout).toContain("dev → prod");
    expect(stdout).toContain("+ aws:appautoscaling/policy:Policy  inference-scaling-policy   (only in prod)");
    expect(stdout).toContain("~ aws:s3/bucket:Bucket  store-datasets-bucket   inputs.forceDestroy: true → false");
    // Then what prod adds to dev's monthly cost.
    expect(stdout).toMatch(/monthly cost: what prod adds to dev \(USD\)\n[\s\S]*sagemaker\/hosting\/ml\.c6i\.xlarge +unpriced/);
  }, 60_000);

  it("shows a Kubernetes stack's tree with its manifests validated against the API schema, and fails on an invalid one", async () => {
    const { stdout } = await run(TSX, ["scripts/plan.ts", "dev-k8s", "--json"], { cwd: ROOT });
    const doc = JSON.parse(stdout) as PlanDocument & { kubernetes: KubernetesValidation };
    expect(doc.resources.some((r) => r.type === "kubernetes:apps/v1:Deployment")).toBe(true);
    expect(doc.kubernetes).toEqual({
      schemaVersion: "v1.36",
      validated: doc.resources.filter((r) => r.custom && r.type.startsWith("kubernetes:")).length,
      invalid: [],
    });
    const plan = await planStack("dev-k8s");
    const deployment = plan.resources.find((r) => r.type === "kubernetes:apps/v1:Deployment")!;
    const broken = { ...deployment, inputs: { ...deployment.inputs, spec: { ...deployment.inputs.spec, replicas: "two" } } };
    const v = await validateKubernetesObjects([broken]);
    expect(v!.invalid).toEqual([{ resource: `kubernetes:apps/v1:Deployment ${deployment.name}`, error: expect.stringContaining("replicas") }]);
    expect(renderKubernetesValidation(v!)).toContain("0 of 1 valid against the Kubernetes v1.36 API schema");
  }, 60_000);

  it("prints a plan document a consumer can parse", async () => {
    const { stdout } = await run(TSX, ["scripts/plan.ts", "staging", "--json"], { cwd: ROOT });
    const doc = JSON.parse(stdout) as PlanDocument;
    expect(doc.stack).toBe("staging");
    for (const r of doc.resources) {
      expect(r, r.name).toMatchObject({
        urn: expect.stringMatching(/^urn:pulumi:staging::mlPlatform::/),
        type: expect.any(String),
        name: expect.any(String),
        options: expect.any(Object),
        inputs: expect.any(Object),
      });
    }
    expect(doc.resources.find((r) => r.type === "aws-native:sagemaker:Endpoint")!.inputs.endpointName).toBe("flight-delays-staging");
    expect(doc.outputs.endpointName).toBe("flight-delays-staging");
    const cost = doc.cost!;
    expect(cost.region).toBe("eu-west-1");
    expect(cost.lines.map((l) => l.meter)).toContain("sagemaker/hosting/ml.c6i.large");
    expect(cost.totalUsd.expected).toBeGreaterThan(0);
  }, 60_000);

  it("fails clearly for a stack that does not exist", async () => {
    const failure = await run(TSX, ["scripts/plan.ts", "qa"], { cwd: ROOT }).catch((e) => e);
    expect(failure.code).toBe(1);
    expect(failure.stderr).toContain('plan: no stack "qa"');
  }, 60_000);
});
