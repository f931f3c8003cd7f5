// The feature store under mocks, per real stack file: the feature-set file → a FeatureGroup with its
// stores on the stack's bucket and key, the roles around it, and the outputs the tools read.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { runSimulation } from "@cloud-copilot/iam-simulate";
import { requiredPermissions } from "@ml-platform/deploy-scripts";
import { deployerPolicy } from "../infra/policies/deployer-policy";
import { beforeAll, describe, expect, it } from "vitest";
import { featureGroupDefinitions, FEATURE_STORE_PREFIX, parseStackOutputs, type FeatureSet } from "@ml-platform/contract";
import { loadFeatureSets, REPOSITORY_ROOT } from "../infra/feature-sets";
import type { PolicyDocument } from "../infra/policies/documents";
import { platformKeyPolicy } from "../infra/policies/key-policy";
import { featureIngestionPolicy, offlineStoreRolePolicy } from "../infra/policies/feature-store-policy";
import { json, ofType, one, planStack, type Plan } from "./helpers/platform";

const GROUP = "aws:sagemaker/featureGroup:FeatureGroup";
const FLIGHTS = "examples/flight-delays/features.yaml";
const flights = (stack: string): FeatureSet => loadFeatureSets(stack, [FLIGHTS], REPOSITORY_ROOT)[0]!;

const byName = (plan: Plan, name: string) => {
  const found = plan.resources.find((r) => r.name === name);
  if (!found) throw new Error(`no resource ${name}`);
  return found;
};
const statement = (plan: Plan, policyName: string, sid: string) => {
  const policy = plan.resources.find((r) => r.name === policyName);
  return policy && json(policy.inputs.policy).Statement.find((s: any) => s.Sid === sid);
};

describe.each(["dev", "staging", "prod"])("the feature store of %s", (stack) => {
  let plan: Plan;
  beforeAll(async () => {
    plan = await planStack(stack);
  }, 60_000);

  it("defines one feature group per feature set, from the feature-set file", () => {
    const group = one(plan, GROUP);
    const set = flights(stack);
    expect(group.inputs).toMatchObject({
      featureGroupName: `flight-delays-${stack}`,
      recordIdentifierFeatureName: "flight_id",
      eventTimeFeatureName: "event_time",
      featureDefinitions: featureGroupDefinitions(set),
    });
    expect(group.parent).toBe("features");
    // Our name, not a generated one: the old group must go before a replacement can take it.
    expect(group.options.deleteBeforeReplace).toBe(true);
  });

  it("keeps the offline store in the dataset bucket, in Iceberg, encrypted with the stack's key, written as its own role", () => {
    const group = one(plan, GROUP);
    const key = byName(plan, "store-key");
    const datasets = byName(plan, "store-datasets-bucket");
    expect(group.inputs.offlineStoreConfig).toEqual({
      s3StorageConfig: { s3Uri: `s3://${datasets.state.bucket}/${FEATURE_STORE_PREFIX}/`, kmsKeyId: key.state.arn },
      tableFormat: "Iceberg",
    });
    const role = byName(plan, "features-offline-store-role");
    expect(group.inputs.roleArn).toBe(role.state.arn);
    expect(json(role.inputs.assumeRolePolicy).Statement[0].Principal).toEqual({ Service: "sagemaker.amazonaws.com" });
    expect(group.dependsOn).toContain("features-offline-store-permissions");
  });

  it("has an online store, encrypted with the key and expiring records, only where the stack enables it (prod)", () => {
    const online = one(plan, GROUP).inputs.onlineStoreConfig;
    if (stack === "prod") {
      expect(online).toEqual({
        enableOnlineStore: true,
        securityConfig: { kmsKeyId: byName(plan, "store-key").state.arn },
        ttlDuration: { value: 7, unit: "Days" },
      });
    } else {
      expect(online).toBeUndefined();
    }
  });

  it("encrypts the Athena workgroup's results with the key, and queries cannot override it", () => {
    const workgroup = one(plan, "aws:athena/workgroup:Workgroup");
    expect(workgroup.inputs.configuration).toMatchObject({
      enforceWorkgroupConfiguration: true,
      resultConfiguration: { encryptionConfiguration: { encryptionOption: "SSE_KMS", kmsKeyArn: byName(plan, "store-key").state.arn } },
    });
  });

  it("lets the deployer (byDeployer) and the ingestion role write records to this stack's group only", () => {
    const arn = `arn:aws:sagemaker:eu-west-1:123456789012:feature-group/flight-delays-${stack}`;
    for (const policyName of ["deployer-permissions", "features-ingestion-permissions"]) {
      expect(statement(plan, policyName, "IngestFeatureRecords"), policyName).toEqual({
        Sid: "IngestFeatureRecords",
        Effect: "Allow",
        Action: ["sagemaker:PutRecord", "sagemaker:DescribeFeatureGroup"],
        Resource: [arn],
      });
    }
    // Nobody may assume the ingestion role until principals are named.
    expect(json(byName(plan, "features-ingestion-role").inputs.assumeRolePolicy).Statement[0].Effect).toBe("Deny");
  });

  it("exports the groups for the tools, valid against the contract's outputs schema", () => {
    const parsed = parseStackOutputs(plan.outputs);
    if (!parsed.ok) throw new Error(parsed.problems.join("\n"));
    expect(parsed.outputs.featureGroups?.["flight-delays"]).toMatchObject({
      featureGroupName: `flight-delays-${stack}`,
      featureGroupArn: one(plan, GROUP).state.arn,
      onlineStore: stack === "prod",
    });
    expect(parsed.outputs.featureOfflineStoreUri).toMatch(new RegExp(`/${FEATURE_STORE_PREFIX}/$`));
    expect(parsed.outputs.featureQueryWorkgroup).toBeTruthy();
    expect(parsed.outputs.featureIngestionRoleArn).toBe(byName(plan, "features-ingestion-role").state.arn);
  });
});

describe("without mlPlatform:featureStore", () => {
  it("creates no feature group, workgroup or ingestion grant (dev-k8s has none)", async () => {
    const plan = await planStack("dev-k8s");
    expect(ofType(plan, GROUP)).toEqual([]);
    expect(ofType(plan, "aws:athena/workgroup:Workgroup")).toEqual([]);
    expect(statement(plan, "deployer-permissions", "IngestFeatureRecords")).toBeUndefined();
    expect(plan.outputs.featureGroups).toBeUndefined();
  }, 60_000);

  it("leaves the deployer out of ingestion when ingestion.byDeployer is false", async () => {
    const plan = await planStack("dev", { "mlPlatform:featureStore": { featureSets: [FLIGHTS], ingestion: { byDeployer: false } } });
    expect(statement(plan, "deployer-permissions", "IngestFeatureRecords")).toBeUndefined();
    expect(statement(plan, "features-ingestion-permissions", "IngestFeatureRecords")).toBeDefined();
  }, 60_000);
});

describe("feature-set files named by a stack", () => {
  let root: string;
  beforeAll(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), "feature-sets-"));
    const good = fs.readFileSync(path.join(REPOSITORY_ROOT, FLIGHTS), "utf8");
    fs.writeFileSync(path.join(root, "good.yaml"), good);
    fs.writeFileSync(path.join(root, "twin.yaml"), good);
    fs.writeFileSync(path.join(root, "typo.yaml"), good.replace("recordIdentifier:", "recordIdentifer:"));
    fs.writeFileSync(path.join(root, "long.yaml"), good.replace("name: flight-delays", `name: ${"f".repeat(62)}`));
  });

  it.each([
    [["missing.yaml"], 'dev: mlPlatform:featureStore.featureSets.0 ("missing.yaml") cannot be read: ENOENT'],
    [["good.yaml", "typo.yaml"], "dev: mlPlatform:featureStore.featureSets.1: typo.yaml: entity.recordIdentifer is not a known key"],
    [["good.yaml", "twin.yaml"], 'dev: mlPlatform:featureStore.featureSets: two files declare the feature set "flight-delays"'],
    [["long.yaml"], "(<set name>-<stack>) exceeds 64 characters or is not a SageMaker name"],
  ])("%j is refused before any resource exists, naming the stack, key and file", (files, message) => {
    expect(() => loadFeatureSets("dev", files, root)).toThrow(message);
  });

  it("fail `pulumi up` of a real stack when missing", async () => {
    await expect(planStack("dev", { "mlPlatform:featureStore": { featureSets: ["examples/flight-delays/nope.yaml"] } })).rejects.toThrow(
      'dev: mlPlatform:featureStore.featureSets.0 ("examples/flight-delays/nope.yaml") cannot be read',
    );
  }, 60_000);
});

// What AWS decides for the feature store's roles, by an independent IAM simulator.
async function decide(policy: PolicyDocument, action: string, resource: string, context: Record<string, string> = {}) {
  const result = await runSimulation(
    {
      identityPolicies: [{ name: "role", policy: policy as never }],
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      // A KMS key is usable only if its key policy allows it too: the platform key's.
      ...(action.startsWith("kms:")
        ? { resourcePolicy: platformKeyPolicy({ accountId: "111122223333", partition: "aws", region: "eu-west-1" }) as never }
        : {}),
      request: { action, principal: "arn:aws:iam::111122223333:role/r", resource: { resource, accountId: "111122223333" }, contextVariables: context },
    },
    {},
  );
  if (result.resultType === "error") throw new Error(JSON.stringify(result.errors));
  return result.overallResult;
}

describe("the feature store's permissions", () => {
  const base = { region: "eu-west-1", accountId: "111122223333" };
  const KEY = "arn:aws:kms:eu-west-1:111122223333:key/k";
  const group = (n: string) => `arn:aws:sagemaker:eu-west-1:111122223333:feature-group/${n}`;

  it("ingestion: PutRecord on the stack's groups, never elsewhere, nor reads or deletes", async () => {
    const policy = featureIngestionPolicy({ ...base, featureGroupNames: ["Flight-Delays-prod"], onlineStoreKmsKeyArn: KEY });
    expect(await decide(policy, "sagemaker:PutRecord", group("flight-delays-prod"))).toBe("Allowed");
    expect(await decide(policy, "sagemaker:PutRecord", group("flight-delays-staging"))).toBe("ImplicitlyDenied");
    expect(await decide(policy, "sagemaker:DeleteRecord", group("flight-delays-prod"))).toBe("ImplicitlyDenied");
    expect(await decide(policy, "sagemaker:GetRecord", group("flight-delays-prod"))).toBe("ImplicitlyDenied");
    expect(await decide(policy, "kms:Decrypt", KEY)).toBe("Allowed");
    expect(featureIngestionPolicy({ ...base, featureGroupNames: ["g"] }).Statement.map((s) => s.Sid)).toEqual(["IngestFeatureRecords"]);
  });

  it("offline store: writes only under the feature-store prefix, uses the key only through S3", async () => {
    const policy = offlineStoreRolePolicy({ ...base, bucketArn: "arn:aws:s3:::datasets", kmsKeyArn: KEY });
    expect(await decide(policy, "s3:PutObject", `arn:aws:s3:::datasets/${FEATURE_STORE_PREFIX}/111122223333/sagemaker/x`)).toBe("Allowed");
    expect(await decide(policy, "s3:PutObject", "arn:aws:s3:::datasets/datasets/flight-delays/v1/train/x.csv")).toBe("ImplicitlyDenied");
    expect(await decide(policy, "s3:DeleteObject", `arn:aws:s3:::datasets/${FEATURE_STORE_PREFIX}/x`)).toBe("ImplicitlyDenied");
    expect(await decide(policy, "kms:GenerateDataKey", KEY, { "kms:ViaService": "s3.eu-west-1.amazonaws.com" })).toBe("Allowed");
    expect(await decide(policy, "kms:GenerateDataKey", KEY, { "kms:ViaService": "ec2.eu-west-1.amazonaws.com" })).toBe("ImplicitlyDenied");
    expect(await decide(policy, "glue:UpdateTable", "arn:aws:glue:eu-west-1:111122223333:table/sagemaker_featurestore/flight_delays_prod_1700000000")).toBe(
      "Allowed",
    );
    expect(await decide(policy, "glue:UpdateTable", "arn:aws:glue:eu-west-1:111122223333:table/analytics/orders")).toBe("ImplicitlyDenied");
  });

  it("deployer: allows exactly what `ml-deploy features ingest` sends, only with ingestion.byDeployer", async () => {
    const stage = {
      ...base,
      datasetBucketArn: "arn:aws:s3:::datasets",
      artifactBucketArn: "arn:aws:s3:::artifacts",
      kmsKeyArn: KEY,
      modelPackageGroupName: "flight-delays-prod",
      endpointName: "flight-delays-prod",
      repositoryArns: [],
    };
    const deployer = (featureIngestion?: { featureGroupNames: string[] }) =>
      deployerPolicy({
        ...stage,
        trainingJobNamePrefix: "flight-delays-prod",
        trainingRoleArn: "arn:aws:iam::111122223333:role/t",
        training: { instanceTypes: ["ml.m5.large"] },
        featureIngestion,
      });
    const noQueries = () => {
      throw new Error("no Athena query here");
    };
    const env = {
      partition: "aws",
      region: "eu-west-1",
      accountId: "111122223333",
      kmsKeyOfBucket: () => KEY,
      enforcedResultLocation: noQueries,
      workgroupOfQuery: noQueries,
      tableLocation: noQueries,
    };
    const calls = [
      ...requiredPermissions("DescribeFeatureGroupCommand", { FeatureGroupName: "flight-delays-prod" }, env),
      ...requiredPermissions("PutRecordCommand", { FeatureGroupName: "flight-delays-prod", Record: [] }, env),
    ];
    for (const call of calls) {
      expect(await decide(deployer({ featureGroupNames: ["flight-delays-prod"] }), call.action, call.resource), call.action).toBe("Allowed");
      expect(await decide(deployer(), call.action, call.resource), call.action).toBe("ImplicitlyDenied");
    }
  });
});
