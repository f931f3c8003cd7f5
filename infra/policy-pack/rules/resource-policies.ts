// Resource policies (buckets, KMS keys, ECR repositories, SNS topics, in every provider's
// spelling): who they admit, and a key policy that keeps administering the key apart from using it.
import type { PolicyResource } from "@pulumi/policy";
import {
  accountOf,
  accountsInArns,
  ACCOUNT_BINDING_KEYS,
  conditionTests,
  globMatches,
  isPinning,
  pinnedAccounts,
  principalsOf,
  statementsOfKind,
} from "../lib/documents";
import { isWildcardAction } from "../lib/iam";
import { checkov, controlTags, securityHub, type PlatformPolicy } from "../lib/policy";
import { asStrings, describe } from "../lib/resources";

interface PrincipalsConfig {
  /** Accounts besides the stack's own that resource policies may admit (e.g. the CI account). @default [] */
  trustedAccounts?: string[];
  /** Organization IDs an `aws:PrincipalOrgID` condition may name. @default [] */
  trustedOrganizationIds?: string[];
  /** The stack's own account(s), when the stack's resources do not tell (a first preview). @default - from the ARNs of the stack's resources */
  accountIds?: string[];
}

/**
 * The stack's own accounts: named in config, or read from its resources' ARNs (roles, keys,
 * topics, repositories carry the account). Before a first deployment no ARN is known; then only
 * public principals are judged, and the update's run judges the accounts.
 */
function homeAccounts(resources: readonly PolicyResource[], config: PrincipalsConfig): Set<string> {
  const arns = resources.map((r) => {
    try {
      return r.props.arn;
    } catch {
      // Not known in this preview.
      return undefined;
    }
  });
  return new Set([...(config.accountIds ?? []), ...accountsInArns(arns)]);
}

export const resourcePolicyPrincipals: PlatformPolicy = {
  name: "resource-policy-principals",
  description:
    "Bucket, key, repository and topic policies admit no public principal, no principal of a foreign account (unless the pack config trusts it), and a service only on behalf of an allowed account.",
  severity: "critical",
  controls: [
    securityHub("S3.6", "bucket policies; the same test is applied to key, repository and topic policies"),
    checkov("CKV_AWS_33", "key policies"),
    checkov("CKV_AWS_32", "ECR repository policies"),
  ],
  configSchema: {
    properties: {
      trustedAccounts: {
        type: "array",
        items: { type: "string", pattern: "^\\d{12}$" },
        default: [],
        description: "Foreign accounts resource policies may admit.",
      },
      trustedOrganizationIds: { type: "array", items: { type: "string" }, default: [], description: "Organizations an aws:PrincipalOrgID condition may name." },
      accountIds: {
        type: "array",
        items: { type: "string", pattern: "^\\d{12}$" },
        default: [],
        description: "The stack's own account, if its resources' ARNs are not known yet.",
      },
    },
  },
  validateStack: (args, reportViolation) => {
    const config = args.getConfig<PrincipalsConfig>();
    const home = homeAccounts(args.resources, config);
    const allowed = (account: string) => home.has(account) || (config.trustedAccounts ?? []).includes(account);
    let checked = 0;
    for (const resource of args.resources) {
      for (const { statement: s, where } of statementsOfKind(resource.type, resource.props, ["resource"])) {
        checked++;
        if (s.effect !== "Allow") continue;
        const report = (message: string) => reportViolation(`${describe(resource)}: ${where} ${message}`, resource.urn);
        if (s.notPrincipal !== undefined) {
          report("uses NotPrincipal with Allow, which admits everyone not listed; name the principals");
          continue;
        }
        const principals = principalsOf(s.principal);
        const tests = conditionTests(s.condition);
        const accounts = pinnedAccounts(tests);
        const orgs = tests.filter((t) => isPinning(t) && t.key === "aws:principalorgid").flatMap((t) => t.values);
        const foreignPins = home.size > 0 ? accounts.filter((a) => !allowed(a)) : [];
        const untrustedOrgs = orgs.filter((o) => !(config.trustedOrganizationIds ?? []).includes(o));
        if (foreignPins.length > 0) report(`admits callers of account ${foreignPins.join(", ")}, which is not this stack's and not in trustedAccounts`);
        if (untrustedOrgs.length > 0) report(`admits organization ${untrustedOrgs.join(", ")}, which is not in trustedOrganizationIds`);
        if ((principals.anyone || principals.services.length > 0) && accounts.length === 0 && orgs.length === 0) {
          const who = principals.anyone
            ? "any principal of any account"
            : `the service${principals.services.length > 1 ? "s" : ""} ${principals.services.join(", ")}`;
          const binding = tests.some((t) => ACCOUNT_BINDING_KEYS.includes(t.key))
            ? " (a condition on the caller is there, but it pins no account: IfExists, a negation or a wildcard)"
            : "";
          report(
            `admits ${who} with no condition pinning the caller's account${binding}; name the principals, or add aws:SourceAccount / aws:PrincipalAccount`,
          );
        }
        if (home.size > 0) {
          const foreign = principals.aws.map((p) => [p, accountOf(p)] as const).filter(([, a]) => a !== undefined && !allowed(a));
          for (const [p, a] of foreign) report(`admits ${p} of account ${a}, which is not this stack's and not in trustedAccounts`);
        }
        for (const p of [...principals.canonicalUsers, ...principals.federated])
          report(`admits ${p}; resource policies here name IAM principals or services only`);
      }
    }
    if (checked === 0) args.notApplicable("no resource policies in the stack");
  },
};

/** Actions that administer a key (change who may use it, or destroy it) rather than use it. */
const ADMIN_ACTIONS = [
  "kms:PutKeyPolicy",
  "kms:ScheduleKeyDeletion",
  "kms:CancelKeyDeletion",
  "kms:DisableKey",
  "kms:EnableKey",
  "kms:DisableKeyRotation",
  "kms:EnableKeyRotation",
  "kms:CreateAlias",
  "kms:UpdateAlias",
  "kms:DeleteAlias",
  "kms:UpdateKeyDescription",
  "kms:TagResource",
  "kms:UntagResource",
  "kms:RevokeGrant",
  "kms:RetireGrant",
];
/** Actions that use a key on data. */
const USE_ACTIONS = [
  "kms:Encrypt",
  "kms:Decrypt",
  "kms:ReEncryptFrom",
  "kms:ReEncryptTo",
  "kms:GenerateDataKey",
  "kms:GenerateDataKeyWithoutPlaintext",
  "kms:GenerateDataKeyPair",
  "kms:Sign",
  "kms:Verify",
  "kms:GenerateMac",
  "kms:VerifyMac",
];

const grants = (actions: string[], among: string[]) => among.filter((a) => actions.some((pattern) => globMatches(pattern, a)));

const KEY_POLICY_TYPES = ["aws:kms/key:Key", "aws:kms/keyPolicy:KeyPolicy", "aws:kms/replicaKey:ReplicaKey", "aws-native:kms:Key"];

export const kmsKeyPolicySeparation: PlatformPolicy = {
  name: "kms-key-policy-separation-of-duties",
  description:
    "A key policy grants administering the key and using it in separate statements, never kms:*, and no principal other than the account (IAM delegation) holds both.",
  severity: "high",
  controls: [],
  validateResource: (args, reportViolation) => {
    if (!KEY_POLICY_TYPES.includes(args.type)) return args.notApplicable("not a KMS key or key policy");
    const statements = statementsOfKind(args.type, args.props, ["resource"]).filter((x) => x.statement.effect === "Allow");
    if (statements.length === 0) return args.notApplicable("no key policy set (AWS's default policy applies)");
    const held = new Map<string, { admin: boolean; use: boolean }>();
    for (const { statement: s, where } of statements) {
      const admin = grants(s.actions, ADMIN_ACTIONS);
      const use = grants(s.actions, USE_ACTIONS);
      if (s.actions.some(isWildcardAction) && admin.length > 0 && use.length > 0) {
        reportViolation(
          `${describe(args)}: key policy ${where} grants ${s.actions
            .filter(isWildcardAction)
            .map((a) => `"${a}"`)
            .join(", ")}, administration and use at once; grant the administrative actions and the cryptographic ones in separate statements`,
        );
      } else if (admin.length > 0 && use.length > 0) {
        reportViolation(
          `${describe(args)}: key policy ${where} grants administration (${admin.slice(0, 3).join(", ")}${admin.length > 3 ? ", ..." : ""}) and use (${use.slice(0, 3).join(", ")}${use.length > 3 ? ", ..." : ""}) in one statement; split them so key administrators cannot read data and key users cannot change the key`,
        );
      }
      for (const p of [...asStrings(principalsOf(s.principal).aws), ...principalsOf(s.principal).services]) {
        const h = held.get(p) ?? { admin: false, use: false };
        held.set(p, { admin: h.admin || admin.length > 0, use: h.use || use.length > 0 });
      }
    }
    for (const [principal, h] of held) {
      // The account root in a key policy delegates to IAM: each identity's own policy then decides.
      if (h.admin && h.use && !/^arn:[^:]+:iam::\d{12}:root$/.test(principal) && !/^\d{12}$/.test(principal)) {
        reportViolation(`${describe(args)}: key policy lets ${principal} both administer and use the key; give administration and use to different principals`);
      }
    }
  },
};

export const resourcePolicyPolicies: PlatformPolicy[] = [resourcePolicyPrincipals, kmsKeyPolicySeparation].map((p) => ({
  ...p,
  tags: controlTags(p.controls),
}));
