import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { approverPolicy } from "../policies/approver-policy";
import { principalTrustPolicy } from "../policies/documents";
import { DUTY_TAG } from "../policies/duties";

export interface ApproverRoleArgs {
  readonly partition: pulumi.Input<string>;
  readonly region: string;
  readonly accountId: pulumi.Input<string>;
  /** This stage's model package group. */
  readonly modelPackageGroupName: pulumi.Input<string>;
  /**
   * Principals allowed to assume the role (the people or review system that approve).
   * @default - none: nobody can approve until principals are configured
   */
  readonly trustedPrincipalArns?: readonly string[];
}

/** The approver of one stage: sets this stage's model versions Approved or Rejected, nothing else. */
export class ApproverRole extends pulumi.ComponentResource {
  readonly role: aws.iam.Role;
  readonly arn: pulumi.Output<string>;

  constructor(name: string, args: ApproverRoleArgs, opts?: pulumi.ComponentResourceOptions) {
    super("mlplatform:iam:ApproverRole", name, {}, opts);
    this.role = new aws.iam.Role(
      `${name}-role`,
      {
        description: "ml-platform approver: approves or rejects this stage's model versions",
        assumeRolePolicy: JSON.stringify(principalTrustPolicy("TrustedApprovers", args.trustedPrincipalArns ?? [])),
        maxSessionDuration: 3600,
        tags: { [DUTY_TAG]: "approver" },
      },
      { parent: this },
    );

    new aws.iam.RolePolicy(
      `${name}-permissions`,
      {
        role: this.role.id,
        policy: pulumi
          .all([args.partition, args.accountId, args.modelPackageGroupName])
          .apply(([partition, accountId, modelPackageGroupName]) =>
            JSON.stringify(approverPolicy({ partition, region: args.region, accountId, modelPackageGroupName })),
          ),
      },
      { parent: this },
    );

    this.arn = this.role.arn;
    this.registerOutputs({ arn: this.arn });
  }
}
