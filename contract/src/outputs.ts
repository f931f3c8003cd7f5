// The stack outputs: what the infra program exports (infra/index.ts, checked against this at compile
// time) and what the tools read back with `pulumi stack output --json`. One list of names and types.
import { z } from "zod";
import { FEATURE_GROUP_NAME } from "./features";
import { ACCOUNT_ID, ARN, S3_URI } from "./patterns";

const arn = z.string().regex(ARN, "must be an ARN");
const s3Prefix = z.string().regex(S3_URI, "must be an s3://<bucket>/<prefix>/ URI");
const bucketName = z.string().min(3).max(63);

// Values that shape IAM policies in another stack. None may carry a wildcard (`*`, `?`): a value read
// from another stack must name exactly one resource, never widen a statement.
const REGION = /^[a-z]{2}(-[a-z]+)+-\d$/;
const BUCKET_ARN = /^arn:aws[a-z-]*:s3:::[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const KMS_KEY_ARN = /^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/[A-Za-z0-9-]+$/;
const ECR_REPOSITORY_ARN = /^arn:aws[a-z-]*:ecr:[a-z0-9-]+:\d{12}:repository\/[a-z0-9]+(?:[._/-][a-z0-9]+)*$/;
// SageMaker names: letters, digits, hyphens; at most 63 characters (CreateEndpoint, CreateModelPackageGroup).
const SAGEMAKER_NAME = /^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$/;
const repositoryArn = z.string().regex(ECR_REPOSITORY_ARN, "must be an ECR repository ARN");

/**
 * One stage's resources as another stage's roles see them: the `deployerStage` output, read by the
 * next stage through a StackReference and validated with this before it shapes a policy.
 */
export const deployerStageSchema = z.strictObject({
  /** Region of the stage's SageMaker resources. */
  region: z.string().regex(REGION, "must be an AWS region such as eu-west-1"),
  /** Account of the stage's SageMaker resources. */
  accountId: z.string().regex(ACCOUNT_ID, "must be a 12-digit account ID"),
  /** The dataset bucket (`arn:aws:s3:::<name>`): sample rows for smoke tests, the dataset fingerprint. */
  datasetBucketArn: z.string().regex(BUCKET_ARN, "must be an S3 bucket ARN"),
  /** The artifact bucket: training output, promoted models, model-quality reports. */
  artifactBucketArn: z.string().regex(BUCKET_ARN, "must be an S3 bucket ARN"),
  /** The key that encrypts both buckets. */
  kmsKeyArn: z.string().regex(KMS_KEY_ARN, "must be a KMS key ARN"),
  /** The stage's model package group (its registry). */
  modelPackageGroupName: z.string().regex(SAGEMAKER_NAME, "must be a SageMaker name"),
  /** The endpoint's name; it is fixed before the endpoint exists, so policies need no update when it appears. */
  endpointName: z.string().regex(SAGEMAKER_NAME, "must be a SageMaker name"),
  /** The stage's ECR repositories: the next stage's deployer copies images out of them. */
  repositoryArns: z.array(repositoryArn),
});

const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, "must be a hex SHA-256");

/**
 * What a deployment recorded about its endpoint, read back by the next deployment of the same stack
 * to decide whether UpdateEndpoint retains the live variant properties (infra's InferenceEndpoint).
 */
export const endpointDeploymentSchema = z.strictObject({
  /** Everything that shapes the EndpointConfiguration: a change means a new config and an UpdateEndpoint. */
  configFingerprint: sha256Hex,
  /** The data-capture settings alone. */
  dataCaptureFingerprint: sha256Hex,
  /** What the Endpoint's retainAllVariantProperties input was set to. */
  retainAllVariantProperties: z.boolean(),
});

/** One feature group as the tools (`ml-deploy features ingest`, `features dataset`) find it. */
export const featureGroupOutputSchema = z.strictObject({
  featureGroupName: z.string().regex(FEATURE_GROUP_NAME, "must be a feature group name"),
  featureGroupArn: arn,
  /** Where SageMaker writes the offline store's records (resolved at creation; the prefix before). */
  offlineStoreUri: z.string().regex(S3_URI, "must be an s3:// URI"),
  /** The offline store's Glue table, which Athena queries; null until SageMaker has created it. */
  glueTable: z.strictObject({ database: z.string().min(1), table: z.string().min(1) }).nullable(),
  /** Whether the group has an online store (GetRecord). */
  onlineStore: z.boolean(),
});
export type FeatureGroupOutput = z.infer<typeof featureGroupOutputSchema>;

/** The pinned version as the stack serves it (`mlPlatform:model`), or null before the first promotion. */
const servedModelSchema = z
  .object({
    packageArn: z.string().optional(),
    artifactUri: z.string().optional(),
    image: z.string().optional(),
    previousPackageArns: z.array(z.string()),
  })
  .nullable();

/**
 * Every output the program exports. Those marked optional are ones the tools do not need (or that
 * are absent by design, like `endpointName` before a model is pinned): a stack deployed by an older
 * program still serves the tools. The program must export all of them (see infra/index.ts).
 */
export const stackOutputsSchema = z.object({
  region: z.string().min(1),
  accountId: z.string().regex(ACCOUNT_ID, "must be a 12-digit AWS account id"),
  datasetBucketName: bucketName,
  artifactBucketName: bucketName,
  kmsKeyArn: arn,
  /** Same as trainingRoleArn; kept while tools read this name. */
  executionRoleArn: arn,
  /** The role training jobs run as (`ml-deploy train` passes it). */
  trainingRoleArn: arn.optional(),
  /** The role the endpoint's model runs as. */
  hostingRoleArn: arn.optional(),
  deployerRoleArn: arn.optional(),
  /**
   * The stage's endpoint-updater role: the identity of `pulumi up` of a model change. `ml-deploy`
   * runs that update with `PROVIDER_ROLE_ENV` set to it. Optional until every stack exports it;
   * `deploy`, `promote` and `rollback` refuse a stack without it.
   */
  updaterRoleArn: arn.optional(),
  /** The role that approves or rejects this stage's versions. */
  approverRoleArn: arn.optional(),
  /** ECR repository URL per repository name (`mlPlatform:images.repositories`). */
  repositoryUrls: z.record(z.string(), z.string()).default({}),
  /** This stage's repositories by image name (ARNs): where promotion copies images to. */
  repositoryArns: z.record(z.string(), repositoryArn).optional(),
  /** The source stage's repositories, where promotion copies images from; null without `deployer.promotesFrom`. */
  sourceRepositoryArns: z.array(repositoryArn).nullable().optional(),
  modelPackageGroupName: z.string().min(1),
  /** Absent while the stack pins no model. */
  endpointName: z.string().min(1).optional(),
  /**
   * The EndpointConfiguration this deployment put on the endpoint (its physical name). After an
   * update the tools compare it with DescribeEndpoint's `EndpointConfigName`: SageMaker can roll an
   * update back on its own and leave the endpoint InService on the old config. Absent without a model.
   */
  endpointConfigName: z.string().min(1).optional(),
  /** `s3://<dataset bucket>/<mlPlatform:training.datasetPrefix>/`. */
  datasetUri: s3Prefix,
  /** `s3://<artifact bucket>/training-output/` (layout.ts). */
  trainingOutputUri: s3Prefix,
  /** `s3://<artifact bucket>/checkpoints/` (layout.ts). */
  checkpointUri: s3Prefix,
  /** `s3://<artifact bucket>/models/` (layout.ts). */
  promotedModelsUri: s3Prefix.optional(),
  alarmTopicArn: arn.optional(),
  deployerStage: deployerStageSchema.optional(),
  /** Read back by the next deployment of this stack (instance endpoints). */
  endpointDeployment: endpointDeploymentSchema.optional(),
  servedModel: servedModelSchema.optional(),
  /** The feature groups by feature-set name (`mlPlatform:featureStore`); absent without a feature store. */
  featureGroups: z.record(z.string(), featureGroupOutputSchema).optional(),
  /** `s3://<dataset bucket>/feature-store/`: the offline stores' prefix. */
  featureOfflineStoreUri: s3Prefix.optional(),
  /** The Athena workgroup for queries over the offline store (results encrypted with the platform key). */
  featureQueryWorkgroup: z.string().min(1).optional(),
  /** The role a data pipeline assumes to ingest records (PutRecord on this stack's groups only). */
  featureIngestionRoleArn: arn.optional(),
});

export type StackOutputs = z.infer<typeof stackOutputsSchema>;

/**
 * The environment variable that makes the program's AWS providers assume a role (their
 * `assumeRoles`) instead of acting with the ambient credentials, which still reach the state
 * backend. `ml-deploy` sets it to `updaterRoleArn` for the preview and update of a model change;
 * the platform admin's `pulumi up` of infrastructure leaves it unset.
 */
export const PROVIDER_ROLE_ENV = "ML_PLATFORM_PROVIDER_ROLE_ARN";
export type DeployerStage = z.infer<typeof deployerStageSchema>;
export type EndpointDeploymentRecord = z.infer<typeof endpointDeploymentSchema>;
export type OutputName = keyof StackOutputs;

/** The outputs, or one line per missing or malformed output: `kmsKeyArn: must be an ARN`. */
export type OutputsResult = { readonly ok: true; readonly outputs: StackOutputs } | { readonly ok: false; readonly problems: readonly string[] };

/** Validates a stack's outputs (`pulumi stack output --json`, secrets unwrapped), naming every bad one. */
export function parseStackOutputs(raw: unknown): OutputsResult {
  const parsed = stackOutputsSchema.safeParse(raw);
  if (parsed.success) return { ok: true, outputs: parsed.data };
  return {
    ok: false,
    problems: parsed.error.issues.map(
      (i) => `${i.path.join(".") || "(outputs)"}: ${i.path.length > 0 && valueMissing(raw, i.path) ? "is missing" : i.message}`,
    ),
  };
}

function valueMissing(raw: unknown, path: readonly PropertyKey[]): boolean {
  let node: unknown = raw;
  for (const step of path) {
    if (node === null || typeof node !== "object") return true;
    node = (node as Record<PropertyKey, unknown>)[step];
  }
  return node === undefined;
}
