import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import {
  FEATURE_QUERY_RESULTS_PREFIX,
  FEATURE_STORE_PREFIX,
  featureGroupDefinitions,
  featureGroupName,
  type FeatureGroupOutput,
  type FeatureSet,
  type FeatureStoreSettings,
} from "@ml-platform/contract";
import { principalTrustPolicy, serviceTrustPolicy } from "../policies/documents";
import { DUTY_TAG, type Duty } from "../policies/duties";
import { featureIngestionPolicy, offlineStoreRolePolicy } from "../policies/feature-store-policy";
import type { ArtifactStore } from "./artifact-store";

export interface FeatureStoreArgs {
  readonly partition: pulumi.Input<string>;
  readonly region: string;
  readonly accountId: pulumi.Input<string>;
  /** The stack: feature groups are named `<set>-<stack>` (featureGroupName). */
  readonly stack: string;
  /** The validated feature sets, one feature group each. */
  readonly featureSets: readonly FeatureSet[];
  /** The stack's store: its dataset bucket holds the offline stores, its key encrypts both stores. */
  readonly store: ArtifactStore;
  /** The offline store's table format. @default "Iceberg" */
  readonly tableFormat?: FeatureStoreSettings["offlineStore"]["tableFormat"];
  /** The online store; records expire `ttl` after their event time. @default - no online store */
  readonly onlineStore?: FeatureStoreSettings["onlineStore"];
  /**
   * Principals allowed to assume the ingestion role (a data pipeline's role).
   * @default - none: nobody can assume the role until principals are configured
   */
  readonly ingestionTrustedPrincipalArns?: readonly string[];
  /** Let `pulumi destroy` delete the query workgroup with its saved queries and history. @default false */
  readonly forceDestroy?: boolean;
}

/** What one feature group looks like, as data (tested directly; the component only wires it). */
export function featureGroupInputs(
  set: FeatureSet,
  args: Pick<FeatureStoreArgs, "stack" | "tableFormat" | "onlineStore">,
  wiring: { roleArn: pulumi.Input<string>; kmsKeyArn: pulumi.Input<string>; offlineStoreUri: pulumi.Input<string> },
): aws.sagemaker.FeatureGroupArgs {
  const online = args.onlineStore;
  return {
    featureGroupName: featureGroupName(set, args.stack),
    description: set.description,
    recordIdentifierFeatureName: set.entity.recordIdentifier,
    eventTimeFeatureName: set.eventTime,
    featureDefinitions: featureGroupDefinitions(set),
    roleArn: wiring.roleArn,
    // No dataCatalogConfig: SageMaker creates the Glue table in sagemaker_featurestore (the
    // offline-store role's Glue grants are scoped to it) and reports its name back.
    offlineStoreConfig: {
      s3StorageConfig: { s3Uri: wiring.offlineStoreUri, kmsKeyId: wiring.kmsKeyArn },
      tableFormat: args.tableFormat ?? "Iceberg",
    },
    onlineStoreConfig: online?.enabled
      ? {
          enableOnlineStore: true,
          securityConfig: { kmsKeyId: wiring.kmsKeyArn },
          ttlDuration: online.ttl ? { value: online.ttl.value, unit: online.ttl.unit } : undefined,
        }
      : undefined,
  };
}

/**
 * The stack's SageMaker Feature Store: a feature group per feature set, its offline store in the
 * dataset bucket under the platform key (Glue catalog, Iceberg by default) and, where enabled, an
 * online store under the same key with a TTL; the role SageMaker writes the offline store as; an
 * ingestion role (PutRecord on these groups only); and an Athena workgroup whose results are
 * encrypted with the key, for point-in-time training sets over the offline store.
 */
export class FeatureStore extends pulumi.ComponentResource {
  readonly groups: aws.sagemaker.FeatureGroup[];
  readonly offlineStoreRole: aws.iam.Role;
  readonly ingestionRole: aws.iam.Role;
  readonly workgroup: aws.athena.Workgroup;
  /** `s3://<dataset bucket>/feature-store/`. */
  readonly offlineStoreUri: pulumi.Output<string>;
  /** By feature-set name. */
  readonly outputs: pulumi.Output<Record<string, FeatureGroupOutput>>;
  /** The groups' names, for policies. */
  readonly groupNames: readonly string[];

  constructor(name: string, args: FeatureStoreArgs, opts?: pulumi.ComponentResourceOptions) {
    super("mlplatform:features:FeatureStore", name, {}, opts);
    const key = args.store.key;
    const bucket = args.store.datasets;
    this.groupNames = args.featureSets.map((set) => featureGroupName(set, args.stack));

    this.offlineStoreRole = new aws.iam.Role(
      `${name}-offline-store-role`,
      {
        description: "ml-platform feature store: SageMaker writes the offline store (S3, Glue) with the platform key",
        assumeRolePolicy: pulumi
          .all([args.partition, args.accountId])
          .apply(([partition, accountId]) =>
            JSON.stringify(serviceTrustPolicy("sagemaker.amazonaws.com", accountId, `arn:${partition}:sagemaker:${args.region}:${accountId}:feature-group/*`)),
          ),
        maxSessionDuration: 3600,
        tags: { [DUTY_TAG]: "feature-store" satisfies Duty },
      },
      { parent: this },
    );
    const offlinePolicy = new aws.iam.RolePolicy(
      `${name}-offline-store-permissions`,
      {
        role: this.offlineStoreRole.id,
        policy: pulumi
          .all([args.partition, args.accountId, bucket.arn, key.arn])
          .apply(([partition, accountId, bucketArn, kmsKeyArn]) =>
            JSON.stringify(offlineStoreRolePolicy({ partition, region: args.region, accountId, bucketArn, kmsKeyArn })),
          ),
      },
      { parent: this },
    );

    this.offlineStoreUri = pulumi.interpolate`s3://${bucket.name}/${FEATURE_STORE_PREFIX}/`;
    this.groups = args.featureSets.map(
      (set) =>
        new aws.sagemaker.FeatureGroup(
          `${name}-${set.name}`,
          featureGroupInputs(set, args, { roleArn: this.offlineStoreRole.arn, kmsKeyArn: key.arn, offlineStoreUri: this.offlineStoreUri }),
          {
            parent: this,
            // CreateFeatureGroup checks that SageMaker can write the offline store as the role.
            dependsOn: [offlinePolicy],
            // The definitions, stores and keys are replace-on-change (provider-semantics §1.1) and the
            // group's name is ours, not generated: the old group must go before its successor can
            // take the name. The offline store's objects stay in S3 (DeleteFeatureGroup keeps them).
            deleteBeforeReplace: true,
          },
        ),
    );

    const onlineKey = args.onlineStore?.enabled ? key.arn : undefined;
    this.ingestionRole = new aws.iam.Role(
      `${name}-ingestion-role`,
      {
        description: "ml-platform feature ingestion: writes records to this stack's feature groups (ml-deploy features ingest)",
        assumeRolePolicy: JSON.stringify(principalTrustPolicy("TrustedIngestion", args.ingestionTrustedPrincipalArns ?? [])),
        maxSessionDuration: 3600,
        tags: { [DUTY_TAG]: "feature-ingestion" satisfies Duty },
      },
      { parent: this },
    );
    new aws.iam.RolePolicy(
      `${name}-ingestion-permissions`,
      {
        role: this.ingestionRole.id,
        policy: pulumi
          .all([args.partition, args.accountId, onlineKey])
          .apply(([partition, accountId, onlineStoreKmsKeyArn]) =>
            JSON.stringify(featureIngestionPolicy({ partition, region: args.region, accountId, featureGroupNames: this.groupNames, onlineStoreKmsKeyArn })),
          ),
      },
      { parent: this },
    );

    this.workgroup = new aws.athena.Workgroup(
      `${name}-queries`,
      {
        description: "ml-platform feature store: point-in-time training sets over the offline store",
        forceDestroy: args.forceDestroy ?? false,
        configuration: {
          // Queries cannot choose another result location or drop the encryption.
          enforceWorkgroupConfiguration: true,
          publishCloudwatchMetricsEnabled: true,
          resultConfiguration: {
            outputLocation: pulumi.interpolate`s3://${bucket.name}/${FEATURE_QUERY_RESULTS_PREFIX}/`,
            encryptionConfiguration: { encryptionOption: "SSE_KMS", kmsKeyArn: key.arn },
          },
        },
      },
      { parent: this },
    );

    const described = this.groups.map((group) =>
      pulumi
        .all([group.featureGroupName, group.arn, group.offlineStoreConfig, this.offlineStoreUri])
        .apply(([groupName, arn, offline, baseUri]): FeatureGroupOutput => {
          const catalog = offline?.dataCatalogConfig;
          return {
            featureGroupName: groupName,
            featureGroupArn: arn,
            // SageMaker resolves the URI and names the table at creation; until then, the prefix.
            offlineStoreUri: offline?.s3StorageConfig.resolvedOutputS3Uri ?? baseUri,
            glueTable: catalog?.database && catalog.tableName ? { database: catalog.database, table: catalog.tableName } : null,
            onlineStore: args.onlineStore?.enabled ?? false,
          };
        }),
    );
    this.outputs = pulumi.all(described).apply((groups) => Object.fromEntries(args.featureSets.map((set, i) => [set.name, groups[i]!])));

    this.registerOutputs({
      featureGroups: this.outputs,
      offlineStoreUri: this.offlineStoreUri,
      offlineStoreRoleArn: this.offlineStoreRole.arn,
      ingestionRoleArn: this.ingestionRole.arn,
      workgroupName: this.workgroup.name,
    });
  }
}
