// Where things live in a stack's buckets. Infra grants access and sets lifecycle rules by these
// prefixes; the tools write and read objects under them; a change here moves both at once.

/** Prefixes of the artifact bucket (no slashes): each is a separate grant and lifecycle rule. */
export const ARTIFACT_PREFIXES = {
  /** SageMaker training jobs' `OutputDataConfig.S3OutputPath`: `<prefix>/<job>/output/model.tar.gz`. */
  trainingOutput: "training-output",
  /** Spot training checkpoints, `<prefix>/<job>/`; worthless once the job has ended. */
  checkpoints: "checkpoints",
  /** Endpoint data capture (requests and responses). */
  dataCapture: "data-capture",
  /** Registry-owned objects: model-quality reports and model artifacts copied in by promotion. */
  models: "models",
  /**
   * The training pipeline's evaluation reports, `<prefix>/<execution id>/evaluation.json`. Apart
   * from `models/`, whose bucket policy refuses any write without If-None-Match, which a
   * Processing job's output upload does not send.
   */
  pipelineEvaluations: "pipeline-evaluations",
} as const;

export type ArtifactPrefix = (typeof ARTIFACT_PREFIXES)[keyof typeof ARTIFACT_PREFIXES];

/** The one prefix of the dataset bucket training may read: `datasets/<name>/<version>/<channel>/`. */
export const DATASET_PREFIX = "datasets";

/** The input channels ml-core trains on, each a folder under the stack's dataset prefix. */
export const DATASET_CHANNELS = ["train", "validation"] as const;

export type DatasetChannel = (typeof DATASET_CHANNELS)[number];

/** The channel models are evaluated on: gate metrics are `validation:<metric>`, smoke rows come from it. */
export const VALIDATION_CHANNEL: DatasetChannel = "validation";

/** File names inside and beside a model artifact. */
export const FILES = {
  /** What SageMaker packs a training job's `/opt/ml/model` into, and what hosting unpacks. */
  modelArtifact: "model.tar.gz",
  /** The metrics ml-core writes into the model directory (so into model.tar.gz): `<channel>:<metric>` → number. */
  metrics: "metrics.json",
  /** The registry's model-quality report (`ModelMetrics.ModelQuality.Statistics`). */
  modelQualityReport: "model-quality.json",
} as const;

/** Where SageMaker puts a training job's artifact under the training output prefix (key, no bucket). */
export function trainingArtifactKey(jobName: string): string {
  return `${ARTIFACT_PREFIXES.trainingOutput}/${jobName}/output/${FILES.modelArtifact}`;
}

/** The model-quality report `register` writes for a training job's version. */
export function registeredReportKey(jobName: string): string {
  return `${ARTIFACT_PREFIXES.models}/registered/${jobName}/${FILES.modelQualityReport}`;
}

/** Where `promote` copies a version's artifact and report in the target stack: `models/promoted/<group>/<version>/`. */
export function promotedModelPrefix(group: string, version: number): string {
  return `${ARTIFACT_PREFIXES.models}/promoted/${group}/${version}`;
}

/**
 * The prefix of the dataset bucket that holds the feature store's offline store: SageMaker writes
 * under `<prefix>/<account>/sagemaker/<region>/offline-store/<group>-<time>/`.
 */
export const FEATURE_STORE_PREFIX = "feature-store";

/** The prefix of the dataset bucket where the feature store's Athena workgroup writes query results. */
export const FEATURE_QUERY_RESULTS_PREFIX = "feature-store-queries";

/**
 * The prefix of the dataset bucket where `ml-deploy features dataset` writes training sets:
 * `<prefix>/<feature set>/<run>/` holds the uploaded labels (`labels/`) and the channels. Under the
 * dataset prefix, so training jobs read them; the deployer may write here but not the raw datasets.
 */
export const FEATURE_TRAINING_SETS_PREFIX = `${DATASET_PREFIX}/feature-sets`;

/** Where one run of `features dataset` writes (key prefix, no bucket, no trailing slash). */
export function featureTrainingSetPrefix(featureSet: string, run: string): string {
  return `${FEATURE_TRAINING_SETS_PREFIX}/${featureSet}/${run}`;
}

/**
 * The temporary Glue table `features dataset` creates over the uploaded labels (and drops after the
 * query) is named `<this><run>`, in the offline stores' database: the deployer may create and drop
 * tables matching it there and no other.
 */
export const FEATURE_LABELS_TABLE_PREFIX = "labels_";
