import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { principalTrustPolicy } from "../policies/documents";
import { DUTY_TAG } from "../policies/duties";
import { endpointUpdaterPolicy, EndpointUpdaterPolicyArgs } from "../policies/endpoint-updater-policy";

export interface EndpointUpdaterRoleArgs {
  readonly partition: pulumi.Input<string>;
  readonly region: string;
  readonly accountId: pulumi.Input<string>;
  /** The stack tag its resources carry (provider default tags). */
  readonly stackTag: EndpointUpdaterPolicyArgs["stackTag"];
  /** This stack's endpoint (fixed name). */
  readonly endpointName: string;
  /** Name prefixes of the auto-named Model and EndpointConfiguration (InferenceEndpoint's `namePrefixes`). */
  readonly namePrefixes: { readonly model: string; readonly endpointConfig: string };
  /** The hosting execution role the Model runs as. */
  readonly hostingRoleArn: pulumi.Input<string>;
  /** The platform key the endpoint config uses. */
  readonly kmsKeyArn: pulumi.Input<string>;
  /** Refuse Models without network isolation. @default false */
  readonly requireNetworkIsolation?: boolean;
  /** This stage's deployer role, which assumes this role to run `pulumi up` of a model change. */
  readonly deployerRoleArn: pulumi.Input<string>;
  /** Further principals allowed to assume it (e.g. an on-call break-glass role). @default - none */
  readonly trustedPrincipalArns?: readonly string[];
}

/**
 * The endpoint updater: the identity `pulumi up` of a model change runs as (inside `ml-deploy
 * deploy/promote/rollback`). It can swap the Model and EndpointConfiguration of this stack's
 * endpoint and nothing else, so a release cannot change infrastructure.
 */
export class EndpointUpdaterRole extends pulumi.ComponentResource {
  readonly role: aws.iam.Role;
  readonly arn: pulumi.Output<string>;

  constructor(name: string, args: EndpointUpdaterRoleArgs, opts?: pulumi.ComponentResourceOptions) {
    super("mlplatform:iam:EndpointUpdaterRole", name, {}, opts);
    this.role = new aws.iam.Role(
      `${name}-role`,
      {
        description: "ml-platform endpoint updater: pulumi up of a model change (new Model and EndpointConfig, UpdateEndpoint)",
        assumeRolePolicy: pulumi
          .output(args.deployerRoleArn)
          .apply((deployer) =>
            JSON.stringify(principalTrustPolicy("DeployerAndTrustedPrincipals", [deployer, ...(args.trustedPrincipalArns ?? [])], { tagSession: true })),
          ),
        // Assumed by another role (role chaining): AWS caps such sessions at one hour anyway; the
        // provider's assume-role credentials are refreshed during a long blue/green update.
        maxSessionDuration: 3600,
        tags: { [DUTY_TAG]: "endpoint-updater" },
      },
      { parent: this },
    );

    new aws.iam.RolePolicy(
      `${name}-permissions`,
      {
        role: this.role.id,
        policy: pulumi.all([args.partition, args.accountId, args.hostingRoleArn, args.kmsKeyArn]).apply(([partition, accountId, hostingRoleArn, kmsKeyArn]) =>
          JSON.stringify(
            endpointUpdaterPolicy({
              partition,
              region: args.region,
              accountId,
              stackTag: args.stackTag,
              endpointName: args.endpointName,
              modelNamePrefix: args.namePrefixes.model,
              endpointConfigNamePrefix: args.namePrefixes.endpointConfig,
              hostingRoleArn,
              kmsKeyArn,
              requireNetworkIsolation: args.requireNetworkIsolation,
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
