import { DUTY_TAG } from "./duties";
import { policy, PolicyDocument, PolicyStatement } from "./documents";
import { ARTIFACT_PREFIXES } from "./execution-role-policy";

/** Denies every request to the bucket that does not arrive over TLS (Security Hub S3.5). */
export function tlsOnlyBucketPolicy(bucketArn: string): PolicyDocument {
  return policy(
    {
      Sid: "DenyInsecureTransport",
      Effect: "Deny",
      Principal: "*",
      Action: "s3:*",
      Resource: [bucketArn, `${bucketArn}/*`],
      Condition: { Bool: { "aws:SecureTransport": "false" } },
    },
    ...immutableArtifactStatements(bucketArn),
  );
}

/**
 * Served artifacts are never overwritten in place.
 * - `models/` (promoted copies, their metrics reports): a PutObject must be a conditional create
 *   (`If-None-Match: *`), enforced as the S3 User Guide's "Enforce conditional writes" shows:
 *   deny when `s3:if-none-match` is absent on an object-creating request
 *   (`s3:ObjectCreationOperation`; the multipart part uploads, which take no such header, stay
 *   allowed and the CompleteMultipartUpload is checked). Consequence from the same page: CopyObject
 *   into `models/` is refused (403 without the header, 501 with it); promotion writes the copy with
 *   PutObject or a multipart upload.
 * - `models/` and `training-output/` (what registered versions point at): no platform role (any
 *   principal carrying the duty tag) may delete an object or a version there. Versioning keeps every
 *   version; lifecycle expiry of noncurrent versions is S3's own and not subject to this policy.
 * Training outputs cannot take the conditional-create rule (SageMaker uploads them without it);
 * they are written once per job, under the job's name, which SageMaker never reuses, and the
 * registry records each artifact's VersionId and SHA-256.
 * In a bucket without these prefixes (datasets) the statements match nothing.
 */
export function immutableArtifactStatements(bucketArn: string): PolicyStatement[] {
  const models = `${bucketArn}/${ARTIFACT_PREFIXES.models}/*`;
  return [
    {
      Sid: "DenyOverwritingPromotedModels",
      Effect: "Deny",
      Principal: "*",
      Action: "s3:PutObject",
      Resource: models,
      Condition: { Null: { "s3:if-none-match": "true" }, Bool: { "s3:ObjectCreationOperation": "true" } },
    },
    {
      Sid: "DenyPlatformRolesDeletingServedArtifacts",
      Effect: "Deny",
      Principal: "*",
      Action: ["s3:DeleteObject", "s3:DeleteObjectVersion"],
      Resource: [models, `${bucketArn}/${ARTIFACT_PREFIXES.trainingOutput}/*`],
      Condition: { Null: { [`aws:PrincipalTag/${DUTY_TAG}`]: "false" } },
    },
  ];
}

/**
 * Denies uploads that would not be encrypted with the bucket's customer-managed key. A request
 * without SSE headers gets the bucket default (that key); these close the three ways a request can
 * choose otherwise: another key, another encryption type, or `aws:kms` without a key ID (which S3
 * serves with the AWS managed key aws/s3).
 */
export function denyUploadsBypassingKeyStatements(bucketArn: string, keyArn: string): PolicyStatement[] {
  const deny = (Sid: string, Condition: PolicyStatement["Condition"]): PolicyStatement => ({
    Sid,
    Effect: "Deny",
    Principal: "*",
    Action: "s3:PutObject",
    Resource: `${bucketArn}/*`,
    Condition,
  });
  return [
    deny("DenyUploadsWithAnotherKmsKey", { StringNotEqualsIfExists: { "s3:x-amz-server-side-encryption-aws-kms-key-id": keyArn } }),
    deny("DenyUploadsWithAnotherEncryption", { StringNotEqualsIfExists: { "s3:x-amz-server-side-encryption": "aws:kms" } }),
    deny("DenyUploadsWithTheAwsManagedKey", {
      StringEquals: { "s3:x-amz-server-side-encryption": "aws:kms" },
      Null: { "s3:x-amz-server-side-encryption-aws-kms-key-id": "true" },
    }),
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
