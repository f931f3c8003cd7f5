import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { serviceTrustPolicy } from "../policies/documents";
import { executionRolePolicy } from "../policies/execution-role-policy";
import { ArtifactStore } from "./artifact-store";

export interface ExecutionRoleArgs {
  readonly accountId: pulumi.Input<string>;
  readonly partition: pulumi.Input<string>;
  readonly region: pulumi.Input<string>;
  readonly store: ArtifactStore;
  /** Repositories whose images jobs and endpoints may pull. */
  readonly repositoryArns: pulumi.Input<pulumi.Input<string>[]>;
}

/** The role SageMaker assumes for training jobs and endpoints: trusted by SageMaker only, least privilege. */
export class ExecutionRole extends pulumi.ComponentResource {
  readonly role: aws.iam.Role;
  readonly arn: pulumi.Output<string>;
  /** The role's permissions policy; depend on it before SageMaker uses the role. */
  readonly permissions: aws.iam.RolePolicy;

  constructor(name: string, args: ExecutionRoleArgs, opts?: pulumi.ComponentResourceOptions) {
    super("mlplatform:iam:ExecutionRole", name, {}, opts);

    this.role = new aws.iam.Role(`${name}-role`, {
      description: "SageMaker execution role of the ml-platform (training jobs and endpoints)",
      assumeRolePolicy: pulumi.output(args.accountId).apply((accountId) => JSON.stringify(serviceTrustPolicy("sagemaker.amazonaws.com", accountId))),
      maxSessionDuration: 3600,
    }, { parent: this });

    this.permissions = new aws.iam.RolePolicy(`${name}-permissions`, {
      role: this.role.id,
      policy: pulumi
        .all([args.partition, args.region, args.accountId, args.store.datasets.arn, args.store.artifacts.arn, args.store.key.arn, args.repositoryArns])
        .apply(([partition, region, accountId, datasetBucketArn, artifactBucketArn, kmsKeyArn, repositoryArns]) =>
          JSON.stringify(executionRolePolicy({ partition, region, accountId, datasetBucketArn, artifactBucketArn, kmsKeyArn, repositoryArns }))),
    }, { parent: this });

    this.arn = this.role.arn;
    this.registerOutputs({ arn: this.arn });
  }
}
