import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { ARTIFACT_PREFIXES, DATASET_PREFIX } from "../policies/execution-role-policy";
import { platformKeyPolicy } from "../policies/key-policy";
import { AccessLogBucket } from "./access-log-bucket";
import { SecureBucket } from "./secure-bucket";

/** The log group SageMaker writes every training job's logs to; the name is fixed by SageMaker. */
export const TRAINING_LOG_GROUP_NAME = "/aws/sagemaker/TrainingJobs";

export interface ArtifactStoreArgs {
  readonly accountId: pulumi.Input<string>;
  readonly partition: pulumi.Input<string>;
  readonly region: pulumi.Input<string>;
  /**
   * Refuse to delete the buckets and key (Pulumi `protect`).
   * @default false
   */
  readonly protect?: boolean;
  /**
   * Leave the buckets and key in the account when they are deleted from the program or the stack is destroyed.
   * @default false
   */
  readonly retainOnDelete?: boolean;
  /**
   * Let `pulumi destroy` empty and delete the buckets. Cannot be set together with protect/retainOnDelete.
   * @default false
   */
  readonly forceDestroy?: boolean;
  /** Days a replaced or deleted object version is kept. */
  readonly noncurrentVersionExpirationDays: number;
  /** Days spot-training checkpoints are kept. */
  readonly checkpointExpirationDays: number;
  /** Days training outputs are kept. @default - kept (registered versions point at them) */
  readonly trainingOutputExpirationDays?: number;
  /** Days captured endpoint traffic is kept. */
  readonly dataCaptureExpirationDays: number;
  /** Days before unfinished multipart uploads are aborted. */
  readonly abortIncompleteMultipartUploadDays: number;
  /**
   * Create the training-jobs log group (`/aws/sagemaker/TrainingJobs`) with the key and
   * `logRetentionDays`. There is one per account and region: exactly one stack sharing them owns it,
   * the others set this to false. A group SageMaker already created must be imported first
   * (`pulumi import aws:cloudwatch/logGroup:LogGroup store-training-logs /aws/sagemaker/TrainingJobs`).
   * @default true
   */
  readonly trainingLogGroup?: boolean;
  /** Days the training-jobs log group keeps events (one of CloudWatch Logs' retention periods). */
  readonly logRetentionDays: number;
  /** Days server access logs of the buckets are kept. @default 365 */
  readonly accessLogExpirationDays?: number;
}

/** The lifecycle rules of the two buckets, as data (tested directly). */
export function artifactLifecycleRules(
  args: Pick<
    ArtifactStoreArgs,
    | "noncurrentVersionExpirationDays"
    | "checkpointExpirationDays"
    | "trainingOutputExpirationDays"
    | "dataCaptureExpirationDays"
    | "abortIncompleteMultipartUploadDays"
  >,
) {
  const housekeeping = {
    id: "expire-noncurrent-versions-and-abort-uploads",
    status: "Enabled",
    filter: {},
    noncurrentVersionExpiration: { noncurrentDays: args.noncurrentVersionExpirationDays },
    abortIncompleteMultipartUpload: { daysAfterInitiation: args.abortIncompleteMultipartUploadDays },
  };
  const expire = (id: string, prefix: string, days: number) => ({ id, status: "Enabled", filter: { prefix: `${prefix}/` }, expiration: { days } });
  const artifacts = [
    housekeeping,
    expire("expire-data-capture", ARTIFACT_PREFIXES.dataCapture, args.dataCaptureExpirationDays),
    expire("expire-checkpoints", ARTIFACT_PREFIXES.checkpoints, args.checkpointExpirationDays),
  ];
  if (args.trainingOutputExpirationDays !== undefined) {
    artifacts.push(expire("expire-training-output", ARTIFACT_PREFIXES.trainingOutput, args.trainingOutputExpirationDays));
  }
  return { datasets: [housekeeping], artifacts };
}

/**
 * Where the platform keeps its data: a customer-managed KMS key (rotated yearly) and two buckets,
 * one for datasets (read by training) and one for artifacts (models, checkpoints, captured traffic),
 * both logging access to a third; and the training-jobs log group, encrypted with the key.
 */
export class ArtifactStore extends pulumi.ComponentResource {
  readonly key: aws.kms.Key;
  readonly datasets: SecureBucket;
  readonly artifacts: SecureBucket;
  /** Receives the server access logs of `datasets` and `artifacts`. */
  readonly accessLogs: AccessLogBucket;
  /** `/aws/sagemaker/TrainingJobs`, if this stack owns it. */
  readonly trainingLogGroup?: aws.cloudwatch.LogGroup;
  /** s3:// URI under which datasets live. */
  readonly datasetsUri: pulumi.Output<string>;

  constructor(name: string, args: ArtifactStoreArgs, opts?: pulumi.ComponentResourceOptions) {
    super("mlplatform:storage:ArtifactStore", name, {}, opts);
    const protect = args.protect ?? false;
    const retainOnDelete = args.retainOnDelete ?? false;
    const dataOptions = { parent: this, protect, retainOnDelete };

    this.key = new aws.kms.Key(
      `${name}-key`,
      {
        description: pulumi.interpolate`ml-platform data key (${pulumi.getStack()})`,
        enableKeyRotation: true,
        // The maximum waiting period: a key deleted by mistake can be restored for a month.
        deletionWindowInDays: 30,
        policy: pulumi
          .all([args.accountId, args.partition, args.region])
          .apply(([accountId, partition, region]) => JSON.stringify(platformKeyPolicy({ accountId, partition, region }))),
      },
      dataOptions,
    );

    new aws.kms.Alias(
      `${name}-key-alias`,
      {
        namePrefix: `alias/ml-platform-${pulumi.getStack()}-`,
        targetKeyId: this.key.keyId,
      },
      { parent: this },
    );

    const forceDestroy = args.forceDestroy ?? false;
    this.accessLogs = new AccessLogBucket(
      `${name}-access-logs`,
      {
        accountId: args.accountId,
        expirationDays: args.accessLogExpirationDays,
        noncurrentVersionExpirationDays: args.noncurrentVersionExpirationDays,
        abortIncompleteMultipartUploadDays: args.abortIncompleteMultipartUploadDays,
        forceDestroy,
      },
      dataOptions,
    );

    const rules = artifactLifecycleRules(args);
    const bucketArgs = { kmsKey: this.key, forceDestroy };
    const logsUnder = (prefix: string) => ({ bucket: this.accessLogs, prefix });
    this.datasets = new SecureBucket(`${name}-datasets`, { ...bucketArgs, lifecycleRules: rules.datasets, accessLogs: logsUnder("datasets/") }, dataOptions);
    this.artifacts = new SecureBucket(
      `${name}-artifacts`,
      { ...bucketArgs, lifecycleRules: rules.artifacts, accessLogs: logsUnder("artifacts/") },
      dataOptions,
    );
    this.accessLogs.acceptLogsFrom([
      { bucket: this.datasets.bucket, prefix: "datasets/" },
      { bucket: this.artifacts.bucket, prefix: "artifacts/" },
    ]);

    if (args.trainingLogGroup ?? true) {
      // Created before any job runs, so SageMaker finds it instead of creating it unencrypted and
      // kept forever.
      this.trainingLogGroup = new aws.cloudwatch.LogGroup(
        `${name}-training-logs`,
        {
          name: TRAINING_LOG_GROUP_NAME,
          retentionInDays: args.logRetentionDays,
          kmsKeyId: this.key.arn,
        },
        { parent: this },
      );
    }
    this.datasetsUri = pulumi.interpolate`s3://${this.datasets.name}/${DATASET_PREFIX}/`;

    this.registerOutputs({
      keyArn: this.key.arn,
      datasetBucketName: this.datasets.name,
      artifactBucketName: this.artifacts.name,
      accessLogBucketName: this.accessLogs.name,
    });
  }
}
