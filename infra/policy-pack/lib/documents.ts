// Every IAM policy document a resource carries, whatever its type and however it is written, and
// the meaning the rules judge: which principals a statement admits, whether an action or an ARN is
// a wildcard, which accounts a condition pins. ARNs are split by @aws-sdk/util-arn-parser (AWS's
// own, Apache-2.0). The policy parsers on npm that go further (@cloud-copilot/iam-policy and
// iam-utils) are AGPL-3.0, which this Apache-2.0 pack cannot ship; statements are normalised in
// lib/iam.ts, a few lines over IAM's grammar.
import { parse as parseArnParts, validate as isArn } from "@aws-sdk/util-arn-parser";
import { statementsOf, type Statement } from "./iam";
import { asArray, asRecord, asStrings, type Props } from "./resources";

/** identity: what a principal may do; trust: who may assume a role; resource: who may use a resource. */
export type DocumentKind = "identity" | "trust" | "resource";

export interface DocumentRef {
  readonly kind: DocumentKind;
  /** Property path of the document, for messages. */
  readonly where: string;
  readonly document: unknown;
}

const identityPolicyProperty: Readonly<Record<string, string>> = {
  "aws:iam/policy:Policy": "policy",
  "aws:iam/rolePolicy:RolePolicy": "policy",
  "aws:iam/userPolicy:UserPolicy": "policy",
  "aws:iam/groupPolicy:GroupPolicy": "policy",
  "aws-native:iam:ManagedPolicy": "policyDocument",
  "aws-native:iam:RolePolicy": "policyDocument",
  "aws-native:iam:UserPolicy": "policyDocument",
  "aws-native:iam:GroupPolicy": "policyDocument",
};

const resourcePolicyProperty: Readonly<Record<string, string>> = {
  "aws:s3/bucketPolicy:BucketPolicy": "policy",
  "aws:s3/bucket:Bucket": "policy",
  "aws:s3/bucketV2:BucketV2": "policy",
  "aws-native:s3:BucketPolicy": "policyDocument",
  "aws:kms/key:Key": "policy",
  "aws:kms/keyPolicy:KeyPolicy": "policy",
  "aws:kms/replicaKey:ReplicaKey": "policy",
  "aws-native:kms:Key": "keyPolicy",
  "aws:ecr/repositoryPolicy:RepositoryPolicy": "policy",
  "aws-native:ecr:Repository": "repositoryPolicyText",
  "aws:sns/topicPolicy:TopicPolicy": "policy",
  "aws:sns/topic:Topic": "policy",
  "aws-native:sns:TopicPolicy": "policyDocument",
};

/** The policy documents a resource defines, of every kind, each with where it sits. */
export function documentsOf(type: string, props: Props): DocumentRef[] {
  const out: DocumentRef[] = [];
  const add = (kind: DocumentKind, where: string, document: unknown) => {
    if (document !== undefined && document !== null && document !== "") out.push({ kind, where, document });
  };
  if (identityPolicyProperty[type]) add("identity", identityPolicyProperty[type], props[identityPolicyProperty[type]]);
  if (resourcePolicyProperty[type]) add("resource", resourcePolicyProperty[type], props[resourcePolicyProperty[type]]);
  if (type === "aws:iam/role:Role") {
    add("trust", "assumeRolePolicy", props.assumeRolePolicy);
    asArray(props.inlinePolicies).forEach((p, i) => add("identity", `inlinePolicies[${i}] (${String(asRecord(p)?.name ?? "unnamed")})`, asRecord(p)?.policy));
  }
  if (type === "aws-native:iam:Role") {
    add("trust", "assumeRolePolicyDocument", props.assumeRolePolicyDocument);
    asArray(props.policies).forEach((p, i) => add("identity", `policies[${i}] (${String(asRecord(p)?.policyName ?? "unnamed")})`, asRecord(p)?.policyDocument));
  }
  return out;
}

/** Statements of every document of a kind, with a label naming document and statement. */
export function statementsOfKind(
  type: string,
  props: Props,
  kinds: readonly DocumentKind[],
): Array<{ statement: Statement; where: string; kind: DocumentKind }> {
  return documentsOf(type, props)
    .filter((d) => kinds.includes(d.kind))
    .flatMap((d) =>
      statementsOf(d.document).map((s, i) => ({ statement: s, kind: d.kind, where: `${d.where} ${s.sid ? `statement "${s.sid}"` : `statement #${i + 1}`}` })),
    );
}

/**
 * IAM's wildcard matching (`*` any run of characters, `?` one), as a policy pattern is matched
 * against an action or ARN. Case-insensitive: action names are; for ARNs this errs towards a match.
 */
export function globMatches(pattern: string, value: string): boolean {
  const re = new RegExp(
    `^${pattern
      .replace(/[.+^${}()|[\]\\]/g, "\\$&")
      .replace(/\*/g, ".*")
      .replace(/\?/g, ".")}$`,
    "is",
  );
  return re.test(value);
}

// ----- ARNs -----

/**
 * What is too broad about one `Resource` entry, or undefined. `*` alone is judged elsewhere (it is
 * "this resource" in a key policy, and has an allow-list in identity policies). In an ARN, the
 * partition, service, region and account must be literal, and so must the resource type and the
 * first name segment's start: `key/*`, `arn:aws:s3:::*\/*` and `arn:*` name whole services or
 * accounts, while `bucket/datasets/*`, `training-job/flight-delays-prod*` and
 * `log-group:/aws/sagemaker/*:log-stream:*` name one prefix (least privilege).
 */
export function arnWildcardProblem(resource: string): string | undefined {
  if (resource === "*" || !/[*?]/.test(resource)) return undefined;
  if (!isArn(resource)) return `"${resource}" is not an ARN but contains a wildcard`;
  const arn = parseArnParts(resource);
  for (const [part, value] of [
    ["partition", arn.partition],
    ["service", arn.service],
    ["region", arn.region],
    ["account", arn.accountId],
  ] as const) {
    if (/[*?]/.test(value)) return `"${resource}" has a wildcard in its ${part}`;
  }
  // S3 ARNs have no resource type: the bucket name comes first. Elsewhere `type/name` or `type:name`.
  const rest = arn.service === "s3" ? arn.resource : arn.resource.replace(/^[^/:]*[/:]/, "");
  const type = arn.service === "s3" || rest === arn.resource ? undefined : arn.resource.slice(0, arn.resource.length - rest.length - 1);
  if (type !== undefined && /[*?]/.test(type)) return `"${resource}" has a wildcard in its resource type`;
  const literal = rest.slice(0, rest.search(/[*?]/));
  if (!/[A-Za-z0-9]/.test(literal))
    return `"${resource}" has a wildcard for the whole resource name (every ${type ?? (arn.service === "s3" ? "bucket" : "resource")} of the service)`;
  // A wildcard may end a path segment (`prefix*`, `datasets/*`, `:log-stream:*`), not sit inside one.
  if (/[*?][^/:]/.test(rest) || rest.includes("?"))
    return `"${resource}" has a wildcard inside a resource name segment; only a trailing prefix wildcard is allowed`;
  return undefined;
}

// ----- principals -----

export interface Principals {
  /** `*`, `{AWS: "*"}` or an account wildcard: anyone, in any account. */
  readonly anyone: boolean;
  readonly aws: string[];
  readonly services: string[];
  readonly federated: string[];
  readonly canonicalUsers: string[];
}

export function principalsOf(principal: unknown): Principals {
  if (principal === "*") return { anyone: true, aws: [], services: [], federated: [], canonicalUsers: [] };
  const p = asRecord(principal) ?? {};
  const aws = asStrings(p.AWS);
  return {
    anyone: aws.some((a) => a === "*" || /^arn:[^:]*:iam::\*:/.test(a)),
    aws: aws.filter((a) => a !== "*"),
    services: asStrings(p.Service),
    federated: asStrings(p.Federated),
    canonicalUsers: asStrings(p.CanonicalUser),
  };
}

/** The account of an AWS principal (`123456789012` or an IAM/STS ARN), or undefined. */
export function accountOf(principal: string): string | undefined {
  if (/^\d{12}$/.test(principal)) return principal;
  if (!isArn(principal)) return undefined;
  const account = parseArnParts(principal).accountId;
  return /^\d{12}$/.test(account) ? account : undefined;
}

/** The whole account (`123456789012`, `arn:aws:iam::123456789012:root`): every principal its IAM lets through. */
export const isAccountWide = (principal: string) => /^\d{12}$/.test(principal) || /^arn:[^:]+:iam::\d{12}:root$/.test(principal);

// ----- conditions -----

export interface ConditionTest {
  readonly operator: string;
  /** Lower-cased (condition keys are case-insensitive). */
  readonly key: string;
  readonly values: string[];
}

export function conditionTests(condition: Props | undefined): ConditionTest[] {
  return Object.entries(condition ?? {}).flatMap(([operator, block]) =>
    Object.entries(asRecord(block) ?? {}).map(([key, value]) => ({ operator, key: key.toLowerCase(), values: asArray(value).map(String) })),
  );
}

/**
 * A test that holds only for the values listed: `StringEquals`/`StringLike`/`ArnEquals`/`ArnLike`
 * (and `ForAnyValue:`), not `...IfExists` (true when the key is absent), not a negation, and not
 * `ForAllValues:` (true for an empty set). A value that is only wildcards restricts nothing.
 */
export function isPinning(test: ConditionTest): boolean {
  const op = test.operator.replace(/^ForAnyValue:/i, "");
  if (!/^(StringEquals|StringEqualsIgnoreCase|StringLike|ArnEquals|ArnLike)$/i.test(op)) return false;
  return test.values.length > 0 && test.values.every((v) => !/^[*?]*$/.test(v));
}

/** Condition keys that name who the caller is (or, for a service, on whose behalf it acts). */
export const IDENTITY_KEYS = ["aws:principalaccount", "aws:principalarn", "aws:principalorgid", "aws:principalorgpaths", "aws:userid", "kms:calleraccount"];
export const SOURCE_KEYS = ["aws:sourceaccount", "aws:sourcearn", "aws:sourceowner", "aws:sourceorgid"];
/** CloudWatch Logs proves the calling log group through the encryption context (AWS's key policy example). */
const CONTEXT_ARN_KEYS = ["kms:encryptioncontext:aws:logs:arn"];

/** The accounts a statement's pinning conditions name (from account keys and from ARNs). */
export function pinnedAccounts(tests: readonly ConditionTest[]): string[] {
  return tests.filter(isPinning).flatMap((t) => {
    if (["aws:principalaccount", "kms:calleraccount", "aws:sourceaccount", "aws:sourceowner"].includes(t.key)) return t.values;
    if (["aws:principalarn", "aws:sourcearn", ...CONTEXT_ARN_KEYS].includes(t.key))
      return t.values.map((v) => (isArn(v) ? parseArnParts(v).accountId : "")).filter((a) => a !== "");
    return [];
  });
}

/** Whether a statement pins its caller with one of `keys` (case-insensitive names). */
export const pins = (tests: readonly ConditionTest[], keys: readonly string[]) => tests.some((t) => isPinning(t) && keys.includes(t.key));

export const ACCOUNT_BINDING_KEYS = [...IDENTITY_KEYS, ...SOURCE_KEYS, ...CONTEXT_ARN_KEYS];

/** Accounts found in ARNs: the stack's own resources tell which account it runs in. */
export function accountsInArns(values: readonly unknown[]): string[] {
  return values.flatMap((v) => (typeof v === "string" && isArn(v) && /^\d{12}$/.test(parseArnParts(v).accountId) ? [parseArnParts(v).accountId] : []));
}

// ----- keys -----

/**
 * What is wrong with a KMS key reference where the pack requires a customer-managed key, or
 * undefined. AWS managed keys are named `alias/aws/<service>` (by alias or alias ARN); their
 * policy is AWS's, cannot be changed, and (for SNS) does not let CloudWatch alarms publish.
 * A bare key ID or key ARN of an AWS managed key cannot be told apart without an API call.
 */
export function customerKeyProblem(value: unknown): string | undefined {
  if (value === undefined || value === null || value === "") return "no KMS key is named (the service would fall back to its AWS managed key)";
  if (typeof value !== "string") return undefined;
  if (/(^|:)alias\/aws\//.test(value)) return `"${value}" is an AWS managed key; name the platform's customer-managed key`;
  return undefined;
}
