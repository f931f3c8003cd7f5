import { z } from "zod";

// Values that shape IAM policies. None may carry a wildcard (`*`, `?`): a value read from another
// stack must name exactly one resource, never widen a statement.
const ACCOUNT = /^\d{12}$/;
const REGION = /^[a-z]{2}(-[a-z]+)+-\d$/;
const BUCKET_ARN = /^arn:aws[a-z-]*:s3:::[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const KMS_KEY_ARN = /^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/[A-Za-z0-9-]+$/;
const ECR_REPOSITORY_ARN = /^arn:aws[a-z-]*:ecr:[a-z0-9-]+:\d{12}:repository\/[a-z0-9]+(?:[._/-][a-z0-9]+)*$/;
// SageMaker names: letters, digits, hyphens; at most 63 characters (CreateEndpoint, CreateModelPackageGroup).
const SAGEMAKER_NAME = /^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$/;

/** One stage's resources as another stage's roles see them: the `deployerStage` stack output. */
export const deployerStageSchema = z.strictObject({
  /** Region of the stage's SageMaker resources. */
  region: z.string().regex(REGION, "must be an AWS region such as eu-west-1"),
  /** Account of the stage's SageMaker resources. */
  accountId: z.string().regex(ACCOUNT, "must be a 12-digit account ID"),
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
  repositoryArns: z.array(z.string().regex(ECR_REPOSITORY_ARN, "must be an ECR repository ARN")),
});

export type DeployerStageArgs = z.infer<typeof deployerStageSchema>;

/**
 * Validates a stage read through a StackReference before it shapes a policy; a bad value fails
 * naming the stack, the output and each field.
 */
export function parseDeployerStage(stack: string, output: string, value: unknown): DeployerStageArgs {
  const parsed = deployerStageSchema.safeParse(value);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((i) => `${[output, ...i.path].join(".")} ${i.message}`);
  throw new Error(`stack ${stack}: output ${output} cannot be used in a policy:\n  ${problems.join("\n  ")}`);
}
