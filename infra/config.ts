// The Pulumi side of a stack's config: read it as `pulumi up` hands it over, validate it with the
// contract's schema (shared with ml-deploy), throw once before any resource is registered.
import * as pulumi from "@pulumi/pulumi";
import { CONFIG_NAMESPACE, ConfigError, parseStackSettings, type PlatformSettings } from "@ml-platform/contract";
import { snapshotPrefixProblems } from "./pipeline/definition";

export { CONFIG_NAMESPACE, ConfigError } from "@ml-platform/contract";
export type {
  AlarmSettings,
  DataCaptureSettings,
  InstanceServingSettings,
  KubernetesServingSettings,
  PinnedModel,
  PlatformSettings,
  ServingSettings,
} from "@ml-platform/contract";

/** The validated view of one stack's config, plus what Pulumi itself knows of the stack. */
export interface PlatformConfig extends PlatformSettings {
  readonly stack: string;
  readonly project: string;
  readonly region: string;
}

/**
 * Validates one stack's config: `config` is its flat map (`mlPlatform:<key>` → decoded value),
 * `region` the AWS provider's. Every problem is collected, then thrown at once, each naming the
 * stack and the full key.
 */
export function parsePlatformConfig(
  stack: string,
  config: Readonly<Record<string, unknown>>,
  region: string | undefined,
  project = CONFIG_NAMESPACE,
): PlatformConfig {
  const problems: string[] = [];
  if (!region) problems.push(`${stack}: aws:region is missing (set it with \`pulumi config set aws:region <region>\`)`);
  const parsed = parseStackSettings(stack, config);
  if (!parsed.ok) problems.push(...parsed.problems.map((p) => p.text));
  // The training pipeline snapshots the dataset prefix: it must be one it can snapshot.
  if (parsed.ok && parsed.settings.pipeline) problems.push(...snapshotPrefixProblems(parsed.settings.training.datasetPrefix).map((p) => `${stack}: ${p}`));
  if (!parsed.ok || !region || problems.length > 0) throw new ConfigError(stack, problems);
  return { ...parsed.settings, stack, project, region };
}

/**
 * Reads the current stack's config the way `pulumi up` provides it and validates it before any
 * resource is registered.
 */
export function loadConfig(): PlatformConfig {
  const region = new pulumi.Config("aws").get("region");
  return parsePlatformConfig(pulumi.getStack(), decodeConfig(pulumi.runtime.allConfig()), region, pulumi.getProject());
}

/** A stack's config as the program receives it (`ns:key` → string), each value decoded. */
export function decodeConfig(all: Readonly<Record<string, string>>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(all).map(([key, value]) => [key, decodeConfigValue(value)]));
}

/** Pulumi hands every value over as a string; structured and numeric ones are JSON. */
export function decodeConfigValue(value: string): unknown {
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
}
