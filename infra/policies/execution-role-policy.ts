import { ARTIFACT_PREFIXES, DATASET_PREFIX } from "@ml-platform/contract";
import { policy, PolicyDocument, PolicyStatement } from "./documents";

// The bucket layout is the contract's (shared with ml-deploy); re-exported for infra's importers.
export { ARTIFACT_PREFIXES, DATASET_PREFIX };

export interface ExecutionRolePolicyArgs {
  partition: string;
  region: string;
  accountId: string;
  datasetBucketArn: string;
  artifactBucketArn: string;
  kmsKeyArn: string;
  /** Repositories whose images the role may pull: this stack's, and earlier stages' where configured. */
  repositoryArns: string[];
}

/**
 * What a SageMaker training job or endpoint of this platform needs, and nothing more: read the
 * datasets, read and write its own artifact prefixes, use the platform key, pull the images,
 * write logs and metrics. Two actions have no resource-level permissions in IAM
 * (ecr:GetAuthorizationToken, cloudwatch:PutMetricData); they get "*" with the narrowest condition
 * IAM offers.
 */
export function executionRolePolicy(args: ExecutionRolePolicyArgs): PolicyDocument {
  const { partition, region, accountId, datasetBucketArn, artifactBucketArn, kmsKeyArn, repositoryArns } = args;
  const artifactObjects = Object.values(ARTIFACT_PREFIXES).map((prefix) => `${artifactBucketArn}/${prefix}/*`);
  const statements: PolicyStatement[] = [
    {
      Sid: "ReadDatasets",
      Effect: "Allow",
      Action: "s3:GetObject",
      Resource: `${datasetBucketArn}/${DATASET_PREFIX}/*`,
    },
    {
      Sid: "ListDatasets",
      Effect: "Allow",
      Action: "s3:ListBucket",
      Resource: datasetBucketArn,
      Condition: { StringLike: { "s3:prefix": [`${DATASET_PREFIX}/*`] } },
    },
    {
      Sid: "ReadWriteArtifacts",
      Effect: "Allow",
      // DeleteObject: checkpoint sync removes checkpoints the job itself deleted.
      Action: ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"],
      Resource: artifactObjects,
    },
    {
      Sid: "ListArtifacts",
      Effect: "Allow",
      Action: "s3:ListBucket",
      Resource: artifactBucketArn,
      Condition: { StringLike: { "s3:prefix": Object.values(ARTIFACT_PREFIXES).map((p) => `${p}/*`) } },
    },
    {
      Sid: "UsePlatformKey",
      Effect: "Allow",
      Action: ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:DescribeKey", "kms:CreateGrant"],
      Resource: kmsKeyArn,
    },
    {
      Sid: "PullImages",
      Effect: "Allow",
      Action: ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"],
      Resource: repositoryArns,
    },
    {
      Sid: "AuthenticateToEcr",
      Effect: "Allow",
      Action: "ecr:GetAuthorizationToken",
      Resource: "*",
    },
    {
      Sid: "WriteSageMakerLogs",
      Effect: "Allow",
      Action: ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
      Resource: [
        `arn:${partition}:logs:${region}:${accountId}:log-group:/aws/sagemaker/*`,
        `arn:${partition}:logs:${region}:${accountId}:log-group:/aws/sagemaker/*:log-stream:*`,
      ],
    },
    {
      Sid: "PublishSageMakerMetrics",
      Effect: "Allow",
      Action: "cloudwatch:PutMetricData",
      Resource: "*",
      Condition: { StringLike: { "cloudwatch:namespace": ["/aws/sagemaker/*", "aws/sagemaker/*"] } },
    },
  ];
  return policy(...statements);
}
