// IAM: least privilege in every policy document the stack writes, whatever resource carries it
// (roles' inline and attached policies, managed policies, and the resource policies of buckets,
// keys, repositories and topics), no AWS managed FullAccess or admin policies, and trust policies
// that admit only named principals, services only on behalf of this account and resource.
import type { ResourceValidationArgs, ResourceValidationPolicy } from "@pulumi/policy";
import {
  arnWildcardProblem,
  conditionTests,
  isAccountWide,
  isPinning,
  pins,
  principalsOf,
  statementsOfKind,
  IDENTITY_KEYS,
  type DocumentKind,
} from "../lib/documents";
import { isForbiddenManagedPolicy, isWildcardAction, supportsNoResourceScope, type Statement } from "../lib/iam";
import { checkov, controlTags, securityHub, type PlatformPolicy } from "../lib/policy";
import { asStrings, describe } from "../lib/resources";
import { TYPES } from "../lib/types";

/** A resource policy over the statements of every document of `kinds` a resource carries. */
function documentRule(
  kinds: readonly DocumentKind[],
  check: (s: Statement, where: string, kind: DocumentKind, report: (message: string) => void) => void,
): ResourceValidationPolicy["validateResource"] {
  return (args: ResourceValidationArgs, reportViolation) => {
    const statements = statementsOfKind(args.type, args.props, kinds);
    if (statements.length === 0) return args.notApplicable(`carries no ${kinds.join(" or ")} policy document`);
    for (const { statement, where, kind } of statements) check(statement, where, kind, (message) => reportViolation(`${describe(args)}: ${message}`));
  };
}

export const iamNoWildcardActions: PlatformPolicy = {
  name: "iam-no-wildcard-actions",
  description: 'No policy document (identity, trust or resource policy) allows an action with a wildcard ("*", "s3:*", "iam:Put*") or uses NotAction.',
  severity: "high",
  controls: [securityHub("IAM.1"), securityHub("IAM.21"), checkov("CKV_AWS_1"), checkov("CKV_AWS_63")],
  validateResource: documentRule(["identity", "trust", "resource"], (s, where, _kind, report) => {
    if (s.effect !== "Allow") return;
    const wild = s.actions.filter(isWildcardAction);
    if (wild.length > 0) report(`${where} allows ${wild.map((a) => `"${a}"`).join(", ")}; list the actions the role needs`);
    // Allow + NotAction grants every action but a few: a wildcard in disguise.
    if (s.notActions.length > 0) report(`${where} uses NotAction with Allow, which grants every other action; list the allowed actions instead`);
  }),
};

export const iamNoWildcardResource: PlatformPolicy = {
  name: "iam-no-wildcard-resource",
  description:
    'Policies grant actions on Resource "*" only for actions that have no resource-level permissions, and name no ARN with a wildcard for its service, region, account or resource name.',
  severity: "high",
  controls: [
    checkov("CKV_AWS_355"),
    checkov("CKV_AWS_290", 'CKV_AWS_290 flags write access without constraints; this rule is stricter: any scopable action on "*"'),
  ],
  validateResource: documentRule(["identity", "resource"], (s, where, kind, report) => {
    if (s.effect !== "Allow") return;
    if (s.notResources.length > 0)
      return report(`${where} uses NotResource with Allow, which grants the actions on every other resource; list the resources instead`);
    for (const problem of s.resources.map(arnWildcardProblem).filter((p) => p !== undefined)) {
      report(`${where}: ${problem}; name the resources (a trailing prefix wildcard such as bucket/datasets/* is fine)`);
    }
    // In a key or repository policy "*" is the resource itself.
    if (kind !== "identity" || !s.resources.includes("*")) return;
    const scopable = s.actions.filter((a) => !supportsNoResourceScope(a));
    if (scopable.length > 0) {
      report(
        `${where} allows ${scopable.map((a) => `"${a}"`).join(", ")} on Resource "*"; name the resources (only actions without resource-level permissions, such as ecr:GetAuthorizationToken and cloudwatch:PutMetricData, may use "*")`,
      );
    }
  }),
};

/** Resource types that attach managed policies, and the property (or properties) naming them. */
const ATTACHMENT_PROPERTIES: ReadonlyMap<string, readonly string[]> = new Map([
  [TYPES.iamRole, ["managedPolicyArns"]],
  [TYPES.iamRolePolicyAttachmentsExclusive, ["policyArns"]],
  [TYPES.iamUserPolicyAttachmentsExclusive, ["policyArns"]],
  [TYPES.iamGroupPolicyAttachmentsExclusive, ["policyArns"]],
  [TYPES.iamRolePolicyAttachment, ["policyArn"]],
  [TYPES.iamUserPolicyAttachment, ["policyArn"]],
  [TYPES.iamGroupPolicyAttachment, ["policyArn"]],
  [TYPES.iamPolicyAttachment, ["policyArn"]],
  ["aws-native:iam:Role", ["managedPolicyArns"]],
  ["aws-native:iam:User", ["managedPolicyArns"]],
  ["aws-native:iam:Group", ["managedPolicyArns"]],
]);

export const iamNoFullAccessManagedPolicies: PlatformPolicy = {
  name: "iam-no-full-access-managed-policies",
  description:
    "No AWS managed AdministratorAccess, PowerUserAccess or *FullAccess policy is attached to any role, user or group, by attachment resource or by the role's own list.",
  severity: "high",
  controls: [checkov("CKV_AWS_274", "AdministratorAccess; the *FullAccess policies are this platform's rule (no standard control)")],
  validateResource: (args, reportViolation) => {
    const properties = ATTACHMENT_PROPERTIES.get(args.type);
    if (!properties) return args.notApplicable("does not attach managed policies");
    for (const where of properties) {
      for (const arn of asStrings(args.props[where]).filter(isForbiddenManagedPolicy)) {
        reportViolation(`${describe(args)}: ${where} attaches the AWS managed policy ${arn}; grant only the actions needed with a scoped policy`);
      }
    }
  },
};

/** Condition keys that narrow an account-wide trust to some of its principals. */
const NARROWING_KEYS = ["aws:principalarn", "aws:userid", "sts:externalid", "aws:principalorgpaths"];
const narrows = (key: string) => NARROWING_KEYS.includes(key) || key.startsWith("aws:principaltag/");

/** What a service's trust must pin: its account and the resources acting (confused-deputy protection). */
const SOURCE_KEYS: ReadonlyArray<readonly [string, string]> = [
  ["aws:sourceaccount", "aws:SourceAccount"],
  ["aws:sourcearn", "aws:SourceArn"],
];

/**
 * Services that identify the acting resource otherwise. EKS Pod Identity sends no aws:SourceArn; it
 * tags the session with the cluster, namespace and service account, and the EKS User Guide ("Create
 * IAM role with trust policy required by EKS Pod Identity") restricts the role with those request tags.
 */
const SERVICE_TRUST_KEYS: Readonly<Record<string, ReadonlyArray<readonly [string, string]>>> = {
  "pods.eks.amazonaws.com": [
    ["aws:sourceaccount", "aws:SourceAccount"],
    ["aws:requesttag/kubernetes-namespace", "aws:RequestTag/kubernetes-namespace"],
    ["aws:requesttag/kubernetes-service-account", "aws:RequestTag/kubernetes-service-account"],
  ],
};

export const iamTrustPolicy: PlatformPolicy = {
  name: "iam-trust-policy",
  description:
    'Role trust policies admit no "*" or whole-account principal without a condition naming who, and a service only with aws:SourceAccount and aws:SourceArn (confused-deputy protection).',
  severity: "critical",
  controls: [checkov("CKV_AWS_60", 'Principal "*" in a trust policy; not in the shared reference, verify against checkov\'s index')],
  validateResource: documentRule(["trust"], (s, where, _kind, report) => {
    if (s.effect !== "Allow") return;
    if (s.notPrincipal !== undefined) return report(`${where} uses NotPrincipal with Allow, which lets everyone else assume the role; name the principals`);
    const principals = principalsOf(s.principal);
    const tests = conditionTests(s.condition);
    // Keys a condition pins to listed values (an IfExists or negated test pins nothing).
    const pinned = tests.filter(isPinning).map((t) => t.key);
    if (principals.anyone && !pinned.some((k) => IDENTITY_KEYS.includes(k) || narrows(k))) {
      report(`${where} lets any principal of any account assume the role; name the principals, or pin aws:PrincipalArn / aws:PrincipalOrgID`);
    }
    const wide = principals.aws.filter(isAccountWide);
    if (wide.length > 0 && !pinned.some(narrows)) {
      report(
        `${where} trusts every principal of ${wide.join(", ")} with no condition naming which; trust the deployer's role ARN, or pin aws:PrincipalArn (or sts:ExternalId for a third party)`,
      );
    }
    for (const service of principals.services) {
      const keys = SERVICE_TRUST_KEYS[service] ?? SOURCE_KEYS;
      const missing = keys.filter(([key]) => !pins(tests, [key])).map(([, shown]) => shown);
      if (missing.length > 0)
        report(`${where} lets ${service} assume the role with no ${missing.join(" and no ")} condition; pin ${keys.map(([, shown]) => shown).join(", ")}`);
    }
  }),
};

export const iamPolicies: PlatformPolicy[] = [iamNoWildcardActions, iamNoWildcardResource, iamNoFullAccessManagedPolicies, iamTrustPolicy].map((p) => ({
  ...p,
  tags: controlTags(p.controls),
}));
