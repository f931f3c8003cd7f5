// The training pipeline as data: a pure function from the stack's settings and resource names to
// the SageMaker Pipeline definition (the `PipelineDefinition` JSON of CreatePipeline, format
// version 2020-12-01), tested without Pulumi. The component only wires it.
import {
  ARTIFACT_PREFIXES,
  DATASET_CHANNELS,
  DATASET_MANIFESTS_PREFIX,
  canonicalJson,
  VALIDATION_CHANNEL,
  hasLocalInstanceStorage,
  type PipelineSettings,
  type PromotionSettings,
  type TrainingSettings,
} from "@ml-platform/contract";
import { MANIFEST_CHANNEL, metricDefinitions } from "@ml-platform/ml-core";

/** Step names, referenced by each other's properties (`Steps.<name>.…`). */
export const STEPS = { train: "Train", evaluate: "Evaluate", gate: "QualityGate", register: "Register", fail: "BelowThresholds" } as const;
/** The evaluate step's output and the report file in it (ml-core evaluate's `evaluation.json`). */
export const REPORT = { output: "report", file: "evaluation.json", propertyFile: "EvaluationReport" } as const;
/** Where the Processing container finds its inputs and leaves its output (`/opt/ml/processing/...`). */
export const PROCESSING_PATHS = {
  model: "/opt/ml/processing/model",
  validation: "/opt/ml/processing/validation",
  report: "/opt/ml/processing/report",
} as const;
/** Evaluation reports, per execution: registry-owned objects (the version's model-quality report). */
export const EVALUATIONS_PREFIX = `${ARTIFACT_PREFIXES.models}/evaluations`;
/**
 * The errors worth retrying: SageMaker's own (capacity, internal), never a failing container
 * (SageMaker Developer Guide, "Retry policy for pipeline steps": supported exception types).
 */
export const RETRIED_ERRORS = ["SageMaker.CAPACITY_ERROR", "SageMaker.JOB_INTERNAL_ERROR", "Step.SERVICE_FAULT", "Step.THROTTLING"] as const;
/** Parameter names (`Parameters.<name>`). Pattern: ^[A-Za-z0-9\-_]{1,64}$. */
export const PARAMETERS = { manifest: "DatasetManifest", instanceType: "TrainingInstanceType" } as const;
const HYPERPARAMETER_PREFIX = "Hp_";

export interface PipelineDefinitionArgs {
  readonly training: TrainingSettings;
  readonly promotion: Pick<PromotionSettings, "minMetrics" | "maxMetrics">;
  readonly pipeline: PipelineSettings;
  readonly datasetBucketName: string;
  readonly artifactBucketName: string;
  readonly kmsKeyArn: string;
  /** The role training jobs run as (the stack's training execution role). */
  readonly trainingRoleArn: string;
  /** The role the evaluate step's Processing job runs as. */
  readonly evaluationRoleArn: string;
  readonly modelPackageGroupName: string;
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
const get = (path: string): Json => ({ Get: path });
const join = (...values: Json[]): Json => ({ "Std:Join": { On: "", Values: values } });
const MODEL_ARTIFACTS = get(`Steps.${STEPS.train}.ModelArtifacts.S3ModelArtifacts`);

/** The parameter a hyperparameter is overridable by, or undefined where its name cannot be one. */
export function hyperparameterParameter(key: string): string | undefined {
  const name = `${HYPERPARAMETER_PREFIX}${key}`;
  return /^[A-Za-z0-9_-]{1,64}$/.test(name) ? name : undefined;
}

/** The JsonGet path of a gate metric in the report: `validation:auc` → `validation.auc`. */
export function reportPath(metric: string): string {
  return metric.replace(":", ".");
}

/**
 * The pipeline definition: parameters (the dataset manifest, one per hyperparameter, the training
 * instance type); Train → Evaluate → QualityGate (the promotion thresholds) → Register
 * PendingManualApproval, else Fail. Every job step is cached, retried on SageMaker's own errors,
 * network-isolated and encrypted with the stack's key.
 */
export function pipelineDefinition(a: PipelineDefinitionArgs): Record<string, Json> {
  const t = a.training;
  const p = a.pipeline;
  const cache: Json = { Enabled: true, ExpireAfter: p.cacheExpireAfter };
  const retries: Json = [{ ExceptionType: [...RETRIED_ERRORS], IntervalSeconds: 60, BackoffRate: 2, MaxAttempts: p.maxAttempts }];
  const dataset = (channel: string) => `s3://${a.datasetBucketName}/${t.datasetPrefix}/${channel}/`;
  // Instance types with local NVMe storage take no volume key (their storage is always encrypted).
  const volumeKey = (instanceType: string): Record<string, Json> => (hasLocalInstanceStorage(instanceType) ? {} : { VolumeKmsKeyId: a.kmsKeyArn });

  const hyperparameters: Record<string, Json> = {};
  const hyperparameterParameters: Json[] = [];
  // Sorted: the parameters' order (an array) must not follow the config's key order.
  for (const [key, value] of Object.entries(t.hyperparameters).sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0))) {
    const name = hyperparameterParameter(key);
    if (name) {
      hyperparameterParameters.push({ Name: name, Type: "String", DefaultValue: String(value) });
      hyperparameters[key] = get(`Parameters.${name}`);
    } else {
      hyperparameters[key] = String(value);
    }
  }
  // The dataset is a manifest id (`ml-deploy data snapshot` prints it): the channels are its
  // SageMaker ManifestFiles of content-addressed keys, plus the manifest itself, which ml-core
  // verifies every file against (contract/src/manifest.ts). The id is in the step's arguments, so
  // step caching reuses a job only for the same bytes. It has no default: a start without one
  // fails before any job, instead of training on whatever the prefix holds.
  const manifestUri = (suffix: string): Json =>
    join(`s3://${a.datasetBucketName}/${DATASET_MANIFESTS_PREFIX}/`, get(`Parameters.${PARAMETERS.manifest}`), suffix);

  const train: Json = {
    Name: STEPS.train,
    Type: "Training",
    CacheConfig: cache,
    RetryPolicies: retries,
    Arguments: {
      AlgorithmSpecification: { TrainingImage: p.image, TrainingInputMode: "File", MetricDefinitions: metricDefinitions() },
      HyperParameters: hyperparameters,
      InputDataConfig: [
        ...DATASET_CHANNELS.map((channel) => ({
          ChannelName: channel,
          ContentType: "text/csv",
          DataSource: { S3DataSource: { S3DataType: "ManifestFile", S3Uri: manifestUri(`/${channel}.manifest`), S3DataDistributionType: "FullyReplicated" } },
        })),
        {
          ChannelName: MANIFEST_CHANNEL,
          ContentType: "application/json",
          DataSource: { S3DataSource: { S3DataType: "S3Prefix", S3Uri: manifestUri(".json"), S3DataDistributionType: "FullyReplicated" } },
        },
      ],
      OutputDataConfig: { S3OutputPath: `s3://${a.artifactBucketName}/${ARTIFACT_PREFIXES.trainingOutput}/`, KmsKeyId: a.kmsKeyArn },
      ResourceConfig: {
        InstanceCount: t.instanceCount,
        InstanceType: get(`Parameters.${PARAMETERS.instanceType}`),
        VolumeSizeInGB: t.volumeSizeGb,
        ...volumeKey(t.instanceType),
      },
      RoleArn: a.trainingRoleArn,
      StoppingCondition: {
        MaxRuntimeInSeconds: t.maxRuntimeSeconds,
        ...(t.spot && t.maxWaitSeconds !== undefined ? { MaxWaitTimeInSeconds: t.maxWaitSeconds } : {}),
      },
      EnableManagedSpotTraining: t.spot,
      ...(t.spot ? { CheckpointConfig: { S3Uri: `s3://${a.artifactBucketName}/${ARTIFACT_PREFIXES.checkpoints}/pipeline/` } } : {}),
      EnableNetworkIsolation: true,
      EnableInterContainerTrafficEncryption: true,
    },
  };

  // Std:Join takes strings and Get references only: no nested Join.
  const reportPrefixParts: Json[] = [`s3://${a.artifactBucketName}/${EVALUATIONS_PREFIX}/`, get("Execution.PipelineExecutionId")];
  const reportPrefix = join(...reportPrefixParts);
  const evaluate: Json = {
    Name: STEPS.evaluate,
    Type: "Processing",
    CacheConfig: cache,
    RetryPolicies: retries,
    PropertyFiles: [{ PropertyFileName: REPORT.propertyFile, OutputName: REPORT.output, FilePath: REPORT.file }],
    Arguments: {
      AppSpecification: {
        ImageUri: p.image,
        // The image's entrypoint is ml-core's CLI: these are its arguments.
        ContainerArguments: ["evaluate", "--model-dir", PROCESSING_PATHS.model, "--data", PROCESSING_PATHS.validation, "--output", PROCESSING_PATHS.report],
      },
      ProcessingInputs: [
        {
          InputName: "model",
          S3Input: {
            S3Uri: MODEL_ARTIFACTS,
            LocalPath: PROCESSING_PATHS.model,
            S3DataType: "S3Prefix",
            S3InputMode: "File",
            S3DataDistributionType: "FullyReplicated",
          },
        },
        {
          InputName: VALIDATION_CHANNEL,
          S3Input: {
            S3Uri: dataset(VALIDATION_CHANNEL),
            LocalPath: PROCESSING_PATHS.validation,
            S3DataType: "S3Prefix",
            S3InputMode: "File",
            S3DataDistributionType: "FullyReplicated",
          },
        },
      ],
      ProcessingOutputConfig: {
        KmsKeyId: a.kmsKeyArn,
        Outputs: [{ OutputName: REPORT.output, S3Output: { S3Uri: reportPrefix, LocalPath: PROCESSING_PATHS.report, S3UploadMode: "EndOfJob" } }],
      },
      ProcessingResources: {
        ClusterConfig: { InstanceCount: 1, InstanceType: p.evaluationInstanceType, VolumeSizeInGB: 30, ...volumeKey(p.evaluationInstanceType) },
      },
      NetworkConfig: { EnableNetworkIsolation: true, EnableInterContainerTrafficEncryption: true },
      RoleArn: a.evaluationRoleArn,
      StoppingCondition: { MaxRuntimeInSeconds: t.maxRuntimeSeconds },
    },
  };

  const register: Json = {
    Name: STEPS.register,
    Type: "RegisterModel",
    RetryPolicies: retries,
    Arguments: {
      ModelPackageGroupName: a.modelPackageGroupName,
      ModelApprovalStatus: "PendingManualApproval",
      ModelPackageDescription: "Trained, evaluated and gated by the stack's training pipeline",
      InferenceSpecification: {
        Containers: [{ Image: p.image, ModelDataUrl: MODEL_ARTIFACTS }],
        SupportedContentTypes: ["text/csv", "application/json"],
        SupportedResponseMIMETypes: ["text/csv", "application/json"],
      },
      ModelMetrics: { ModelQuality: { Statistics: { ContentType: "application/json", S3Uri: join(...reportPrefixParts, `/${REPORT.file}`) } } },
    },
  };

  const conditions: Json[] = [
    ...sorted(a.promotion.minMetrics).map(([metric, bound]) => gateCondition("GreaterThanOrEqualTo", metric, bound)),
    ...sorted(a.promotion.maxMetrics).map(([metric, bound]) => gateCondition("LessThanOrEqualTo", metric, bound)),
  ];
  const gated: Json[] = conditions.length
    ? [
        {
          Name: STEPS.gate,
          Type: "Condition",
          Arguments: {
            Conditions: conditions,
            IfSteps: [register],
            ElseSteps: [
              {
                Name: STEPS.fail,
                Type: "Fail",
                Arguments: { ErrorMessage: `The model is below the stack's promotion thresholds (${describeGates(a.promotion)}): not registered` },
              },
            ],
          },
        },
      ]
    : [{ ...(register as Record<string, Json>), DependsOn: [STEPS.evaluate] }];

  return {
    Version: "2020-12-01",
    Metadata: {},
    Parameters: [
      { Name: PARAMETERS.manifest, Type: "String" },
      { Name: PARAMETERS.instanceType, Type: "String", DefaultValue: t.instanceType },
      ...hyperparameterParameters,
    ],
    Steps: [train, evaluate, ...gated],
  };
}

function gateCondition(type: "GreaterThanOrEqualTo" | "LessThanOrEqualTo", metric: string, bound: number): Json {
  return {
    Type: type,
    LeftValue: { "Std:JsonGet": { PropertyFile: get(`Steps.${STEPS.evaluate}.PropertyFiles.${REPORT.propertyFile}`), Path: reportPath(metric) } },
    RightValue: bound,
  };
}

function sorted(record: Readonly<Record<string, number>>): Array<[string, number]> {
  return Object.entries(record).sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0));
}

function describeGates(p: PipelineDefinitionArgs["promotion"]): string {
  return [...sorted(p.minMetrics).map(([m, v]) => `${m} >= ${v}`), ...sorted(p.maxMetrics).map(([m, v]) => `${m} <= ${v}`)].join(", ");
}

/**
 * The definition as the Pipeline resource's `pipelineDefinition`: keys sorted at every level and no
 * whitespace (the contract's canonical JSON, as dataset manifests), so an unchanged config gives the
 * same bytes and `pulumi up` shows no diff.
 */
export { canonicalJson };
