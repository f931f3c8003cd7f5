import { AssumeRoleCommand } from "@aws-sdk/client-sts";
import { PROVIDER_ROLE_ENV } from "@ml-platform/contract";
import type { Context } from "../context";
import { CliError, describeError } from "../errors";
import type { StackOutputs } from "../stacks/gateway";

/** The session tag naming the ml-deploy command behind an assumed role (CloudTrail shows it). */
export const COMMAND_TAG = "ml-deploy-command";

/** AssumeRole's RoleSessionName: 2–64 characters of `[\w+=,.@-]`. */
const SESSION_NAME = { maxLength: 64, invalid: /[^\w+=,.@-]/g } as const;

export interface UpdaterIdentity {
  /** The endpoint-updater role (SageMaker stacks); absent: the caller's own credentials. */
  readonly roleArn?: string;
  /** Who runs the update, for messages. */
  readonly description: string;
  /** The environment of the `pulumi` process for this stack's preview and update. */
  readonly env: Readonly<Record<string, string>>;
}

/**
 * The identity of a model change's preview and update: the stack's endpoint-updater role, never the
 * caller's own credentials. The program's AWS providers assume it (`PROVIDER_ROLE_ENV`, their
 * `assumeRoles`): the provider refreshes those credentials through an update longer than a role
 * session (a blue/green deployment can bake for hours; a chained role session lasts one), and the
 * caller's credentials keep reaching the state backend, which the updater cannot read.
 *
 * Before any file is edited, the role is assumed once here, tagged with the command, so a caller
 * the role does not trust fails now, with the stack and the role named, rather than in the middle
 * of a preview.
 */
export async function updaterIdentity(
  ctx: Context,
  stack: string,
  outputs: StackOutputs,
  command: string,
  kubeContext?: string | null,
): Promise<UpdaterIdentity> {
  if (kubeContext !== undefined) {
    // The endpoint-updater role is SageMaker's (it may update only the stack's endpoint). On a
    // Kubernetes stack the update is a Deployment rollout: it runs with the caller's own AWS
    // credentials and kubeconfig, as the platform admin's `pulumi up` does.
    const description = `your own credentials and kubeconfig ${kubeContext ? `context ${kubeContext}` : "(the cluster stack's kubeconfig)"}`;
    ctx.out.info(`pulumi preview and up run with ${description}: a Kubernetes stack has no endpoint-updater role`);
    return { description, env: {} };
  }
  const roleArn = outputs.updaterRoleArn;
  if (!roleArn) {
    throw new CliError(`stack "${stack}" has no updaterRoleArn output: ml-deploy runs the pulumi up of a model change as the stage's endpoint-updater role`, {
      hint: `the platform admin must first run \`pulumi up --stack ${stack}\` with the current infra program, which creates the role and exports updaterRoleArn`,
    });
  }
  const sessionName = `ml-deploy-${command}-${stack}`.replace(SESSION_NAME.invalid, "-").slice(0, SESSION_NAME.maxLength);
  try {
    await ctx.aws
      .sts(outputs.region)
      .send(new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: sessionName, Tags: [{ Key: COMMAND_TAG, Value: command }], DurationSeconds: 900 }));
  } catch (err) {
    throw new CliError(`cannot act as stack "${stack}"'s endpoint-updater role ${roleArn}: ${describeError(err)}`, {
      cause: err,
      hint: `run ml-deploy as the stage's deployer role (output deployerRoleArn), which the updater role trusts, or ask the platform admin to add your principal to mlPlatform:updater.trustedPrincipalArns`,
    });
  }
  ctx.out.info(`pulumi preview and up run as ${roleArn}`);
  return { roleArn, description: roleArn, env: { [PROVIDER_ROLE_ENV]: roleArn } };
}
