import { ARTIFACT_PREFIXES, DATASET_PREFIX } from "@ml-platform/contract";
import { policy, PolicyDocument, PolicyStatement } from "./documents";

// The bucket layout is the contract's (shared with ml-deploy); re-exported for infra's importers.
export { ARTIFACT_PREFIXES, DATASET_PREFIX };

/** The duty an execution role serves: SageMaker training jobs, or the endpoint's model. */
export type ExecutionDuty = "training" | "hosting";

export interface ExecutionRolePolicyArgs {
  partition: string;
  region: string;
  accountId: string;
  datasetBucketArn: string;
  artifactBucketArn: string;
  kmsKeyArn: string;
  /** Hosting: the name prefix of the endpoint's rollback alarms, the only alarms the role may read. */
  rollbackAlarmPrefix?: string;
  /** This stage's repositories: the only images the role may pull (promotion copies images in). */
  repositoryArns: string[];
}

/**
 * The CloudWatch Logs groups SageMaker writes a duty's container output to (SageMaker Developer
 * Guide, "Log Amazon SageMaker AI Events with Amazon CloudWatch"): training jobs log to
 * `/aws/sagemaker/TrainingJobs`, endpoints to `/aws/sagemaker/Endpoints/<endpoint>`. Each role may
 * write only its own, so a hosted model cannot forge training logs and a job cannot write an
 * endpoint's.
 */
const LOG_GROUPS: Record<ExecutionDuty, string> = {
  training: "/aws/sagemaker/TrainingJobs",
  hosting: "/aws/sagemaker/Endpoints/*",
};

/** What both execution roles need: the platform key for SageMaker's own use, images, logs, metrics. */
function commonStatements(duty: ExecutionDuty, args: ExecutionRolePolicyArgs): PolicyStatement[] {
  const { partition, region, accountId, kmsKeyArn, repositoryArns } = args;
  return [
    {
      Sid: "UsePlatformKey",
      Effect: "Allow",
      Action: ["kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey"],
      Resource: kmsKeyArn,
    },
    {
      // SageMaker encrypts volumes and captured data through grants it creates for itself; a grant
      // for anything but an AWS service would let the role hand the key on (KMS condition keys:
      // kms:GrantIsForAWSResource).
      Sid: "GrantKeyOnlyToAwsServices",
      Effect: "Allow",
      Action: "kms:CreateGrant",
      Resource: kmsKeyArn,
      Condition: { Bool: { "kms:GrantIsForAWSResource": "true" } },
    },
    {
      Sid: "PullOwnImages",
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
        `arn:${partition}:logs:${region}:${accountId}:log-group:${LOG_GROUPS[duty]}`,
        `arn:${partition}:logs:${region}:${accountId}:log-group:${LOG_GROUPS[duty]}:log-stream:*`,
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
}

/**
 * What a training job needs, and nothing more: read the datasets, write its output and checkpoints
 * (each job under its own name, which SageMaker never reuses), and the common statements. It cannot
 * read or write promoted models or captured traffic. Two actions have no resource-level permissions
 * in IAM (ecr:GetAuthorizationToken, cloudwatch:PutMetricData); they get "*" with the narrowest
 * condition IAM offers.
 */
export function trainingRolePolicy(args: ExecutionRolePolicyArgs): PolicyDocument {
  const { datasetBucketArn, artifactBucketArn } = args;
  const outputs = [ARTIFACT_PREFIXES.trainingOutput, ARTIFACT_PREFIXES.checkpoints];
  return policy(
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
      Sid: "WriteTrainingOutput",
      Effect: "Allow",
      Action: ["s3:PutObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"],
      Resource: outputs.map((prefix) => `${artifactBucketArn}/${prefix}/*`),
    },
    {
      // Checkpoints are read back when a spot job resumes, and checkpoint sync deletes the ones the
      // job itself deleted.
      Sid: "ResumeFromCheckpoints",
      Effect: "Allow",
      Action: ["s3:GetObject", "s3:DeleteObject"],
      Resource: `${artifactBucketArn}/${ARTIFACT_PREFIXES.checkpoints}/*`,
    },
    {
      Sid: "ListTrainingOutput",
      Effect: "Allow",
      Action: "s3:ListBucket",
      Resource: artifactBucketArn,
      Condition: { StringLike: { "s3:prefix": outputs.map((p) => `${p}/*`) } },
    },
    ...commonStatements("training", args),
  );
}

/**
 * What the endpoint's model needs, and nothing more: read model artifacts (promoted copies and
 * registered training outputs), write captured traffic, read the rollback alarms (SageMaker checks
 * them with the execution role during a blue/green deployment: deployment-guardrails-configuration),
 * and the common statements. It can write no model and read no dataset.
 */
export function hostingRolePolicy(args: ExecutionRolePolicyArgs): PolicyDocument {
  const { partition, region, accountId, artifactBucketArn, rollbackAlarmPrefix } = args;
  if (!rollbackAlarmPrefix) throw new Error("the hosting role's policy needs the endpoint's rollback alarm name prefix");
  return policy(
    {
      Sid: "ReadModelArtifacts",
      Effect: "Allow",
      Action: "s3:GetObject",
      Resource: [ARTIFACT_PREFIXES.models, ARTIFACT_PREFIXES.trainingOutput].map((prefix) => `${artifactBucketArn}/${prefix}/*`),
    },
    {
      Sid: "WriteCapturedTraffic",
      Effect: "Allow",
      Action: ["s3:PutObject", "s3:AbortMultipartUpload"],
      Resource: `${artifactBucketArn}/${ARTIFACT_PREFIXES.dataCapture}/*`,
    },
    {
      Sid: "ReadRollbackAlarms",
      Effect: "Allow",
      Action: "cloudwatch:DescribeAlarms",
      Resource: `arn:${partition}:cloudwatch:${region}:${accountId}:alarm:${rollbackAlarmPrefix}*`,
    },
    ...commonStatements("hosting", args),
  );
}

/** The policy of the execution role for `duty`. */
export function executionRolePolicy(duty: ExecutionDuty, args: ExecutionRolePolicyArgs): PolicyDocument {
  return duty === "training" ? trainingRolePolicy(args) : hostingRolePolicy(args);
}
