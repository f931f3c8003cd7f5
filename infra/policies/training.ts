import type { PlatformSettings } from "../config";
import { hasLocalInstanceStorage } from "../limits";
import type { TrainingGuardrails } from "./deployer-policy";

/** The instance types training jobs may use, and which of them keep their volume on local storage. */
export function trainingGuardrails(training: Pick<PlatformSettings["training"], "instanceType" | "allowedInstanceTypes">): TrainingGuardrails {
  const instanceTypes = training.allowedInstanceTypes ?? [training.instanceType];
  return { instanceTypes, localStorageInstanceTypes: instanceTypes.filter(hasLocalInstanceStorage) };
}
