import { policy, PolicyDocument, PolicyStatement } from "./documents";
import { ARTIFACT_PREFIXES, DATASET_PREFIX } from "./execution-role-policy";

/** One stage's resources, as the deployer sees them. */
export interface DeployerStageArgs {
  /** Region of the stage's SageMaker resources. */
  readonly region: string;
  /** Account of the stage's SageMaker resources. */
  readonly accountId: string;
  /** The dataset bucket (`arn:aws:s3:::<name>`): sample rows for smoke tests, the dataset fingerprint. */
  readonly datasetBucketArn: string;
  /** The artifact bucket: training output, promoted models, model-quality reports. */
  readonly artifactBucketArn: string;
  /** The key that encrypts both buckets. */
  readonly kmsKeyArn: string;
  /** The stage's model package group (its registry). */
  readonly modelPackageGroupName: string;
  /** The endpoint's name; it is fixed before the endpoint exists, so the policy needs no update when it appears. */
  readonly endpointName: string;
}

export interface DeployerPolicyArgs extends DeployerStageArgs {
  /**
   * AWS partition of every ARN built here.
   * @default "aws"
   */
  readonly partition?: string;
  /** `<modelName>-<stack>`: `ml-deploy train` names its jobs `<prefix>-<yyyymmdd>-<hhmmss>`. */
  readonly trainingJobNamePrefix: string;
  /** The role training jobs run as: the only role the deployer may pass, and only to SageMaker. */
  readonly executionRoleArn: string;
  /** ECR repositories `ml-deploy images` pushes to. @default - none */
  readonly repositoryArns?: readonly string[];
  /**
   * Earlier stages this stack promotes from (staging: dev; prod: staging). The deployer reads their
   * registry, model artifacts and sample rows, and checks and smoke-tests their endpoint; it
   * writes nothing there. Their bucket and key policies must also admit this role when they are in
   * another account. @default - none
   */
  readonly sources?: readonly DeployerStageArgs[];
}

/**
 * The CI deployer's permissions for `ml-deploy`: exactly the API actions its commands send (each
 * listed with its resource in `deploy-scripts/src/aws/permissions.ts`, checked against this document
 * by `test/deployer-policy.test.ts`), on this platform's resources only. What `pulumi up` itself
 * needs to manage the stack's resources is not here: that is the Pulumi program's own role.
 * Two actions have no resource-level permissions in IAM (sagemaker:ListModelPackages,
 * ecr:GetAuthorizationToken); they get "*".
 */
export function deployerPolicy(args: DeployerPolicyArgs): PolicyDocument {
  const partition = args.partition ?? "aws";
  const sources = args.sources ?? [];
  const sm = (stage: DeployerStageArgs, type: string, name: string) =>
    // SageMaker puts resource names into ARNs in lower case.
    `arn:${partition}:sagemaker:${stage.region}:${stage.accountId}:${type}/${name.toLowerCase()}`;
  const everyStage = [args, ...sources];
  const readableModels = (stage: DeployerStageArgs) =>
    [ARTIFACT_PREFIXES.trainingOutput, ARTIFACT_PREFIXES.models].map((prefix) => `${stage.artifactBucketArn}/${prefix}/*`);
  const trainingJobs = sm(args, "training-job", `${args.trainingJobNamePrefix}-*`);

  const statements: PolicyStatement[] = [
    {
      Sid: "RunTrainingJobs",
      Effect: "Allow",
      Action: ["sagemaker:CreateTrainingJob", "sagemaker:DescribeTrainingJob", "sagemaker:ListTags"],
      Resource: trainingJobs,
    },
    {
      Sid: "TagTrainingJobsAtCreation",
      Effect: "Allow",
      Action: "sagemaker:AddTags",
      Resource: trainingJobs,
      Condition: { StringEquals: { "sagemaker:TaggingAction": "CreateTrainingJob" } },
    },
    {
      Sid: "PassExecutionRoleToSageMaker",
      Effect: "Allow",
      Action: "iam:PassRole",
      Resource: args.executionRoleArn,
      Condition: { StringEquals: { "iam:PassedToService": "sagemaker.amazonaws.com" } },
    },
    {
      Sid: "ManageOwnRegistry",
      Effect: "Allow",
      Action: ["sagemaker:CreateModelPackage", "sagemaker:DescribeModelPackage", "sagemaker:UpdateModelPackage"],
      Resource: [sm(args, "model-package", `${args.modelPackageGroupName}/*`), sm(args, "model-package-group", args.modelPackageGroupName)],
    },
    ...(sources.length > 0
      ? [
          {
            Sid: "ReadEarlierRegistries",
            Effect: "Allow" as const,
            Action: "sagemaker:DescribeModelPackage",
            Resource: sources.map((s) => sm(s, "model-package", `${s.modelPackageGroupName}/*`)),
          },
        ]
      : []),
    {
      Sid: "ListRegistryVersions",
      Effect: "Allow",
      Action: "sagemaker:ListModelPackages",
      Resource: "*",
    },
    {
      Sid: "CheckAndSmokeTestEndpoints",
      Effect: "Allow",
      Action: ["sagemaker:DescribeEndpoint", "sagemaker:InvokeEndpoint"],
      Resource: everyStage.map((s) => sm(s, "endpoint", s.endpointName)),
    },
    {
      Sid: "ReadModelsAndDatasets",
      Effect: "Allow",
      Action: "s3:GetObject",
      Resource: [...readableModels(args), ...sources.flatMap(readableModels), ...everyStage.map((s) => `${s.datasetBucketArn}/${DATASET_PREFIX}/*`)],
    },
    {
      Sid: "ListDatasets",
      Effect: "Allow",
      Action: "s3:ListBucket",
      Resource: everyStage.map((s) => s.datasetBucketArn),
      Condition: { StringLike: { "s3:prefix": [`${DATASET_PREFIX}/*`] } },
    },
    {
      Sid: "WriteRegistryObjects",
      Effect: "Allow",
      Action: "s3:PutObject",
      Resource: `${args.artifactBucketArn}/${ARTIFACT_PREFIXES.models}/*`,
    },
    {
      Sid: "DecryptPlatformObjects",
      Effect: "Allow",
      Action: "kms:Decrypt",
      Resource: [...new Set(everyStage.map((s) => s.kmsKeyArn))],
    },
    {
      Sid: "EncryptOwnObjects",
      Effect: "Allow",
      Action: "kms:GenerateDataKey",
      Resource: args.kmsKeyArn,
    },
  ];
  const repositories = args.repositoryArns ?? [];
  if (repositories.length > 0) {
    statements.push(
      {
        Sid: "PushImages",
        Effect: "Allow",
        Action: [
          "ecr:BatchCheckLayerAvailability",
          "ecr:InitiateLayerUpload",
          "ecr:UploadLayerPart",
          "ecr:CompleteLayerUpload",
          "ecr:PutImage",
          "ecr:BatchGetImage",
          "ecr:GetDownloadUrlForLayer",
        ],
        Resource: [...repositories],
      },
      { Sid: "AuthenticateToEcr", Effect: "Allow", Action: "ecr:GetAuthorizationToken", Resource: "*" },
    );
  }
  return policy(...statements);
}
