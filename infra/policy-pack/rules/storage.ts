// S3 buckets and the KMS key. With @pulumi/aws v7 a bucket's settings are separate resources that
// name the bucket (encryption, public access block, versioning, policy, lifecycle, ownership), so
// a bucket can only be judged with the whole stack in view: these are stack policies.
import type { PolicyResource, ReportViolation, StackValidationArgs } from "@pulumi/policy";
import { conditionTests, customerKeyProblem, globMatches, principalsOf, type ConditionTest } from "../lib/documents";
import { statementsOf } from "../lib/iam";
import { checkov, controlTags, securityHub, validateResourceOfType, type PlatformPolicy } from "../lib/policy";
import { asArray, asRecord, describe, parseJson, refersTo, type Props } from "../lib/resources";
import { TYPES, type KmsKeyProps } from "../lib/types";

/** Every resource type that is an S3 bucket: the classic provider's (and its V2 alias) and aws-native's. */
export const BUCKET_TYPES: readonly string[] = [TYPES.bucket, "aws:s3/bucketV2:BucketV2", "aws-native:s3:Bucket"];

/** The separate resources that configure one setting of a bucket, in every provider spelling. */
const SETTING_TYPES = {
  encryption: [TYPES.bucketEncryption, "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2"],
  publicAccess: [TYPES.bucketPublicAccessBlock],
  versioning: [TYPES.bucketVersioning, "aws:s3/bucketVersioningV2:BucketVersioningV2"],
  policy: [TYPES.bucketPolicy, "aws-native:s3:BucketPolicy"],
  lifecycle: [TYPES.bucketLifecycle, "aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2"],
  ownership: [TYPES.bucketOwnership],
  logging: ["aws:s3/bucketLogging:BucketLogging", "aws:s3/bucketLoggingV2:BucketLoggingV2"],
} as const;

/** A bucket's settings, whichever resource or property expressed them, as the rules judge them. */
export interface BucketView {
  readonly bucket: PolicyResource;
  /** Names a settings resource or another bucket may use for it. */
  readonly names: unknown[];
  /** Whether any encryption setting exists at all (a resource or an inline block). */
  readonly hasEncryptionSetting: boolean;
  readonly encryption: Array<{ algorithm: unknown; key: unknown }>;
  readonly publicAccessBlocks: Props[];
  readonly hasVersioningSetting: boolean;
  readonly versioning: unknown[];
  readonly policies: unknown[];
  readonly lifecycleRules: Array<{ enabled: boolean; abortDays: number }>;
  readonly ownership: unknown[];
  readonly hasOwnershipSetting: boolean;
  /** Target bucket names (or IDs) of server access logging. */
  readonly loggingTargets: unknown[];
}

function settingsOf(resources: PolicyResource[], types: readonly string[], bucket: PolicyResource, names: unknown[]): PolicyResource[] {
  return resources.filter((r) => types.includes(r.type) && refersTo(r, "bucket", bucket, names));
}

export function bucketView(bucket: PolicyResource, all: PolicyResource[]): BucketView {
  const p = bucket.props;
  const names = [p.id, p.bucket, p.bucketName].filter((n) => n !== undefined);
  const of = (k: keyof typeof SETTING_TYPES) => settingsOf(all, SETTING_TYPES[k], bucket, names);
  const native = bucket.type === "aws-native:s3:Bucket";

  const encryptionConfigs = of("encryption");
  const sseRules = [
    ...encryptionConfigs.flatMap((c) => asArray(c.props.rules)),
    // The classic bucket's own (deprecated) block, also what a refresh reports.
    ...asArray(asRecord(p.serverSideEncryptionConfiguration)?.rule),
  ].map((r) => asRecord(asRecord(r)?.applyServerSideEncryptionByDefault));
  const nativeRules = native
    ? asArray(asRecord(p.bucketEncryption)?.serverSideEncryptionConfiguration).map((r) => asRecord(asRecord(r)?.serverSideEncryptionByDefault))
    : [];
  const encryption = [...sseRules, ...nativeRules]
    .filter((r): r is Props => r !== undefined)
    .map((r) => ({ algorithm: r.sseAlgorithm, key: r.kmsMasterKeyId }));

  const versioning = [
    ...of("versioning").map((c) => asRecord(c.props.versioningConfiguration)?.status),
    ...(asRecord(p.versioning)?.enabled === true ? ["Enabled"] : asRecord(p.versioning)?.enabled === false ? ["Suspended"] : []),
    ...(native && asRecord(p.versioningConfiguration) ? [asRecord(p.versioningConfiguration)?.status] : []),
  ];

  const lifecycleRules = [
    ...of("lifecycle")
      .flatMap((c) => asArray(c.props.rules))
      .map(asRecord)
      .map((r) => ({ enabled: r?.status === "Enabled", abortDays: Number(asRecord(r?.abortIncompleteMultipartUpload)?.daysAfterInitiation) })),
    ...asArray(p.lifecycleRules)
      .map(asRecord)
      .map((r) => ({ enabled: r?.enabled === true, abortDays: Number(r?.abortIncompleteMultipartUploadDays) })),
    ...(native
      ? asArray(asRecord(p.lifecycleConfiguration)?.rules)
          .map(asRecord)
          .map((r) => ({ enabled: r?.status === "Enabled", abortDays: Number(asRecord(r?.abortIncompleteMultipartUpload)?.daysAfterInitiation) }))
      : []),
  ];

  const ownershipResources = of("ownership");
  const nativeOwnership = native ? asArray(asRecord(p.ownershipControls)?.rules).map((r) => asRecord(r)?.objectOwnership) : [];

  return {
    bucket,
    names,
    hasEncryptionSetting: encryptionConfigs.length > 0 || asRecord(p.serverSideEncryptionConfiguration) !== undefined || nativeRules.length > 0,
    encryption,
    publicAccessBlocks: [
      ...of("publicAccess").map((b) => b.props),
      ...(native && asRecord(p.publicAccessBlockConfiguration) ? [asRecord(p.publicAccessBlockConfiguration)!] : []),
    ],
    hasVersioningSetting: versioning.length > 0,
    versioning,
    policies: [...of("policy").map((r) => r.props.policy ?? r.props.policyDocument), ...(p.policy !== undefined && p.policy !== "" ? [p.policy] : [])],
    lifecycleRules,
    hasOwnershipSetting: ownershipResources.length > 0 || nativeOwnership.length > 0,
    ownership: [...ownershipResources.map((c) => asRecord(c.props.rule)?.objectOwnership), ...nativeOwnership],
    loggingTargets: [
      ...of("logging").map((l) => l.props.targetBucket),
      ...(asRecord(p.logging)?.targetBucket !== undefined ? [asRecord(p.logging)!.targetBucket] : []),
      ...(native && asRecord(p.loggingConfiguration)?.destinationBucketName !== undefined ? [asRecord(p.loggingConfiguration)!.destinationBucketName] : []),
    ],
  };
}

/** Buckets other buckets deliver their server access logs to. */
function logTargets(views: BucketView[]): Set<PolicyResource> {
  const targets = new Set<PolicyResource>();
  for (const v of views) {
    for (const t of v.loggingTargets) for (const w of views) if (w !== v && w.names.includes(t)) targets.add(w.bucket);
  }
  return targets;
}

/** Runs `check` for every bucket in the stack; not applicable when there is none. */
function eachBucket(
  check: (
    view: BucketView,
    context: { views: BucketView[]; logBuckets: Set<PolicyResource>; args: StackValidationArgs },
    report: (message: string) => void,
  ) => void,
) {
  return (args: StackValidationArgs, reportViolation: ReportViolation) => {
    const buckets = args.resources.filter((r) => BUCKET_TYPES.includes(r.type));
    if (buckets.length === 0) return args.notApplicable("no S3 buckets in the stack");
    const views = buckets.map((b) => bucketView(b, args.resources));
    const logBuckets = logTargets(views);
    for (const view of views) check(view, { views, logBuckets, args }, (message) => reportViolation(`${describe(view.bucket)}: ${message}`, view.bucket.urn));
  };
}

const isKms = (algorithm: unknown) => algorithm === "aws:kms" || algorithm === "aws:kms:dsse";

export const s3KmsEncryption: PlatformPolicy = {
  name: "s3-bucket-kms-encryption",
  description:
    "S3 buckets encrypt objects by default with SSE-KMS under a customer-managed key (server access log buckets: SSE-S3, the only encryption S3 log delivery supports).",
  severity: "high",
  controls: [securityHub("S3.17"), checkov("CKV_AWS_145"), checkov("CKV_AWS_19")],
  validateStack: eachBucket((view, { logBuckets }, report) => {
    // S3 server access logging delivers only to buckets whose default encryption is SSE-S3
    // (Amazon S3 User Guide, "Enabling Amazon S3 server access logging": SSE-KMS is not supported).
    if (logBuckets.has(view.bucket) && view.encryption.some((e) => e.algorithm === "AES256")) return;
    const kms = view.encryption.filter((e) => isKms(e.algorithm));
    const problems = kms.map((e) => customerKeyProblem(e.key));
    if (kms.length > 0 && problems.some((x) => x === undefined)) return;
    if (!view.hasEncryptionSetting)
      return report('has no BucketServerSideEncryptionConfiguration; add one with sseAlgorithm "aws:kms" and kmsMasterKeyId set to the platform key');
    const managed = problems.find((x) => x !== undefined && !x.startsWith("no KMS key"));
    report(
      managed !== undefined
        ? `default encryption uses ${managed}`
        : 'default encryption is not SSE-KMS with a named key; set rules[].applyServerSideEncryptionByDefault to { sseAlgorithm: "aws:kms", kmsMasterKeyId: <key ARN> }',
    );
  }),
};

const PUBLIC_ACCESS_SETTINGS = ["blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"] as const;

export const s3PublicAccessBlocked: PlatformPolicy = {
  name: "s3-bucket-public-access-blocked",
  description: "S3 buckets block every form of public access (all four public access block settings).",
  severity: "critical",
  controls: [securityHub("S3.8"), checkov("CKV_AWS_53"), checkov("CKV_AWS_54"), checkov("CKV_AWS_55"), checkov("CKV_AWS_56"), checkov("CKV2_AWS_6")],
  validateStack: eachBucket((view, _context, report) => {
    const blocks = view.publicAccessBlocks;
    if (blocks.length === 0) return report("has no BucketPublicAccessBlock; add one with all four settings true");
    const off = PUBLIC_ACCESS_SETTINGS.filter((k) => !blocks.some((b) => b[k] === true));
    if (off.length > 0) report(`public access block leaves ${off.join(", ")} off; all of ${PUBLIC_ACCESS_SETTINGS.join(", ")} must be true`);
  }),
};

/** Deny statements for every principal that cover the bucket and its objects for `action`. */
function denials(document: unknown, bucketArn: unknown, action: string, objectsOnly: boolean) {
  return statementsOf(document).filter((s) => {
    if (s.effect !== "Deny") return false;
    const everyone = principalsOf(s.principal).anyone;
    const acts = s.actions.some((a) => globMatches(a, action));
    const covers = (target: string) => s.resources.some((r) => globMatches(r, target));
    const arn = typeof bucketArn === "string" ? bucketArn : undefined;
    const resources = arn === undefined ? s.resources.length > 0 : covers(`${arn}/*`) && (objectsOnly || covers(arn));
    return everyone && acts && resources;
  });
}

/**
 * A statement that denies every principal any S3 action on the bucket and its objects when the
 * request did not arrive over TLS: `"aws:SecureTransport": "false"` under `Bool`.
 */
function deniesInsecureTransport(document: unknown, bucketArn: unknown): boolean {
  return denials(document, bucketArn, "s3:*", false).some((s) => {
    if (!s.actions.some((a) => a === "*" || a.toLowerCase() === "s3:*")) return false;
    const secure = asRecord(s.condition?.Bool)?.["aws:SecureTransport"];
    return secure === "false" || secure === false || (Array.isArray(secure) && secure.map(String).includes("false"));
  });
}

export const s3TlsOnly: PlatformPolicy = {
  name: "s3-bucket-tls-only",
  description: "S3 bucket policies deny every request that does not use TLS (aws:SecureTransport false).",
  severity: "high",
  controls: [securityHub("S3.5")],
  validateStack: eachBucket((view, _context, report) => {
    if (view.policies.length === 0)
      return report(
        'has no bucket policy; add a BucketPolicy that denies s3:* to Principal "*" on the bucket and its objects when aws:SecureTransport is "false"',
      );
    if (!view.policies.some((p) => deniesInsecureTransport(p, view.bucket.props.arn))) {
      report(
        'bucket policy does not deny non-TLS requests: it needs a Deny of s3:* for Principal "*" on the bucket ARN and <ARN>/* with Condition Bool aws:SecureTransport "false"',
      );
    }
  }),
};

const SSE_HEADER = "s3:x-amz-server-side-encryption";
const SSE_KEY_HEADER = "s3:x-amz-server-side-encryption-aws-kms-key-id";

/**
 * The three ways an upload can pick another key than the bucket's default, and the Deny that
 * closes each. Without SSE headers S3 applies the default (the customer key), so these deny
 * only requests that name something else.
 */
const UPLOAD_BYPASSES: ReadonlyArray<{ what: string; closes: (tests: ConditionTest[]) => boolean }> = [
  {
    what: `another KMS key (Deny s3:PutObject when StringNotEqualsIfExists ${SSE_KEY_HEADER} is the platform key ARN)`,
    closes: (tests) =>
      tests.some(
        (t) =>
          /^StringNotEquals(IfExists)?$/i.test(t.operator) &&
          t.key === SSE_KEY_HEADER &&
          t.values.length > 0 &&
          t.values.every((v) => customerKeyProblem(v) === undefined && !/[*?]/.test(v)),
      ),
  },
  {
    what: `another encryption type such as SSE-S3 (Deny s3:PutObject when StringNotEqualsIfExists ${SSE_HEADER} is "aws:kms")`,
    closes: (tests) =>
      tests.some((t) => /^StringNotEquals(IfExists)?$/i.test(t.operator) && t.key === SSE_HEADER && t.values.length > 0 && t.values.every(isKms)),
  },
  {
    what: `"aws:kms" without a key ID, which S3 serves with the AWS managed key aws/s3 (Deny s3:PutObject when ${SSE_HEADER} is "aws:kms" and Null ${SSE_KEY_HEADER} is "true")`,
    closes: (tests) => tests.some((t) => /^Null$/i.test(t.operator) && t.key === SSE_KEY_HEADER && t.values.includes("true")),
  },
];

export const s3DenyUploadsBypassingKey: PlatformPolicy = {
  name: "s3-bucket-deny-non-cmk-uploads",
  description:
    "Bucket policies deny uploads that name another KMS key, another encryption type, or aws:kms without a key (which S3 serves with the AWS managed key).",
  severity: "high",
  controls: [securityHub("S3.17", "enforces the customer key per request, where S3.17 checks only the default")],
  validateStack: eachBucket((view, { logBuckets }, report) => {
    // Log delivery writes SSE-S3 objects (see s3-bucket-kms-encryption).
    if (logBuckets.has(view.bucket)) return;
    const denies = view.policies.flatMap((p) => denials(p, view.bucket.props.arn, "s3:PutObject", true));
    const open = UPLOAD_BYPASSES.filter((b) => !denies.some((s) => b.closes(conditionTests(s.condition))));
    if (open.length > 0) report(`bucket policy lets uploads bypass the customer key with ${open.map((b) => b.what).join("; ")}`);
  }),
};

export const s3Versioning: PlatformPolicy = {
  name: "s3-bucket-versioning",
  description: "S3 buckets keep object versions (versioning Enabled), so an overwrite or delete can be undone.",
  severity: "medium",
  controls: [securityHub("S3.14"), checkov("CKV_AWS_21")],
  validateStack: eachBucket((view, _context, report) => {
    if (view.versioning.includes("Enabled")) return;
    report(
      !view.hasVersioningSetting
        ? 'has no BucketVersioning; add one with versioningConfiguration.status "Enabled"'
        : `versioning status is ${view.versioning.map((s) => JSON.stringify(s ?? null)).join(", ")}; it must be "Enabled"`,
    );
  }),
};

export const s3Lifecycle: PlatformPolicy = {
  name: "s3-bucket-lifecycle",
  description: "S3 buckets have lifecycle rules, including one that aborts incomplete multipart uploads.",
  severity: "low",
  controls: [securityHub("S3.13"), checkov("CKV_AWS_300")],
  validateStack: eachBucket((view, _context, report) => {
    const rules = view.lifecycleRules.filter((r) => r.enabled);
    if (rules.length === 0)
      return report("has no enabled lifecycle rule; add a BucketLifecycleConfiguration (noncurrent-version expiry, multipart-upload abort)");
    if (!rules.some((r) => r.abortDays > 0))
      report("no enabled lifecycle rule aborts incomplete multipart uploads; add abortIncompleteMultipartUpload.daysAfterInitiation");
  }),
};

export const s3AclsDisabled: PlatformPolicy = {
  name: "s3-bucket-acls-disabled",
  description: "S3 buckets disable ACLs (object ownership BucketOwnerEnforced); access is granted by policy only.",
  severity: "medium",
  controls: [securityHub("S3.12")],
  validateStack: eachBucket((view, _context, report) => {
    if (!view.ownership.includes("BucketOwnerEnforced")) {
      report(
        !view.hasOwnershipSetting
          ? 'has no BucketOwnershipControls; add one with rule.objectOwnership "BucketOwnerEnforced"'
          : `object ownership is ${view.ownership.map((o) => JSON.stringify(o ?? null)).join(", ")}; it must be "BucketOwnerEnforced"`,
      );
    }
  }),
};

/** A tag's value on a resource's outputs: `tagsAll` (classic) or aws-native's `[{key, value}]` list. */
function tagOf(resource: PolicyResource, key: string): string | undefined {
  const all = asRecord(resource.props.tagsAll) ?? asRecord(resource.props.tags);
  if (all && typeof all[key] === "string") return all[key] as string;
  const pair = asArray(resource.props.tags)
    .map(asRecord)
    .find((t) => t?.key === key);
  if (typeof pair?.value === "string") return pair.value;
  const defaults = asRecord(asRecord(parseJson(resource.provider?.props.defaultTags))?.tags);
  return typeof defaults?.[key] === "string" ? (defaults[key] as string) : undefined;
}

interface AccessLoggingConfig {
  /** Tag naming a bucket's data classification. @default "dataClassification" */
  classificationTagKey?: string;
  /** Classifications whose buckets must log access. @default ["confidential", "restricted"] */
  loggedClassifications?: string[];
  /** Require access logging on every bucket (except log buckets). @default false */
  allBuckets?: boolean;
}

export const s3AccessLogging: PlatformPolicy = {
  name: "s3-bucket-access-logging",
  description: "S3 buckets holding confidential data log server access to a separate log bucket in the same stack.",
  severity: "medium",
  controls: [securityHub("S3.9", "confidential buckets; the log bucket itself does not log (it cannot log to itself)"), checkov("CKV_AWS_18")],
  configSchema: {
    properties: {
      classificationTagKey: { type: "string", default: "dataClassification", description: "Tag naming a bucket's data classification." },
      loggedClassifications: {
        type: "array",
        items: { type: "string" },
        default: ["confidential", "restricted"],
        description: "Classifications whose buckets must log access.",
      },
      allBuckets: { type: "boolean", default: false, description: "Require access logging on every bucket." },
    },
  },
  validateStack: eachBucket((view, { views, logBuckets, args }, report) => {
    const config = args.getConfig<AccessLoggingConfig>();
    if (logBuckets.has(view.bucket)) return;
    const classification = tagOf(view.bucket, config.classificationTagKey ?? "dataClassification");
    const required =
      config.allBuckets === true || (classification !== undefined && (config.loggedClassifications ?? ["confidential", "restricted"]).includes(classification));
    if (!required) return;
    const why = config.allBuckets === true ? "every bucket must log access" : `it holds ${classification} data`;
    if (view.loggingTargets.length === 0)
      return report(`has no server access logging but ${why}; add a BucketLogging whose targetBucket is the platform's log bucket`);
    const targets = view.loggingTargets.map((t) => views.find((w) => w.names.includes(t)));
    if (targets.every((t) => t === undefined))
      return report(
        `logs access to ${view.loggingTargets.map((t) => JSON.stringify(t)).join(", ")}, which is not a bucket of this stack; log to the platform's log bucket`,
      );
    if (targets.some((t) => t === view)) report("logs access to itself, which S3 cannot deliver without a loop; log to the platform's log bucket");
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
    if (key.enableKeyRotation !== true)
      reportViolation(`${describe(args)}: enableKeyRotation is ${JSON.stringify(key.enableKeyRotation ?? null)}; set it to true`);
  }),
};

export const storagePolicies: PlatformPolicy[] = [
  s3KmsEncryption,
  s3PublicAccessBlocked,
  s3TlsOnly,
  s3DenyUploadsBypassingKey,
  s3Versioning,
  s3Lifecycle,
  s3AclsDisabled,
  s3AccessLogging,
  kmsKeyRotation,
].map((p) => ({ ...p, tags: controlTags(p.controls) }));
