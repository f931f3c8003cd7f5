// IAM policy documents as data: normalising statements and the checks the IAM rules share.
import { asArray, asRecord, asStrings, parseJson, type Props } from "./resources";

export interface Statement {
  readonly sid?: string;
  readonly effect: string;
  readonly actions: string[];
  /** `NotAction`: allows everything except the listed actions. */
  readonly notActions: string[];
  readonly resources: string[];
  readonly notResources: string[];
  readonly principal: unknown;
  /** `NotPrincipal`: with Allow, admits everyone but the listed principals. */
  readonly notPrincipal: unknown;
  readonly condition?: Props;
}

/** The statements of a policy document given as a JSON string or object; [] if it is not one. */
export function statementsOf(document: unknown): Statement[] {
  const doc = asRecord(parseJson(document));
  return asArray(doc?.Statement).flatMap((raw) => {
    const s = asRecord(raw);
    if (!s) return [];
    return [
      {
        sid: typeof s.Sid === "string" ? s.Sid : undefined,
        effect: typeof s.Effect === "string" ? s.Effect : "",
        actions: asStrings(s.Action),
        notActions: asStrings(s.NotAction),
        resources: asStrings(s.Resource),
        notResources: asStrings(s.NotResource),
        principal: s.Principal,
        notPrincipal: s.NotPrincipal,
        condition: asRecord(s.Condition),
      },
    ];
  });
}

export const label = (s: Statement, index: number) => (s.sid ? `statement "${s.sid}"` : `statement #${index + 1}`);

/**
 * Any `*` or `?` in an action: `*` and `s3:*` (IAM.1, IAM.21), and also `iam:Put*` or
 * `s3:Get?bject`, which grant actions nobody listed (including ones AWS adds later).
 */
export const isWildcardAction = (action: string) => /[*?]/.test(action);

/**
 * Actions that IAM cannot scope to a resource: the Service Authorization Reference lists them with
 * no resource type, so a policy must grant them on "*". Anything else on "*" is a missing scope.
 * Add an action here only with the reference's entry for it; review this list like a policy.
 */
export const ACTIONS_WITHOUT_RESOURCE_LEVEL_PERMISSIONS: ReadonlySet<string> = new Set([
  // ECR: the registry login token is account-wide (the image pulls themselves are scoped per repository).
  "ecr:GetAuthorizationToken",
  // CloudWatch: metrics have no ARN; scope with the `cloudwatch:namespace` condition key instead.
  "cloudwatch:PutMetricData",
  // STS: identifies the caller; takes no resource.
  "sts:GetCallerIdentity",
  // SageMaker: List* actions name no resource type (a model package group policy can still limit
  // cross-account listing); the deployer lists a group's versions with it.
  "sagemaker:ListModelPackages",
  // Cloud Control: the reference lists no resource type for these; the handler they run acts with
  // the caller's own (scoped) permissions. The endpoint updater's aws-native Endpoint update uses them.
  "cloudformation:UpdateResource",
  "cloudformation:GetResource",
  "cloudformation:GetResourceRequestStatus",
  // X-Ray: trace segments have no ARN (what SageMaker containers use when tracing is on).
  "xray:PutTraceSegments",
  "xray:PutTelemetryRecords",
]);

/** IAM action names are case-insensitive; the allow-list is matched ignoring case. */
const withoutResourceLevel = new Set([...ACTIONS_WITHOUT_RESOURCE_LEVEL_PERMISSIONS].map((a) => a.toLowerCase()));
export const supportsNoResourceScope = (action: string) => withoutResourceLevel.has(action.toLowerCase());

/** AWS service principals named in a trust statement's `Principal.Service`. */
export function servicePrincipals(principal: unknown): string[] {
  return asStrings(asRecord(principal)?.Service);
}

/** Condition keys a statement tests, lower-cased, across every operator (`StringEquals`, `ArnLike`, ...). */
export function conditionKeys(condition: Props | undefined): string[] {
  return Object.values(condition ?? {}).flatMap((block) => Object.keys(asRecord(block) ?? {}).map((k) => k.toLowerCase()));
}

/**
 * AWS managed policies this pack refuses to attach: administrator access, and every `*FullAccess`
 * policy (all actions of a service on all its resources, e.g. AmazonSageMakerFullAccess).
 */
export function isForbiddenManagedPolicy(arn: string): boolean {
  const match = /^arn:aws[a-z-]*:iam::aws:policy\/(?:.*\/)?([^/]+)$/.exec(arn);
  const name = match?.[1];
  if (name === undefined) return false;
  return name === "AdministratorAccess" || name === "PowerUserAccess" || name === "IAMFullAccess" || /FullAccess(?:V\d+)?$/.test(name);
}
