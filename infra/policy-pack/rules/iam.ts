// IAM: least privilege in every identity policy the stack creates, no AWS managed FullAccess or
// admin policies, and SageMaker may assume a role only on behalf of this account. Resource
// policies (KMS key policies, bucket policies) are not identity policies and have their own rules.
import type { ResourceValidationArgs, ResourceValidationPolicy } from "@pulumi/policy";
import {
  conditionKeys,
  isForbiddenManagedPolicy,
  isWildcardAction,
  label,
  servicePrincipals,
  statementsOf,
  supportsNoResourceScope,
  type Statement,
} from "../lib/iam";
import { checkov, controlTags, securityHub, type PlatformPolicy } from "../lib/policy";
import { asArray, asRecord, asStrings, describe } from "../lib/resources";
import { TYPES } from "../lib/types";

/** Resource types whose `policy` input is an identity-based policy document. */
const POLICY_DOCUMENT_TYPES = new Set<string>([
  TYPES.iamPolicy,
  TYPES.iamRolePolicy,
  TYPES.iamUserPolicy,
  TYPES.iamGroupPolicy,
]);

/** The identity-based permission documents a resource defines, each with where it sits. */
export function permissionDocuments(type: string, props: Record<string, unknown>): Array<{ where: string; document: unknown }> {
  if (POLICY_DOCUMENT_TYPES.has(type)) return [{ where: "policy", document: props.policy }];
  if (type === TYPES.iamRole) {
    return asArray(props.inlinePolicies).map((p, i) => ({ where: `inlinePolicies[${i}] (${String(asRecord(p)?.name ?? "unnamed")})`, document: asRecord(p)?.policy }));
  }
  return [];
}

/** A resource policy over the identity documents of every IAM resource type that carries one. */
function documentRule(check: (s: Statement, where: string, report: (message: string) => void) => void): ResourceValidationPolicy["validateResource"] {
  return (args: ResourceValidationArgs, reportViolation) => {
    const documents = permissionDocuments(args.type, args.props);
    if (documents.length === 0) return args.notApplicable("not an IAM resource with a permissions policy");
    for (const { where, document } of documents) {
      statementsOf(document).forEach((s, i) => check(s, `${where} ${label(s, i)}`, (message) => reportViolation(`${describe(args)}: ${message}`)));
    }
  };
}

export const iamNoWildcardActions: PlatformPolicy = {
  name: "iam-no-wildcard-actions",
  description: "IAM policies allow no \"*\" action, no whole-service \"<service>:*\" action and no NotAction.",
  severity: "high",
  controls: [securityHub("IAM.1"), securityHub("IAM.21"), checkov("CKV_AWS_1"), checkov("CKV_AWS_63")],
  validateResource: documentRule((s, where, report) => {
    if (s.effect !== "Allow") return;
    const wild = s.actions.filter(isWildcardAction);
    if (wild.length > 0) report(`${where} allows ${wild.map((a) => `"${a}"`).join(", ")}; list the actions the role needs`);
    // Allow + NotAction grants every action but a few: a wildcard in disguise.
    if (s.notActions.length > 0) report(`${where} uses NotAction with Allow, which grants every other action; list the allowed actions instead`);
  }),
};

export const iamNoWildcardResource: PlatformPolicy = {
  name: "iam-no-wildcard-resource",
  description: "IAM policies grant actions on Resource \"*\" only for actions that have no resource-level permissions.",
  severity: "high",
  controls: [checkov("CKV_AWS_355"), checkov("CKV_AWS_290", "CKV_AWS_290 flags write access without constraints; this rule is stricter: any scopable action on \"*\"")],
  validateResource: documentRule((s, where, report) => {
    if (s.effect !== "Allow") return;
    if (s.notResources.length > 0) return report(`${where} uses NotResource with Allow, which grants the actions on every other resource; list the resources instead`);
    if (!s.resources.includes("*")) return;
    const scopable = s.actions.filter((a) => !supportsNoResourceScope(a));
    if (scopable.length > 0) {
      report(`${where} allows ${scopable.map((a) => `"${a}"`).join(", ")} on Resource "*"; name the resources (only actions without resource-level permissions, such as ecr:GetAuthorizationToken and cloudwatch:PutMetricData, may use "*")`);
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
]);

export const iamNoFullAccessManagedPolicies: PlatformPolicy = {
  name: "iam-no-full-access-managed-policies",
  description: "No AWS managed AdministratorAccess, PowerUserAccess or *FullAccess policy is attached to any role, user or group.",
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

/** Condition keys that tie a service's use of a role to this account (confused-deputy protection). */
const SOURCE_CONDITION_KEYS = ["aws:sourceaccount", "aws:sourcearn", "aws:sourceorgid"];

export const iamSageMakerTrustSourceAccount: PlatformPolicy = {
  name: "iam-sagemaker-trust-source-account",
  description: "A role SageMaker may assume is trusted only with an aws:SourceAccount (or aws:SourceArn) condition.",
  severity: "high",
  controls: [],
  validateResource: (args, reportViolation) => {
    if (args.type !== TYPES.iamRole) return args.notApplicable("not an IAM role");
    statementsOf(args.props.assumeRolePolicy).forEach((s, i) => {
      if (s.effect !== "Allow" || !servicePrincipals(s.principal).includes("sagemaker.amazonaws.com")) return;
      if (!conditionKeys(s.condition).some((k) => SOURCE_CONDITION_KEYS.includes(k))) {
        reportViolation(`${describe(args)}: trust policy ${label(s, i)} lets sagemaker.amazonaws.com assume the role with no aws:SourceAccount or aws:SourceArn condition; add Condition StringEquals aws:SourceAccount <account ID>`);
      }
    });
  },
};

export const iamPolicies: PlatformPolicy[] = [iamNoWildcardActions, iamNoWildcardResource, iamNoFullAccessManagedPolicies, iamSageMakerTrustSourceAccount]
  .map((p) => ({ ...p, tags: controlTags(p.controls) }));
