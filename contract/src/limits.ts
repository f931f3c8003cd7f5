// Service limits the settings and the tools are checked against, so a bad value fails with a
// message naming the setting rather than a ValidationException. Each cites the AWS documentation
// it comes from.

// --- CloudWatch ---

/** Retention periods CloudWatch Logs accepts (PutRetentionPolicy API reference, `retentionInDays`). */
export const CLOUDWATCH_LOG_RETENTION_DAYS = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653] as const;

/** SageMaker's ModelLatency metric is reported in microseconds (SageMaker endpoint invocation metrics). */
export const MODEL_LATENCY_UNITS_PER_MS = 1000;

// --- SageMaker hosting ---

/** ProductionVariantServerlessConfig (SageMaker API reference). */
export const SERVERLESS_LIMITS = {
  memorySizesMb: [1024, 2048, 3072, 4096, 5120, 6144],
  maxConcurrency: 200,
} as const;

/** DeploymentConfig.BlueGreenUpdatePolicy and TrafficRoutingConfig (SageMaker API reference). */
export const BLUE_GREEN_LIMITS = {
  /** CanarySize may be at most 50% of the variant's instances. */
  maxCanaryPercent: 50,
  /** LinearStepSize must be 10%-50% of the variant's capacity. */
  minLinearStepPercent: 10,
  maxLinearStepPercent: 50,
  maxWaitIntervalSeconds: 3600,
  maxTerminationWaitSeconds: 3600,
  minExecutionTimeoutSeconds: 600,
  maxExecutionTimeoutSeconds: 14400,
} as const;

/**
 * Real-time features Serverless Inference does not support (SageMaker Developer Guide, "Deploy
 * models with Amazon SageMaker Serverless Inference", feature exclusions): among them network
 * isolation, VPC configuration, data capture, multiple variants, GPUs.
 */
export const SERVERLESS_UNSUPPORTED = ["network isolation", "data capture"] as const;

// --- SageMaker training ---

/** CreateTrainingJob `TrainingJobName`: 1–63 characters, `^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}`. */
export const TRAINING_JOB_NAME = { maxLength: 63, pattern: /^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$/ } as const;

/** CreateTrainingJob `HyperParameters`: at most 100 entries, keys and values up to 256 characters. */
export const HYPERPARAMETERS = { maxEntries: 100, maxKeyLength: 256, maxValueLength: 256 } as const;

/** `RetryStrategy.MaximumRetryAttempts`: 1–30 (CreateTrainingJob API reference). */
export const TRAINING_RETRY_ATTEMPTS = { min: 1, max: 30 } as const;

// --- SageMaker model registry ---

/** `CreateModelPackage.ClientToken`: 1–36 characters of `[a-zA-Z0-9-]`. */
export const CLIENT_TOKEN_LENGTH = 36;

/** `CustomerMetadataProperties`: at most 50 entries; values up to 256 characters (CreateModelPackage). */
export const CUSTOMER_METADATA = { maxEntries: 50, maxValueLength: 256 } as const;

/** `ModelPackageDescription` and `ApprovalDescription`: up to 1024 characters (CreateModelPackage, UpdateModelPackage). */
export const DESCRIPTION_MAX_LENGTH = 1024;

// --- Tags and S3 ---

/** Tags per SageMaker resource: 50; values up to 256 characters (AddTags API reference). */
export const TAGS = { maxEntries: 50, maxValueLength: 256 } as const;

/** A single PutObject uploads objects up to 5 GB; larger ones need a multipart upload (S3 PutObject API reference). */
export const PUT_OBJECT_MAX_BYTES = 5 * 1024 ** 3;

// --- Instance storage ---

/**
 * Whether a SageMaker instance type keeps its ML volume on local NVMe instance storage, which the
 * hardware encrypts: SageMaker then rejects a KMS key for it (CreateEndpointConfig's `KmsKeyId`,
 * CreateTrainingJob's `ResourceConfig.VolumeKmsKeyId`: "some instances use local storage ... you
 * can't specify a key"). Families with a `d` in their suffix (m5d, c6id, g4dn, p4d, r5d, ...), and
 * accelerated families whose storage is always local. The endpoint, the training job the tools
 * create and the policy pack all decide by this one rule.
 */
export function hasLocalInstanceStorage(instanceType: string): boolean {
  const family = instanceType.split(".")[1] ?? "";
  return /^[a-z]+\d+[a-z]*d[a-z]*$/.test(family) || ALWAYS_LOCAL_STORAGE_FAMILIES.has(family);
}

const ALWAYS_LOCAL_STORAGE_FAMILIES: ReadonlySet<string> = new Set(["g5", "g6", "g6e", "p5", "p5e", "p5en", "trn1", "trn1n", "trn2"]);
