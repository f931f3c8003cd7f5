/**
 * Every call a release makes, checked against the policy of the identity that makes it, by an
 * independent IAM simulator (@cloud-copilot/iam-simulate: identity and resource policies, all
 * condition operators, action and condition-key validation from the Service Authorization
 * Reference). The release flow (train, register, approve, deploy, promote dev → staging → prod,
 * smoke, rollback) runs against deploy-scripts' SDK mocks; each sent command is mapped to the IAM
 * actions it needs (deploy-scripts' SDK_PERMISSIONS) plus the request's condition keys. The
 * calls of `pulumi up` of a model change and of the image copy come from test/data/release-calls.ts.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { DescribeFeatureGroupCommand } from "@aws-sdk/client-sagemaker";
import { featureGroupDefinitions, parseFeatureSet } from "@ml-platform/contract";
import * as cli from "@ml-platform/deploy-scripts";
import { parse as parseYaml } from "yaml";
import { runSimulation } from "@cloud-copilot/iam-simulate";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { endpointNamePrefixes } from "../infra/components/inference-endpoint";
import { approverPolicy } from "../infra/policies/approver-policy";
import { tlsOnlyBucketPolicy } from "../infra/policies/bucket-policy";
import { platformKeyPolicy } from "../infra/policies/key-policy";
import { deployerPolicy, type DeployerPolicyArgs, type DeployerStageArgs } from "../infra/policies/deployer-policy";
import type { PolicyDocument } from "../infra/policies/documents";
import { DUTY_TAG, type Duty } from "../infra/policies/duties";
import { endpointUpdaterPolicy } from "../infra/policies/endpoint-updater-policy";
import { ACCOUNT, COMPLETED_JOB, IMAGE, REGION, World, bucket, endpoint, executionRole, group, kmsKey } from "../deploy-scripts/test/world";
import { imageCopyCalls, modelChangeUpCalls, type Call } from "./data/release-calls";

type Stack = "dev" | "staging" | "prod";
const STACKS: Stack[] = ["dev", "staging", "prod"];
const SOURCE: Record<Stack, Stack | undefined> = { dev: undefined, staging: "dev", prod: "staging" };
const TRAINING_TYPE = "ml.m5.large";

const repositoryArn = (stack: string) => `arn:aws:ecr:${REGION}:${ACCOUNT}:repository/ml-core-${stack}`;
const roleArn = (stack: string, duty: string) => `arn:aws:iam::${ACCOUNT}:role/churn-${stack}-${duty}`;
const stage = (stack: string): DeployerStageArgs => ({
  region: REGION,
  accountId: ACCOUNT,
  datasetBucketArn: `arn:aws:s3:::${bucket(stack, "datasets")}`,
  artifactBucketArn: `arn:aws:s3:::${bucket(stack, "artifacts")}`,
  kmsKeyArn: kmsKey(stack),
  modelPackageGroupName: group(stack),
  endpointName: endpoint(stack),
  repositoryArns: [repositoryArn(stack)],
});

const deployerArgs = (stack: Stack): DeployerPolicyArgs => ({
  ...stage(stack),
  trainingJobNamePrefix: `churn-${stack}`,
  servingNamePrefixes: prefixes,
  // deploy-scripts' world names the role training jobs run as "execution".
  trainingRoleArn: executionRole(stack),
  training: { instanceTypes: [TRAINING_TYPE] },
  updaterRoleArn: roleArn(stack, "updater"),
  sources: SOURCE[stack] ? [stage(SOURCE[stack]!)] : [],
  // Every stack's deployer ingests (the stacks' default mlPlatform:featureStore.ingestion.byDeployer).
  featureIngestion: { featureGroupNames: [featureGroup(stack)] },
  // ...and builds training sets from its offline store.
  featureQueries: { workgroupName: workgroup(stack) },
});

// `features ingest` writes the example's feature set; two records are enough to see every call.
const FEATURE_SET_FILE = path.join(__dirname, "..", "examples", "flight-delays", "features.yaml");
const featureSet = parseFeatureSet(parseYaml(fs.readFileSync(FEATURE_SET_FILE, "utf8")), FEATURE_SET_FILE);
const featureGroup = (stack: string) => `${featureSet.name}-${stack}`;
// The feature store's Athena workgroup and the Glue table SageMaker names `<group>_<creation time>`.
const workgroup = (stack: string) => `churn-${stack}-feature-queries`;
const offlineTable = (stack: string) => `${featureGroup(stack).replaceAll("-", "_")}_1740830400`;
const OFFLINE_DATABASE = "sagemaker_featurestore";
const offlineStoreLocation = (stack: string) =>
  `s3://${bucket(stack, "datasets")}/feature-store/${ACCOUNT}/sagemaker/${REGION}/offline-store/${offlineTable(stack)}/data/`;
const RELEASE_DIR = fs.mkdtempSync(path.join(os.tmpdir(), "release-"));
const firstLines = (file: string, n: number) =>
  fs
    .readFileSync(path.join(__dirname, "..", "examples", "flight-delays", "data", file), "utf8")
    .split("\n")
    .slice(0, n)
    .join("\n") + "\n";
const FEATURE_RECORDS = path.join(RELEASE_DIR, "records.csv");
fs.writeFileSync(FEATURE_RECORDS, firstLines("feature-records.csv", 3));
// `features dataset` joins the example's labels; two rows, and Athena (mocked) answers with one.
const FEATURE_LABELS = path.join(RELEASE_DIR, "labels.csv");
fs.writeFileSync(FEATURE_LABELS, firstLines("labels.csv", 3));

const prefixes = endpointNamePrefixes("inference");
const POLICIES: Record<Stack, Record<"deployer" | "endpoint-updater" | "approver", PolicyDocument>> = Object.fromEntries(
  STACKS.map((stack) => [
    stack,
    {
      deployer: deployerPolicy(deployerArgs(stack)),
      "endpoint-updater": endpointUpdaterPolicy({
        region: REGION,
        accountId: ACCOUNT,
        stackTag: { key: "stack", value: stack },
        endpointName: endpoint(stack),
        modelNamePrefix: prefixes.model,
        endpointConfigNamePrefix: prefixes.endpointConfig,
        hostingRoleArn: roleArn(stack, "hosting"),
        kmsKeyArn: kmsKey(stack),
        requireNetworkIsolation: stack !== "dev",
      }),
      approver: approverPolicy({ region: REGION, accountId: ACCOUNT, modelPackageGroupName: group(stack) }),
    },
  ]),
) as never;

type Identity = keyof (typeof POLICIES)["dev"];
type Decision = "Allowed" | "ExplicitlyDenied" | "ImplicitlyDenied";

/** The resource policy AWS evaluates with the call: the bucket's policy, or the platform key's. */
function resourcePolicyFor(call: Call): PolicyDocument | undefined {
  const bucketArn = /^arn:aws:s3:::([^/]+)/.exec(call.resource);
  if (bucketArn) return tlsOnlyBucketPolicy(`arn:aws:s3:::${bucketArn[1]}`);
  if (call.action.startsWith("kms:")) return platformKeyPolicy({ accountId: ACCOUNT, partition: "aws", region: REGION });
  return undefined;
}

/** What AWS decides for `identity` of `stack` making `call` (identity policy + the bucket's policy). */
async function decide(stack: Stack, identity: Identity, call: Call, policyOverride?: PolicyDocument): Promise<Decision> {
  const s3 = call.action.startsWith("s3:");
  const context: Record<string, string | string[]> = {
    ...(s3 ? { "aws:SecureTransport": "true", [`aws:PrincipalTag/${DUTY_TAG}`]: identity satisfies Duty } : {}),
    ...call.context,
  };
  const resourcePolicy = resourcePolicyFor(call);
  const result = await runSimulation(
    {
      identityPolicies: [{ name: identity, policy: (policyOverride ?? POLICIES[stack][identity]) as never }],
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      ...(resourcePolicy ? { resourcePolicy: resourcePolicy as never } : {}),
      request: {
        action: call.action,
        principal: roleArn(stack, identity),
        resource: { resource: call.resource, accountId: ACCOUNT },
        contextVariables: context,
      },
    },
    {},
  );
  if (result.resultType === "error") throw new Error(`simulating ${call.action} on ${call.resource}: ${JSON.stringify(result.errors)}`);
  return result.overallResult as Decision;
}

/** Condition keys a call's request parameters set (Service Authorization Reference, per action). */
function requestContext(command: string, input: Record<string, any>): Record<string, string | string[]> {
  switch (command) {
    case "CreateTrainingJobCommand":
      return {
        "sagemaker:NetworkIsolation": String(input.EnableNetworkIsolation === true),
        "sagemaker:InstanceTypes": [input.ResourceConfig?.InstanceType].filter(Boolean),
        ...(input.ResourceConfig?.VolumeKmsKeyId ? { "sagemaker:VolumeKmsKeyArn": input.ResourceConfig.VolumeKmsKeyId } : {}),
      };
    case "CreateModelPackageCommand":
    case "UpdateModelPackageCommand":
      return input.ModelApprovalStatus ? { "sagemaker:ModelApprovalStatus": input.ModelApprovalStatus } : {};
    case "PutObjectCommand":
    case "CopyObjectCommand":
      return { "s3:ObjectCreationOperation": "true", ...(input.IfNoneMatch ? { "s3:if-none-match": input.IfNoneMatch } : {}) };
    default:
      return {};
  }
}

const env: cli.PermissionEnv = {
  partition: "aws",
  region: REGION,
  accountId: ACCOUNT,
  kmsKeyOfBucket: (name) => kmsKey(/^churn-([a-z]+)-/.exec(name)![1]!),
  // The FeatureStore component's workgroup enforces its result location (feature-store-queries/).
  enforcedResultLocation: (name) => {
    const stack = STACKS.find((s) => workgroup(s) === name);
    return stack ? `s3://${bucket(stack, "datasets")}/feature-store-queries/` : undefined;
  },
  workgroupOfQuery: (id) => world.queryWorkgroups.get(id)!,
  tableLocation: (database, table) => {
    const location = world.tableLocations.get(`${database}.${table}`);
    if (!location) throw new Error(`the release flow queried ${database}.${table}, which has no location in the test's catalog`);
    return location;
  },
};

// --- The release flow, run once; each step is done by one stack's identity. ---
type Step = { stack: Stack; as: Identity; argv: string[] };
const FLOW: Step[] = [
  { stack: "dev", as: "deployer", argv: ["data", "snapshot", "--stack", "dev"] },
  { stack: "dev", as: "deployer", argv: ["train", "--stack", "dev", "--image", IMAGE, "--wait"] },
  { stack: "dev", as: "deployer", argv: ["register", "--stack", "dev", "--job", COMPLETED_JOB] },
  { stack: "dev", as: "deployer", argv: ["register", "--stack", "dev", "--job", COMPLETED_JOB] },
  { stack: "dev", as: "approver", argv: ["approve", "--stack", "dev", "--version", "3", "--reason", "reviewed"] },
  { stack: "dev", as: "approver", argv: ["reject", "--stack", "dev", "--version", "2", "--reason", "worse"] },
  { stack: "dev", as: "deployer", argv: ["deploy", "--stack", "dev", "--version", "3"] },
  { stack: "dev", as: "deployer", argv: ["smoke", "--stack", "dev"] },
  { stack: "dev", as: "deployer", argv: ["lineage", "--stack", "dev"] },
  { stack: "dev", as: "deployer", argv: ["status", "--stack", "dev"] },
  { stack: "staging", as: "deployer", argv: ["promote", "--from", "dev", "--to", "staging", "--dry-run"] },
  { stack: "staging", as: "deployer", argv: ["promote", "--from", "dev", "--to", "staging"] },
  { stack: "prod", as: "deployer", argv: ["promote", "--from", "staging", "--to", "prod", "--yes"] },
  { stack: "prod", as: "deployer", argv: ["rollback", "--stack", "prod", "--yes"] },
  { stack: "dev", as: "deployer", argv: ["rollback", "--stack", "dev"] },
  { stack: "dev", as: "deployer", argv: ["features", "ingest", "--stack", "dev", "--definition", FEATURE_SET_FILE, "--input", FEATURE_RECORDS] },
  { stack: "dev", as: "deployer", argv: ["features", "dataset", "--stack", "dev", "--definition", FEATURE_SET_FILE, "--labels", FEATURE_LABELS] },
];

interface Sent {
  step: string;
  stack: Stack;
  as: Identity;
  command: string;
  calls: Call[];
}

let world: World;
const sent: Sent[] = [];
beforeAll(async () => {
  // The built package (what a user imports) drives the world typed against its sources: the same
  // classes, which TypeScript sees as two declarations of their private fields.
  world = new World(cli as unknown as ConstructorParameters<typeof World>[0]);
  // The target stages' repositories start empty, so promotion copies the image's every blob.
  for (const stack of ["staging", "prod"]) world.repos.set(`ml-core-${stack}`, { manifests: new Map(), blobs: new Set() });
  world.stacks.patchOutputs("dev", {
    featureGroups: {
      [featureSet.name]: {
        featureGroupName: featureGroup("dev"),
        featureGroupArn: `arn:aws:sagemaker:${REGION}:${ACCOUNT}:feature-group/${featureGroup("dev")}`,
        offlineStoreUri: offlineStoreLocation("dev"),
        glueTable: { database: OFFLINE_DATABASE, table: offlineTable("dev") },
        onlineStore: false,
      },
    },
    featureOfflineStoreUri: `s3://${bucket("dev", "datasets")}/feature-store/`,
    featureQueryWorkgroup: workgroup("dev"),
  });
  world.sm.on(DescribeFeatureGroupCommand).resolves({
    FeatureGroupStatus: "Created",
    FeatureDefinitions: featureGroupDefinitions(featureSet).map((d) => ({ FeatureName: d.featureName, FeatureType: d.featureType })),
    OfflineStoreConfig: {
      S3StorageConfig: { S3Uri: `s3://${bucket("dev", "datasets")}/feature-store/`, ResolvedOutputS3Uri: offlineStoreLocation("dev") },
      DataCatalogConfig: { Catalog: "AwsDataCatalog", Database: OFFLINE_DATABASE, TableName: offlineTable("dev") },
    },
  });
  world.tableLocations.set(`${OFFLINE_DATABASE}.${offlineTable("dev")}`, offlineStoreLocation("dev"));
  const columns = [featureSet.entity.recordIdentifier, featureSet.label.eventTime, ...featureSet.features.map((f) => f.name), featureSet.label.name];
  world.athenaRows = [columns, columns.map((c) => (c === featureSet.label.eventTime ? "2024-01-01T00:00:00Z" : "1"))];
  for (const step of FLOW) {
    world.resetCalls();
    const r = await world.run(step.argv);
    if (r.code !== 0) throw new Error(`ml-deploy ${step.argv.join(" ")} failed:\n${r.stderr}`);
    for (const call of world.calls()) {
      const context = requestContext(call.command, call.input as Record<string, any>);
      const calls = cli.requiredPermissions(call.command, call.input, env).map((p) => ({ ...p, context: { ...p.context, ...context } }));
      sent.push({ step: step.argv.slice(0, 3).join(" "), stack: step.stack, as: step.as, command: call.command, calls });
    }
  }
});
afterAll(() => world.dispose());

/** A model-change `up` of `stack`, as the release runs it inside deploy, promote and rollback. */
const upCalls = (stack: Stack) =>
  modelChangeUpCalls({
    region: REGION,
    accountId: ACCOUNT,
    stack,
    endpointName: endpoint(stack),
    newModel: `${prefixes.model}b2c3d4e`,
    oldModel: `${prefixes.model}a1b2c3d`,
    newConfig: `${prefixes.endpointConfig}f5e6d7c`,
    oldConfig: `${prefixes.endpointConfig}0a9b8c7`,
    hostingRoleArn: roleArn(stack, "hosting"),
    kmsKeyArn: kmsKey(stack),
    networkIsolation: stack !== "dev",
  });

async function denials(stack: Stack, identity: Identity, calls: Call[], label: string): Promise<string[]> {
  const out: string[] = [];
  for (const call of calls) {
    const decision = await decide(stack, identity, call);
    if (decision !== "Allowed")
      out.push(`${stack} ${identity}, ${label}: ${call.action} on ${call.resource} ${JSON.stringify(call.context ?? {})} → ${decision}`);
  }
  return out;
}

describe("every call of the release flow is allowed to the identity that makes it", () => {
  it("the release flow sends every SDK command ml-deploy knows of", () => {
    expect(new Set(sent.map((s) => s.command))).toEqual(new Set(Object.keys(cli.SDK_PERMISSIONS)));
  });

  it("allows every ml-deploy call, on the resource it is sent to, with its request's condition keys", async () => {
    const denied: string[] = [];
    for (const s of sent) denied.push(...(await denials(s.stack, s.as, s.calls, `${s.step}: ${s.command}`)));
    expect(denied).toEqual([]);
  });

  it.each(STACKS)("%s: allows the endpoint updater every call of `pulumi up` of a model change", async (stack) => {
    expect(await denials(stack, "endpoint-updater", upCalls(stack), "pulumi up")).toEqual([]);
  });

  it.each(STACKS)("%s: lets the deployer assume the updater role that runs that `up`", async (stack) => {
    expect(await decide(stack, "deployer", { action: "sts:AssumeRole", resource: roleArn(stack, "updater") })).toBe("Allowed");
    expect(await decide(stack, "deployer", { action: "sts:AssumeRole", resource: roleArn(SOURCE[stack] ?? "prod", "updater") })).not.toBe("Allowed");
  });

  it.each(STACKS)("%s: allows `images` to push to the stack's repository", async (stack) => {
    expect(await denials(stack, "deployer", cli.dockerPushPermissions(repositoryArn(stack)), "images")).toEqual([]);
  });

  it.each(["staging", "prod"] as const)("%s: allows promote to copy the source stage's image into the stack's repository", async (stack) => {
    expect(await denials(stack, "deployer", imageCopyCalls(repositoryArn(SOURCE[stack]!), repositoryArn(stack)), "image copy")).toEqual([]);
  });

  it("sends no write into models/ that S3 would refuse: every one a conditional create, none a copy", () => {
    const writes = sent.flatMap((s) =>
      s.calls.filter((c) => c.action === "s3:PutObject" && /\/models\//.test(c.resource)).map((c) => ({ command: s.command, c })),
    );
    expect(writes.length).toBeGreaterThan(0);
    for (const { command, c } of writes) {
      // S3 User Guide, "Enforce conditional writes on Amazon S3 buckets": CopyObject into such a prefix fails.
      expect(command, c.resource).not.toBe("CopyObjectCommand");
      expect(c.context?.["s3:if-none-match"], `${command} ${c.resource}`).toBe("*");
    }
  });

  it("never has the deployer set Approved", () => {
    const approving = sent.filter(
      (s) => s.as === "deployer" && s.calls.some((c) => c.action.endsWith("ModelPackage") && c.context?.["sagemaker:ModelApprovalStatus"] === "Approved"),
    );
    expect(approving.map((s) => `${s.step}: ${s.command}`)).toEqual([]);
  });

  it("grants the deployer, updater and approver no action that no call needs", () => {
    const needed = new Set([
      ...sent.flatMap((s) => s.calls.map((c) => c.action)),
      ...STACKS.flatMap((stack) => upCalls(stack).map((c) => c.action)),
      ...imageCopyCalls("a", "b").map((c) => c.action),
      ...cli.dockerPushPermissions("x").map((p) => p.action),
      "sts:AssumeRole",
      // the approver reads the group (describe) before deciding
      "sagemaker:DescribeModelPackageGroup",
    ]);
    const list = <T>(v: T | T[]) => (Array.isArray(v) ? v : [v]);
    const extra = STACKS.flatMap((stack) =>
      Object.values(POLICIES[stack]).flatMap((doc) =>
        doc.Statement.filter((s) => s.Effect === "Allow").flatMap((s) => list(s.Action).filter((a) => !needed.has(a))),
      ),
    );
    expect([...new Set(extra)]).toEqual([]);
  });
});

describe("guardrails, each with a violating request", () => {
  const devVersion = `arn:aws:sagemaker:${REGION}:${ACCOUNT}:model-package/${group("dev")}/3`;
  const devGroup = `arn:aws:sagemaker:${REGION}:${ACCOUNT}:model-package/${group("dev")}/*`;

  it.each([
    ["UpdateModelPackage", devVersion],
    ["CreateModelPackage", devGroup],
  ])("the deployer can never set Approved (%s)", async (action, resource) => {
    const approve = { action: `sagemaker:${action}`, resource, context: { "sagemaker:ModelApprovalStatus": "Approved" } };
    expect(await decide("dev", "deployer", approve)).toBe("ExplicitlyDenied");
    // ...even if another policy on the role allowed everything.
    const allowAll: PolicyDocument = {
      Version: "2012-10-17",
      Statement: [...POLICIES.dev.deployer.Statement, { Effect: "Allow", Action: "sagemaker:*", Resource: "*" }],
    };
    expect(await decide("dev", "deployer", approve, allowAll)).toBe("ExplicitlyDenied");
    // what it may do: register pending, record a rejection
    expect(await decide("dev", "deployer", { ...approve, context: { "sagemaker:ModelApprovalStatus": "PendingManualApproval" } })).toBe("Allowed");
  });

  it("the approver approves and rejects this stage's versions only, and sets nothing else", async () => {
    const update = (resource: string, status: string) => ({
      action: "sagemaker:UpdateModelPackage",
      resource,
      context: { "sagemaker:ModelApprovalStatus": status },
    });
    expect(await decide("dev", "approver", update(devVersion, "Approved"))).toBe("Allowed");
    expect(await decide("dev", "approver", update(devVersion, "Rejected"))).toBe("Allowed");
    expect(await decide("dev", "approver", update(devVersion, "PendingManualApproval"))).toBe("ImplicitlyDenied");
    expect(await decide("dev", "approver", { action: "sagemaker:UpdateModelPackage", resource: devVersion })).toBe("ImplicitlyDenied");
    expect(await decide("staging", "approver", update(devVersion, "Approved"))).toBe("ImplicitlyDenied");
    expect(await decide("dev", "approver", { action: "sagemaker:CreateModelPackage", resource: devGroup })).toBe("ImplicitlyDenied");
  });

  describe("the deployer's training jobs", () => {
    const job = `arn:aws:sagemaker:${REGION}:${ACCOUNT}:training-job/churn-dev-20250101-000000`;
    const valid = { "sagemaker:NetworkIsolation": "true", "sagemaker:VolumeKmsKeyArn": kmsKey("dev"), "sagemaker:InstanceTypes": [TRAINING_TYPE] };
    it.each([
      ["a valid job", valid, "Allowed"],
      ["without network isolation", { ...valid, "sagemaker:NetworkIsolation": "false" }, "ImplicitlyDenied"],
      ["with another stage's key", { ...valid, "sagemaker:VolumeKmsKeyArn": kmsKey("prod") }, "ImplicitlyDenied"],
      ["without a volume key", { "sagemaker:NetworkIsolation": "true", "sagemaker:InstanceTypes": [TRAINING_TYPE] }, "ImplicitlyDenied"],
      ["on another instance type", { ...valid, "sagemaker:InstanceTypes": ["ml.p4d.24xlarge"] }, "ImplicitlyDenied"],
    ])("%s: %#", async (_what, context, expected) => {
      expect(await decide("dev", "deployer", { action: "sagemaker:CreateTrainingJob", resource: job, context })).toBe(expected);
    });

    it("runs local-storage instance types only without a volume key (SageMaker rejects one there)", async () => {
      const doc = deployerPolicy({
        ...deployerArgs("dev"),
        training: { instanceTypes: [TRAINING_TYPE, "ml.m5d.large"], localStorageInstanceTypes: ["ml.m5d.large"] },
      });
      const local = { "sagemaker:NetworkIsolation": "true", "sagemaker:InstanceTypes": ["ml.m5d.large"] };
      expect(await decide("dev", "deployer", { action: "sagemaker:CreateTrainingJob", resource: job, context: local }, doc)).toBe("Allowed");
      expect(
        await decide(
          "dev",
          "deployer",
          { action: "sagemaker:CreateTrainingJob", resource: job, context: { ...local, "sagemaker:NetworkIsolation": "false" } },
          doc,
        ),
      ).toBe("ImplicitlyDenied");
    });
  });

  describe("the endpoint updater", () => {
    const calls = upCalls("staging");
    const find = (action: string, resourcePart: string) => calls.find((c) => c.action === action && c.resource.includes(resourcePart))!;

    it("cannot update another stack's endpoint", async () => {
      const update = find("sagemaker:UpdateEndpoint", ":endpoint/");
      expect(await decide("staging", "endpoint-updater", { ...update, resource: update.resource.replace(endpoint("staging"), endpoint("prod")) })).toBe(
        "ImplicitlyDenied",
      );
    });

    it("cannot pass the hosting role to another service, nor pass another role", async () => {
      const pass = find("iam:PassRole", ":role/");
      expect(await decide("staging", "endpoint-updater", { ...pass, context: { "iam:PassedToService": "ec2.amazonaws.com" } })).toBe("ImplicitlyDenied");
      expect(await decide("staging", "endpoint-updater", { ...pass, resource: roleArn("staging", "deployer") })).toBe("ImplicitlyDenied");
    });

    it("cannot create, switch to or delete another stack's models and configs (tags tell them apart)", async () => {
      const other = { "aws:RequestTag/stack": "prod" };
      expect(
        await decide("staging", "endpoint-updater", {
          ...find("sagemaker:CreateModel", ":model/"),
          context: { ...other, "sagemaker:NetworkIsolation": "true" },
        }),
      ).toBe("ImplicitlyDenied");
      expect(await decide("staging", "endpoint-updater", { ...find("sagemaker:DeleteModel", ":model/"), context: { "aws:ResourceTag/stack": "prod" } })).toBe(
        "ImplicitlyDenied",
      );
      expect(
        await decide("staging", "endpoint-updater", { ...find("sagemaker:UpdateEndpoint", ":endpoint-config/"), context: { "aws:ResourceTag/stack": "prod" } }),
      ).toBe("ImplicitlyDenied");
    });

    it("cannot create a model without network isolation on an instance endpoint", async () => {
      const create = find("sagemaker:CreateModel", ":model/");
      expect(await decide("staging", "endpoint-updater", { ...create, context: { ...create.context, "sagemaker:NetworkIsolation": "false" } })).toBe(
        "ImplicitlyDenied",
      );
    });

    it("cannot change infrastructure: no role, bucket, alarm or scaling call", async () => {
      for (const call of [
        { action: "iam:PutRolePolicy", resource: roleArn("staging", "deployer") },
        { action: "s3:PutBucketPolicy", resource: `arn:aws:s3:::${bucket("staging", "artifacts")}` },
        { action: "cloudwatch:DeleteAlarms", resource: `arn:aws:cloudwatch:${REGION}:${ACCOUNT}:alarm:x` },
        { action: "sagemaker:DeleteEndpoint", resource: `arn:aws:sagemaker:${REGION}:${ACCOUNT}:endpoint/${endpoint("staging")}` },
      ]) {
        expect(await decide("staging", "endpoint-updater", call), call.action).not.toBe("Allowed");
      }
    });
  });

  describe("the deployer's feature-store queries (`features dataset`)", () => {
    const glueTable = (table: string) => `arn:aws:glue:${REGION}:${ACCOUNT}:table/${OFFLINE_DATABASE}/${table}`;
    const datasets = `arn:aws:s3:::${bucket("dev", "datasets")}`;
    const put = (key: string, kmsKeyArn = kmsKey("dev")) => ({
      action: "s3:PutObject",
      resource: `${datasets}/${key}`,
      context: {
        "s3:ObjectCreationOperation": "true",
        "s3:x-amz-server-side-encryption": "aws:kms",
        "s3:x-amz-server-side-encryption-aws-kms-key-id": kmsKeyArn,
      },
    });

    it("creates and drops its temporary labels tables, never an offline store's table", async () => {
      expect(await decide("dev", "deployer", { action: "glue:DeleteTable", resource: glueTable("labels_flight_delays_20250301t120000z") })).toBe("Allowed");
      expect(await decide("dev", "deployer", { action: "glue:DeleteTable", resource: glueTable(offlineTable("dev")) })).toBe("ImplicitlyDenied");
      expect(await decide("dev", "deployer", { action: "glue:CreateTable", resource: glueTable(offlineTable("dev")) })).toBe("ImplicitlyDenied");
      expect(await decide("dev", "deployer", { action: "glue:DeleteTable", resource: `arn:aws:glue:${REGION}:${ACCOUNT}:table/other_db/labels_x` })).toBe(
        "ImplicitlyDenied",
      );
    });

    it("writes training sets under datasets/feature-sets/ with the stack key, never the raw datasets", async () => {
      expect(await decide("dev", "deployer", put("datasets/feature-sets/flight-delays/20250301T120000Z/train/train.csv"))).toBe("Allowed");
      expect(await decide("dev", "deployer", put("datasets/churn/v1/train/part-0.csv"))).toBe("ImplicitlyDenied");
      expect(await decide("dev", "deployer", put("feature-store/111122223333/sagemaker/eu-west-1/offline-store/x/data/part.parquet"))).toBe("ImplicitlyDenied");
      expect(await decide("dev", "deployer", put("datasets/feature-sets/flight-delays/r/train/train.csv", kmsKey("prod")))).toBe("ImplicitlyDenied");
    });

    it("queries in the stack's workgroup only", async () => {
      const start = (name: string) => ({ action: "athena:StartQueryExecution", resource: `arn:aws:athena:${REGION}:${ACCOUNT}:workgroup/${name}` });
      expect(await decide("dev", "deployer", start(workgroup("dev")))).toBe("Allowed");
      expect(await decide("dev", "deployer", start("primary"))).toBe("ImplicitlyDenied");
      expect(await decide("dev", "deployer", start(workgroup("prod")))).toBe("ImplicitlyDenied");
    });

    it("lists the offline stores and training sets, not the rest of the bucket", async () => {
      const list = (prefix: string) => ({ action: "s3:ListBucket", resource: datasets, context: { "s3:prefix": prefix } });
      expect(await decide("dev", "deployer", list("feature-store/111122223333/"))).toBe("Allowed");
      expect(await decide("dev", "deployer", list("feature-store-queries/"))).toBe("ImplicitlyDenied");
    });
  });

  describe("served artifacts cannot be overwritten in place", () => {
    const modelKey = `arn:aws:s3:::${bucket("staging", "artifacts")}/models/churn-staging-group/4/model.tar.gz`;
    const put = (context: Record<string, string>) => ({
      action: "s3:PutObject",
      resource: modelKey,
      context: { "s3:ObjectCreationOperation": "true", ...context },
    });

    it("denies a PutObject to models/ without If-None-Match, in the bucket policy", async () => {
      expect(await decide("staging", "deployer", put({}))).toBe("ExplicitlyDenied");
      expect(await decide("staging", "deployer", put({ "s3:if-none-match": "*" }))).toBe("Allowed");
    });

    it("still allows the parts of a multipart upload (they take no conditional header)", async () => {
      expect(await decide("staging", "deployer", { ...put({}), context: { "s3:ObjectCreationOperation": "false" } })).toBe("Allowed");
    });

    it("denies deleting a version of a served artifact to every platform role, whatever its own policy says", async () => {
      const deleteVersion = { action: "s3:DeleteObjectVersion", resource: modelKey };
      const allowAll: PolicyDocument = { Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "s3:*", Resource: "*" }] };
      expect(await decide("staging", "deployer", deleteVersion, allowAll)).toBe("ExplicitlyDenied");
      const trainingOutput = `arn:aws:s3:::${bucket("staging", "artifacts")}/training-output/churn-staging-1/output/model.tar.gz`;
      expect(await decide("staging", "deployer", { action: "s3:DeleteObject", resource: trainingOutput }, allowAll)).toBe("ExplicitlyDenied");
    });
  });
});
