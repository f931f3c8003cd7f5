import { PROVIDER_ROLE_ENV } from "@ml-platform/contract";
/**
 * Every platform role carries this tag with its duty, one of DUTIES, so a reviewer (and a policy
 * pack rule) can check that duties stay separate: no role both trains and serves, deploys and
 * approves.
 */
export const DUTY_TAG = "mlplatform:duty";

export const DUTIES = [
  "training",
  "hosting",
  "deployer",
  "endpoint-updater",
  "approver",
  "feature-store",
  "feature-ingestion",
  // The training pipeline's roles: its executor, its snapshot and evaluation steps, and what starts it (schedule, rule).
  "pipeline",
  "snapshot",
  "evaluation",
  "pipeline-starter",
] as const;
export type Duty = (typeof DUTIES)[number];

// The variable ml-deploy sets to the stack's updaterRoleArn for a model change (the contract's, one home).
export { PROVIDER_ROLE_ENV };

const ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]+$/;

/** The role a run's providers assume, from the environment; a malformed value fails naming the variable. */
export function providerRoleArn(env: Readonly<Record<string, string | undefined>>): string | undefined {
  const value = env[PROVIDER_ROLE_ENV];
  if (value === undefined || value === "") return undefined;
  if (!ROLE_ARN.test(value)) throw new Error(`${PROVIDER_ROLE_ENV} (${JSON.stringify(value)}) must be an IAM role ARN (arn:aws:iam::<account>:role/<name>)`);
  return value;
}
