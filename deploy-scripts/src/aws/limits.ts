/**
 * Service limits the commands check before calling AWS, so a bad value fails with a message that
 * names the setting rather than a ValidationException.
 */

/** CreateTrainingJob `TrainingJobName`: 1–63 characters, `^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}`. */
export const TRAINING_JOB_NAME = { maxLength: 63, pattern: /^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$/ } as const;

/** CreateTrainingJob `HyperParameters`: at most 100 entries, keys and values up to 256 characters. */
export const HYPERPARAMETERS = { maxEntries: 100, maxKeyLength: 256, maxValueLength: 256 } as const;

/** Tags per SageMaker resource: 50; values up to 256 characters. */
export const TAGS = { maxEntries: 50, maxValueLength: 256 } as const;

/** `RetryStrategy.MaximumRetryAttempts`: 1–30. */
export const TRAINING_RETRY_ATTEMPTS = { min: 1, max: 30 } as const;

/** `CreateModelPackage.ClientToken`: 1–36 characters of `[a-zA-Z0-9-]`. */
export const CLIENT_TOKEN_LENGTH = 36;

/** `CustomerMetadataProperties`: at most 50 entries; values up to 256 characters. */
export const CUSTOMER_METADATA = { maxEntries: 50, maxValueLength: 256 } as const;

/** `ModelPackageDescription` and `ApprovalDescription`: up to 1024 characters. */
export const DESCRIPTION_MAX_LENGTH = 1024;

/** A single CopyObject copies objects up to 5 GB; larger ones need a multipart copy. */
export const COPY_OBJECT_MAX_BYTES = 5 * 1024 ** 3;

/**
 * Instance families with local NVMe instance storage, encrypted by hardware: CreateTrainingJob
 * rejects `VolumeKmsKeyId` for them ("Some instances use local storage ... you cannot request a
 * VolumeKmsKeyId", ResourceConfig API reference).
 */
export function hasInstanceStorage(instanceType: string): boolean {
  const family = instanceType.split(".")[1] ?? "";
  return /^[a-z]+\d+[a-z]*d[a-z]*$/.test(family) || ["g5", "g6", "g6e", "p5", "p5e", "p5en", "trn1", "trn1n", "trn2"].includes(family);
}
