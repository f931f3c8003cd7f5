import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { KubernetesServingSettings } from "../config";
import { irsaTrustPolicy, modelReaderPolicy, podIdentityTrustPolicy } from "../policies/serving-identity-policy";
import { ArtifactStore } from "./artifact-store";

export interface PodIdentityArgs {
  readonly accountId: pulumi.Input<string>;
  readonly partition: pulumi.Input<string>;
  readonly region: string;
  /** How the cluster vouches for the pods: EKS Pod Identity or IRSA. */
  readonly identity: KubernetesServingSettings["identity"];
  /** The namespace and service account the serving pods run as. */
  readonly namespace: string;
  readonly serviceAccount: string;
  /** The store whose promoted models the pods read. */
  readonly store: ArtifactStore;
}

/**
 * The AWS identity of the serving pods: a role that may only read this stack's promoted models,
 * trusted by EKS Pod Identity (with the association when the cluster is named) or by IRSA.
 */
export class PodIdentity extends pulumi.ComponentResource {
  readonly role: aws.iam.Role;
  readonly arn: pulumi.Output<string>;
  /** Depend on it before pods start: they fetch the model as they start. */
  readonly permissions: aws.iam.RolePolicy;
  /** The Pod Identity association; absent for IRSA, or when the cluster's own stack manages it. */
  readonly association?: aws.eks.PodIdentityAssociation;

  constructor(name: string, args: PodIdentityArgs, opts?: pulumi.ComponentResourceOptions) {
    super("mlplatform:iam:PodIdentity", name, {}, opts);
    const { identity, namespace, serviceAccount } = args;

    const trust =
      identity.mode === "irsa"
        ? pulumi.output(irsaTrustPolicy(identity.oidcProviderArn!, namespace, serviceAccount))
        : pulumi.output(args.accountId).apply((accountId) => podIdentityTrustPolicy(accountId, namespace, serviceAccount, identity.eksClusterName));
    this.role = new aws.iam.Role(
      `${name}-role`,
      {
        description: `Kubernetes serving pods of ml-platform (${namespace}/${serviceAccount}): read promoted models`,
        assumeRolePolicy: trust.apply((doc) => JSON.stringify(doc)),
        maxSessionDuration: 3600,
      },
      { parent: this },
    );

    this.permissions = new aws.iam.RolePolicy(
      `${name}-permissions`,
      {
        role: this.role.id,
        policy: pulumi
          .all([args.store.artifacts.arn, args.store.key.arn])
          .apply(([artifactBucketArn, kmsKeyArn]) => JSON.stringify(modelReaderPolicy({ region: args.region, artifactBucketArn, kmsKeyArn }))),
      },
      { parent: this },
    );

    if (identity.mode === "podIdentity" && identity.eksClusterName !== undefined) {
      this.association = new aws.eks.PodIdentityAssociation(
        `${name}-association`,
        {
          clusterName: identity.eksClusterName,
          namespace,
          serviceAccount,
          roleArn: this.role.arn,
        },
        { parent: this },
      );
    }

    this.arn = this.role.arn;
    this.registerOutputs({ arn: this.arn });
  }
}
