import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { ARTIFACT_PREFIXES, DATASET_PREFIX } from "../policies/execution-role-policy";
import { platformKeyPolicy } from "../policies/key-policy";
import { SecureBucket } from "./secure-bucket";

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
}

/** The lifecycle rules of the two buckets, as data (tested directly). */
export function artifactLifecycleRules(args: Pick<ArtifactStoreArgs, "noncurrentVersionExpirationDays" | "checkpointExpirationDays" | "trainingOutputExpirationDays" | "dataCaptureExpirationDays" | "abortIncompleteMultipartUploadDays">) {
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
 * one for datasets (read by training) and one for artifacts (models, checkpoints, captured traffic).
 */
export class ArtifactStore extends pulumi.ComponentResource {
  readonly key: aws.kms.Key;
  readonly datasets: SecureBucket;
  readonly artifacts: SecureBucket;
  /** s3:// URI under which datasets live. */
  readonly datasetsUri: pulumi.Output<string>;

  constructor(name: string, args: ArtifactStoreArgs, opts?: pulumi.ComponentResourceOptions) {
    super("mlplatform:storage:ArtifactStore", name, {}, opts);
    const protect = args.protect ?? false;
    const retainOnDelete = args.retainOnDelete ?? false;
    const dataOptions = { parent: this, protect, retainOnDelete };

    this.key = new aws.kms.Key(`${name}-key`, {
      description: pulumi.interpolate`ml-platform data key (${pulumi.getStack()})`,
      enableKeyRotation: true,
      // The maximum waiting period: a key deleted by mistake can be restored for a month.
      deletionWindowInDays: 30,
      policy: pulumi.all([args.accountId, args.partition, args.region]).apply(([accountId, partition, region]) =>
        JSON.stringify(platformKeyPolicy({ accountId, partition, region }))),
    }, dataOptions);

    new aws.kms.Alias(`${name}-key-alias`, {
      namePrefix: `alias/ml-platform-${pulumi.getStack()}-`,
      targetKeyId: this.key.keyId,
    }, { parent: this });

    const rules = artifactLifecycleRules(args);
    const bucketArgs = { kmsKey: this.key, forceDestroy: args.forceDestroy ?? false };
    this.datasets = new SecureBucket(`${name}-datasets`, { ...bucketArgs, lifecycleRules: rules.datasets }, dataOptions);
    this.artifacts = new SecureBucket(`${name}-artifacts`, { ...bucketArgs, lifecycleRules: rules.artifacts }, dataOptions);
    this.datasetsUri = pulumi.interpolate`s3://${this.datasets.name}/${DATASET_PREFIX}/`;

    this.registerOutputs({
      keyArn: this.key.arn,
      datasetBucketName: this.datasets.name,
      artifactBucketName: this.artifacts.name,
    });
  }
}
