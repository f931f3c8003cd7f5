import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { policy } from "../policies/documents";
import { deployerPolicy, DeployerStageArgs } from "../policies/deployer-policy";

export interface DeployerRoleArgs {
  readonly accountId: pulumi.Input<string>;
  readonly partition: pulumi.Input<string>;
  /** This stack's resources the deployer works on. */
  readonly stage: pulumi.Input<DeployerStageArgs>;
  /** The SageMaker execution role training jobs run as (the one role the deployer may pass). */
  readonly executionRoleArn: pulumi.Input<string>;
  /** `ml-deploy train` names jobs `<prefix>-<timestamp>`. */
  readonly trainingJobNamePrefix: string;
  /** Repositories `ml-deploy images` pushes to. */
  readonly repositoryArns: pulumi.Input<string[]>;
  /** Earlier stages this stack promotes from, read-only. @default - none */
  readonly sources?: pulumi.Input<DeployerStageArgs[]>;
  /**
   * Principals allowed to assume the role (e.g. the CI runner's role).
   * @default - the account itself: any principal of this account whose own policy allows it
   */
  readonly trustedPrincipalArns?: readonly string[];
}

/** The role CI assumes to run `ml-deploy`: exactly the actions its commands send, on this platform's resources. */
export class DeployerRole extends pulumi.ComponentResource {
  readonly role: aws.iam.Role;
  readonly arn: pulumi.Output<string>;

  constructor(name: string, args: DeployerRoleArgs, opts?: pulumi.ComponentResourceOptions) {
    super("mlplatform:iam:DeployerRole", name, {}, opts);

    const trust = pulumi.all([args.accountId, args.partition]).apply(([accountId, partition]) => {
      const principals = args.trustedPrincipalArns?.length ? [...args.trustedPrincipalArns] : [`arn:${partition}:iam::${accountId}:root`];
      return JSON.stringify(policy({ Sid: "TrustedDeployers", Effect: "Allow", Principal: { AWS: principals }, Action: "sts:AssumeRole" }));
    });
    this.role = new aws.iam.Role(`${name}-role`, {
      description: "CI deployer of the ml-platform: runs ml-deploy (train, register, promote, smoke, rollback)",
      assumeRolePolicy: trust,
      maxSessionDuration: 3600,
    }, { parent: this });

    new aws.iam.RolePolicy(`${name}-permissions`, {
      role: this.role.id,
      policy: pulumi
        .all([args.partition, args.stage, args.executionRoleArn, args.repositoryArns, args.sources ?? []])
        .apply(([partition, stage, executionRoleArn, repositoryArns, sources]) =>
          JSON.stringify(deployerPolicy({
            ...stage,
            partition,
            executionRoleArn,
            trainingJobNamePrefix: args.trainingJobNamePrefix,
            repositoryArns,
            sources,
          }))),
    }, { parent: this });

    this.arn = this.role.arn;
    this.registerOutputs({ arn: this.arn });
  }
}
