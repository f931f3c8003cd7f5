import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { accessLogBucketPolicy } from "../policies/bucket-policy";
import { bucketGuardrails } from "./secure-bucket";

export interface AccessLogBucketArgs {
  readonly accountId: pulumi.Input<string>;
  /** Days access log objects are kept. @default 365 */
  readonly expirationDays?: number;
  /** Days a replaced or deleted log object version is kept. @default 30 */
  readonly noncurrentVersionExpirationDays?: number;
  /** Days before unfinished multipart uploads are aborted. @default 7 */
  readonly abortIncompleteMultipartUploadDays?: number;
  /** Let `pulumi destroy` delete the bucket with its logs. Cannot be set together with protection. @default false */
  readonly forceDestroy?: boolean;
}

/** A bucket that sends its server access logs here, and the prefix its logs go under. */
export interface AccessLogSource {
  readonly bucket: aws.s3.Bucket;
  readonly prefix: string;
}

/**
 * The bucket S3 server access logs of the platform's buckets are delivered to (Security Hub S3.9).
 * Every guardrail of a SecureBucket except two, both S3's constraints: default encryption is SSE-S3,
 * the only one log delivery supports, and it does not log its own access (that would loop); its
 * policy admits only S3's log delivery for the named source buckets of this account.
 */
export class AccessLogBucket extends pulumi.ComponentResource {
  readonly bucket: aws.s3.Bucket;
  readonly arn: pulumi.Output<string>;
  readonly name: pulumi.Output<string>;
  private readonly resourceName: string;
  private readonly args: AccessLogBucketArgs;
  private readonly publicAccess: aws.s3.BucketPublicAccessBlock;
  private readonly ownership: aws.s3.BucketOwnershipControls;

  constructor(name: string, args: AccessLogBucketArgs, opts?: pulumi.ComponentResourceOptions) {
    super("mlplatform:storage:AccessLogBucket", name, {}, opts);
    this.resourceName = name;
    this.args = args;
    const child = { parent: this };

    this.bucket = new aws.s3.Bucket(`${name}-bucket`, { forceDestroy: args.forceDestroy ?? false }, { ...child, retainOnDelete: opts?.retainOnDelete });
    const bucketId = this.bucket.id;
    // ACLs disabled: log delivery is granted by the bucket policy instead of the log-delivery group ACL.
    const { ownership, publicAccess, versioning } = bucketGuardrails(name, bucketId, this);
    this.ownership = ownership;
    this.publicAccess = publicAccess;
    new aws.s3.BucketServerSideEncryptionConfiguration(
      `${name}-encryption`,
      {
        bucket: bucketId,
        rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } }],
      },
      child,
    );
    new aws.s3.BucketLifecycleConfiguration(
      `${name}-lifecycle`,
      {
        bucket: bucketId,
        rules: [
          {
            id: "expire-access-logs",
            status: "Enabled",
            filter: {},
            expiration: { days: args.expirationDays ?? 365 },
            noncurrentVersionExpiration: { noncurrentDays: args.noncurrentVersionExpirationDays ?? 30 },
            abortIncompleteMultipartUpload: { daysAfterInitiation: args.abortIncompleteMultipartUploadDays ?? 7 },
          },
        ],
      },
      { ...child, dependsOn: [versioning] },
    );

    this.arn = this.bucket.arn;
    this.name = this.bucket.bucket;
    this.registerOutputs({ arn: this.arn, name: this.name });
  }

  /**
   * The bucket policy, once the source buckets exist (they name this bucket as their log target,
   * so they are created after it): TLS only, and delivery from exactly those buckets.
   */
  acceptLogsFrom(sources: readonly AccessLogSource[]): aws.s3.BucketPolicy {
    const sourceArns = sources.map((s) => s.bucket.arn.apply((bucketArn) => ({ bucketArn, prefix: s.prefix })));
    return new aws.s3.BucketPolicy(
      `${this.resourceName}-policy`,
      {
        bucket: this.bucket.id,
        policy: pulumi
          .all([this.bucket.arn, this.args.accountId, pulumi.all(sourceArns)])
          .apply(([arn, accountId, list]) => JSON.stringify(accessLogBucketPolicy(arn, accountId, list))),
      },
      { parent: this, dependsOn: [this.publicAccess, this.ownership] },
    );
  }
}
