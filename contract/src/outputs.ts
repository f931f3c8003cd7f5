// The stack outputs: what the infra program exports (infra/index.ts, checked against this at compile
// time) and what the tools read back with `pulumi stack output --json`. One list of names and types.
import { z } from "zod";
import { ACCOUNT_ID, ARN, S3_URI } from "./patterns";

const arn = z.string().regex(ARN, "must be an ARN");
const s3Prefix = z.string().regex(S3_URI, "must be an s3://<bucket>/<prefix>/ URI");
const bucketName = z.string().min(3).max(63);

/** This stack's resources as the deployer role of the next stage sees them (read via a StackReference). */
export const deployerStageSchema = z.object({
  region: z.string().min(1),
  accountId: z.string().regex(ACCOUNT_ID),
  datasetBucketArn: arn,
  artifactBucketArn: arn,
  kmsKeyArn: arn,
  modelPackageGroupName: z.string().min(1),
  endpointName: z.string().min(1),
});

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
  executionRoleArn: arn,
  deployerRoleArn: arn.optional(),
  /**
   * The stage's endpoint-updater role: the identity of `pulumi up` of a model change. `ml-deploy`
   * runs that update with `PROVIDER_ROLE_ENV` set to it. Optional until every stack exports it;
   * `deploy`, `promote` and `rollback` refuse a stack without it.
   */
  updaterRoleArn: arn.optional(),
  /** ECR repository URL per repository name (`mlPlatform:images.repositories`). */
  repositoryUrls: z.record(z.string(), z.string()).default({}),
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
  servedModel: servedModelSchema.optional(),
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
export type OutputName = keyof StackOutputs;

/** The outputs, or one line per missing or malformed output: `kmsKeyArn: must be an ARN`. */
export type OutputsResult = { readonly ok: true; readonly outputs: StackOutputs } | { readonly ok: false; readonly problems: readonly string[] };

/** Validates a stack's outputs (`pulumi stack output --json`, secrets unwrapped), naming every bad one. */
export function parseStackOutputs(raw: unknown): OutputsResult {
  const parsed = stackOutputsSchema.safeParse(raw);
  if (parsed.success) return { ok: true, outputs: parsed.data };
  return { ok: false, problems: parsed.error.issues.map((i) => `${i.path.join(".") || "(outputs)"}: ${i.path.length > 0 && valueMissing(raw, i.path) ? "is missing" : i.message}`) };
}

function valueMissing(raw: unknown, path: readonly PropertyKey[]): boolean {
  let node: unknown = raw;
  for (const step of path) {
    if (node === null || typeof node !== "object") return true;
    node = (node as Record<PropertyKey, unknown>)[step];
  }
  return node === undefined;
}
