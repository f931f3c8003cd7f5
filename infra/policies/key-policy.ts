import { policy, PolicyDocument } from "./documents";

export interface KeyPolicyArgs {
  accountId: string;
  partition: string;
  region: string;
}

/**
 * The platform key's policy: the account administers it through IAM (so roles get access only by
 * their own least-privilege policies), CloudWatch Logs may encrypt this account's log groups, and
 * CloudWatch alarms may publish to the KMS-encrypted alarm topic.
 */
export function platformKeyPolicy({ accountId, partition, region }: KeyPolicyArgs): PolicyDocument {
  const accountRoot = `arn:${partition}:iam::${accountId}:root`;
  return policy(
    {
      Sid: "AccountAdministersKeyThroughIam",
      Effect: "Allow",
      Principal: { AWS: accountRoot },
      Action: "kms:*",
      Resource: "*",
    },
    {
      Sid: "CloudWatchLogsEncryptsThisAccountsLogGroups",
      Effect: "Allow",
      Principal: { Service: `logs.${region}.amazonaws.com` },
      Action: ["kms:Encrypt", "kms:Decrypt", "kms:ReEncryptFrom", "kms:ReEncryptTo", "kms:GenerateDataKey", "kms:GenerateDataKeyWithoutPlaintext", "kms:DescribeKey"],
      Resource: "*",
      Condition: { ArnLike: { "kms:EncryptionContext:aws:logs:arn": `arn:${partition}:logs:${region}:${accountId}:log-group:*` } },
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
