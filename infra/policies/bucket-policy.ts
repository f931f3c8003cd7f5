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
