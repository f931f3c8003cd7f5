import { policy, PolicyDocument } from "./documents";

export interface KeyPolicyArgs {
  accountId: string;
  partition: string;
  region: string;
}

/**
 * Administering the key: who may use it, rotation, deletion, aliases, tags. No cryptographic use.
 * Listed, not `kms:Create*`-style prefixes, so an action AWS adds later is not granted unseen.
 */
export const KEY_ADMINISTRATION_ACTIONS = [
  "kms:DescribeKey",
  "kms:GetKeyPolicy",
  "kms:GetKeyRotationStatus",
  "kms:ListResourceTags",
  "kms:ListGrants",
  "kms:PutKeyPolicy",
  "kms:EnableKeyRotation",
  "kms:DisableKeyRotation",
  "kms:RotateKeyOnDemand",
  "kms:EnableKey",
  "kms:DisableKey",
  "kms:ScheduleKeyDeletion",
  "kms:CancelKeyDeletion",
  "kms:UpdateKeyDescription",
  "kms:TagResource",
  "kms:UntagResource",
  "kms:CreateAlias",
  "kms:UpdateAlias",
  "kms:DeleteAlias",
  "kms:RevokeGrant",
] as const;

/** Using the key on data, and the grants AWS services create for the volumes they encrypt with it. */
export const KEY_USE_ACTIONS = [
  "kms:DescribeKey",
  "kms:Encrypt",
  "kms:Decrypt",
  "kms:ReEncryptFrom",
  "kms:ReEncryptTo",
  "kms:GenerateDataKey",
  "kms:GenerateDataKeyWithoutPlaintext",
] as const;

/**
 * The platform key's policy. Administration and use are granted in separate statements, both
 * delegated to the account's IAM: an identity may administer the key or use it only if its own
 * policy also says so (the deployer and execution roles are granted use, never administration).
 * CloudWatch Logs may encrypt this account's log groups, and CloudWatch alarms and EventBridge
 * rules may publish to the KMS-encrypted alarm topic.
 */
export function platformKeyPolicy({ accountId, partition, region }: KeyPolicyArgs): PolicyDocument {
  const accountRoot = `arn:${partition}:iam::${accountId}:root`;
  return policy(
    {
      Sid: "AccountAdministersKeyThroughIam",
      Effect: "Allow",
      Principal: { AWS: accountRoot },
      Action: [...KEY_ADMINISTRATION_ACTIONS],
      Resource: "*",
    },
    {
      Sid: "AccountUsesKeyThroughIam",
      Effect: "Allow",
      Principal: { AWS: accountRoot },
      Action: [...KEY_USE_ACTIONS],
      Resource: "*",
    },
    {
      // SageMaker encrypts training and hosting volumes with grants it creates on the caller's behalf.
      Sid: "AccountLetsAwsServicesAttachVolumes",
      Effect: "Allow",
      Principal: { AWS: accountRoot },
      Action: ["kms:CreateGrant"],
      Resource: "*",
      Condition: { Bool: { "kms:GrantIsForAWSResource": true } },
    },
    {
      Sid: "CloudWatchLogsEncryptsThisAccountsLogGroups",
      Effect: "Allow",
      Principal: { Service: `logs.${region}.amazonaws.com` },
      // Exactly the use of the key on data, as the account's identities get it.
      Action: [...KEY_USE_ACTIONS],
      Resource: "*",
      Condition: { ArnLike: { "kms:EncryptionContext:aws:logs:arn": `arn:${partition}:logs:${region}:${accountId}:log-group:*` } },
    },
    {
      // The monitoring component's failure rules deliver SageMaker events to the encrypted topic.
      Sid: "EventBridgePublishesToEncryptedTopic",
      Effect: "Allow",
      Principal: { Service: "events.amazonaws.com" },
      Action: ["kms:Decrypt", "kms:GenerateDataKey"],
      Resource: "*",
      Condition: { StringEquals: { "aws:SourceAccount": accountId } },
    },
    {
      Sid: "CloudWatchAlarmsPublishToEncryptedTopic",
      Effect: "Allow",
      Principal: { Service: "cloudwatch.amazonaws.com" },
      Action: ["kms:Decrypt", "kms:GenerateDataKey"],
      Resource: "*",
      Condition: { StringEquals: { "aws:SourceAccount": accountId } },
    },
  );
}
