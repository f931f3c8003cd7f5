// SageMaker Feature Store: a feature group's records are customer data in two places. The offline
// store writes them to S3 (with the key named in s3StorageConfig, else the AWS managed aws/s3) and
// the online store keeps them in SageMaker's storage (with securityConfig's key, else an AWS owned
// key). Both must be the stack's own customer-managed key, and the offline store must lie in one
// of the stack's buckets, whose public-access block, TLS-only policy and encryption the pack checks.
import type { PolicyResource } from "@pulumi/policy";
import { customerKeyProblem } from "../lib/documents";
import { type PlatformPolicy } from "../lib/policy";
import { asRecord, describe, type Props } from "../lib/resources";
import { TYPES, type FeatureGroupProps } from "../lib/types";
import { BUCKET_TYPES } from "./storage";

/** Feature groups in both providers' spellings (the same camelCased fields). */
export const FEATURE_GROUP_TYPES: readonly string[] = [TYPES.featureGroup, "aws-native:sagemaker:FeatureGroup"];
const KMS_KEY_TYPES: readonly string[] = [TYPES.kmsKey, "aws-native:kms:Key"];

const offlineStoreOf = (props: Props) => asRecord((props as FeatureGroupProps).offlineStoreConfig);
const onlineStoreOf = (props: Props) => {
  const online = asRecord((props as FeatureGroupProps).onlineStoreConfig);
  return online && online.enableOnlineStore === true ? online : undefined;
};
const namesOf = (r: PolicyResource): unknown[] => [r.props.id, r.props.arn, r.props.keyId, r.props.bucket, r.props.bucketName].filter((v) => v !== undefined);

/** A value a preview does not know yet (reading it throws): judged by where it flows from instead. */
const UNKNOWN = Symbol("unknown");
function read<T>(get: () => T): T | typeof UNKNOWN {
  try {
    return get();
  } catch {
    return UNKNOWN;
  }
}

/** Whether `groupProperty` of the group was built from `target` (engine-recorded flow) or names it by value. */
function uses(group: PolicyResource, groupProperty: string, value: unknown, target: PolicyResource): boolean {
  if ((group.propertyDependencies?.[groupProperty] ?? []).some((d) => d.urn === target.urn)) return true;
  return typeof value === "string" && (read(() => namesOf(target)) as unknown[] | typeof UNKNOWN) !== UNKNOWN && namesOf(target).includes(value);
}

export const featureGroupOfflineStoreCmk: PlatformPolicy = {
  name: "sagemaker-feature-group-offline-store-cmk",
  description: "A feature group's offline store is encrypted with a customer-managed KMS key of this stack (s3StorageConfig.kmsKeyId).",
  severity: "high",
  controls: [],
  validateStack: (args, reportViolation) => {
    const groups = args.resources.filter((r) => FEATURE_GROUP_TYPES.includes(r.type));
    if (groups.length === 0) return args.notApplicable("no feature groups in the stack");
    const keys = args.resources.filter((r) => KMS_KEY_TYPES.includes(r.type));
    for (const group of groups) {
      const offline = read(() => offlineStoreOf(group.props));
      if (!offline) continue;
      const key = offline === UNKNOWN ? UNKNOWN : read(() => asRecord(offline.s3StorageConfig)?.kmsKeyId);
      const problem = key === UNKNOWN ? undefined : customerKeyProblem(key);
      if (problem) {
        reportViolation(`${describe(group)}: offlineStoreConfig.s3StorageConfig.kmsKeyId: ${problem}; set it to the platform key`, group.urn);
      } else if (!keys.some((k) => uses(group, "offlineStoreConfig", key, k))) {
        reportViolation(
          `${describe(group)}: offlineStoreConfig.s3StorageConfig.kmsKeyId (${key === UNKNOWN ? "not known yet" : JSON.stringify(key)}) is not a KMS key of this stack; encrypt the offline store with the platform key`,
          group.urn,
        );
      }
    }
  },
};

export const featureGroupOnlineStoreKms: PlatformPolicy = {
  name: "sagemaker-feature-group-online-store-kms",
  description: "A feature group with an online store encrypts it with a customer-managed KMS key (onlineStoreConfig.securityConfig.kmsKeyId).",
  severity: "high",
  controls: [],
  validateResource: (args, reportViolation) => {
    if (!FEATURE_GROUP_TYPES.includes(args.type)) return args.notApplicable("not a feature group");
    const online = onlineStoreOf(args.props);
    if (!online) return args.notApplicable("no online store");
    const key = asRecord(online.securityConfig)?.kmsKeyId;
    const problem = customerKeyProblem(key);
    // Without a key the online store is encrypted with an AWS owned key nobody in the account controls.
    if (problem) reportViolation(`${describe(args)}: onlineStoreConfig.securityConfig.kmsKeyId: ${problem}; set it to the platform key`);
  },
};

export const featureGroupOfflineStoreInStackBucket: PlatformPolicy = {
  name: "sagemaker-feature-group-offline-store-in-stack-bucket",
  description:
    "A feature group's offline store lies in a bucket of this stack (private, TLS-only and encrypted by the pack's S3 rules), never an outside bucket.",
  severity: "high",
  controls: [],
  validateStack: (args, reportViolation) => {
    const groups = args.resources.filter((r) => FEATURE_GROUP_TYPES.includes(r.type));
    if (groups.length === 0) return args.notApplicable("no feature groups in the stack");
    const buckets = args.resources.filter((r) => BUCKET_TYPES.includes(r.type));
    for (const group of groups) {
      const offline = read(() => offlineStoreOf(group.props));
      if (!offline) continue;
      const uri = offline === UNKNOWN ? UNKNOWN : read(() => asRecord(offline.s3StorageConfig)?.s3Uri);
      const bucketName = typeof uri === "string" ? /^(?:s3|https):\/\/([^/]+)/.exec(uri)?.[1] : undefined;
      if (!buckets.some((b) => uses(group, "offlineStoreConfig", bucketName, b))) {
        reportViolation(
          `${describe(group)}: offlineStoreConfig.s3StorageConfig.s3Uri (${uri === UNKNOWN ? "not known yet" : JSON.stringify(uri)}) is not in a bucket of this stack; keep the offline store in the dataset bucket, whose access the pack checks`,
          group.urn,
        );
      }
    }
  },
};

export const featureStorePolicies: readonly PlatformPolicy[] = [featureGroupOfflineStoreCmk, featureGroupOnlineStoreKms, featureGroupOfflineStoreInStackBucket];
