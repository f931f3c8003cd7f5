import { policy, PolicyDocument, PolicyStatement } from "./documents";
import { DATASET_MANIFESTS_PREFIX, DATASET_OBJECTS_PREFIX } from "@ml-platform/contract";
import { ARTIFACT_PREFIXES, DATASET_PREFIX } from "./execution-role-policy";
import { featureIngestionStatements, featureQueryStatements } from "./feature-store-policy";
import type { DeployerStageArgs } from "./stage";

export type { DeployerStageArgs } from "./stage";

/** What a training job the deployer starts must look like (CreateTrainingJob condition keys). */
export interface TrainingGuardrails {
  /** Instance types jobs may run on. */
  readonly instanceTypes: readonly string[];
  /**
   * Of those, the ones whose ML volume is local instance storage: SageMaker rejects a volume key
   * for them (the hardware encrypts it), so jobs on them run without one.
   * @default - none
   */
  readonly localStorageInstanceTypes?: readonly string[];
}

export interface DeployerPolicyArgs extends DeployerStageArgs {
  /**
   * AWS partition of every ARN built here.
   * @default "aws"
   */
  readonly partition?: string;
  /** `<modelName>-<stack>`: `ml-deploy train` names its jobs `<prefix>-<yyyymmdd>-<hhmmss>`. */
  readonly trainingJobNamePrefix: string;
  /** The endpoint's config and model name prefixes (`lineage` reads them). @default - none: no lineage reads */
  readonly servingNamePrefixes?: { readonly model: string; readonly endpointConfig: string };
  /** The role training jobs run as: the only role the deployer may pass, and only to SageMaker. */
  readonly trainingRoleArn: string;
  /** Instance types (and which of them have local storage) training jobs may use. */
  readonly training: TrainingGuardrails;
  /** The endpoint-updater role of this stage, which `pulumi up` of a model change runs as. @default - none */
  readonly updaterRoleArn?: string;
  /**
   * Earlier stages this stack promotes from (staging: dev; prod: staging). The deployer reads their
   * registry, model artifacts, sample rows and images, and checks and smoke-tests their endpoint;
   * it writes nothing there. Their bucket, key and repository policies must also admit this role
   * when they are in another account. @default - none
   */
  readonly sources?: readonly DeployerStageArgs[];
  /**
   * This stack's feature groups, where the deployer runs `ml-deploy features ingest`
   * (`featureStore.ingestion.byDeployer`), and the online stores' key if they have one.
   * @default - the deployer does not ingest
   */
  readonly featureIngestion?: { readonly featureGroupNames: readonly string[]; readonly onlineStoreKmsKeyArn?: string };
  /**
   * This stack's feature store, where the deployer builds training sets with `ml-deploy features
   * dataset`: its Athena workgroup and the Glue database of its offline stores (the offline stores,
   * training sets and query results are prefixes of the dataset bucket).
   * @default - the deployer queries no feature store
   */
  readonly featureQueries?: { readonly workgroupName: string; readonly glueDatabase?: string };
}

/**
 * The CI deployer's permissions for `ml-deploy`: exactly the API actions its commands send (each
 * listed with its resource in `deploy-scripts/src/aws/permissions.ts`, checked against this document
 * by `test/deployer-policy.test.ts`), on this platform's resources only. It never approves a
 * version (that is the approver's), and `pulumi up` of a model change runs as the updater role,
 * which the deployer may assume; infrastructure changes are the platform admin's.
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
    // pipelineEvaluations: the model-quality report of a version the pipeline registered.
    [ARTIFACT_PREFIXES.trainingOutput, ARTIFACT_PREFIXES.models, ARTIFACT_PREFIXES.pipelineEvaluations].map(
      (prefix) => `${stage.artifactBucketArn}/${prefix}/*`,
    );
  const trainingJobs = sm(args, "training-job", `${args.trainingJobNamePrefix}-*`);
  const ownVersions = [sm(args, "model-package", `${args.modelPackageGroupName}/*`), sm(args, "model-package-group", args.modelPackageGroupName)];
  const local = new Set(args.training.localStorageInstanceTypes ?? []);
  const ebsTypes = args.training.instanceTypes.filter((t) => !local.has(t));
  const localTypes = args.training.instanceTypes.filter((t) => local.has(t));

  // CreateTrainingJob's condition keys (Service Authorization Reference): jobs run without network
  // access, on the configured instance types, with the stack's key on their volume.
  const trainingJobShape = (types: string[]) => ({
    Bool: { "sagemaker:NetworkIsolation": "true" },
    "ForAllValues:StringEquals": { "sagemaker:InstanceTypes": types },
    // ForAllValues holds for an empty set: the key must be there.
    Null: { "sagemaker:InstanceTypes": "false" },
  });
  const statements: PolicyStatement[] = [];
  if (ebsTypes.length > 0) {
    statements.push({
      Sid: "RunIsolatedTrainingJobsWithTheStackKey",
      Effect: "Allow",
      Action: "sagemaker:CreateTrainingJob",
      Resource: trainingJobs,
      Condition: { ...trainingJobShape(ebsTypes), ArnEquals: { "sagemaker:VolumeKmsKeyArn": args.kmsKeyArn } },
    });
  }
  if (localTypes.length > 0) {
    const shape = trainingJobShape(localTypes);
    statements.push({
      Sid: "RunIsolatedTrainingJobsOnLocalStorage",
      Effect: "Allow",
      Action: "sagemaker:CreateTrainingJob",
      Resource: trainingJobs,
      Condition: { ...shape, Null: { ...shape.Null, "sagemaker:VolumeKmsKeyArn": "true" } },
    });
  }
  statements.push(
    {
      Sid: "WatchTrainingJobs",
      Effect: "Allow",
      Action: ["sagemaker:DescribeTrainingJob", "sagemaker:ListTags"],
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
      Sid: "PassTrainingRoleToSageMaker",
      Effect: "Allow",
      Action: "iam:PassRole",
      Resource: args.trainingRoleArn,
      Condition: { StringEquals: { "iam:PassedToService": "sagemaker.amazonaws.com" } },
    },
    {
      // Registers versions and records rejections; the status the request sets is the
      // sagemaker:ModelApprovalStatus key (absent when the request sets none).
      Sid: "RegisterVersionsWithoutApproving",
      Effect: "Allow",
      Action: ["sagemaker:CreateModelPackage", "sagemaker:UpdateModelPackage"],
      Resource: ownVersions,
      Condition: { StringNotEquals: { "sagemaker:ModelApprovalStatus": "Approved" } },
    },
    {
      // Explicit, so no other policy attached to the role later can let it approve.
      Sid: "NeverApprove",
      Effect: "Deny",
      Action: ["sagemaker:CreateModelPackage", "sagemaker:UpdateModelPackage"],
      Resource: "*",
      Condition: { StringEquals: { "sagemaker:ModelApprovalStatus": "Approved" } },
    },
    {
      Sid: "ReadOwnRegistry",
      Effect: "Allow",
      Action: "sagemaker:DescribeModelPackage",
      Resource: ownVersions[0]!,
    },
  );
  if (sources.length > 0) {
    statements.push({
      Sid: "ReadEarlierRegistries",
      Effect: "Allow",
      Action: "sagemaker:DescribeModelPackage",
      Resource: sources.map((s) => sm(s, "model-package", `${s.modelPackageGroupName}/*`)),
    });
  }
  statements.push(
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
      // GetObjectVersion: register records the artifact's S3 version, and promote reads exactly that
      // version (a versioned GET is authorised as s3:GetObjectVersion).
      Sid: "ReadModelsAndDatasets",
      Effect: "Allow",
      Action: ["s3:GetObject", "s3:GetObjectVersion"],
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
      // Creates only: the artifact bucket's policy refuses a PutObject to models/ without
      // If-None-Match (bucket-policy.ts), so a promoted artifact is never overwritten in place.
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
      // `data snapshot`: content-addressed copies and manifests only, never the raw dataset prefix;
      // snapshots write with If-None-Match, and a copy's key is the hash ml-core checks it by.
      Sid: "WriteDatasetSnapshots",
      Effect: "Allow",
      Action: "s3:PutObject",
      Resource: [`${args.datasetBucketArn}/${DATASET_OBJECTS_PREFIX}/*`, `${args.datasetBucketArn}/${DATASET_MANIFESTS_PREFIX}/*`],
    },
    {
      Sid: "EncryptOwnObjects",
      Effect: "Allow",
      Action: "kms:GenerateDataKey",
      Resource: args.kmsKeyArn,
    },
  );
  if (args.servingNamePrefixes) {
    statements.push({
      // `lineage`: from the endpoint to the version its model was created from.
      Sid: "ReadServingLineage",
      Effect: "Allow",
      Action: ["sagemaker:DescribeEndpointConfig", "sagemaker:DescribeModel"],
      Resource: [sm(args, "endpoint-config", `${args.servingNamePrefixes.endpointConfig}*`), sm(args, "model", `${args.servingNamePrefixes.model}*`)],
    });
  }
  if (args.updaterRoleArn) {
    statements.push({
      // TagSession: the session is tagged with the ml-deploy command that assumed it (CloudTrail).
      Sid: "RunModelChangesAsTheUpdater",
      Effect: "Allow",
      Action: ["sts:AssumeRole", "sts:TagSession"],
      Resource: args.updaterRoleArn,
    });
  }
  if (args.repositoryArns.length > 0) {
    statements.push(
      {
        // `ml-deploy images` pushes here, and promotion copies the source stage's image in
        // (manifest and layers, no docker: provider-semantics §6).
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
        Resource: [...args.repositoryArns],
      },
      { Sid: "AuthenticateToEcr", Effect: "Allow", Action: "ecr:GetAuthorizationToken", Resource: "*" },
    );
  }
  const sourceRepositories = sources.flatMap((s) => s.repositoryArns);
  if (sourceRepositories.length > 0) {
    statements.push({
      Sid: "ReadEarlierStagesImages",
      Effect: "Allow",
      Action: ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"],
      Resource: sourceRepositories,
    });
  }
  if (args.featureIngestion) {
    statements.push(...featureIngestionStatements({ partition, region: args.region, accountId: args.accountId, ...args.featureIngestion }));
  }
  if (args.featureQueries) {
    statements.push(
      ...featureQueryStatements({
        partition,
        region: args.region,
        accountId: args.accountId,
        datasetBucketArn: args.datasetBucketArn,
        kmsKeyArn: args.kmsKeyArn,
        ...args.featureQueries,
      }),
    );
  }
  return policy(...statements);
}
