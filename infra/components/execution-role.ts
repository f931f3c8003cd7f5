import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { serviceTrustPolicy } from "../policies/documents";
import { ExecutionDuty, executionRolePolicy } from "../policies/execution-role-policy";
import { DUTY_TAG } from "../policies/duties";
import { ArtifactStore } from "./artifact-store";

export interface ExecutionRoleArgs {
  readonly accountId: pulumi.Input<string>;
  readonly partition: pulumi.Input<string>;
  readonly region: pulumi.Input<string>;
  /** Training jobs or the endpoint's model: separate roles, so neither can do the other's writes. */
  readonly duty: ExecutionDuty;
  readonly store: ArtifactStore;
  /** This stage's repositories, whose images the role may pull. */
  readonly repositoryArns: pulumi.Input<pulumi.Input<string>[]>;
  /** Hosting only: the name prefix of the endpoint's rollback alarms, which SageMaker reads with this role. */
  readonly rollbackAlarmPrefix?: string;
}

/**
 * The SageMaker resources on whose behalf the role may be assumed (SageMaker Developer Guide,
 * "Cross-service confused deputy prevention", sections SageMaker Training Jobs and SageMaker AI
 * Inference): training jobs of this account and region for training; for hosting, SageMaker
 * resources of this account and region (the guide's inference example scopes no narrower).
 */
export function executionSourceArn(duty: ExecutionDuty, partition: string, region: string, accountId: string): string {
  const base = `arn:${partition}:sagemaker:${region}:${accountId}`;
  return duty === "training" ? `${base}:training-job/*` : `${base}:*`;
}

/** A role SageMaker assumes for one duty (training or hosting): trusted by SageMaker only, least privilege. */
export class ExecutionRole extends pulumi.ComponentResource {
  readonly role: aws.iam.Role;
  readonly arn: pulumi.Output<string>;
  /** The role's permissions policy; depend on it before SageMaker uses the role. */
  readonly permissions: aws.iam.RolePolicy;

  constructor(name: string, args: ExecutionRoleArgs, opts?: pulumi.ComponentResourceOptions) {
    super("mlplatform:iam:ExecutionRole", name, {}, opts);

    this.role = new aws.iam.Role(
      `${name}-role`,
      {
        description: `SageMaker execution role of the ml-platform for ${args.duty === "training" ? "training jobs" : "the endpoint's model"}`,
        assumeRolePolicy: pulumi
          .all([args.partition, args.region, args.accountId])
          .apply(([partition, region, accountId]) =>
            JSON.stringify(serviceTrustPolicy("sagemaker.amazonaws.com", accountId, executionSourceArn(args.duty, partition, region, accountId))),
          ),
        maxSessionDuration: 3600,
        tags: { [DUTY_TAG]: args.duty },
      },
      { parent: this },
    );

    this.permissions = new aws.iam.RolePolicy(
      `${name}-permissions`,
      {
        role: this.role.id,
        policy: pulumi
          .all([args.partition, args.region, args.accountId, args.store.datasets.arn, args.store.artifacts.arn, args.store.key.arn, args.repositoryArns])
          .apply(([partition, region, accountId, datasetBucketArn, artifactBucketArn, kmsKeyArn, repositoryArns]) =>
            JSON.stringify(
              executionRolePolicy(args.duty, {
                partition,
                region,
                accountId,
                datasetBucketArn,
                artifactBucketArn,
                kmsKeyArn,
                repositoryArns,
                rollbackAlarmPrefix: args.rollbackAlarmPrefix,
              }),
            ),
          ),
      },
      { parent: this },
    );

    this.arn = this.role.arn;
    this.registerOutputs({ arn: this.arn });
  }
}
