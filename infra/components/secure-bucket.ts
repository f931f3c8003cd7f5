import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { policy } from "../policies/documents";
import { denyUploadsBypassingKeyStatements, tlsOnlyBucketPolicy } from "../policies/bucket-policy";
import type { AccessLogBucket } from "./access-log-bucket";

export interface SecureBucketArgs {
  /** Customer-managed key every object is encrypted with (SSE-KMS, with an S3 bucket key). */
  readonly kmsKey: aws.kms.Key;
  /** Lifecycle rules of this bucket; versioning is always on, so include noncurrent-version expiry. */
  readonly lifecycleRules: aws.types.input.s3.BucketLifecycleConfigurationRule[];
  /**
   * Let `pulumi destroy` delete a non-empty bucket. Cannot be set together with protection.
   * @default false
   */
  readonly forceDestroy?: boolean;
  /**
   * Where S3 delivers this bucket's server access logs (Security Hub S3.9), under `prefix`.
   * @default - no access logging
   */
  readonly accessLogs?: { readonly bucket: AccessLogBucket; readonly prefix: string };
}

/**
 * An S3 bucket with every guardrail on: versioning, SSE-KMS with bucket keys, all public access
 * blocked, ACLs disabled (bucket owner enforced), a bucket policy that denies non-TLS requests and
 * uploads that bypass the key, lifecycle rules, and access logging when a log bucket is given.
 */
export class SecureBucket extends pulumi.ComponentResource {
  readonly bucket: aws.s3.Bucket;
  readonly arn: pulumi.Output<string>;
  readonly name: pulumi.Output<string>;

  constructor(name: string, args: SecureBucketArgs, opts?: pulumi.ComponentResourceOptions) {
    super("mlplatform:storage:SecureBucket", name, {}, opts);
    const child = { parent: this };
    const forceDestroy = args.forceDestroy ?? false;

    // Data survives with the parent's protect/retainOnDelete; only the bucket itself holds data.
    this.bucket = new aws.s3.Bucket(`${name}-bucket`, { forceDestroy }, { ...child, retainOnDelete: opts?.retainOnDelete });
    const bucketId = this.bucket.id;

    const { ownership, publicAccess, versioning } = bucketGuardrails(name, bucketId, this);

    new aws.s3.BucketServerSideEncryptionConfiguration(
      `${name}-encryption`,
      {
        bucket: bucketId,
        rules: [
          {
            applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms", kmsMasterKeyId: args.kmsKey.arn },
            // Bucket keys cut KMS requests (and their cost) by orders of magnitude for many small objects.
            bucketKeyEnabled: true,
          },
        ],
      },
      child,
    );

    // S3 rejects a bucket policy while the public access block is being applied concurrently.
    // The resource keeps its name (`-tls-only`) so existing stacks update the policy in place.
    new aws.s3.BucketPolicy(
      `${name}-tls-only`,
      {
        bucket: bucketId,
        policy: pulumi
          .all([this.bucket.arn, args.kmsKey.arn])
          .apply(([arn, keyArn]) => JSON.stringify(policy(...tlsOnlyBucketPolicy(arn).Statement, ...denyUploadsBypassingKeyStatements(arn, keyArn)))),
      },
      { ...child, dependsOn: [publicAccess, ownership] },
    );

    if (args.accessLogs) {
      new aws.s3.BucketLogging(
        `${name}-access-logging`,
        {
          bucket: bucketId,
          targetBucket: args.accessLogs.bucket.name,
          targetPrefix: args.accessLogs.prefix,
        },
        child,
      );
    }

    // Lifecycle rules on noncurrent versions need versioning to be in place first.
    new aws.s3.BucketLifecycleConfiguration(
      `${name}-lifecycle`,
      {
        bucket: bucketId,
        rules: args.lifecycleRules,
      },
      { ...child, dependsOn: [versioning] },
    );

    this.arn = this.bucket.arn;
    this.name = this.bucket.bucket;
    this.registerOutputs({ arn: this.arn, name: this.name });
  }
}

/**
 * What every platform bucket has, whatever it holds: ACLs disabled (bucket owner enforced), all
 * public access blocked, versioning on. Children of `parent`, named `<name>-ownership`,
 * `<name>-public-access` and `<name>-versioning`.
 */
export function bucketGuardrails(name: string, bucketId: pulumi.Input<string>, parent: pulumi.Resource) {
  const child = { parent };
  const ownership = new aws.s3.BucketOwnershipControls(`${name}-ownership`, { bucket: bucketId, rule: { objectOwnership: "BucketOwnerEnforced" } }, child);
  const publicAccess = new aws.s3.BucketPublicAccessBlock(
    `${name}-public-access`,
    { bucket: bucketId, blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true },
    child,
  );
  const versioning = new aws.s3.BucketVersioning(`${name}-versioning`, { bucket: bucketId, versioningConfiguration: { status: "Enabled" } }, child);
  return { ownership, publicAccess, versioning };
}
