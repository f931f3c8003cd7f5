// Every policy of the pack, as a plain array: index.ts serves it to the Pulumi CLI, the tests run
// it in-process. Importing this module starts nothing.
import type { PlatformPolicy } from "./lib/policy";
import { budgetPolicies } from "./rules/budget";
import { featureStorePolicies } from "./rules/feature-store";
import { iamPolicies } from "./rules/iam";
import { imagePolicies } from "./rules/images";
import { kubernetesPolicies } from "./rules/kubernetes";
import { monitoringPolicies } from "./rules/monitoring";
import { resourcePolicyPolicies } from "./rules/resource-policies";
import { sageMakerPolicies } from "./rules/sagemaker";
import { storagePolicies } from "./rules/storage";
import { tagPolicies } from "./rules/tags";

export const POLICY_PACK_NAME = "ml-platform";

export const policies: readonly PlatformPolicy[] = [
  ...storagePolicies,
  ...imagePolicies,
  ...iamPolicies,
  ...resourcePolicyPolicies,
  ...sageMakerPolicies,
  ...featureStorePolicies,
  ...kubernetesPolicies,
  ...monitoringPolicies,
  ...tagPolicies,
  ...budgetPolicies,
];

export type { ControlRef, PlatformPolicy } from "./lib/policy";
export { TRAINING_JOB_RULES, validateTrainingJobRequest, type TrainingJobRequest, type TrainingJobViolation } from "./training-job";
