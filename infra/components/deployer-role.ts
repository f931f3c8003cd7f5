import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { principalTrustPolicy } from "../policies/documents";
import { deployerPolicy, DeployerStageArgs, TrainingGuardrails } from "../policies/deployer-policy";
import { DUTY_TAG } from "../policies/duties";

export interface DeployerRoleArgs {
  readonly partition: pulumi.Input<string>;
  /** This stack's resources the deployer works on. */
  readonly stage: pulumi.Input<DeployerStageArgs>;
  /** The SageMaker role training jobs run as (the one role the deployer may pass). */
  readonly trainingRoleArn: pulumi.Input<string>;
  /** What training jobs must look like: instance types allowed, which of them have local storage. */
  readonly training: TrainingGuardrails;
  /** `ml-deploy train` names jobs `<prefix>-<timestamp>`. */
  readonly trainingJobNamePrefix: string;
  /** The endpoint's config and model name prefixes, which `ml-deploy lineage` reads. @default - none */
  readonly servingNamePrefixes?: { readonly model: string; readonly endpointConfig: string };
  /** Earlier stages this stack promotes from, read-only (validated stack outputs). @default - none */
  readonly sources?: pulumi.Input<DeployerStageArgs[]>;
  /**
   * Principals allowed to assume the role (e.g. the CI runner's role).
   * @default - none: nobody can assume the role until principals are configured
   */
  readonly trustedPrincipalArns?: readonly string[];
  /**
   * The feature groups the deployer writes with `ml-deploy features ingest`, and the online stores' key.
   * @default - the deployer does not ingest
   */
  readonly featureIngestion?: { readonly featureGroupNames: readonly string[]; readonly onlineStoreKmsKeyArn?: pulumi.Input<string> };
  /**
   * The feature store's Athena workgroup, where the deployer builds training sets (`ml-deploy features dataset`).
   * @default - the deployer queries no feature store
   */
  readonly featureQueries?: { readonly workgroupName: pulumi.Input<string> };
}

/**
 * The role CI assumes to run `ml-deploy`: exactly the actions its commands send, on this platform's
 * resources. Its permissions are a separate resource (`permissions`) so the updater role can trust
 * this role before the permissions name the updater.
 */
export class DeployerRole extends pulumi.ComponentResource {
  readonly role: aws.iam.Role;
  readonly arn: pulumi.Output<string>;
  private readonly name: string;
  private readonly args: DeployerRoleArgs;

  constructor(name: string, args: DeployerRoleArgs, opts?: pulumi.ComponentResourceOptions) {
    super("mlplatform:iam:DeployerRole", name, {}, opts);
    this.role = new aws.iam.Role(
      `${name}-role`,
      {
        description: "CI deployer of the ml-platform: runs ml-deploy (train, register, promote, smoke, rollback); never approves",
        assumeRolePolicy: JSON.stringify(principalTrustPolicy("TrustedDeployers", args.trustedPrincipalArns ?? [])),
        maxSessionDuration: 3600,
        tags: { [DUTY_TAG]: "deployer" },
      },
      { parent: this },
    );
    this.arn = this.role.arn;
    this.name = name;
    this.args = args;
    this.registerOutputs({ arn: this.arn });
  }

  /**
   * Attaches the permissions, once the endpoint-updater role (which trusts this role, so exists
   * after it) is known: the deployer may assume it for `pulumi up` of a model change.
   */
  attachPermissions(updaterRoleArn: pulumi.Input<string>): aws.iam.RolePolicy {
    const args = this.args;
    return new aws.iam.RolePolicy(
      `${this.name}-permissions`,
      {
        role: this.role.id,
        policy: pulumi
          .all([
            args.partition,
            args.stage,
            args.trainingRoleArn,
            args.sources ?? [],
            updaterRoleArn,
            args.featureIngestion?.onlineStoreKmsKeyArn,
            args.featureQueries?.workgroupName,
          ])
          .apply(([partition, stage, trainingRoleArn, sources, updater, onlineStoreKmsKeyArn, workgroupName]) =>
            JSON.stringify(
              deployerPolicy({
                ...stage,
                partition,
                trainingRoleArn,
                training: args.training,
                trainingJobNamePrefix: args.trainingJobNamePrefix,
                servingNamePrefixes: args.servingNamePrefixes,
                updaterRoleArn: updater,
                sources,
                featureIngestion: args.featureIngestion && { featureGroupNames: args.featureIngestion.featureGroupNames, onlineStoreKmsKeyArn },
                featureQueries: workgroupName ? { workgroupName } : undefined,
              }),
            ),
          ),
      },
      { parent: this },
    );
  }
}
