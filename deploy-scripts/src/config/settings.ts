import {
  CONFIG_NAMESPACE,
  parseStackSettings,
  platformSettingsSchema,
  type PlatformSettings,
  type PromotionSettings,
  type TrainingSettings,
} from "@ml-platform/contract";
import { z } from "zod";

/**
 * A stack's config (`stacks/Pulumi.<stack>.yaml`) as the commands see it. The schema is the
 * contract's, the one `pulumi up` applies: a typo or a bad value in a stack file fails here too,
 * naming the key, before any command acts on the stack.
 */
export { CONFIG_NAMESPACE };
export type { PromotionSettings, TrainingSettings };

export const pinnedModelSchema = platformSettingsSchema.shape.model;
export const trainingSchema = platformSettingsSchema.shape.training;
export const promotionSchema = platformSettingsSchema.shape.promotion;

/**
 * The pinned version, read field by field: `packageArn`, or `artifactUri` + `image`; newest first
 * in `previousPackageArns` (written by promote/deploy/rollback, read by rollback).
 */
export interface PinnedModel {
  readonly packageArn?: string;
  readonly artifactUri?: string;
  readonly image?: string;
  readonly previousPackageArns: string[];
}

export type StackSettings = Omit<PlatformSettings, "model"> & {
  /** `aws:region`, the provider's; the commands take the region from the stack outputs. */
  readonly region?: string;
  readonly model?: PinnedModel;
};

/**
 * Validates the flat `config:` block (`mlPlatform:modelName`, `aws:region`, ...) with the contract's
 * schema; each problem is an issue at its key path (`promotion.minMetrics.auc`).
 */
export const stackSettingsSchema = z.record(z.string(), z.unknown()).transform((config, ctx): StackSettings => {
  // The caller (stack-file.ts) names the stack in its error; each issue carries the key and what is wrong.
  const result = parseStackSettings("", config);
  if (!result.ok) {
    for (const problem of result.problems) ctx.addIssue({ code: "custom", path: [...problem.path], message: problem.message });
    return z.NEVER;
  }
  const region = config["aws:region"];
  return { ...result.settings, region: typeof region === "string" ? region : undefined };
});

/** The input of `stackSettingsSchema`: the flat `config:` block, keys as written. */
export function settingsInput(config: Record<string, unknown>): Record<string, unknown> {
  return { ...config };
}
