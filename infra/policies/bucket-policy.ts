import { policy, PolicyDocument, PolicyStatement } from "./documents";

/** Denies every request to the bucket that does not arrive over TLS (Security Hub S3.5). */
export function tlsOnlyBucketPolicy(bucketArn: string): PolicyDocument {
  return policy({
    Sid: "DenyInsecureTransport",
    Effect: "Deny",
    Principal: "*",
    Action: "s3:*",
    Resource: [bucketArn, `${bucketArn}/*`],
    Condition: { Bool: { "aws:SecureTransport": "false" } },
  });
}

/**
 * Denies uploads that would not be encrypted with the bucket's customer-managed key. A request
 * without SSE headers gets the bucket default (that key); these close the three ways a request can
 * choose otherwise: another key, another encryption type, or `aws:kms` without a key ID (which S3
 * serves with the AWS managed key aws/s3).
 */
export function denyUploadsBypassingKeyStatements(bucketArn: string, keyArn: string): PolicyStatement[] {
  const deny = (Sid: string, Condition: PolicyStatement["Condition"]): PolicyStatement => ({ Sid, Effect: "Deny", Principal: "*", Action: "s3:PutObject", Resource: `${bucketArn}/*`, Condition });
  return [
    deny("DenyUploadsWithAnotherKmsKey", { StringNotEqualsIfExists: { "s3:x-amz-server-side-encryption-aws-kms-key-id": keyArn } }),
    deny("DenyUploadsWithAnotherEncryption", { StringNotEqualsIfExists: { "s3:x-amz-server-side-encryption": "aws:kms" } }),
    deny("DenyUploadsWithTheAwsManagedKey", { StringEquals: { "s3:x-amz-server-side-encryption": "aws:kms" }, Null: { "s3:x-amz-server-side-encryption-aws-kms-key-id": "true" } }),
  ];
}

/**
 * The access-log bucket's policy: TLS only, and S3's log delivery may write under each source
 * bucket's prefix, only for those buckets of this account (AWS's recommended grant when ACLs are
 * disabled).
 */
export function accessLogBucketPolicy(logBucketArn: string, accountId: string, sources: ReadonlyArray<{ bucketArn: string; prefix: string }>): PolicyDocument {
  return policy(
    ...tlsOnlyBucketPolicy(logBucketArn).Statement,
    ...sources.map((source, i): PolicyStatement => ({
      Sid: `S3ServerAccessLogsFromSource${i}`,
      Effect: "Allow",
      Principal: { Service: "logging.s3.amazonaws.com" },
      Action: "s3:PutObject",
      Resource: `${logBucketArn}/${source.prefix}*`,
      Condition: { StringEquals: { "aws:SourceAccount": accountId }, ArnEquals: { "aws:SourceArn": source.bucketArn } },
    })),
  );
}
