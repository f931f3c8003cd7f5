import type { PlatformConfig } from "./config";

/** Tags every taggable resource of the stack carries (through the provider's default tags). */
export function platformTags(config: Pick<PlatformConfig, "tags" | "stack" | "project">): Record<string, string> {
  return {
    ...config.tags,
    stack: config.stack,
    project: config.project,
    managedBy: "pulumi",
  };
}

/** Tag keys that must be present on every taggable resource (checked by tests and the policy pack). */
export const REQUIRED_TAG_KEYS = ["owner", "costCenter", "stack", "project", "managedBy"] as const;
