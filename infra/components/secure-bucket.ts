import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { tlsOnlyBucketPolicy } from "../policies/bucket-policy";

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
}

/**
 * An S3 bucket with every guardrail on: versioning, SSE-KMS with bucket keys, all public access
 * blocked, ACLs disabled (bucket owner enforced), TLS-only bucket policy and lifecycle rules.
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

    const ownership = new aws.s3.BucketOwnershipControls(`${name}-ownership`, {
      bucket: bucketId,
      rule: { objectOwnership: "BucketOwnerEnforced" },
    }, child);

    const publicAccess = new aws.s3.BucketPublicAccessBlock(`${name}-public-access`, {
      bucket: bucketId,
      blockPublicAcls: true,
      blockPublicPolicy: true,
      ignorePublicAcls: true,
      restrictPublicBuckets: true,
    }, child);

    const versioning = new aws.s3.BucketVersioning(`${name}-versioning`, {
      bucket: bucketId,
      versioningConfiguration: { status: "Enabled" },
    }, child);

    new aws.s3.BucketServerSideEncryptionConfiguration(`${name}-encryption`, {
      bucket: bucketId,
      rules: [{
        applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms", kmsMasterKeyId: args.kmsKey.arn },
        // Bucket keys cut KMS requests (and their cost) by orders of magnitude for many small objects.
        bucketKeyEnabled: true,
      }],
    }, child);

    // S3 rejects a bucket policy while the public access block is being applied concurrently.
    new aws.s3.BucketPolicy(`${name}-tls-only`, {
      bucket: bucketId,
      policy: this.bucket.arn.apply((arn) => JSON.stringify(tlsOnlyBucketPolicy(arn))),
    }, { ...child, dependsOn: [publicAccess, ownership] });

    // Lifecycle rules on noncurrent versions need versioning to be in place first.
    new aws.s3.BucketLifecycleConfiguration(`${name}-lifecycle`, {
      bucket: bucketId,
      rules: args.lifecycleRules,
    }, { ...child, dependsOn: [versioning] });

    this.arn = this.bucket.arn;
    this.name = this.bucket.bucket;
    this.registerOutputs({ arn: this.arn, name: this.name });
  }
}
