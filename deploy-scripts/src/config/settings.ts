import { z } from "zod";

/**
 * The part of a stack's config (`stacks/Pulumi.<stack>.yaml`) the commands read. `infra/config.ts`
 * owns the full, strict schema and rejects typos at `pulumi up`; here unknown keys pass through, so
 * the CLI keeps working while infra gains settings it does not care about.
 */
export const CONFIG_NAMESPACE = "mlPlatform";

const metricName = z.string().regex(/^[a-z]+:[a-z0-9_]+$/, "must be <channel>:<metric>, e.g. validation:auc");

export const pinnedModelSchema = z.object({
  packageArn: z.string().optional(),
  artifactUri: z.string().optional(),
  image: z.string().optional(),
  /** Newest first; written by promote/deploy/rollback, read by rollback. */
  previousPackageArns: z.array(z.string()).default([]),
});

export const trainingSchema = z.object({
  instanceType: z.string().min(1),
  instanceCount: z.number().int().positive().default(1),
  volumeSizeGb: z.number().int().positive().default(30),
  maxRuntimeSeconds: z.number().int().positive().default(3600),
  spot: z.boolean().default(false),
  maxWaitSeconds: z.number().int().positive().optional(),
  datasetPrefix: z.string().min(1),
  hyperparameters: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).default({}),
});

export const promotionSchema = z.object({
  requireApproval: z.boolean().default(true),
  minMetrics: z.record(metricName, z.number()).default({}),
  maxMetrics: z.record(metricName, z.number()).default({}),
  smokeMaxLatencyMs: z.number().positive().default(1000),
});

export const stackSettingsSchema = z.object({
  region: z.string().optional(),
  modelName: z.string().min(1),
  tags: z.record(z.string(), z.string()).default({}),
  model: pinnedModelSchema.nullish().transform((m) => m ?? undefined),
  training: trainingSchema.optional(),
  promotion: promotionSchema.default(promotionSchema.parse({})),
});

export type StackSettings = z.infer<typeof stackSettingsSchema>;
export type TrainingSettings = z.infer<typeof trainingSchema>;
export type PromotionSettings = z.infer<typeof promotionSchema>;
export type PinnedModel = z.infer<typeof pinnedModelSchema>;

/** Maps the flat `config:` block (`mlPlatform:modelName`, `aws:region`) to the settings object. */
export function settingsInput(config: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { region: config["aws:region"] };
  const prefix = `${CONFIG_NAMESPACE}:`;
  for (const [key, value] of Object.entries(config)) {
    if (key.startsWith(prefix)) out[key.slice(prefix.length)] = value;
  }
  return out;
}
