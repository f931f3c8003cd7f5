/**
 * Every platform role carries this tag with its duty, one of DUTIES, so a reviewer (and a policy
 * pack rule) can check that duties stay separate: no role both trains and serves, deploys and
 * approves.
 */
export const DUTY_TAG = "mlplatform:duty";

export const DUTIES = ["training", "hosting", "deployer", "endpoint-updater", "approver"] as const;
export type Duty = (typeof DUTIES)[number];
