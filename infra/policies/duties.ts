/**
 * Every platform role carries this tag with its duty, one of DUTIES, so a reviewer (and a policy
 * pack rule) can check that duties stay separate: no role both trains and serves, deploys and
 * approves.
 */
export const DUTY_TAG = "mlplatform:duty";

export const DUTIES = ["training", "hosting", "deployer", "endpoint-updater", "approver"] as const;
export type Duty = (typeof DUTIES)[number];

/**
 * The environment variable that makes a `pulumi up` act as a role: both providers assume the role
 * it names (the AWS provider's `assumeRoles`, aws-native's `assumeRole`) instead of using the
 * ambient credentials, which still reach the state backend. `ml-deploy` sets it to the stack's
 * `updaterRoleArn` output for the `pulumi up` of a model change; the platform admin leaves it unset.
 */
export const PROVIDER_ROLE_ENV = "ML_PLATFORM_PROVIDER_ROLE_ARN";

const ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]+$/;

/** The role a run's providers assume, from the environment; a malformed value fails naming the variable. */
export function providerRoleArn(env: Readonly<Record<string, string | undefined>>): string | undefined {
  const value = env[PROVIDER_ROLE_ENV];
  if (value === undefined || value === "") return undefined;
  if (!ROLE_ARN.test(value)) throw new Error(`${PROVIDER_ROLE_ENV} (${JSON.stringify(value)}) must be an IAM role ARN (arn:aws:iam::<account>:role/<name>)`);
  return value;
}
