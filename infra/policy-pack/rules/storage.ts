// S3 buckets and the KMS key. With @pulumi/aws v7 a bucket's settings are separate resources that
// name the bucket (encryption, public access block, versioning, policy, lifecycle, ownership), so
// a bucket can only be judged with the whole stack in view: these are stack policies.
import type { PolicyResource, ReportViolation, StackValidationArgs } from "@pulumi/policy";
import { label, statementsOf } from "../lib/iam";
import { checkov, controlTags, securityHub, validateResourceOfType, type PlatformPolicy } from "../lib/policy";
import { asArray, asRecord, asStrings, describe, refersTo } from "../lib/resources";
import { TYPES, type KmsKeyProps } from "../lib/types";

const T = {
  bucket: TYPES.bucket,
  encryption: TYPES.bucketEncryption,
  publicAccess: TYPES.bucketPublicAccessBlock,
  versioning: TYPES.bucketVersioning,
  policy: TYPES.bucketPolicy,
  lifecycle: TYPES.bucketLifecycle,
  ownership: TYPES.bucketOwnership,
} as const;

/** The settings resources of `type` that name `bucket` (by output dependency, ID or name). */
function settingsOf(resources: PolicyResource[], type: string, bucket: PolicyResource): PolicyResource[] {
  const values = [bucket.props.id, bucket.props.bucket];
  return resources.filter((r) => r.type === type && refersTo(r, "bucket", bucket, values));
}

/** Runs `check` for every bucket in the stack; not applicable when there is none. */
function eachBucket(check: (bucket: PolicyResource, all: PolicyResource[], report: (message: string) => void) => void) {
  return (args: StackValidationArgs, reportViolation: ReportViolation) => {
    const buckets = args.resources.filter((r) => r.type === T.bucket);
    if (buckets.length === 0) return args.notApplicable("no S3 buckets in the stack");
    for (const bucket of buckets) check(bucket, args.resources, (message) => reportViolation(`${describe(bucket)}: ${message}`, bucket.urn));
  };
}

/** Whether any of the SSE rules (a list, or the single `rule` of the bucket's own output) is SSE-KMS with a named key. */
function kmsByDefault(rules: unknown): boolean {
  return asArray(rules).some((rule) => {
    const byDefault = asRecord(asRecord(rule)?.applyServerSideEncryptionByDefault);
    const algorithm = byDefault?.sseAlgorithm;
    // A key must be named: "aws:kms" without one falls back to the AWS managed key (aws/s3), which
    // the platform's key policy, rotation and audit do not cover.
    return (algorithm === "aws:kms" || algorithm === "aws:kms:dsse") && typeof byDefault?.kmsMasterKeyId === "string" && byDefault.kmsMasterKeyId !== "";
  });
}

export const s3KmsEncryption: PlatformPolicy = {
  name: "s3-bucket-kms-encryption",
  description: "S3 buckets encrypt objects by default with SSE-KMS under a customer-managed key.",
  severity: "high",
  controls: [securityHub("S3.17"), checkov("CKV_AWS_145"), checkov("CKV_AWS_19")],
  validateStack: eachBucket((bucket, all, report) => {
    const configs = settingsOf(all, T.encryption, bucket);
    const inline = asRecord(bucket.props.serverSideEncryptionConfiguration);
    // The bucket's own (deprecated) output reflects what S3 reports, e.g. after a refresh.
    if (configs.some((c) => kmsByDefault(c.props.rules)) || (inline && kmsByDefault(inline.rule))) return;
    report(configs.length === 0
      ? "has no BucketServerSideEncryptionConfiguration; add one with sseAlgorithm \"aws:kms\" and kmsMasterKeyId set to the platform key"
      : "default encryption is not SSE-KMS with a named key; set rules[].applyServerSideEncryptionByDefault to { sseAlgorithm: \"aws:kms\", kmsMasterKeyId: <key ARN> }");
  }),
};

const PUBLIC_ACCESS_SETTINGS = ["blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"] as const;

export const s3PublicAccessBlocked: PlatformPolicy = {
  name: "s3-bucket-public-access-blocked",
  description: "S3 buckets block every form of public access (all four public access block settings).",
  severity: "critical",
  controls: [securityHub("S3.8"), checkov("CKV_AWS_53"), checkov("CKV_AWS_54"), checkov("CKV_AWS_55"), checkov("CKV_AWS_56"), checkov("CKV2_AWS_6")],
  validateStack: eachBucket((bucket, all, report) => {
    const blocks = settingsOf(all, T.publicAccess, bucket);
    if (blocks.length === 0) return report("has no BucketPublicAccessBlock; add one with all four settings true");
    const off = PUBLIC_ACCESS_SETTINGS.filter((k) => !blocks.some((b) => b.props[k] === true));
    if (off.length > 0) report(`public access block leaves ${off.join(", ")} off; all of ${PUBLIC_ACCESS_SETTINGS.join(", ")} must be true`);
  }),
};

/**
 * A statement that denies every principal any S3 action on the bucket and its objects when the
 * request did not arrive over TLS: `"aws:SecureTransport": "false"` under `Bool`.
 */
function deniesInsecureTransport(document: unknown, bucketArn: unknown): boolean {
  return statementsOf(document).some((s) => {
    if (s.effect !== "Deny") return false;
    const principal = s.principal === "*" || asStrings(asRecord(s.principal)?.AWS).includes("*");
    const actions = s.actions.includes("*") || s.actions.includes("s3:*");
    const secure = asRecord(s.condition?.Bool)?.["aws:SecureTransport"];
    const insecure = secure === "false" || secure === false || (Array.isArray(secure) && secure.map(String).includes("false"));
    const covers = (target: string) => s.resources.includes("*") || s.resources.includes(target) || s.resources.some((r) => r.endsWith("*") && target.startsWith(r.slice(0, -1)));
    const arn = typeof bucketArn === "string" ? bucketArn : undefined;
    const resources = arn === undefined ? s.resources.length > 0 : covers(arn) && covers(`${arn}/*`);
    return principal && actions && insecure && resources;
  });
}

export const s3TlsOnly: PlatformPolicy = {
  name: "s3-bucket-tls-only",
  description: "S3 bucket policies deny every request that does not use TLS (aws:SecureTransport false).",
  severity: "high",
  controls: [securityHub("S3.5")],
  validateStack: eachBucket((bucket, all, report) => {
    const policies = settingsOf(all, T.policy, bucket).map((p) => p.props.policy);
    if (bucket.props.policy !== undefined && bucket.props.policy !== "") policies.push(bucket.props.policy);
    if (policies.length === 0) return report("has no bucket policy; add a BucketPolicy that denies s3:* to Principal \"*\" on the bucket and its objects when aws:SecureTransport is \"false\"");
    if (!policies.some((p) => deniesInsecureTransport(p, bucket.props.arn))) {
      report("bucket policy does not deny non-TLS requests: it needs a Deny of s3:* for Principal \"*\" on the bucket ARN and <ARN>/* with Condition Bool aws:SecureTransport \"false\"");
    }
  }),
};

export const s3Versioning: PlatformPolicy = {
  name: "s3-bucket-versioning",
  description: "S3 buckets keep object versions (versioning Enabled), so an overwrite or delete can be undone.",
  severity: "medium",
  controls: [securityHub("S3.14"), checkov("CKV_AWS_21")],
  validateStack: eachBucket((bucket, all, report) => {
    const configs = settingsOf(all, T.versioning, bucket);
    const inline = asRecord(bucket.props.versioning)?.enabled === true;
    const status = configs.map((c) => asRecord(c.props.versioningConfiguration)?.status);
    if (inline || status.includes("Enabled")) return;
    report(configs.length === 0 ? "has no BucketVersioning; add one with versioningConfiguration.status \"Enabled\"" : `versioning status is ${status.map((s) => JSON.stringify(s ?? null)).join(", ")}; it must be "Enabled"`);
  }),
};

export const s3Lifecycle: PlatformPolicy = {
  name: "s3-bucket-lifecycle",
  description: "S3 buckets have lifecycle rules, including one that aborts incomplete multipart uploads.",
  severity: "low",
  controls: [securityHub("S3.13"), checkov("CKV_AWS_300")],
  validateStack: eachBucket((bucket, all, report) => {
    const rules = settingsOf(all, T.lifecycle, bucket).flatMap((c) => asArray(c.props.rules).map(asRecord)).filter((r) => r?.status === "Enabled");
    if (rules.length === 0) return report("has no enabled lifecycle rule; add a BucketLifecycleConfiguration (noncurrent-version expiry, multipart-upload abort)");
    const aborts = rules.some((r) => Number(asRecord(r?.abortIncompleteMultipartUpload)?.daysAfterInitiation) > 0);
    if (!aborts) report("no enabled lifecycle rule aborts incomplete multipart uploads; add abortIncompleteMultipartUpload.daysAfterInitiation");
  }),
};

export const s3AclsDisabled: PlatformPolicy = {
  name: "s3-bucket-acls-disabled",
  description: "S3 buckets disable ACLs (object ownership BucketOwnerEnforced); access is granted by policy only.",
  severity: "medium",
  controls: [securityHub("S3.12")],
  validateStack: eachBucket((bucket, all, report) => {
    const owners = settingsOf(all, T.ownership, bucket).map((c) => asRecord(c.props.rule)?.objectOwnership);
    if (!owners.includes("BucketOwnerEnforced")) {
      report(owners.length === 0 ? "has no BucketOwnershipControls; add one with rule.objectOwnership \"BucketOwnerEnforced\"" : `object ownership is ${owners.map((o) => JSON.stringify(o ?? null)).join(", ")}; it must be "BucketOwnerEnforced"`);
    }
  }),
};

export const kmsKeyRotation: PlatformPolicy = {
  name: "kms-key-rotation",
  description: "Customer-managed symmetric KMS keys rotate their key material automatically.",
  severity: "medium",
  controls: [securityHub("KMS.4"), checkov("CKV_AWS_7")],
  validateResource: validateResourceOfType<KmsKeyProps>(TYPES.kmsKey, (key, args, reportViolation) => {
    // Only symmetric encryption keys can rotate automatically; asymmetric and HMAC keys cannot.
    const spec = key.customerMasterKeySpec ?? "SYMMETRIC_DEFAULT";
    if (spec !== "SYMMETRIC_DEFAULT") return args.notApplicable(`key spec ${spec} does not support automatic rotation`);
    if (key.enableKeyRotation !== true) reportViolation(`${describe(args)}: enableKeyRotation is ${JSON.stringify(key.enableKeyRotation ?? null)}; set it to true`);
  }),
};

export const kmsKeyPolicyNoPublicPrincipal: PlatformPolicy = {
  name: "kms-key-policy-no-public-principal",
  description: "KMS key policies grant nothing to the wildcard principal \"*\" without a condition.",
  severity: "critical",
  controls: [checkov("CKV_AWS_33")],
  validateResource: validateResourceOfType<KmsKeyProps>(TYPES.kmsKey, (key, args, reportViolation) => {
    // The key policy is a resource policy: granting kms:* to the account root is how it delegates
    // to IAM (the standard key policy), so principals, not actions, are what matter here.
    statementsOf(key.policy).forEach((s, i) => {
      const open = s.principal === "*" || asStrings(asRecord(s.principal)?.AWS).includes("*");
      if (s.effect === "Allow" && open && s.condition === undefined) {
        reportViolation(`${describe(args)}: key policy ${label(s, i)} allows Principal "*" with no condition; name the account or service principals`);
      }
    });
  }),
};

export const storagePolicies: PlatformPolicy[] = [
  s3KmsEncryption, s3PublicAccessBlocked, s3TlsOnly, s3Versioning, s3Lifecycle, s3AclsDisabled, kmsKeyRotation, kmsKeyPolicyNoPublicPrincipal,
].map((p) => ({ ...p, tags: controlTags(p.controls) }));
