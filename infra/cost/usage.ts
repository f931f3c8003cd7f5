// The usage profile the estimate prices: the stack's `usage` settings plus the training settings
// (training jobs are launched by ml-deploy, not declared in the program, so no resource carries them).
// Plain data: the policy pack receives it through its policy config.
import type { PlatformSettings, TrainingSettings, UsageSettings } from "@ml-platform/contract";

export interface UsageProfile extends UsageSettings {
  readonly training: Pick<TrainingSettings, "instanceType" | "instanceCount" | "volumeSizeGb" | "maxRuntimeSeconds" | "spot">;
}

export function usageProfile(settings: Pick<PlatformSettings, "usage" | "training">): UsageProfile {
  const { instanceType, instanceCount, volumeSizeGb, maxRuntimeSeconds, spot } = settings.training;
  return { ...settings.usage, training: { instanceType, instanceCount, volumeSizeGb, maxRuntimeSeconds, spot } };
}
