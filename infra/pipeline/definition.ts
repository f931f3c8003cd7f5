// The training pipeline as data: a pure function from the stack's settings and resource names to
// the SageMaker Pipeline definition (the `PipelineDefinition` JSON of CreatePipeline, format
// version 2020-12-01), tested without Pulumi. The component only wires it.
import {
  ARTIFACT_PREFIXES,
  DATASET_CHANNELS,
  DATASET_MANIFESTS_PREFIX,
  DATASET_OBJECTS_PREFIX,
  DATASET_PREFIX,
  canonicalJson,
  VALIDATION_CHANNEL,
  hasLocalInstanceStorage,
  type PipelineSettings,
  type PromotionSettings,
  type TrainingSettings,
} from "@ml-platform/contract";
import { MANIFEST_CHANNEL, metricDefinitions } from "@ml-platform/ml-core";

/** Step names, referenced by each other's properties (`Steps.<name>.…`). */
export const STEPS = {
  snapshot: "Snapshot",
  train: "Train",
  evaluate: "Evaluate",
  gate: "QualityGate",
  register: "Register",
  fail: "BelowThresholds",
} as const;
/**
 * The Snapshot step's outputs (ml-core snapshot's `--output` subdirectories) and its property file
 * (`record/snapshot.json`: the manifest id and the URIs of its channels).
 */
export const SNAPSHOT = {
  input: "/opt/ml/processing/input",
  output: "/opt/ml/processing/output",
  outputs: { objects: "objects", manifests: "manifests", record: "record" },
  file: "snapshot.json",
  propertyFile: "DatasetSnapshot",
} as const;
/**
 * Where each execution's snapshot record goes (`<prefix>/<execution id>/snapshot.json`): per
 * execution, so two runs never read each other's. Under the dataset bucket's one readable prefix,
 * apart from the write-once manifests and copies.
 */
export const SNAPSHOT_RECORDS_PREFIX = `${DATASET_PREFIX}/pipeline-snapshots`;
/** The evaluate step's output and the report file in it (ml-core evaluate's `evaluation.json`). */
export const REPORT = { output: "report", file: "evaluation.json", propertyFile: "EvaluationReport" } as const;
/** Where the Processing container finds its inputs and leaves its output (`/opt/ml/processing/...`). */
export const PROCESSING_PATHS = {
  model: "/opt/ml/processing/model",
  validation: "/opt/ml/processing/validation",
  report: "/opt/ml/processing/report",
} as const;
/** Evaluation reports, per execution: registry-owned objects (the version's model-quality report). */
export const EVALUATIONS_PREFIX = ARTIFACT_PREFIXES.pipelineEvaluations;
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
  /** The role the snapshot step's Processing job runs as. */
  readonly snapshotRoleArn: string;
  readonly modelPackageGroupName: string;
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
const get = (path: string): Json => ({ Get: path });
const join = (...values: Json[]): Json => ({ "Std:Join": { On: "", Values: values } });
const MODEL_ARTIFACTS = get(`Steps.${STEPS.train}.ModelArtifacts.S3ModelArtifacts`);
/** A value of the Snapshot step's record (JsonPath into snapshot.json). */
const snapshotRecord = (jsonPath: string): Json => ({
  "Std:JsonGet": { PropertyFile: get(`Steps.${STEPS.snapshot}.PropertyFiles.${SNAPSHOT.propertyFile}`), Path: jsonPath },
});

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
 * The pipeline definition: parameters (the dataset manifest, empty for a fresh snapshot; one per
 * hyperparameter; the training instance type); Snapshot → Train → Evaluate → QualityGate (the
 * promotion thresholds) → Register PendingManualApproval, else Fail. Every job step is retried on
 * SageMaker's own errors, network-isolated and encrypted with the stack's key; every one but the
 * Snapshot is cached.
 */
export function pipelineDefinition(a: PipelineDefinitionArgs): Record<string, Json> {
  const t = a.training;
  const p = a.pipeline;
  const problems = snapshotPrefixProblems(t.datasetPrefix);
  if (problems.length > 0) throw new Error(problems.join("\n"));
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
  // The dataset is a manifest (contract/src/manifest.ts): the training channels are its SageMaker
  // ManifestFiles of content-addressed keys, plus the manifest itself, which ml-core verifies every
  // file against. Which manifest: the DatasetManifest parameter when a start gives one, else a
  // snapshot of the dataset prefix as it is now, taken by the first step (a schedule or the
  // new-data rule starts the pipeline without parameters). The Snapshot step makes that choice and
  // writes the chosen manifest's URIs into its property file; the later steps read them with
  // Std:JsonGet. (Not Std:JsonGet inside Std:Join: the SDK documents JsonGet values passed to
  // later steps and Join over parameters, execution variables and step properties only.) The URIs
  // carry the manifest id, so the Train step's cache hits only for the same bytes.
  const snapshotOutput = (name: string, s3Uri: Json): Json => ({
    OutputName: name,
    S3Output: { S3Uri: s3Uri, LocalPath: `${SNAPSHOT.output}/${name}`, S3UploadMode: "EndOfJob" },
  });
  const datasetSource = `s3://${a.datasetBucketName}/${t.datasetPrefix}/`;
  const manifestsUri = `s3://${a.datasetBucketName}/${DATASET_MANIFESTS_PREFIX}/`;
  const snapshot: Json = {
    Name: STEPS.snapshot,
    Type: "Processing",
    // Not cached: its inputs are a prefix whose objects change while the arguments stay the same;
    // a cache hit would train on an old snapshot. The Train step after it is cached by manifest.
    RetryPolicies: retries,
    PropertyFiles: [{ PropertyFileName: SNAPSHOT.propertyFile, OutputName: SNAPSHOT.outputs.record, FilePath: SNAPSHOT.file }],
    Arguments: {
      AppSpecification: {
        ImageUri: p.image,
        ContainerArguments: [
          "snapshot",
          "--input",
          SNAPSHOT.input,
          "--output",
          SNAPSHOT.output,
          "--source",
          datasetSource,
          "--objects",
          `s3://${a.datasetBucketName}/${DATASET_OBJECTS_PREFIX}/`,
          "--manifests",
          manifestsUri,
          // One argument, never an empty one: `--manifest=` when the parameter is empty.
          join("--manifest=", get(`Parameters.${PARAMETERS.manifest}`)),
        ],
      },
      ProcessingInputs: DATASET_CHANNELS.map((channel) => ({
        InputName: channel,
        S3Input: {
          S3Uri: dataset(channel),
          LocalPath: `${SNAPSHOT.input}/${channel}`,
          S3DataType: "S3Prefix",
          S3InputMode: "File",
          S3DataDistributionType: "FullyReplicated",
        },
      })),
      ProcessingOutputConfig: {
        KmsKeyId: a.kmsKeyArn,
        Outputs: [
          snapshotOutput(SNAPSHOT.outputs.objects, `s3://${a.datasetBucketName}/${DATASET_OBJECTS_PREFIX}/`),
          snapshotOutput(SNAPSHOT.outputs.manifests, manifestsUri),
          snapshotOutput(SNAPSHOT.outputs.record, join(`s3://${a.datasetBucketName}/${SNAPSHOT_RECORDS_PREFIX}/`, get("Execution.PipelineExecutionId"))),
        ],
      },
      ProcessingResources: {
        // The training volume holds the dataset; the copies are hard links on the same volume.
        ClusterConfig: { InstanceCount: 1, InstanceType: p.evaluationInstanceType, VolumeSizeInGB: t.volumeSizeGb, ...volumeKey(p.evaluationInstanceType) },
      },
      NetworkConfig: { EnableNetworkIsolation: true, EnableInterContainerTrafficEncryption: true },
      RoleArn: a.snapshotRoleArn,
      StoppingCondition: { MaxRuntimeInSeconds: t.maxRuntimeSeconds },
    },
  };
  const channelUri = (channel: string): Json => snapshotRecord(`channels.${channel}`);

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
          DataSource: { S3DataSource: { S3DataType: "ManifestFile", S3Uri: channelUri(channel), S3DataDistributionType: "FullyReplicated" } },
        })),
        {
          ChannelName: MANIFEST_CHANNEL,
          ContentType: "application/json",
          DataSource: { S3DataSource: { S3DataType: "S3Prefix", S3Uri: snapshotRecord("manifest"), S3DataDistributionType: "FullyReplicated" } },
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
          // The validation channel of the manifest the model was trained on, not the prefix now.
          S3Input: {
            S3Uri: channelUri(VALIDATION_CHANNEL),
            LocalPath: PROCESSING_PATHS.validation,
            S3DataType: "ManifestFile",
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
      // Empty: snapshot the dataset prefix (what a schedule or the new-data rule starts with).
      { Name: PARAMETERS.manifest, Type: "String", DefaultValue: "" },
      { Name: PARAMETERS.instanceType, Type: "String", DefaultValue: t.instanceType },
      ...hyperparameterParameters,
    ],
    Steps: [snapshot, train, evaluate, ...gated],
  };
}

/**
 * The dataset prefix must hold a dataset the Snapshot step can read and no output of its own:
 * under `datasets/` (the prefix training may read), outside the copies, manifests and records
 * (else a snapshot would snapshot snapshots, and the new-data rule would restart the pipeline on
 * its own writes). `ml-deploy data snapshot --prefix` refuses the same.
 */
export function snapshotPrefixProblems(datasetPrefix: string): string[] {
  const ours = [DATASET_OBJECTS_PREFIX, DATASET_MANIFESTS_PREFIX, SNAPSHOT_RECORDS_PREFIX];
  const overlaps = (a: string, b: string) => `${a}/`.startsWith(`${b}/`) || `${b}/`.startsWith(`${a}/`);
  if (!datasetPrefix.startsWith(`${DATASET_PREFIX}/`))
    return [
      `mlPlatform:training.datasetPrefix (${datasetPrefix}) must be under ${DATASET_PREFIX}/ for the training pipeline's Snapshot step (the one prefix its jobs may read)`,
    ];
  const clash = ours.find((o) => overlaps(datasetPrefix, o));
  return clash ? [`mlPlatform:training.datasetPrefix (${datasetPrefix}) overlaps ${clash}/, where the training pipeline's Snapshot step writes`] : [];
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
