// Issue 14: violating resources written the way a careless or hostile change would write them.
// Each rule gets a passing and a violating case for every resource shape it covers: classic and
// V2 S3 types, aws-native types, documents as JSON strings or objects, strings or arrays.
import { describe, expect, it } from "vitest";
import { arnWildcardProblem, customerKeyProblem } from "../infra/policy-pack/lib/documents";
import { isWildcardAction } from "../infra/policy-pack/lib/iam";
import { policies, type PlatformPolicy } from "../infra/policy-pack/policies";
import { runResourcePolicy, runStackPolicy, urnOf, type FakeResource, type PolicyConfig } from "./helpers/policy-harness";

const policy = (name: string): PlatformPolicy => {
  const found = policies.find((p) => p.name === name);
  if (!found) throw new Error(`no policy ${name}`);
  return found;
};
const onResource = async (name: string, resource: FakeResource, config: PolicyConfig = {}) =>
  (await runResourcePolicy(policy(name), resource, config)).violations.map((v) => v.message);
const onStack = async (name: string, resources: FakeResource[], config: PolicyConfig = {}) =>
  (await runStackPolicy(policy(name), resources, config)).violations.map((v) => v.message);

const ACCOUNT = "123456789012";
const FOREIGN = "999988887777";
const KEY = `arn:aws:kms:eu-west-1:${ACCOUNT}:key/k1`;
const AWS_S3_KEY = "alias/aws/s3";
const ROOT = `arn:aws:iam::${ACCOUNT}:root`;
/** A resource of this account, so the stack policies know which account is home. */
const HOME_ROLE: FakeResource = { type: "aws:iam/role:Role", name: "home", props: { arn: `arn:aws:iam::${ACCOUNT}:role/home` } };

const doc = (...Statement: Array<Record<string, unknown>>) => ({ Version: "2012-10-17", Statement });
const json = (...Statement: Array<Record<string, unknown>>) => JSON.stringify(doc(...Statement));

describe("lib: actions, ARNs and keys", () => {
  it.each([
    ["*", true],
    ["s3:*", true],
    ["iam:Put*", true],
    ["s3:Get?bject", true],
    ["s3:GetObject", false],
  ])("isWildcardAction(%s) is %s", (action, wild) => {
    expect(isWildcardAction(action)).toBe(wild);
  });

  it.each([
    ["arn:aws:s3:::*/*", "has a wildcard for the whole resource name"],
    ["arn:aws:kms:*:*:key/*", "has a wildcard in its region"],
    [`arn:aws:kms:eu-west-1:*:key/k1`, "has a wildcard in its account"],
    ["arn:*", "is not an ARN but contains a wildcard"],
    ["arn:aws:s*:::bkt", "has a wildcard in its service"],
    [`arn:aws:kms:eu-west-1:${ACCOUNT}:key/*`, "has a wildcard for the whole resource name"],
    [`arn:aws:iam::${ACCOUNT}:*/admin`, "has a wildcard in its resource type"],
    [`arn:aws:iam::${ACCOUNT}:role/a*b`, "has a wildcard inside a resource name segment"],
    [`arn:aws:logs:eu-west-1:${ACCOUNT}:log-group:/*`, "has a wildcard for the whole resource name"],
  ])("arnWildcardProblem flags %s", (arn, problem) => {
    expect(arnWildcardProblem(arn)).toContain(problem);
  });

  it.each([
    "*",
    "arn:aws:s3:::bkt/datasets/*",
    "arn:aws:s3:::bkt/*",
    `arn:aws:sagemaker:eu-west-1:${ACCOUNT}:training-job/flight-delays-prod*`,
    `arn:aws:logs:eu-west-1:${ACCOUNT}:log-group:/aws/sagemaker/*:log-stream:*`,
    `arn:aws:sagemaker:eu-west-1:${ACCOUNT}:model-package/flight-delays-dev/*`,
  ])("arnWildcardProblem allows the least-privilege prefix %s", (arn) => {
    expect(arnWildcardProblem(arn)).toBeUndefined();
  });

  it.each([
    [undefined, "no KMS key is named"],
    ["", "no KMS key is named"],
    ["alias/aws/sns", "AWS managed key"],
    [`arn:aws:kms:eu-west-1:${ACCOUNT}:alias/aws/s3`, "AWS managed key"],
  ])("customerKeyProblem(%j)", (key, problem) => {
    expect(customerKeyProblem(key)).toContain(problem);
  });

  it("customerKeyProblem accepts a customer key by ARN or by the platform's alias", () => {
    expect(customerKeyProblem(KEY)).toBeUndefined();
    expect(customerKeyProblem("alias/ml-platform-prod-abc")).toBeUndefined();
  });
});

// --- one statement, every document-carrying shape ----------------------------------------------

/** The statement placed in each resource shape that carries that kind of document. */
const identityShapes = (s: Record<string, unknown>): FakeResource[] => [
  { type: "aws:iam/rolePolicy:RolePolicy", name: "role-policy", props: { role: "r", policy: json(s) } },
  { type: "aws:iam/policy:Policy", name: "managed", props: { policy: json(s) } },
  { type: "aws:iam/userPolicy:UserPolicy", name: "user-policy", props: { user: "u", policy: json(s) } },
  {
    type: "aws:iam/role:Role",
    name: "inline",
    props: {
      assumeRolePolicy: json({
        Effect: "Allow",
        Principal: { Service: "sagemaker.amazonaws.com" },
        Action: "sts:AssumeRole",
        Condition: { StringEquals: { "aws:SourceAccount": ACCOUNT }, ArnLike: { "aws:SourceArn": `arn:aws:sagemaker:eu-west-1:${ACCOUNT}:training-job/x*` } },
      }),
      inlinePolicies: [{ name: "p", policy: json(s) }],
    },
  },
  // aws-native takes the document as an object, and a Statement may be a single object.
  { type: "aws-native:iam:Role", name: "native-role", props: { policies: [{ policyName: "p", policyDocument: { Version: "2012-10-17", Statement: s } }] } },
  { type: "aws-native:iam:ManagedPolicy", name: "native-managed", props: { policyDocument: doc(s) } },
  { type: "aws-native:iam:RolePolicy", name: "native-role-policy", props: { roleName: "r", policyDocument: doc(s) } },
];
const resourceShapes = (s: Record<string, unknown>): FakeResource[] => [
  { type: "aws:s3/bucketPolicy:BucketPolicy", name: "bucket-policy", props: { bucket: "b", policy: json(s) } },
  { type: "aws:s3/bucketV2:BucketV2", name: "bucket-v2", props: { policy: json(s) } },
  { type: "aws-native:s3:BucketPolicy", name: "native-bucket-policy", props: { bucket: "b", policyDocument: doc(s) } },
  { type: "aws:kms/key:Key", name: "key", props: { policy: json(s) } },
  { type: "aws:kms/keyPolicy:KeyPolicy", name: "key-policy", props: { keyId: "k", policy: json(s) } },
  { type: "aws-native:kms:Key", name: "native-key", props: { keyPolicy: doc(s) } },
  { type: "aws:ecr/repositoryPolicy:RepositoryPolicy", name: "repo-policy", props: { repository: "r", policy: json(s) } },
  { type: "aws-native:ecr:Repository", name: "native-repo", props: { repositoryPolicyText: doc(s) } },
  { type: "aws:sns/topicPolicy:TopicPolicy", name: "topic-policy", props: { arn: "t", policy: json(s) } },
  { type: "aws:sns/topic:Topic", name: "topic", props: { policy: json(s) } },
  { type: "aws-native:sns:TopicPolicy", name: "native-topic-policy", props: { topics: ["t"], policyDocument: doc(s) } },
];

const shapeName = (r: FakeResource) => `${r.type} ${r.name}`;

describe("iam-no-wildcard-actions, in every document shape", () => {
  const wild = { Sid: "Wild", Effect: "Allow", Principal: { AWS: ROOT }, Action: ["s3:GetObject", "iam:Put*"], Resource: "arn:aws:s3:::bkt/datasets/*" };
  const scoped = { ...wild, Sid: "Scoped", Action: "s3:GetObject" };

  it.each([...identityShapes(wild), ...resourceShapes(wild)].map((r) => [shapeName(r), r] as const))(
    "flags an action prefix in %s",
    async (_name, resource) => {
      const messages = await onResource("iam-no-wildcard-actions", resource);
      expect(messages).toHaveLength(1);
      expect(messages[0]).toContain('statement "Wild" allows "iam:Put*"');
    },
  );

  it.each([...identityShapes(scoped), ...resourceShapes(scoped)].map((r) => [shapeName(r), r] as const))(
    "passes a listed action in %s",
    async (_name, resource) => {
      expect(await onResource("iam-no-wildcard-actions", resource)).toEqual([]);
    },
  );

  it("flags the key policy's kms:* (administration and use at once)", async () => {
    const messages = await onResource("iam-no-wildcard-actions", {
      type: "aws:kms/key:Key",
      name: "key",
      props: { policy: json({ Sid: "Root", Effect: "Allow", Principal: { AWS: ROOT }, Action: "kms:*", Resource: "*" }) },
    });
    expect(messages).toEqual(['Key "key": policy statement "Root" allows "kms:*"; list the actions the role needs']);
  });
});

describe("iam-no-wildcard-resource, in every document shape", () => {
  const everyBucket = {
    Sid: "AnyBucket",
    Effect: "Allow",
    Principal: { AWS: ROOT },
    Action: "s3:GetObject",
    Resource: ["arn:aws:s3:::bkt/datasets/*", "arn:aws:s3:::*/*"],
  };
  const prefix = { ...everyBucket, Sid: "Prefix", Resource: "arn:aws:s3:::bkt/datasets/*" };

  it.each([...identityShapes(everyBucket), ...resourceShapes(everyBucket)].map((r) => [shapeName(r), r] as const))(
    "flags arn:aws:s3:::*/* in %s",
    async (_name, resource) => {
      expect(await onResource("iam-no-wildcard-resource", resource)).toEqual([
        expect.stringContaining('statement "AnyBucket": "arn:aws:s3:::*/*" has a wildcard for the whole resource name'),
      ]);
    },
  );

  it.each([...identityShapes(prefix), ...resourceShapes(prefix)].map((r) => [shapeName(r), r] as const))(
    "passes a key-prefix wildcard in %s",
    async (_name, resource) => {
      expect(await onResource("iam-no-wildcard-resource", resource)).toEqual([]);
    },
  );

  it.each([
    [{ Sid: "AllKeys", Effect: "Allow", Action: "kms:Decrypt", Resource: "arn:aws:kms:*:*:key/*" }, "has a wildcard in its region"],
    [{ Sid: "Everything", Effect: "Allow", Action: "s3:GetObject", Resource: "arn:*" }, "is not an ARN but contains a wildcard"],
    [{ Sid: "Inverse", Effect: "Allow", Action: "s3:GetObject", NotResource: "arn:aws:s3:::secret/*" }, "uses NotResource with Allow"],
  ])("flags %j in a managed policy", async (statement, problem) => {
    expect(await onResource("iam-no-wildcard-resource", { type: "aws:iam/policy:Policy", name: "p", props: { policy: json(statement) } })).toEqual([
      expect.stringContaining(problem),
    ]);
  });

  it('lets a key policy say Resource "*" (the key itself)', async () => {
    expect(
      await onResource("iam-no-wildcard-resource", {
        type: "aws:kms/key:Key",
        name: "key",
        props: { policy: json({ Effect: "Allow", Principal: { AWS: ROOT }, Action: "kms:Decrypt", Resource: "*" }) },
      }),
    ).toEqual([]);
  });
});

describe("iam-no-full-access-managed-policies, by every attaching shape", () => {
  const ADMIN = "arn:aws:iam::aws:policy/AdministratorAccess";
  it.each([
    { type: "aws:iam/role:Role", props: { managedPolicyArns: [ADMIN] } },
    { type: "aws-native:iam:Role", props: { managedPolicyArns: [ADMIN] } },
    { type: "aws:iam/policyAttachment:PolicyAttachment", props: { roles: ["r"], policyArn: ADMIN } },
    { type: "aws:iam/rolePolicyAttachmentsExclusive:RolePolicyAttachmentsExclusive", props: { roleName: "r", policyArns: [ADMIN] } },
  ])("flags AdministratorAccess on $type", async (shape) => {
    expect(await onResource("iam-no-full-access-managed-policies", { ...shape, name: "x" })).toEqual([
      expect.stringContaining(`attaches the AWS managed policy ${ADMIN}`),
    ]);
  });

  it("passes a scoped managed policy of the account on aws-native roles", async () => {
    expect(
      await onResource("iam-no-full-access-managed-policies", {
        type: "aws-native:iam:Role",
        name: "x",
        props: { managedPolicyArns: [`arn:aws:iam::${ACCOUNT}:policy/scoped`] },
      }),
    ).toEqual([]);
  });
});

describe("iam-trust-policy", () => {
  const role = (statement: Record<string, unknown>, native = false): FakeResource =>
    native
      ? { type: "aws-native:iam:Role", name: "r", props: { assumeRolePolicyDocument: doc(statement) } }
      : { type: "aws:iam/role:Role", name: "r", props: { assumeRolePolicy: json(statement) } };
  const assume = { Sid: "Trust", Effect: "Allow", Action: "sts:AssumeRole" };
  const SOURCE = { StringEquals: { "aws:SourceAccount": ACCOUNT }, ArnLike: { "aws:SourceArn": `arn:aws:sagemaker:eu-west-1:${ACCOUNT}:training-job/*` } };

  it.each([
    ['anyone, as {AWS: "*"}', { ...assume, Principal: { AWS: "*" } }, "lets any principal of any account assume the role"],
    ['anyone, as "*"', { ...assume, Principal: "*" }, "lets any principal of any account assume the role"],
    [
      "anyone, with an IfExists condition",
      { ...assume, Principal: { AWS: ["*"] }, Condition: { StringEqualsIfExists: { "aws:PrincipalOrgID": "o-1" } } },
      "lets any principal of any account assume the role",
    ],
    [
      "anyone, with an unrelated condition",
      { ...assume, Principal: { AWS: "*" }, Condition: { Bool: { "aws:SecureTransport": "true" } } },
      "lets any principal of any account assume the role",
    ],
    ["everyone but", { ...assume, NotPrincipal: { AWS: ROOT } }, "uses NotPrincipal with Allow"],
    ["a whole account", { ...assume, Principal: { AWS: ROOT } }, `trusts every principal of ${ROOT} with no condition`],
    ["a bare account ID", { ...assume, Principal: { AWS: FOREIGN } }, `trusts every principal of ${FOREIGN}`],
    [
      "a service with only aws:SourceAccount",
      { ...assume, Principal: { Service: "sagemaker.amazonaws.com" }, Condition: { StringEquals: { "aws:SourceAccount": ACCOUNT } } },
      "with no aws:SourceArn condition",
    ],
    [
      "a service with no condition",
      { ...assume, Principal: { Service: ["sagemaker.amazonaws.com"] } },
      "with no aws:SourceAccount and no aws:SourceArn condition",
    ],
    [
      "EKS Pod Identity for any pod of the account's clusters",
      { ...assume, Principal: { Service: "pods.eks.amazonaws.com" }, Condition: { StringEquals: { "aws:SourceAccount": ACCOUNT } } },
      "with no aws:RequestTag/kubernetes-namespace and no aws:RequestTag/kubernetes-service-account condition",
    ],
  ])("flags %s", async (_what, statement, message) => {
    for (const native of [false, true]) {
      expect(await onResource("iam-trust-policy", role(statement, native)), native ? "aws-native" : "classic").toEqual([expect.stringContaining(message)]);
    }
  });

  it.each([
    ["a named role", { ...assume, Principal: { AWS: `arn:aws:iam::${FOREIGN}:role/ci-runner` } }],
    [
      "a whole account narrowed by aws:PrincipalArn",
      { ...assume, Principal: { AWS: ROOT }, Condition: { ArnEquals: { "aws:PrincipalArn": `arn:aws:iam::${ACCOUNT}:role/ci` } } },
    ],
    ["a third party with sts:ExternalId", { ...assume, Principal: { AWS: FOREIGN }, Condition: { StringEquals: { "sts:ExternalId": "abc-123" } } }],
    ["anyone of one organization", { ...assume, Principal: { AWS: "*" }, Condition: { StringEquals: { "aws:PrincipalOrgID": "o-abc" } } }],
    ["a service on behalf of this account's resources", { ...assume, Principal: { Service: "sagemaker.amazonaws.com" }, Condition: SOURCE }],
    [
      "EKS Pod Identity for one service account",
      {
        ...assume,
        Principal: { Service: "pods.eks.amazonaws.com" },
        Condition: {
          StringEquals: { "aws:SourceAccount": ACCOUNT, "aws:RequestTag/kubernetes-namespace": "ns", "aws:RequestTag/kubernetes-service-account": "sa" },
        },
      },
    ],
  ])("passes %s", async (_what, statement) => {
    for (const native of [false, true]) expect(await onResource("iam-trust-policy", role(statement, native))).toEqual([]);
  });
});

describe("resource-policy-principals", () => {
  const allow = { Sid: "S", Effect: "Allow", Action: "kms:Decrypt", Resource: "*" };
  const inShapes = (s: Record<string, unknown>) => resourceShapes(s).map((r) => [shapeName(r), r] as const);

  it.each(inShapes({ ...allow, Principal: { AWS: "*" }, Condition: { Bool: { "aws:SecureTransport": "true" } } }))(
    "flags a public principal with a condition that pins no account, in %s",
    async (_name, r) => {
      expect(await onStack("resource-policy-principals", [HOME_ROLE, r])).toEqual([
        expect.stringContaining("admits any principal of any account with no condition pinning the caller's account"),
      ]);
    },
  );

  it.each(inShapes({ ...allow, Principal: { AWS: `arn:aws:iam::${FOREIGN}:root` } }))("flags a foreign account's principal in %s", async (_name, r) => {
    expect(await onStack("resource-policy-principals", [HOME_ROLE, r])).toEqual([
      expect.stringContaining(`admits arn:aws:iam::${FOREIGN}:root of account ${FOREIGN}, which is not this stack's`),
    ]);
  });

  it.each(inShapes({ ...allow, Principal: { AWS: ROOT } }))("passes this account's principal in %s", async (_name, r) => {
    expect(await onStack("resource-policy-principals", [HOME_ROLE, r])).toEqual([]);
  });

  it("admits a foreign account the stack's pack config trusts", async () => {
    const r = resourceShapes({ ...allow, Principal: { AWS: FOREIGN } })[0];
    expect(await onStack("resource-policy-principals", [HOME_ROLE, r], { "resource-policy-principals": { trustedAccounts: [FOREIGN] } })).toEqual([]);
  });

  it.each([
    ["kms:CallerAccount of this account", { StringEquals: { "kms:CallerAccount": ACCOUNT } }, []],
    ["kms:CallerAccount of a foreign account", { StringEquals: { "kms:CallerAccount": FOREIGN } }, [`admits callers of account ${FOREIGN}`]],
    [
      "aws:PrincipalAccount with IfExists",
      { StringEqualsIfExists: { "aws:PrincipalAccount": ACCOUNT } },
      ["(a condition on the caller is there, but it pins no account"],
    ],
    ["aws:PrincipalOrgID not trusted", { StringEquals: { "aws:PrincipalOrgID": "o-evil" } }, ["admits organization o-evil"]],
  ])('judges "*" on a key by its condition: %s', async (_what, condition, messages) => {
    const key = { type: "aws:kms/key:Key", name: "key", props: { policy: json({ ...allow, Principal: "*", Condition: condition }) } };
    expect(await onStack("resource-policy-principals", [HOME_ROLE, key])).toEqual(messages.map((m) => expect.stringContaining(m)));
  });

  it("requires a service principal to act for an allowed account (confused deputy)", async () => {
    const logs = (Condition?: Record<string, unknown>) => ({
      type: "aws:s3/bucketPolicy:BucketPolicy",
      name: "logs",
      props: {
        bucket: "b",
        policy: json({
          ...allow,
          Action: "s3:PutObject",
          Resource: "arn:aws:s3:::logs/*",
          Principal: { Service: "logging.s3.amazonaws.com" },
          ...(Condition ? { Condition } : {}),
        }),
      },
    });
    expect(await onStack("resource-policy-principals", [HOME_ROLE, logs()])).toEqual([
      expect.stringContaining("admits the service logging.s3.amazonaws.com with no condition pinning the caller's account"),
    ]);
    expect(await onStack("resource-policy-principals", [HOME_ROLE, logs({ StringEquals: { "aws:SourceAccount": FOREIGN } })])).toEqual([
      expect.stringContaining(`admits callers of account ${FOREIGN}`),
    ]);
    expect(await onStack("resource-policy-principals", [HOME_ROLE, logs({ StringEquals: { "aws:SourceAccount": ACCOUNT } })])).toEqual([]);
  });

  it("flags NotPrincipal with Allow, and ignores Deny statements", async () => {
    const r = (s: Record<string, unknown>) => ({ type: "aws:sns/topicPolicy:TopicPolicy", name: "t", props: { arn: "t", policy: json(s) } });
    expect(await onStack("resource-policy-principals", [HOME_ROLE, r({ ...allow, NotPrincipal: { AWS: ROOT } })])).toEqual([
      expect.stringContaining("uses NotPrincipal with Allow"),
    ]);
    expect(await onStack("resource-policy-principals", [HOME_ROLE, r({ ...allow, Effect: "Deny", Principal: "*" })])).toEqual([]);
  });

  it("takes the home account from config when no ARN of the stack is known yet", async () => {
    const key = { type: "aws:kms/key:Key", name: "key", props: { policy: json({ ...allow, Principal: { AWS: `arn:aws:iam::${FOREIGN}:root` } }) } };
    expect(await onStack("resource-policy-principals", [key])).toEqual([]);
    expect(await onStack("resource-policy-principals", [key], { "resource-policy-principals": { accountIds: [ACCOUNT] } })).toHaveLength(1);
  });
});

describe("kms-key-policy-separation-of-duties", () => {
  const ADMIN = ["kms:PutKeyPolicy", "kms:ScheduleKeyDeletion", "kms:DescribeKey"];
  const USE = ["kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey"];
  const shapes = (...Statement: Array<Record<string, unknown>>): FakeResource[] => [
    { type: "aws:kms/key:Key", name: "key", props: { policy: JSON.stringify({ Version: "2012-10-17", Statement }) } },
    { type: "aws:kms/keyPolicy:KeyPolicy", name: "key-policy", props: { keyId: "k", policy: JSON.stringify({ Version: "2012-10-17", Statement }) } },
    { type: "aws-native:kms:Key", name: "native-key", props: { keyPolicy: { Version: "2012-10-17", Statement } } },
  ];
  const grant = (Sid: string, principal: string, Action: string[] | string) => ({ Sid, Effect: "Allow", Principal: { AWS: principal }, Action, Resource: "*" });
  const ADMIN_ROLE = `arn:aws:iam::${ACCOUNT}:role/key-admin`;

  it.each([
    ["kms:* to the account", [grant("All", ROOT, "kms:*")], 'grants "kms:*", administration and use at once'],
    [
      "administration and use in one statement",
      [grant("Both", ROOT, [...ADMIN, ...USE])],
      "grants administration (kms:PutKeyPolicy, kms:ScheduleKeyDeletion) and use (kms:Decrypt, kms:GenerateDataKey) in one statement",
    ],
    [
      "one role administering and using",
      [grant("Admin", ADMIN_ROLE, ADMIN), grant("Use", ADMIN_ROLE, USE)],
      `lets ${ADMIN_ROLE} both administer and use the key`,
    ],
  ])("flags %s", async (_what, statements, message) => {
    for (const r of shapes(...statements))
      expect(await onResource("kms-key-policy-separation-of-duties", r), r.type).toEqual([expect.stringContaining(message)]);
  });

  it("passes administration and use in separate statements (the account root delegating both to IAM)", async () => {
    for (const r of shapes(grant("Admin", ROOT, ADMIN), grant("Use", ROOT, USE), grant("Admins", ADMIN_ROLE, ADMIN))) {
      expect(await onResource("kms-key-policy-separation-of-duties", r), r.type).toEqual([]);
    }
  });
});

// --- customer-managed keys wherever encryption is required ----------------------------------------

describe("customer-managed keys", () => {
  it.each([
    ["sns-topic-kms", { type: "aws:sns/topic:Topic", name: "t", props: { kmsMasterKeyId: "alias/aws/sns" } }, "is an AWS managed key"],
    [
      "cloudwatch-log-group-retention-kms",
      { type: "aws:cloudwatch/logGroup:LogGroup", name: "g", props: { retentionInDays: 30, kmsKeyId: "arn:aws:kms:eu-west-1:123456789012:alias/aws/logs" } },
      "is an AWS managed key",
    ],
    ["cloudwatch-log-group-retention-kms", { type: "aws-native:logs:LogGroup", name: "g", props: { retentionInDays: 30 } }, "kmsKeyId is not set"],
    [
      "ecr-kms-encryption",
      { type: "aws:ecr/repository:Repository", name: "r", props: { encryptionConfigurations: [{ encryptionType: "KMS" }] } },
      "no KMS key is named",
    ],
    [
      "ecr-kms-encryption",
      { type: "aws-native:ecr:Repository", name: "r", props: { encryptionConfiguration: { encryptionType: "AES256" } } },
      'encryptionType is "AES256"',
    ],
    [
      "sagemaker-endpoint-config-kms",
      {
        type: "aws:sagemaker/endpointConfiguration:EndpointConfiguration",
        name: "c",
        props: { productionVariants: [{ variantName: "v", instanceType: "ml.c6i.xlarge", initialInstanceCount: 2 }], kmsKeyArn: "alias/aws/sagemaker" },
      },
      "is an AWS managed key",
    ],
    [
      "sagemaker-endpoint-config-kms",
      {
        type: "aws-native:sagemaker:EndpointConfig",
        name: "c",
        props: { productionVariants: [{ variantName: "v", instanceType: "ml.c6i.xlarge", initialInstanceCount: 2 }] },
      },
      "kmsKeyArn is not set",
    ],
    [
      "sagemaker-data-capture-kms",
      {
        type: "aws-native:sagemaker:EndpointConfig",
        name: "c",
        props: { productionVariants: [], dataCaptureConfig: { enableCapture: true, kmsKeyId: "alias/aws/s3" } },
      },
      "is an AWS managed key",
    ],
  ] as const)("%s flags %j", async (name, resource, message) => {
    expect(await onResource(name, resource as FakeResource)).toEqual([expect.stringContaining(message)]);
  });

  it.each([
    ["sns-topic-kms", { type: "aws:sns/topic:Topic", name: "t", props: { kmsMasterKeyId: KEY } }],
    ["cloudwatch-log-group-retention-kms", { type: "aws-native:logs:LogGroup", name: "g", props: { retentionInDays: 30, kmsKeyId: KEY } }],
    ["ecr-kms-encryption", { type: "aws-native:ecr:Repository", name: "r", props: { encryptionConfiguration: { encryptionType: "KMS", kmsKey: KEY } } }],
    [
      "sagemaker-endpoint-config-kms",
      {
        type: "aws-native:sagemaker:EndpointConfig",
        name: "c",
        props: { productionVariants: [{ variantName: "v", instanceType: "ml.c6i.xlarge", initialInstanceCount: 2 }], kmsKeyId: KEY },
      },
    ],
    [
      "sagemaker-data-capture-kms",
      { type: "aws-native:sagemaker:EndpointConfig", name: "c", props: { productionVariants: [], dataCaptureConfig: { enableCapture: true, kmsKeyId: KEY } } },
    ],
  ] as const)("%s passes a customer key on %j", async (name, resource) => {
    expect(await onResource(name, resource as FakeResource)).toEqual([]);
  });
});

// --- S3: every bucket family ----------------------------------------------------------------------

const tls = (arn: string) => ({
  Sid: "Tls",
  Effect: "Deny",
  Principal: "*",
  Action: "s3:*",
  Resource: [arn, `${arn}/*`],
  Condition: { Bool: { "aws:SecureTransport": "false" } },
});
const uploadDenies = (arn: string, key = KEY) => [
  {
    Sid: "OtherKey",
    Effect: "Deny",
    Principal: "*",
    Action: "s3:PutObject",
    Resource: `${arn}/*`,
    Condition: { StringNotEqualsIfExists: { "s3:x-amz-server-side-encryption-aws-kms-key-id": key } },
  },
  {
    Sid: "OtherType",
    Effect: "Deny",
    Principal: "*",
    Action: "s3:PutObject",
    Resource: `${arn}/*`,
    Condition: { StringNotEqualsIfExists: { "s3:x-amz-server-side-encryption": "aws:kms" } },
  },
  {
    Sid: "NoKey",
    Effect: "Deny",
    Principal: "*",
    Action: "s3:PutObject",
    Resource: `${arn}/*`,
    Condition: { StringEquals: { "s3:x-amz-server-side-encryption": "aws:kms" }, Null: { "s3:x-amz-server-side-encryption-aws-kms-key-id": "true" } },
  },
];
const CONFIDENTIAL = { dataClassification: "confidential" };

/** A bucket of `family` that keeps every S3 rule, its settings in the family's own shapes. */
function goodBucket(family: "classic" | "v2" | "native", name = "data", logTo = "logs-bkt"): FakeResource[] {
  const id = `${name}-bkt`;
  const arn = `arn:aws:s3:::${id}`;
  const urn = urnOf(family === "native" ? "aws-native:s3:Bucket" : family === "v2" ? "aws:s3/bucketV2:BucketV2" : "aws:s3/bucket:Bucket", name);
  const setting = (type: string, props: Record<string, unknown>): FakeResource => ({
    type,
    name: `${name}-${type.split(":").pop()}`,
    props: { bucket: id, ...props },
    propertyDependencies: { bucket: [urn] },
  });
  const policyDoc = doc(tls(arn), ...uploadDenies(arn));
  if (family === "native") {
    return [
      {
        type: "aws-native:s3:Bucket",
        name,
        urn,
        props: {
          bucketName: id,
          arn,
          tags: [{ key: "dataClassification", value: "confidential" }],
          bucketEncryption: {
            serverSideEncryptionConfiguration: [{ serverSideEncryptionByDefault: { sseAlgorithm: "aws:kms", kmsMasterKeyId: KEY }, bucketKeyEnabled: true }],
          },
          publicAccessBlockConfiguration: { blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true },
          versioningConfiguration: { status: "Enabled" },
          ownershipControls: { rules: [{ objectOwnership: "BucketOwnerEnforced" }] },
          lifecycleConfiguration: { rules: [{ id: "h", status: "Enabled", abortIncompleteMultipartUpload: { daysAfterInitiation: 7 } }] },
          loggingConfiguration: { destinationBucketName: logTo, logFilePrefix: `${name}/` },
        },
      },
      setting("aws-native:s3:BucketPolicy", { policyDocument: policyDoc }),
    ];
  }
  const v2 = family === "v2" ? "V2" : "";
  const classic = (cls: string, suffix = v2) => `aws:s3/${cls[0].toLowerCase()}${cls.slice(1)}${suffix}:${cls}${suffix}`;
  return [
    { type: family === "v2" ? "aws:s3/bucketV2:BucketV2" : "aws:s3/bucket:Bucket", name, urn, props: { id, bucket: id, arn, tagsAll: CONFIDENTIAL } },
    setting(classic("BucketServerSideEncryptionConfiguration"), {
      rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms", kmsMasterKeyId: KEY } }],
    }),
    setting(classic("BucketPublicAccessBlock", ""), { blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true }),
    setting(classic("BucketVersioning"), { versioningConfiguration: { status: "Enabled" } }),
    setting(classic("BucketPolicy", ""), { policy: JSON.stringify(policyDoc) }),
    setting(classic("BucketLifecycleConfiguration"), { rules: [{ id: "h", status: "Enabled", abortIncompleteMultipartUpload: { daysAfterInitiation: 7 } }] }),
    setting(classic("BucketOwnershipControls", ""), { rule: { objectOwnership: "BucketOwnerEnforced" } }),
    setting(classic("BucketLogging"), { targetBucket: logTo, targetPrefix: `${name}/` }),
  ];
}

/** The log bucket: SSE-S3, no logging of its own, no upload-key denies. */
function logBucket(): FakeResource[] {
  const id = "logs-bkt";
  const urn = urnOf("aws:s3/bucket:Bucket", "logs");
  const setting = (cls: string, props: Record<string, unknown>): FakeResource => ({
    type: `aws:s3/${cls[0].toLowerCase()}${cls.slice(1)}:${cls}`,
    name: `logs-${cls}`,
    props: { bucket: id, ...props },
    propertyDependencies: { bucket: [urn] },
  });
  return [
    { type: "aws:s3/bucket:Bucket", name: "logs", urn, props: { id, bucket: id, arn: `arn:aws:s3:::${id}`, tagsAll: CONFIDENTIAL } },
    setting("BucketServerSideEncryptionConfiguration", { rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } }] }),
    setting("BucketPublicAccessBlock", { blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true }),
    setting("BucketVersioning", { versioningConfiguration: { status: "Enabled" } }),
    setting("BucketPolicy", { policy: json(tls(`arn:aws:s3:::${id}`)) }),
    setting("BucketLifecycleConfiguration", { rules: [{ id: "h", status: "Enabled", abortIncompleteMultipartUpload: { daysAfterInitiation: 7 } }] }),
    setting("BucketOwnershipControls", { rule: { objectOwnership: "BucketOwnerEnforced" } }),
  ];
}

const S3_RULES = [
  "s3-bucket-kms-encryption",
  "s3-bucket-public-access-blocked",
  "s3-bucket-tls-only",
  "s3-bucket-deny-non-cmk-uploads",
  "s3-bucket-versioning",
  "s3-bucket-lifecycle",
  "s3-bucket-acls-disabled",
  "s3-bucket-access-logging",
];
const FAMILIES = ["classic", "v2", "native"] as const;

describe.each(FAMILIES)("S3 bucket family %s", (family) => {
  it.each(S3_RULES)("%s: passes a bucket with every guardrail (and its log bucket)", async (name) => {
    expect(await onStack(name, [...goodBucket(family), ...logBucket()])).toEqual([]);
  });

  it.each(S3_RULES)("%s: flags a bare bucket", async (name) => {
    const bare = goodBucket(family)
      .slice(0, 1)
      .map((b) => ({
        ...b,
        props:
          family === "native"
            ? { bucketName: "data-bkt", arn: "arn:aws:s3:::data-bkt", tags: [{ key: "dataClassification", value: "confidential" }] }
            : { id: "data-bkt", bucket: "data-bkt", arn: "arn:aws:s3:::data-bkt", tagsAll: CONFIDENTIAL },
      }));
    expect(await onStack(name, bare)).toEqual([expect.stringMatching(/^(Bucket|BucketV2) "data": /)]);
  });

  it("s3-bucket-kms-encryption: flags the AWS managed key aws/s3", async () => {
    const resources = goodBucket(family).map((r) => JSON.parse(JSON.stringify(r).replaceAll(KEY, AWS_S3_KEY)) as FakeResource);
    expect(await onStack("s3-bucket-kms-encryption", [...resources, ...logBucket()])).toEqual([
      expect.stringContaining('default encryption uses "alias/aws/s3" is an AWS managed key'),
    ]);
  });

  it("s3-bucket-access-logging: flags a confidential bucket logging to itself or outside the stack", async () => {
    // (The log bucket, now no bucket's log target, is then judged as a plain confidential bucket.)
    const ofData = (messages: string[]) => messages.filter((m) => m.includes('"data"'));
    expect(ofData(await onStack("s3-bucket-access-logging", [...goodBucket(family, "data", "data-bkt"), ...logBucket()]))).toEqual([
      expect.stringContaining("logs access to itself"),
    ]);
    expect(ofData(await onStack("s3-bucket-access-logging", [...goodBucket(family, "data", "elsewhere-bkt"), ...logBucket()]))).toEqual([
      expect.stringContaining('logs access to "elsewhere-bkt", which is not a bucket of this stack'),
    ]);
  });
});

describe("S3 settings the bucket carries itself (the classic bucket's deprecated inline blocks)", () => {
  it("reads encryption, versioning, lifecycle and logging from the bucket", async () => {
    const [bucket, ...settings] = goodBucket("classic");
    const inline = {
      ...bucket,
      props: {
        ...bucket.props,
        serverSideEncryptionConfiguration: { rule: { applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms", kmsMasterKeyId: AWS_S3_KEY } } },
        versioning: { enabled: false },
        lifecycleRules: [{ enabled: true, abortIncompleteMultipartUploadDays: 7 }],
        logging: { targetBucket: "logs-bkt" },
      },
    };
    const rest = settings.filter((s) => !/Encryption|Versioning|Lifecycle|Logging/.test(s.type));
    const stack = [inline, ...rest, ...logBucket()];
    expect(await onStack("s3-bucket-kms-encryption", stack)).toEqual([expect.stringContaining("is an AWS managed key")]);
    expect(await onStack("s3-bucket-versioning", stack)).toEqual([expect.stringContaining('versioning status is "Suspended"')]);
    expect(await onStack("s3-bucket-lifecycle", stack)).toEqual([]);
    expect(await onStack("s3-bucket-access-logging", stack)).toEqual([]);
  });
});

describe("s3-bucket-deny-non-cmk-uploads", () => {
  const arn = "arn:aws:s3:::data-bkt";
  const withPolicy = (...statements: Array<Record<string, unknown>>) =>
    goodBucket("classic").map((r) => (r.type.endsWith(":BucketPolicy") ? { ...r, props: { ...r.props, policy: json(tls(arn), ...statements) } } : r));
  const [otherKey, otherType, noKey] = uploadDenies(arn);

  it.each([
    ["another KMS key", [otherType, noKey], "another KMS key"],
    ["another encryption type", [otherKey, noKey], "another encryption type such as SSE-S3"],
    ["aws:kms without a key ID", [otherKey, otherType], '"aws:kms" without a key ID'],
    ["a deny naming the AWS managed key", [...uploadDenies(arn, AWS_S3_KEY).slice(0, 1), otherType, noKey], "another KMS key"],
    ["denies that cover another bucket", [...uploadDenies("arn:aws:s3:::other-bkt")], "another KMS key"],
  ])("flags a policy that leaves open %s", async (_what, statements, message) => {
    expect(await onStack("s3-bucket-deny-non-cmk-uploads", [...withPolicy(...statements), ...logBucket()])).toEqual([expect.stringContaining(message)]);
  });

  it("does not require the denies on the log bucket (log delivery writes SSE-S3)", async () => {
    expect(await onStack("s3-bucket-deny-non-cmk-uploads", [...goodBucket("classic"), ...logBucket()])).toEqual([]);
  });
});

describe("s3-bucket-access-logging", () => {
  it("applies to confidential buckets only, unless allBuckets", async () => {
    const publicData = goodBucket("v2")
      .filter((r) => !r.type.includes("Logging"))
      .map((r, i) => (i === 0 ? { ...r, props: { ...r.props, tagsAll: { dataClassification: "internal" } } } : r));
    expect(await onStack("s3-bucket-access-logging", publicData)).toEqual([]);
    expect(await onStack("s3-bucket-access-logging", publicData, { "s3-bucket-access-logging": { allBuckets: true } })).toEqual([
      expect.stringContaining("has no server access logging but every bucket must log access"),
    ]);
  });
});

// --- SageMaker: the training log group and separate roles ------------------------------------------

describe("sagemaker-training-log-group", () => {
  const MODEL: FakeResource = { type: "aws:sagemaker/model:Model", name: "m", props: {} };
  const group = (type: string, props: Record<string, unknown>): FakeResource => ({ type, name: "training-logs", props });

  it.each([
    ["classic", "aws:cloudwatch/logGroup:LogGroup", { name: "/aws/sagemaker/TrainingJobs", retentionInDays: 30, kmsKeyId: KEY }],
    ["aws-native", "aws-native:logs:LogGroup", { logGroupName: "/aws/sagemaker/TrainingJobs", retentionInDays: 30, kmsKeyId: KEY }],
  ])("passes the %s group with the key and a retention", async (_shape, type, props) => {
    expect(await onStack("sagemaker-training-log-group", [MODEL, group(type, props)])).toEqual([]);
  });

  it.each([
    [[MODEL], "creates no /aws/sagemaker/TrainingJobs log group"],
    [[MODEL, group("aws:cloudwatch/logGroup:LogGroup", { name: "/aws/sagemaker/TrainingJobs", retentionInDays: 30 })], "kmsKeyId: no KMS key is named"],
    [[MODEL, group("aws-native:logs:LogGroup", { logGroupName: "/aws/sagemaker/TrainingJobs", kmsKeyId: "alias/aws/logs" })], "has no retention"],
  ])("flags %#", async (resources, message) => {
    expect(await onStack("sagemaker-training-log-group", resources as FakeResource[])).toEqual(expect.arrayContaining([expect.stringContaining(message)]));
  });

  it("leaves the group to the stack that owns it (sharedTrainingLogGroup)", async () => {
    const outcome = await runStackPolicy(policy("sagemaker-training-log-group"), [MODEL], { "sagemaker-training-log-group": { sharedTrainingLogGroup: true } });
    expect(outcome).toEqual({ violations: [], notApplicable: "another stack owns the training log group" });
  });
});

describe("sagemaker-separate-training-hosting-roles", () => {
  const roleArn = (name: string) => `arn:aws:iam::${ACCOUNT}:role/${name}`;
  const TRAINING_LOGS = {
    Effect: "Allow",
    Action: ["logs:CreateLogStream", "logs:PutLogEvents"],
    Resource: `arn:aws:logs:eu-west-1:${ACCOUNT}:log-group:/aws/sagemaker/TrainingJobs:log-stream:*`,
  };
  const ENDPOINT_LOGS = { ...TRAINING_LOGS, Resource: `arn:aws:logs:eu-west-1:${ACCOUNT}:log-group:/aws/sagemaker/Endpoints/m:log-stream:*` };

  function stack(hostingStatement: Record<string, unknown>, shape: "rolePolicy" | "inline" | "native"): FakeResource[] {
    const role: FakeResource =
      shape === "native"
        ? {
            type: "aws-native:iam:Role",
            name: "hosting",
            props: { arn: roleArn("hosting"), policies: [{ policyName: "p", policyDocument: doc(hostingStatement) }] },
          }
        : {
            type: "aws:iam/role:Role",
            name: "hosting",
            props: {
              arn: roleArn("hosting"),
              name: "hosting",
              ...(shape === "inline" ? { inlinePolicies: [{ name: "p", policy: json(hostingStatement) }] } : {}),
            },
          };
    const model: FakeResource = {
      type: shape === "native" ? "aws-native:sagemaker:Model" : "aws:sagemaker/model:Model",
      name: "m",
      props: { executionRoleArn: roleArn("hosting") },
    };
    const extra: FakeResource[] =
      shape === "rolePolicy"
        ? [{ type: "aws:iam/rolePolicy:RolePolicy", name: "hosting-permissions", props: { role: "hosting", policy: json(hostingStatement) } }]
        : [];
    const training: FakeResource = {
      type: "aws:iam/role:Role",
      name: "training",
      props: { arn: roleArn("training"), name: "training", inlinePolicies: [{ name: "p", policy: json(TRAINING_LOGS) }] },
    };
    return [role, model, training, ...extra];
  }

  it.each(["rolePolicy", "inline", "native"] as const)("flags a model hosted with a role that writes training logs (%s)", async (shape) => {
    expect(await onStack("sagemaker-separate-training-hosting-roles", stack(TRAINING_LOGS, shape))).toEqual([
      expect.stringContaining('is hosted with Role "hosting", which can also write training job logs'),
    ]);
    expect(
      await onStack(
        "sagemaker-separate-training-hosting-roles",
        stack({ ...TRAINING_LOGS, Resource: `arn:aws:logs:eu-west-1:${ACCOUNT}:log-group:/aws/sagemaker/*` }, shape),
      ),
    ).toHaveLength(1);
  });

  it.each(["rolePolicy", "inline", "native"] as const)("passes a hosting role of its own (%s)", async (shape) => {
    expect(await onStack("sagemaker-separate-training-hosting-roles", stack(ENDPOINT_LOGS, shape))).toEqual([]);
  });
});

describe("aws-native SageMaker models", () => {
  it("sagemaker-model-network-isolation: judges aws-native models as the classic ones", async () => {
    const config = {
      type: "aws-native:sagemaker:EndpointConfig",
      name: "c",
      props: { productionVariants: [{ variantName: "v", modelName: "m", instanceType: "ml.c6i.xlarge", initialInstanceCount: 2 }] },
    };
    expect(await onStack("sagemaker-model-network-isolation", [{ type: "aws-native:sagemaker:Model", name: "m", props: { modelName: "m" } }, config])).toEqual([
      expect.stringContaining("enableNetworkIsolation is false"),
    ]);
    expect(
      await onStack("sagemaker-model-network-isolation", [
        { type: "aws-native:sagemaker:Model", name: "m", props: { modelName: "m", enableNetworkIsolation: true } },
        config,
      ]),
    ).toEqual([]);
  });
});
