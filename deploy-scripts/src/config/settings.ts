import { CONFIG_NAMESPACE, parseStackSettings, type PlatformSettings, type PromotionSettings, type TrainingSettings } from "@ml-platform/contract";

/**
 * A stack's config (`stacks/Pulumi.<stack>.yaml`) as the commands see it. The schema is the
 * contract's, the one `pulumi up` applies: a typo or a bad value in a stack file fails here too,
 * naming the key, before any command acts on the stack.
 */
export { CONFIG_NAMESPACE };
export type { PromotionSettings, TrainingSettings };

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
 * The flat `config:` block (`mlPlatform:modelName`, `aws:region`, ...) validated with the contract's
 * schema, the one `pulumi up` applies; or every problem, each `<stack>: mlPlatform:<key> ...`.
 */
export function readStackSettings(
  stack: string,
  config: Readonly<Record<string, unknown>>,
): { ok: true; settings: StackSettings } | { ok: false; problems: string[] } {
  const result = parseStackSettings(stack, config);
  if (!result.ok) return { ok: false, problems: result.problems.map((p) => p.text) };
  const region = config["aws:region"];
  return { ok: true, settings: { ...result.settings, region: typeof region === "string" ? region : undefined } };
}
