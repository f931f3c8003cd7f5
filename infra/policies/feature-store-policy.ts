import { FEATURE_LABELS_TABLE_PREFIX, FEATURE_QUERY_RESULTS_PREFIX, FEATURE_STORE_PREFIX, FEATURE_TRAINING_SETS_PREFIX } from "@ml-platform/contract";
import { policy, PolicyDocument, PolicyStatement } from "./documents";

/**
 * The Glue database SageMaker creates the offline stores' tables in when a feature group names no
 * data catalog (AmazonSageMakerFeatureStoreAccess scopes its Glue grants to it).
 */
export const FEATURE_STORE_GLUE_DATABASE = "sagemaker_featurestore";

export interface OfflineStorePolicyArgs {
  /** AWS partition of every ARN built here. @default "aws" */
  readonly partition?: string;
  readonly region: string;
  readonly accountId: string;
  /** The dataset bucket, which holds the offline stores under FEATURE_STORE_PREFIX. */
  readonly bucketArn: string;
  /** The platform key the offline store's objects are encrypted with. */
  readonly kmsKeyArn: string;
}

/**
 * What SageMaker, acting as the offline-store role, needs to write a feature group's records to S3
 * and keep its Glue table current. It is AmazonSageMakerFeatureStoreAccess (SageMaker Developer
 * Guide, "AWS managed policies for Amazon SageMaker Feature Store") narrowed from every bucket named
 * *sagemaker* to this stack's prefix, plus the key: S3StorageConfig.KmsKeyId requires
 * kms:GenerateDataKey of the role (SageMaker API reference), and reading back the manifests it
 * wrote needs kms:Decrypt; both only through S3.
 */
export function offlineStoreRolePolicy(args: OfflineStorePolicyArgs): PolicyDocument {
  const partition = args.partition ?? "aws";
  const glue = (resource: string) => `arn:${partition}:glue:${args.region}:${args.accountId}:${resource}`;
  const objects = `${args.bucketArn}/${FEATURE_STORE_PREFIX}/*`;
  return policy(
    {
      // PutObjectAcl: SageMaker writes records with the bucket-owner-full-control ACL.
      Sid: "WriteOfflineStoreRecords",
      Effect: "Allow",
      Action: ["s3:PutObject", "s3:PutObjectAcl", "s3:GetObject"],
      Resource: objects,
    },
    { Sid: "CheckOfflineStoreBucket", Effect: "Allow", Action: "s3:GetBucketAcl", Resource: args.bucketArn },
    {
      Sid: "EncryptOfflineStoreWithPlatformKey",
      Effect: "Allow",
      Action: ["kms:GenerateDataKey", "kms:Decrypt"],
      Resource: args.kmsKeyArn,
      Condition: { StringEquals: { "kms:ViaService": `s3.${args.region}.amazonaws.com` } },
    },
    {
      // SageMaker names each table `<group>_<creation time>`, so the tables are matched in the database.
      Sid: "KeepGlueTablesCurrent",
      Effect: "Allow",
      Action: ["glue:GetTable", "glue:UpdateTable"],
      Resource: [glue("catalog"), glue(`database/${FEATURE_STORE_GLUE_DATABASE}`), glue(`table/${FEATURE_STORE_GLUE_DATABASE}/*`)],
    },
  );
}

export interface FeatureIngestionArgs {
  /** AWS partition of every ARN built here. @default "aws" */
  readonly partition?: string;
  readonly region: string;
  readonly accountId: string;
  /** The feature groups records may be written to. */
  readonly featureGroupNames: readonly string[];
  /**
   * The online stores' key, where a group has one: PutRecord against an encrypted online store needs
   * kms:Decrypt on it (OnlineStoreSecurityConfig, SageMaker API reference). @default - no online store
   */
  readonly onlineStoreKmsKeyArn?: string;
}

/** A feature group's ARN; SageMaker puts resource names into ARNs in lower case. */
export function featureGroupArn(partition: string, region: string, accountId: string, name: string): string {
  return `arn:${partition}:sagemaker:${region}:${accountId}:feature-group/${name.toLowerCase()}`;
}

/**
 * What `ml-deploy features ingest` sends: DescribeFeatureGroup (the group's definitions, checked
 * against the feature-set file before any write) and PutRecord, on this stack's groups only. No
 * DeleteRecord, no reads of the online store, nothing on the offline store's bucket (SageMaker
 * writes that with the offline-store role).
 */
export function featureIngestionStatements(args: FeatureIngestionArgs): PolicyStatement[] {
  if (args.featureGroupNames.length === 0) return [];
  const partition = args.partition ?? "aws";
  const groups = args.featureGroupNames.map((name) => featureGroupArn(partition, args.region, args.accountId, name));
  const statements: PolicyStatement[] = [
    { Sid: "IngestFeatureRecords", Effect: "Allow", Action: ["sagemaker:PutRecord", "sagemaker:DescribeFeatureGroup"], Resource: groups },
  ];
  if (args.onlineStoreKmsKeyArn) {
    // No kms:ViaService condition: the API reference does not say which service endpoint the
    // runtime's call to KMS comes through, and a wrong guess would refuse every write.
    statements.push({ Sid: "UseOnlineStoreKey", Effect: "Allow", Action: "kms:Decrypt", Resource: args.onlineStoreKmsKeyArn });
  }
  return statements;
}

/** The ingestion role's policy: exactly `featureIngestionStatements`. */
export function featureIngestionPolicy(args: FeatureIngestionArgs): PolicyDocument {
  return policy(...featureIngestionStatements(args));
}

export interface FeatureQueryArgs {
  /** AWS partition of every ARN built here. @default "aws" */
  readonly partition?: string;
  readonly region: string;
  readonly accountId: string;
  /** The stack's Athena workgroup, which enforces its result location (FEATURE_QUERY_RESULTS_PREFIX) and encryption. */
  readonly workgroupName: string;
  /** The dataset bucket: offline stores, training sets and query results are prefixes of it. */
  readonly datasetBucketArn: string;
  /** The stack's key, which encrypts all three. */
  readonly kmsKeyArn: string;
  /** The Glue database of the offline stores' tables. @default FEATURE_STORE_GLUE_DATABASE */
  readonly glueDatabase?: string;
}

/**
 * What `ml-deploy features dataset` needs: Athena queries in the stack's workgroup only, and what
 * Athena then does with the caller's credentials (Athena User Guide, "Control access to Amazon S3
 * from Athena" and "Configure access to databases and tables in the AWS Glue Data Catalog"): read
 * the offline stores' Glue tables and objects, create and drop its own temporary labels tables,
 * write the results where the workgroup says; then the training set is written under the
 * training-set prefix with the stack's key. Nothing here can change an offline store or the raw
 * datasets. kms:Decrypt and kms:GenerateDataKey on the stack key are the deployer's already.
 */
export function featureQueryStatements(args: FeatureQueryArgs): PolicyStatement[] {
  const partition = args.partition ?? "aws";
  const glue = (resource: string) => `arn:${partition}:glue:${args.region}:${args.accountId}:${resource}`;
  const database = args.glueDatabase ?? FEATURE_STORE_GLUE_DATABASE;
  const bucket = args.datasetBucketArn;
  const withStackKey = { StringEquals: { "s3:x-amz-server-side-encryption-aws-kms-key-id": args.kmsKeyArn } };
  return [
    {
      Sid: "QueryFeaturesInTheStackWorkgroup",
      Effect: "Allow",
      Action: ["athena:StartQueryExecution", "athena:GetQueryExecution", "athena:GetQueryResults"],
      Resource: `arn:${partition}:athena:${args.region}:${args.accountId}:workgroup/${args.workgroupName}`,
    },
    {
      Sid: "ReadOfflineStoreTables",
      Effect: "Allow",
      Action: ["glue:GetDatabase", "glue:GetTable", "glue:GetPartitions"],
      Resource: [glue("catalog"), glue(`database/${database}`), glue(`table/${database}/*`)],
    },
    {
      // The temporary external table over the uploaded labels; the offline stores' tables are not these.
      Sid: "CreateAndDropLabelsTables",
      Effect: "Allow",
      Action: ["glue:CreateTable", "glue:DeleteTable"],
      Resource: [glue("catalog"), glue(`database/${database}`), glue(`table/${database}/${FEATURE_LABELS_TABLE_PREFIX}*`)],
    },
    {
      Sid: "ReadOfflineStoresTrainingSetsAndResults",
      Effect: "Allow",
      Action: "s3:GetObject",
      Resource: [FEATURE_STORE_PREFIX, FEATURE_TRAINING_SETS_PREFIX, FEATURE_QUERY_RESULTS_PREFIX].map((prefix) => `${bucket}/${prefix}/*`),
    },
    {
      Sid: "ListOfflineStoresAndTrainingSets",
      Effect: "Allow",
      Action: "s3:ListBucket",
      Resource: bucket,
      Condition: { StringLike: { "s3:prefix": [`${FEATURE_STORE_PREFIX}/*`, `${FEATURE_TRAINING_SETS_PREFIX}/*`] } },
    },
    { Sid: "LocateTheDatasetBucket", Effect: "Allow", Action: "s3:GetBucketLocation", Resource: bucket },
    {
      // Labels, channels, and Athena's result files (the workgroup's enforced location): with the stack key only.
      Sid: "WriteTrainingSetsAndQueryResults",
      Effect: "Allow",
      Action: "s3:PutObject",
      Resource: [`${bucket}/${FEATURE_TRAINING_SETS_PREFIX}/*`, `${bucket}/${FEATURE_QUERY_RESULTS_PREFIX}/*`],
      Condition: withStackKey,
    },
  ];
}
