import type * as aws from "@pulumi/aws";
import type { Unwrap } from "@pulumi/pulumi";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, expectTypeOf, it } from "vitest";
import type { EcrRepositoryProps, KmsKeyProps, LogGroupProps, MetricAlarmProps, SnsTopicProps } from "../infra/policy-pack/lib/types";
import { policies, TRAINING_JOB_RULES, type PlatformPolicy } from "../infra/policy-pack/policies";
import { ACTIONS_WITHOUT_RESOURCE_LEVEL_PERMISSIONS, isForbiddenManagedPolicy } from "../infra/policy-pack/lib/iam";
import { runResourcePolicy, runStackPolicy, urnOf, type FakeResource, type PolicyConfig } from "./helpers/policy-harness";

const policy = (name: string): PlatformPolicy => {
  const found = policies.find((p) => p.name === name);
  if (!found) throw new Error(`no policy ${name}`);
  return found;
};

const KEY = "arn:aws:kms:eu-west-1:123456789012:key/k1";
const ACCOUNT = "123456789012";

async function resourceMessages(name: string, resource: FakeResource, config: PolicyConfig = {}) {
  const outcome = await runResourcePolicy(policy(name), resource, config);
  return outcome.violations.map((v) => v.message);
}

async function stackMessages(name: string, resources: FakeResource[], config: PolicyConfig = {}) {
  const outcome = await runStackPolicy(policy(name), resources, config);
  return outcome.violations.map((v) => v.message);
}

describe("the pack", () => {
  it("names every policy uniquely and maps it to controls or says it has none", () => {
    expect(new Set(policies.map((p) => p.name)).size).toBe(policies.length);
    for (const p of policies) {
      expect(p.description.length, p.name).toBeGreaterThan(20);
      expect(p.tags ?? [], p.name).toEqual(p.controls.map((c) => c.id));
    }
  });
});

describe("the props the resource rules read", () => {
  /** Fields of `Props` that `Args` (the AWS SDK's) does not define: none, or a rule reads a misspelt field. */
  type Unknown<Props, Args> = Exclude<keyof Props, keyof Args>;

  it("are fields the AWS SDK defines, with the SDK's types (checked by tsc)", () => {
    expectTypeOf<Unknown<KmsKeyProps, aws.kms.KeyArgs>>().toEqualTypeOf<never>();
    expectTypeOf<Unwrap<aws.kms.KeyArgs>>().toExtend<KmsKeyProps>();
    expectTypeOf<Unknown<EcrRepositoryProps, aws.ecr.RepositoryArgs>>().toEqualTypeOf<never>();
    expectTypeOf<Unwrap<aws.ecr.RepositoryArgs>>().toExtend<EcrRepositoryProps>();
    expectTypeOf<Unknown<LogGroupProps, aws.cloudwatch.LogGroupArgs>>().toEqualTypeOf<never>();
    expectTypeOf<Unwrap<aws.cloudwatch.LogGroupArgs>>().toExtend<LogGroupProps>();
    expectTypeOf<Unknown<SnsTopicProps, aws.sns.TopicArgs>>().toEqualTypeOf<never>();
    expectTypeOf<Unwrap<aws.sns.TopicArgs>>().toExtend<SnsTopicProps>();
    expectTypeOf<Unknown<MetricAlarmProps, aws.cloudwatch.MetricAlarmArgs>>().toEqualTypeOf<never>();
    expectTypeOf<Unwrap<aws.cloudwatch.MetricAlarmArgs>>().toExtend<MetricAlarmProps>();
  });
});

describe("the README's rules table", () => {
  const readme = fs.readFileSync(path.join(__dirname, "..", "infra", "policy-pack", "README.md"), "utf8");
  const row = (name: string) => readme.split("\n").find((line) => line.startsWith(`| \`${name}\` |`));

  it.each([...policies, ...TRAINING_JOB_RULES].map((p) => [p.name, p.controls.map((c) => c.id)] as const))("lists %s with its control IDs %j", (name, ids) => {
    expect(row(name), `README row for ${name}`).toBeDefined();
    for (const id of ids) expect(row(name)).toContain(id);
  });
});

// --- S3 (stack policies over the bucket and its settings resources) -------------------------

const BUCKET = { type: "aws:s3/bucket:Bucket", name: "data", props: { id: "data-bkt", bucket: "data-bkt", arn: "arn:aws:s3:::data-bkt" } };
const bucketUrn = urnOf(BUCKET.type, BUCKET.name);
/** A settings resource that names the bucket the way the components do: by the bucket's output. */
const setting = (type: string, props: Record<string, unknown>, name = type.split(":").pop()!): FakeResource => ({
  type: `aws:s3/${type[0].toLowerCase()}${type.slice(1)}:${type}`,
  name,
  props: { bucket: "data-bkt", ...props },
  propertyDependencies: { bucket: [bucketUrn] },
});

const tlsPolicy = (arn: string, overrides: Record<string, unknown> = {}) =>
  JSON.stringify({
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "DenyInsecureTransport",
        Effect: "Deny",
        Principal: "*",
        Action: "s3:*",
        Resource: [arn, `${arn}/*`],
        Condition: { Bool: { "aws:SecureTransport": "false" } },
        ...overrides,
      },
    ],
  });

const GOOD_BUCKET: FakeResource[] = [
  BUCKET,
  setting("BucketServerSideEncryptionConfiguration", {
    rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms", kmsMasterKeyId: KEY }, bucketKeyEnabled: true }],
  }),
  setting("BucketPublicAccessBlock", { blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true }),
  setting("BucketVersioning", { versioningConfiguration: { status: "Enabled" } }),
  setting("BucketPolicy", { policy: tlsPolicy(BUCKET.props.arn) }),
  setting("BucketLifecycleConfiguration", { rules: [{ id: "housekeeping", status: "Enabled", abortIncompleteMultipartUpload: { daysAfterInitiation: 7 } }] }),
  setting("BucketOwnershipControls", { rule: { objectOwnership: "BucketOwnerEnforced" } }),
];

/** The good bucket with one settings resource replaced (or removed, with `undefined`). */
function bucketWith(type: string, props?: Record<string, unknown>): FakeResource[] {
  const others = GOOD_BUCKET.filter((r) => !r.type.endsWith(`:${type}`));
  return props === undefined ? others : [...others, setting(type, props)];
}

const S3_RULES = [
  "s3-bucket-kms-encryption",
  "s3-bucket-public-access-blocked",
  "s3-bucket-tls-only",
  "s3-bucket-versioning",
  "s3-bucket-lifecycle",
  "s3-bucket-acls-disabled",
];

describe("S3 buckets", () => {
  it.each(S3_RULES)("%s: passes a bucket with every guardrail", async (name) => {
    expect(await stackMessages(name, GOOD_BUCKET)).toEqual([]);
  });

  it.each(S3_RULES)("%s: does not apply to a stack without buckets", async (name) => {
    expect((await runStackPolicy(policy(name), [])).notApplicable).toBe("no S3 buckets in the stack");
  });

  it("finds a bucket's settings by value when the engine records no dependency (a literal bucket name)", async () => {
    const literal = GOOD_BUCKET.map((r) => ({ ...r, propertyDependencies: {} }));
    for (const name of S3_RULES) expect(await stackMessages(name, literal), name).toEqual([]);
  });

  it("does not credit a bucket with another bucket's settings", async () => {
    const other = { ...BUCKET, name: "other", props: { id: "other-bkt", bucket: "other-bkt", arn: "arn:aws:s3:::other-bkt" } };
    expect(await stackMessages("s3-bucket-versioning", [...GOOD_BUCKET, other])).toEqual([
      'Bucket "other": has no BucketVersioning; add one with versioningConfiguration.status "Enabled"',
    ]);
  });

  it.each([
    [
      "s3-bucket-kms-encryption",
      "BucketServerSideEncryptionConfiguration",
      undefined,
      'Bucket "data": has no BucketServerSideEncryptionConfiguration; add one with sseAlgorithm "aws:kms" and kmsMasterKeyId set to the platform key',
    ],
    [
      "s3-bucket-kms-encryption",
      "BucketServerSideEncryptionConfiguration",
      { rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } }] },
      'Bucket "data": default encryption is not SSE-KMS with a named key; set rules[].applyServerSideEncryptionByDefault to { sseAlgorithm: "aws:kms", kmsMasterKeyId: <key ARN> }',
    ],
    [
      "s3-bucket-kms-encryption",
      "BucketServerSideEncryptionConfiguration",
      { rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms" } }] },
      'Bucket "data": default encryption is not SSE-KMS with a named key; set rules[].applyServerSideEncryptionByDefault to { sseAlgorithm: "aws:kms", kmsMasterKeyId: <key ARN> }',
    ],
    [
      "s3-bucket-public-access-blocked",
      "BucketPublicAccessBlock",
      undefined,
      'Bucket "data": has no BucketPublicAccessBlock; add one with all four settings true',
    ],
    [
      "s3-bucket-public-access-blocked",
      "BucketPublicAccessBlock",
      { blockPublicAcls: true, blockPublicPolicy: false, ignorePublicAcls: true },
      'Bucket "data": public access block leaves blockPublicPolicy, restrictPublicBuckets off; all of blockPublicAcls, blockPublicPolicy, ignorePublicAcls, restrictPublicBuckets must be true',
    ],
    [
      "s3-bucket-tls-only",
      "BucketPolicy",
      undefined,
      'Bucket "data": has no bucket policy; add a BucketPolicy that denies s3:* to Principal "*" on the bucket and its objects when aws:SecureTransport is "false"',
    ],
    [
      "s3-bucket-tls-only",
      "BucketPolicy",
      { policy: tlsPolicy(BUCKET.props.arn, { Effect: "Allow" }) },
      'Bucket "data": bucket policy does not deny non-TLS requests: it needs a Deny of s3:* for Principal "*" on the bucket ARN and <ARN>/* with Condition Bool aws:SecureTransport "false"',
    ],
    [
      "s3-bucket-tls-only",
      "BucketPolicy",
      { policy: tlsPolicy(BUCKET.props.arn, { Resource: `${BUCKET.props.arn}/*` }) },
      'Bucket "data": bucket policy does not deny non-TLS requests: it needs a Deny of s3:* for Principal "*" on the bucket ARN and <ARN>/* with Condition Bool aws:SecureTransport "false"',
    ],
    [
      "s3-bucket-versioning",
      "BucketVersioning",
      { versioningConfiguration: { status: "Suspended" } },
      'Bucket "data": versioning status is "Suspended"; it must be "Enabled"',
    ],
    [
      "s3-bucket-lifecycle",
      "BucketLifecycleConfiguration",
      undefined,
      'Bucket "data": has no enabled lifecycle rule; add a BucketLifecycleConfiguration (noncurrent-version expiry, multipart-upload abort)',
    ],
    [
      "s3-bucket-lifecycle",
      "BucketLifecycleConfiguration",
      { rules: [{ id: "expire", status: "Enabled", expiration: { days: 30 } }] },
      'Bucket "data": no enabled lifecycle rule aborts incomplete multipart uploads; add abortIncompleteMultipartUpload.daysAfterInitiation',
    ],
    [
      "s3-bucket-acls-disabled",
      "BucketOwnershipControls",
      { rule: { objectOwnership: "ObjectWriter" } },
      'Bucket "data": object ownership is "ObjectWriter"; it must be "BucketOwnerEnforced"',
    ],
  ])("%s: flags %s %j", async (name, type, props, message) => {
    const violations = (await runStackPolicy(policy(name), bucketWith(type, props as Record<string, unknown> | undefined))).violations;
    expect(violations).toEqual([{ message, urn: bucketUrn }]);
  });

  it("accepts SSE-KMS and versioning reported on the bucket itself (after a refresh)", async () => {
    const bucket = {
      ...BUCKET,
      props: {
        ...BUCKET.props,
        serverSideEncryptionConfiguration: { rule: { applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms", kmsMasterKeyId: KEY } } },
        versioning: { enabled: true },
      },
    };
    const rest = GOOD_BUCKET.slice(1).filter((r) => !/Encryption|Versioning/.test(r.type));
    expect(await stackMessages("s3-bucket-kms-encryption", [bucket, ...rest])).toEqual([]);
    expect(await stackMessages("s3-bucket-versioning", [bucket, ...rest])).toEqual([]);
  });
});

// --- KMS ---------------------------------------------------------------------------------------

describe("KMS keys", () => {
  it.each([
    [{ enableKeyRotation: true }, []],
    [{ enableKeyRotation: false }, ['Key "key": enableKeyRotation is false; set it to true']],
    [{}, ['Key "key": enableKeyRotation is null; set it to true']],
  ])("kms-key-rotation: %j", async (props, expected) => {
    expect(await resourceMessages("kms-key-rotation", { type: "aws:kms/key:Key", name: "key", props })).toEqual(expected);
  });

  it("kms-key-rotation: does not apply to asymmetric keys, which cannot rotate", async () => {
    const outcome = await runResourcePolicy(policy("kms-key-rotation"), { type: "aws:kms/key:Key", props: { customerMasterKeySpec: "RSA_2048" } });
    expect(outcome).toEqual({ violations: [], notApplicable: "key spec RSA_2048 does not support automatic rotation" });
  });
});

// --- ECR ---------------------------------------------------------------------------------------

const GOOD_REPO = {
  imageTagMutability: "IMMUTABLE",
  imageScanningConfiguration: { scanOnPush: true },
  encryptionConfigurations: [{ encryptionType: "KMS", kmsKey: KEY }],
};
const repo = (props: Record<string, unknown>): FakeResource => ({ type: "aws:ecr/repository:Repository", name: "images", props: { ...GOOD_REPO, ...props } });

describe("ECR repositories", () => {
  it.each(["ecr-scan-on-push", "ecr-immutable-tags", "ecr-kms-encryption"])("%s: passes a hardened repository", async (name) => {
    expect(await resourceMessages(name, repo({}))).toEqual([]);
  });

  it.each([
    [
      "ecr-scan-on-push",
      { imageScanningConfiguration: { scanOnPush: false } },
      'Repository "images": imageScanningConfiguration.scanOnPush is false; set it to true',
    ],
    ["ecr-scan-on-push", { imageScanningConfiguration: undefined }, 'Repository "images": imageScanningConfiguration.scanOnPush is null; set it to true'],
    ["ecr-immutable-tags", { imageTagMutability: "MUTABLE" }, 'Repository "images": imageTagMutability is "MUTABLE"; set it to "IMMUTABLE"'],
    [
      "ecr-immutable-tags",
      { imageTagMutability: "IMMUTABLE_WITH_EXCLUSION" },
      'Repository "images": imageTagMutability is "IMMUTABLE_WITH_EXCLUSION"; set it to "IMMUTABLE"',
    ],
    [
      "ecr-kms-encryption",
      { encryptionConfigurations: undefined },
      'Repository "images": encryptionConfigurations[].encryptionType is "AES256"; set it to "KMS" with the platform key',
    ],
  ])("%s: flags %j", async (name, props, message) => {
    expect(await resourceMessages(name, repo(props))).toEqual([message]);
  });

  const repoResource: FakeResource = { type: "aws:ecr/repository:Repository", name: "images", props: { name: "images-abc", ...GOOD_REPO } };
  const lifecycle: FakeResource = {
    type: "aws:ecr/lifecyclePolicy:LifecyclePolicy",
    name: "images-lifecycle",
    props: { repository: "images-abc", policy: JSON.stringify({ rules: [{ rulePriority: 1, action: { type: "expire" } }] }) },
  };

  it("ecr-lifecycle-policy: passes a repository with an expiring lifecycle policy", async () => {
    expect(await stackMessages("ecr-lifecycle-policy", [repoResource, lifecycle])).toEqual([]);
  });

  it("ecr-lifecycle-policy: flags a repository without one", async () => {
    expect(await stackMessages("ecr-lifecycle-policy", [repoResource])).toEqual([
      'Repository "images": has no ECR LifecyclePolicy with at least one rule; add one that expires untagged images',
    ]);
  });
});

// --- IAM ---------------------------------------------------------------------------------------

const doc = (...Statement: Array<Record<string, unknown>>) => JSON.stringify({ Version: "2012-10-17", Statement });
const rolePolicy = (...statements: Array<Record<string, unknown>>): FakeResource => ({
  type: "aws:iam/rolePolicy:RolePolicy",
  name: "perms",
  props: { role: "r", policy: doc(...statements) },
});

describe("IAM policies", () => {
  const scoped = { Sid: "ReadDatasets", Effect: "Allow", Action: "s3:GetObject", Resource: "arn:aws:s3:::data-bkt/datasets/*" };

  it.each(["iam-no-wildcard-actions", "iam-no-wildcard-resource"])("%s: passes scoped statements", async (name) => {
    expect(await resourceMessages(name, rolePolicy(scoped, { Effect: "Allow", Action: "s3:GetObjectVersion", Resource: "arn:aws:s3:::data-bkt/*" }))).toEqual(
      [],
    );
  });

  it.each([
    [{ Sid: "Admin", Effect: "Allow", Action: "*", Resource: "*" }, 'RolePolicy "perms": policy statement "Admin" allows "*"; list the actions the role needs'],
    [
      { Sid: "AllOfS3", Effect: "Allow", Action: ["s3:GetObject", "s3:*"], Resource: "arn:aws:s3:::b/*" },
      'RolePolicy "perms": policy statement "AllOfS3" allows "s3:*"; list the actions the role needs',
    ],
    [
      { Effect: "Allow", NotAction: "iam:*", Resource: "arn:aws:s3:::b/*" },
      'RolePolicy "perms": policy statement #1 uses NotAction with Allow, which grants every other action; list the allowed actions instead',
    ],
  ])("iam-no-wildcard-actions: flags %j", async (statement, message) => {
    expect(await resourceMessages("iam-no-wildcard-actions", rolePolicy(statement))).toEqual([message]);
  });

  it("iam-no-wildcard-actions: ignores wildcards in Deny statements, and checks roles' inline policies and customer managed policies", async () => {
    expect(await resourceMessages("iam-no-wildcard-actions", rolePolicy({ Effect: "Deny", Action: "*", Resource: "*" }))).toEqual([]);
    const role: FakeResource = {
      type: "aws:iam/role:Role",
      name: "role",
      props: { inlinePolicies: [{ name: "inline", policy: doc({ Sid: "All", Effect: "Allow", Action: "sagemaker:*", Resource: "*" }) }] },
    };
    expect(await resourceMessages("iam-no-wildcard-actions", role)).toEqual([
      'Role "role": inlinePolicies[0] (inline) statement "All" allows "sagemaker:*"; list the actions the role needs',
    ]);
    const managed: FakeResource = { type: "aws:iam/policy:Policy", name: "managed", props: { policy: doc({ Effect: "Allow", Action: "*", Resource: "*" }) } };
    expect(await resourceMessages("iam-no-wildcard-actions", managed)).toEqual([
      'Policy "managed": policy statement #1 allows "*"; list the actions the role needs',
    ]);
  });

  it('iam-no-wildcard-resource: allows "*" for exactly the actions IAM cannot scope (the execution role\'s two)', async () => {
    const statements = [
      { Sid: "AuthenticateToEcr", Effect: "Allow", Action: "ecr:GetAuthorizationToken", Resource: "*" },
      {
        Sid: "PublishSageMakerMetrics",
        Effect: "Allow",
        Action: "cloudwatch:PutMetricData",
        Resource: "*",
        Condition: { StringLike: { "cloudwatch:namespace": "/aws/sagemaker/*" } },
      },
    ];
    expect(await resourceMessages("iam-no-wildcard-resource", rolePolicy(...statements))).toEqual([]);
    expect([...ACTIONS_WITHOUT_RESOURCE_LEVEL_PERMISSIONS]).toEqual(expect.arrayContaining(["ecr:GetAuthorizationToken", "cloudwatch:PutMetricData"]));
  });

  it.each([
    [
      { Sid: "Writes", Effect: "Allow", Action: ["s3:PutObject", "ecr:GetAuthorizationToken"], Resource: "*" },
      'RolePolicy "perms": policy statement "Writes" allows "s3:PutObject" on Resource "*"; name the resources (only actions without resource-level permissions, such as ecr:GetAuthorizationToken and cloudwatch:PutMetricData, may use "*")',
    ],
    [
      { Sid: "Reads", Effect: "Allow", Action: "s3:GetObject", Resource: ["arn:aws:s3:::b/*", "*"] },
      'RolePolicy "perms": policy statement "Reads" allows "s3:GetObject" on Resource "*"; name the resources (only actions without resource-level permissions, such as ecr:GetAuthorizationToken and cloudwatch:PutMetricData, may use "*")',
    ],
    [
      { Sid: "Inverse", Effect: "Allow", Action: "s3:GetObject", NotResource: "arn:aws:s3:::secret/*" },
      'RolePolicy "perms": policy statement "Inverse" uses NotResource with Allow, which grants the actions on every other resource; list the resources instead',
    ],
  ])("iam-no-wildcard-resource: flags %j", async (statement, message) => {
    expect(await resourceMessages("iam-no-wildcard-resource", rolePolicy(statement))).toEqual([message]);
  });

  it.each([
    ["arn:aws:iam::aws:policy/AmazonSageMakerFullAccess", true],
    ["arn:aws:iam::aws:policy/AdministratorAccess", true],
    ["arn:aws:iam::aws:policy/service-role/AmazonSageMakerServiceCatalogProductsFullAccess", true],
    ["arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess", false],
    [`arn:aws:iam::${ACCOUNT}:policy/MyTeamFullAccess`, false],
  ])("isForbiddenManagedPolicy(%s) is %s", (arn, forbidden) => {
    expect(isForbiddenManagedPolicy(arn)).toBe(forbidden);
  });

  it("iam-no-full-access-managed-policies: passes a role with no managed policies and flags FullAccess attachments", async () => {
    expect(await resourceMessages("iam-no-full-access-managed-policies", { type: "aws:iam/role:Role", name: "role", props: {} })).toEqual([]);
    expect(
      await resourceMessages("iam-no-full-access-managed-policies", {
        type: "aws:iam/role:Role",
        name: "role",
        props: { managedPolicyArns: ["arn:aws:iam::aws:policy/AmazonSageMakerFullAccess"] },
      }),
    ).toEqual([
      'Role "role": managedPolicyArns attaches the AWS managed policy arn:aws:iam::aws:policy/AmazonSageMakerFullAccess; grant only the actions needed with a scoped policy',
    ]);
    expect(
      await resourceMessages("iam-no-full-access-managed-policies", {
        type: "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
        name: "attach",
        props: { role: "r", policyArn: "arn:aws:iam::aws:policy/AdministratorAccess" },
      }),
    ).toEqual([
      'RolePolicyAttachment "attach": policyArn attaches the AWS managed policy arn:aws:iam::aws:policy/AdministratorAccess; grant only the actions needed with a scoped policy',
    ]);
  });
});

// --- SageMaker -----------------------------------------------------------------------------------

const INSTANCE_VARIANT = { variantName: "primary", modelName: "model-abc", instanceType: "ml.c6i.xlarge", initialInstanceCount: 2, initialVariantWeight: 1 };
const SERVERLESS_VARIANT = { variantName: "primary", modelName: "model-abc", serverlessConfig: { memorySizeInMb: 2048, maxConcurrency: 5 } };
const CAPTURE = {
  enableCapture: true,
  initialSamplingPercentage: 20,
  destinationS3Uri: "s3://artifacts/data-capture/",
  kmsKeyId: KEY,
  captureOptions: [{ captureMode: "Input" }],
};
const PROD_TAGS = { defaultTags: JSON.stringify({ tags: { environment: "prod" } }) };
const endpointConfig = (props: Record<string, unknown>, providerProps?: Record<string, unknown>): FakeResource => ({
  type: "aws:sagemaker/endpointConfiguration:EndpointConfiguration",
  name: "config",
  props: { productionVariants: [INSTANCE_VARIANT], kmsKeyArn: KEY, dataCaptureConfig: CAPTURE, ...props },
  providerProps,
});

describe("SageMaker endpoint configurations", () => {
  it("sagemaker-endpoint-config-kms: passes an instance-based config with a key, and flags one without", async () => {
    expect(await resourceMessages("sagemaker-endpoint-config-kms", endpointConfig({}))).toEqual([]);
    expect(await resourceMessages("sagemaker-endpoint-config-kms", endpointConfig({ kmsKeyArn: undefined }))).toEqual([
      'EndpointConfiguration "config": kmsKeyArn is not set but variant "primary" (ml.c6i.xlarge) run on instances; set kmsKeyArn to the platform key',
    ]);
  });

  it.each([
    [[SERVERLESS_VARIANT], "serverless variants only: they have no ML storage volume and SageMaker rejects a KmsKeyId"],
    [[{ ...INSTANCE_VARIANT, instanceType: "ml.g5.xlarge" }], "instance types with local NVMe storage only (hardware-encrypted; SageMaker rejects a KmsKeyId)"],
    [[{ ...INSTANCE_VARIANT, instanceType: "ml.m5d.large" }], "instance types with local NVMe storage only (hardware-encrypted; SageMaker rejects a KmsKeyId)"],
  ])("sagemaker-endpoint-config-kms: does not demand a key SageMaker rejects (%j)", async (variants, reason) => {
    const outcome = await runResourcePolicy(policy("sagemaker-endpoint-config-kms"), endpointConfig({ productionVariants: variants, kmsKeyArn: undefined }));
    expect(outcome).toEqual({ violations: [], notApplicable: reason });
  });

  it("sagemaker-data-capture-kms: flags captured data without a key, in any environment", async () => {
    expect(await resourceMessages("sagemaker-data-capture-kms", endpointConfig({}))).toEqual([]);
    expect(await resourceMessages("sagemaker-data-capture-kms", endpointConfig({ dataCaptureConfig: { ...CAPTURE, kmsKeyId: undefined } }))).toEqual([
      'EndpointConfiguration "config": dataCaptureConfig.kmsKeyId is not set; captured payloads are customer data: encrypt them with the platform key',
    ]);
  });

  it("sagemaker-prod-data-capture: requires capture in production, recognised by tag or by config", async () => {
    const off = { dataCaptureConfig: undefined };
    const message =
      'EndpointConfiguration "config": data capture is off in production; set dataCaptureConfig with enableCapture true, a destination and a KMS key';
    expect(await resourceMessages("sagemaker-prod-data-capture", endpointConfig({}, PROD_TAGS))).toEqual([]);
    expect(await resourceMessages("sagemaker-prod-data-capture", endpointConfig(off, PROD_TAGS))).toEqual([message]);
    expect(await resourceMessages("sagemaker-prod-data-capture", endpointConfig(off), { "sagemaker-prod-data-capture": { production: true } })).toEqual([
      message,
    ]);
    expect(
      await resourceMessages("sagemaker-prod-data-capture", endpointConfig({ tags: { stage: "live" }, ...off }), {
        "sagemaker-prod-data-capture": { environmentTagKey: "stage", productionTagValues: ["live"] },
      }),
    ).toEqual([message]);
    expect(
      await resourceMessages("sagemaker-prod-data-capture", endpointConfig({ dataCaptureConfig: { ...CAPTURE, initialSamplingPercentage: 0 } }, PROD_TAGS)),
    ).toEqual(['EndpointConfiguration "config": dataCaptureConfig.initialSamplingPercentage is 0; production must capture a share above 0']);
  });

  it("sagemaker-prod-data-capture: does not apply outside production", async () => {
    const outcome = await runResourcePolicy(
      policy("sagemaker-prod-data-capture"),
      endpointConfig({ dataCaptureConfig: undefined }, { defaultTags: JSON.stringify({ tags: { environment: "staging" } }) }),
    );
    expect(outcome).toEqual({ violations: [], notApplicable: "not a production stack" });
  });

  it("sagemaker-prod-high-availability: requires two instances per production variant and a scaling floor of two", async () => {
    expect(await resourceMessages("sagemaker-prod-high-availability", endpointConfig({}, PROD_TAGS))).toEqual([]);
    expect(
      await resourceMessages(
        "sagemaker-prod-high-availability",
        endpointConfig({ productionVariants: [{ ...INSTANCE_VARIANT, initialInstanceCount: 1 }] }, PROD_TAGS),
      ),
    ).toEqual([
      'EndpointConfiguration "config": variant "primary" initialInstanceCount is 1; production needs at least 2 (SageMaker spreads them over Availability Zones)',
    ]);
    const target = (minCapacity: number): FakeResource => ({
      type: "aws:appautoscaling/target:Target",
      name: "scaling",
      providerProps: PROD_TAGS,
      props: {
        serviceNamespace: "sagemaker",
        scalableDimension: "sagemaker:variant:DesiredInstanceCount",
        resourceId: "endpoint/flight-delays-prod/variant/primary",
        minCapacity,
        maxCapacity: 8,
      },
    });
    expect(await resourceMessages("sagemaker-prod-high-availability", target(2))).toEqual([]);
    expect(await resourceMessages("sagemaker-prod-high-availability", target(1))).toEqual([
      'Target "scaling": minCapacity is 1; a production variant must not scale below 2 instances',
    ]);
    expect(
      await resourceMessages("sagemaker-prod-high-availability", endpointConfig({}, PROD_TAGS), { "sagemaker-prod-high-availability": { minInstances: 3 } }),
    ).toEqual([
      'EndpointConfiguration "config": variant "primary" initialInstanceCount is 2; production needs at least 3 (SageMaker spreads them over Availability Zones)',
    ]);
  });
});

describe("SageMaker models", () => {
  const model = (enableNetworkIsolation: boolean | undefined): FakeResource => ({
    type: "aws:sagemaker/model:Model",
    name: "model",
    props: { name: "model-abc", enableNetworkIsolation },
  });
  const config = (variant: Record<string, unknown>): FakeResource => ({
    type: "aws:sagemaker/endpointConfiguration:EndpointConfiguration",
    name: "config",
    props: { productionVariants: [variant] },
  });

  it("sagemaker-model-network-isolation: passes an isolated model", async () => {
    expect(await stackMessages("sagemaker-model-network-isolation", [model(true), config(INSTANCE_VARIANT)])).toEqual([]);
  });

  it("sagemaker-model-network-isolation: exempts a model served only by serverless variants", async () => {
    expect(await stackMessages("sagemaker-model-network-isolation", [model(false), config(SERVERLESS_VARIANT)])).toEqual([]);
  });

  it("sagemaker-model-network-isolation: finds the serving variants through the engine's dependencies when names are not known yet", async () => {
    const pending: FakeResource = {
      ...config({ ...INSTANCE_VARIANT, modelName: undefined }),
      propertyDependencies: { productionVariants: [urnOf("aws:sagemaker/model:Model", "model")] },
    };
    expect(await stackMessages("sagemaker-model-network-isolation", [model(false), pending])).toHaveLength(1);
    const serverless: FakeResource = { ...config({ ...SERVERLESS_VARIANT, modelName: undefined }), propertyDependencies: pending.propertyDependencies };
    expect(await stackMessages("sagemaker-model-network-isolation", [model(false), serverless])).toEqual([]);
  });

  it.each([
    [
      [config(INSTANCE_VARIANT)],
      'Model "model": enableNetworkIsolation is false and it is served by instance-based variant(s) "primary"; set enableNetworkIsolation to true (only serverless-only models may leave it off)',
    ],
    [
      [],
      'Model "model": enableNetworkIsolation is false and no endpoint configuration in the stack serves it; set enableNetworkIsolation to true (only serverless-only models may leave it off)',
    ],
  ])("sagemaker-model-network-isolation: flags a model without isolation (%#)", async (configs, message) => {
    expect(await stackMessages("sagemaker-model-network-isolation", [model(false), ...configs])).toEqual([message]);
  });
});

// --- Logs, topics, alarms --------------------------------------------------------------------------

describe("logs, topics and alarms", () => {
  const logGroup = (props: Record<string, unknown>): FakeResource => ({
    type: "aws:cloudwatch/logGroup:LogGroup",
    name: "logs",
    props: { retentionInDays: 30, kmsKeyId: KEY, ...props },
  });

  it("cloudwatch-log-group-retention-kms: passes a retained, encrypted group", async () => {
    expect(await resourceMessages("cloudwatch-log-group-retention-kms", logGroup({}))).toEqual([]);
  });

  it.each([
    [
      { retentionInDays: undefined },
      {},
      'LogGroup "logs": retentionInDays is not set (events are kept forever); set one of CloudWatch Logs\' retention periods',
    ],
    [{}, { "cloudwatch-log-group-retention-kms": { minRetentionDays: 365 } }, 'LogGroup "logs": retentionInDays is 30; this stack requires at least 365'],
    [{ kmsKeyId: undefined }, {}, 'LogGroup "logs": kmsKeyId is not set; encrypt the log group with the platform key'],
  ])("cloudwatch-log-group-retention-kms: flags %j (config %j)", async (props, config, message) => {
    expect(await resourceMessages("cloudwatch-log-group-retention-kms", logGroup(props), config)).toEqual([message]);
  });

  it("sns-topic-kms: passes an encrypted topic and flags a plain one", async () => {
    expect(await resourceMessages("sns-topic-kms", { type: "aws:sns/topic:Topic", name: "alarms", props: { kmsMasterKeyId: KEY } })).toEqual([]);
    expect(await resourceMessages("sns-topic-kms", { type: "aws:sns/topic:Topic", name: "alarms", props: {} })).toEqual([
      'Topic "alarms": kmsMasterKeyId is not set; encrypt the topic with the platform key',
    ]);
  });

  it("cloudwatch-alarm-actions: passes an alarm that notifies, and flags a silent or disabled one", async () => {
    const alarm = (props: Record<string, unknown>): FakeResource => ({
      type: "aws:cloudwatch/metricAlarm:MetricAlarm",
      name: "errors",
      props: { alarmActions: ["arn:aws:sns:eu-west-1:1:topic"], ...props },
    });
    expect(await resourceMessages("cloudwatch-alarm-actions", alarm({}))).toEqual([]);
    expect(await resourceMessages("cloudwatch-alarm-actions", alarm({ alarmActions: [] }))).toEqual([
      'MetricAlarm "errors": alarmActions is empty; notify the stack\'s alarm topic',
    ]);
    expect(await resourceMessages("cloudwatch-alarm-actions", alarm({ actionsEnabled: false }))).toEqual([
      'MetricAlarm "errors": actionsEnabled is false; alarms must act',
    ]);
  });
});

// --- Tags ----------------------------------------------------------------------------------------------

describe("required tags", () => {
  const ALL = { owner: "team", costCenter: "CC-1", stack: "prod", project: "mlPlatform", managedBy: "pulumi" };

  it("passes taggable resources carrying every required tag and ignores untaggable ones", async () => {
    expect(
      await stackMessages("required-tags", [
        { type: "aws:s3/bucket:Bucket", name: "b", props: { tagsAll: ALL } },
        { type: "aws:s3/bucketPolicy:BucketPolicy", name: "p", props: { policy: "{}" } },
      ]),
    ).toEqual([]);
  });

  it("flags a resource whose tags miss or blank a required key", async () => {
    const { owner: _owner, ...noOwner } = ALL;
    expect(await stackMessages("required-tags", [{ type: "aws:s3/bucket:Bucket", name: "b", props: { tagsAll: { ...noOwner, costCenter: "" } } }])).toEqual([
      "Bucket \"b\": missing required tags owner, costCenter; set them in the stack's mlPlatform:tags (applied as the provider's default tags)",
    ]);
  });

  it("takes the required keys from the policy config", async () => {
    expect(
      await stackMessages("required-tags", [{ type: "aws:s3/bucket:Bucket", name: "b", props: { tagsAll: ALL } }], {
        "required-tags": { requiredTagKeys: ["dataClassification"] },
      }),
    ).toEqual(["Bucket \"b\": missing required tag dataClassification; set them in the stack's mlPlatform:tags (applied as the provider's default tags)"]);
  });
});
