// The training pipeline's identities as data: the pipeline's execution role, the snapshot and
// evaluate steps' roles and the role that starts the pipeline (schedule, new-data rule). Each does
// one thing.
import { ARTIFACT_PREFIXES, DATASET_MANIFESTS_PREFIX, DATASET_OBJECTS_PREFIX, sagemakerArn } from "@ml-platform/contract";
import { policy, type PolicyDocument, type PolicyStatement } from "./documents";
import { EVALUATIONS_PREFIX, SNAPSHOT_RECORDS_PREFIX } from "../pipeline/definition";

interface Account {
  readonly partition: string;
  readonly region: string;
  readonly accountId: string;
}

export interface PipelineRolePolicyArgs extends Account {
  readonly pipelineName: string;
  readonly trainingRoleArn: string;
  readonly evaluationRoleArn: string;
  readonly snapshotRoleArn: string;
  readonly modelPackageGroupName: string;
  readonly datasetBucketArn: string;
  readonly artifactBucketArn: string;
  readonly kmsKeyArn: string;
  /** The instance types the training step may run on (the stack's training guardrails). */
  readonly trainingInstanceTypes: readonly string[];
  /** The instance type of the Processing steps (snapshot, evaluate). */
  readonly evaluationInstanceType: string;
}

/**
 * What the pipeline's execution role may do, and nothing more: start, watch and stop the training and
 * processing jobs its steps run (network-isolated, on the allowed instance types), pass exactly the
 * step roles to SageMaker, register versions in this stack's group only as PendingManualApproval
 * (the `sagemaker:ModelApprovalStatus` condition key of CreateModelPackage, Service Authorization
 * Reference), and read the property files its JsonGets read (the snapshot record, the evaluation
 * report). The data itself is read and written by the step roles, not by this one.
 */
export function pipelineRolePolicy(a: PipelineRolePolicyArgs): PolicyDocument {
  const sm = (type: string, name: string) => sagemakerArn(a.partition, a.region, a.accountId, type, name);
  // Pipelines name their jobs `pipelines-<execution id>-<step>-<suffix>` (SageMaker Developer Guide,
  // "Pipeline steps"); the prefix keeps the role off every other job.
  const trainingJobs = sm("training-job", "pipelines-*");
  const processingJobs = sm("processing-job", "pipelines-*");
  const isolated = { Bool: { "sagemaker:NetworkIsolation": "true" } };
  return policy(
    {
      Sid: "StartIsolatedTrainingJobs",
      Effect: "Allow",
      Action: "sagemaker:CreateTrainingJob",
      Resource: trainingJobs,
      Condition: { ...isolated, "ForAllValues:StringEquals": { "sagemaker:InstanceTypes": [...a.trainingInstanceTypes] } },
    },
    {
      Sid: "StartIsolatedProcessingJobs",
      Effect: "Allow",
      Action: "sagemaker:CreateProcessingJob",
      Resource: processingJobs,
      Condition: { ...isolated, "ForAllValues:StringEquals": { "sagemaker:InstanceTypes": [a.evaluationInstanceType] } },
    },
    {
      Sid: "WatchAndStopOwnJobs",
      Effect: "Allow",
      Action: [
        "sagemaker:DescribeTrainingJob",
        "sagemaker:StopTrainingJob",
        "sagemaker:DescribeProcessingJob",
        "sagemaker:StopProcessingJob",
        "sagemaker:AddTags",
      ],
      Resource: [trainingJobs, processingJobs],
    },
    {
      Sid: "PassOnlyTheStepRoles",
      Effect: "Allow",
      Action: "iam:PassRole",
      Resource: [a.trainingRoleArn, a.evaluationRoleArn, a.snapshotRoleArn],
      Condition: { StringEquals: { "iam:PassedToService": "sagemaker.amazonaws.com" } },
    },
    {
      Sid: "RegisterPendingApprovalOnly",
      Effect: "Allow",
      Action: "sagemaker:CreateModelPackage",
      Resource: [sm("model-package-group", a.modelPackageGroupName), sm("model-package", `${a.modelPackageGroupName}/*`)],
      Condition: { StringEquals: { "sagemaker:ModelApprovalStatus": "PendingManualApproval" } },
    },
    {
      Sid: "ReadPropertyFiles",
      Effect: "Allow",
      Action: "s3:GetObject",
      Resource: [`${a.datasetBucketArn}/${SNAPSHOT_RECORDS_PREFIX}/*`, `${a.artifactBucketArn}/${EVALUATIONS_PREFIX}/*`],
    },
    {
      Sid: "DecryptPropertyFiles",
      Effect: "Allow",
      Action: "kms:Decrypt",
      Resource: a.kmsKeyArn,
      Condition: { StringEquals: { "kms:ViaService": `s3.${a.region}.amazonaws.com` } },
    },
  );
}

export interface StepRolePolicyArgs extends Account {
  readonly datasetBucketArn: string;
  readonly artifactBucketArn: string;
  readonly kmsKeyArn: string;
  readonly repositoryArns: readonly string[];
}

export interface SnapshotRolePolicyArgs extends StepRolePolicyArgs {
  /** The stack's training.datasetPrefix: what the snapshot step reads. */
  readonly datasetPrefix: string;
}

/**
 * The evaluate step's Processing job: read the trained model (training output) and the validation
 * channel of the run's manifest (its ManifestFile and the content-addressed copies it lists), write
 * its report under the evaluations prefix. It can write no model, no dataset, no training output.
 */
export function evaluationRolePolicy(a: StepRolePolicyArgs): PolicyDocument {
  return policy(
    {
      Sid: "ReadTrainedModelsAndManifestData",
      Effect: "Allow",
      Action: "s3:GetObject",
      Resource: [
        `${a.artifactBucketArn}/${ARTIFACT_PREFIXES.trainingOutput}/*`,
        `${a.datasetBucketArn}/${DATASET_MANIFESTS_PREFIX}/*`,
        `${a.datasetBucketArn}/${DATASET_OBJECTS_PREFIX}/*`,
      ],
    },
    {
      Sid: "ListTrainedModels",
      Effect: "Allow",
      Action: "s3:ListBucket",
      Resource: a.artifactBucketArn,
      Condition: { StringLike: { "s3:prefix": [`${ARTIFACT_PREFIXES.trainingOutput}/*`] } },
    },
    {
      Sid: "WriteEvaluationReports",
      Effect: "Allow",
      Action: ["s3:PutObject", "s3:AbortMultipartUpload"],
      Resource: `${a.artifactBucketArn}/${EVALUATIONS_PREFIX}/*`,
    },
    ...processingJobStatements(a),
  );
}

/**
 * The snapshot step's Processing job: read (and list) the dataset prefix, write the
 * content-addressed copies, the manifests and the per-execution record. It reads no other data and
 * writes nothing outside those three prefixes (not the dataset, not the artifact bucket).
 */
export function snapshotRolePolicy(a: SnapshotRolePolicyArgs): PolicyDocument {
  return policy(
    { Sid: "ReadTheDataset", Effect: "Allow", Action: "s3:GetObject", Resource: `${a.datasetBucketArn}/${a.datasetPrefix}/*` },
    {
      Sid: "ListTheDataset",
      Effect: "Allow",
      Action: "s3:ListBucket",
      Resource: a.datasetBucketArn,
      Condition: { StringLike: { "s3:prefix": [`${a.datasetPrefix}/*`] } },
    },
    {
      Sid: "WriteSnapshots",
      Effect: "Allow",
      Action: ["s3:PutObject", "s3:AbortMultipartUpload"],
      Resource: [
        `${a.datasetBucketArn}/${DATASET_OBJECTS_PREFIX}/*`,
        `${a.datasetBucketArn}/${DATASET_MANIFESTS_PREFIX}/*`,
        `${a.datasetBucketArn}/${SNAPSHOT_RECORDS_PREFIX}/*`,
      ],
    },
    ...processingJobStatements(a),
  );
}

/** What every Processing step of the pipeline needs: the key, this stage's images, its logs. */
function processingJobStatements(a: StepRolePolicyArgs): PolicyStatement[] {
  return [
    { Sid: "UsePlatformKey", Effect: "Allow", Action: ["kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey"], Resource: a.kmsKeyArn },
    {
      Sid: "GrantKeyOnlyToAwsServices",
      Effect: "Allow",
      Action: "kms:CreateGrant",
      Resource: a.kmsKeyArn,
      Condition: { Bool: { "kms:GrantIsForAWSResource": "true" } },
    },
    {
      Sid: "PullOwnImages",
      Effect: "Allow",
      Action: ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"],
      Resource: [...a.repositoryArns],
    },
    // ecr:GetAuthorizationToken has no resource-level permissions in IAM.
    { Sid: "AuthenticateToEcr", Effect: "Allow", Action: "ecr:GetAuthorizationToken", Resource: "*" },
    {
      Sid: "WriteProcessingLogs",
      Effect: "Allow",
      Action: ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
      Resource: [
        `arn:${a.partition}:logs:${a.region}:${a.accountId}:log-group:/aws/sagemaker/ProcessingJobs`,
        `arn:${a.partition}:logs:${a.region}:${a.accountId}:log-group:/aws/sagemaker/ProcessingJobs:log-stream:*`,
      ],
    },
  ];
}

/** The role a schedule or rule starts the pipeline with: StartPipelineExecution on this pipeline only. */
export function startPipelinePolicy(pipelineArn: string): PolicyDocument {
  return policy({ Sid: "StartThisPipelineOnly", Effect: "Allow", Action: "sagemaker:StartPipelineExecution", Resource: pipelineArn });
}

/** The EventBridge pattern of a new version pending approval in this stack's group. */
export function pendingApprovalPattern(modelPackageGroupName: string): Record<string, unknown> {
  return {
    source: ["aws.sagemaker"],
    "detail-type": ["SageMaker Model Package State Change"],
    detail: { ModelPackageGroupName: [modelPackageGroupName], ModelApprovalStatus: ["PendingManualApproval"] },
  };
}

/** The EventBridge pattern of objects created under the dataset prefix (S3 events to EventBridge). */
export function newDataPattern(bucketName: string, datasetPrefix: string): Record<string, unknown> {
  return {
    source: ["aws.s3"],
    "detail-type": ["Object Created"],
    detail: { bucket: { name: [bucketName] }, object: { key: [{ prefix: `${datasetPrefix}/` }] } },
  };
}
