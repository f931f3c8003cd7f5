// Plain IAM policy document types: the policy functions return data, tested without Pulumi.

export interface PolicyStatement {
  Sid?: string;
  Effect: "Allow" | "Deny";
  Principal?: "*" | Record<string, string | string[]>;
  Action: string | string[];
  Resource?: string | string[];
  Condition?: Record<string, Record<string, string | string[] | boolean>>;
}

export interface PolicyDocument {
  Version: "2012-10-17";
  Statement: PolicyStatement[];
}

export function policy(...statements: PolicyStatement[]): PolicyDocument {
  return { Version: "2012-10-17", Statement: statements };
}

/**
 * A trust policy that lets an AWS service assume a role, only on behalf of this account's resources
 * matching `sourceArn` (a pattern). Confused-deputy protection with both global keys, as the IAM
 * User Guide's "The confused deputy problem" recommends (the account in `sourceArn` must be `accountId`).
 */
export function serviceTrustPolicy(service: string, accountId: string, sourceArn: string): PolicyDocument {
  return policy({
    Sid: "TrustServiceForThisAccountOnly",
    Effect: "Allow",
    Principal: { Service: service },
    Action: "sts:AssumeRole",
    Condition: { StringEquals: { "aws:SourceAccount": accountId }, ArnLike: { "aws:SourceArn": sourceArn } },
  });
}

/**
 * A trust policy that lets exactly these principals assume a role. With none, nobody can: the
 * role exists (its ARN can be granted elsewhere) but stays unusable until a principal is configured.
 */
export function principalTrustPolicy(sid: string, principalArns: readonly string[], opts: { tagSession?: boolean } = {}): PolicyDocument {
  if (principalArns.length === 0) {
    return policy({ Sid: `${sid}NoneConfigured`, Effect: "Deny", Principal: { AWS: "*" }, Action: "sts:AssumeRole" });
  }
  // A caller that tags its session needs sts:TagSession in the trust policy too (IAM User Guide,
  // "Passing session tags in AWS STS").
  return policy({
    Sid: sid,
    Effect: "Allow",
    Principal: { AWS: [...principalArns] },
    Action: opts.tagSession ? ["sts:AssumeRole", "sts:TagSession"] : "sts:AssumeRole",
  });
}
