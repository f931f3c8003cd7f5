// Reading resources the way the policy engine hands them over: props are plain JSON (inputs for
// resource policies, outputs for stack policies), nested values may still be JSON strings, and
// during `pulumi preview` a value not yet known throws when it is read.
import type { PolicyResource, ResourceValidationArgs } from "@pulumi/policy";

export type Props = Record<string, unknown>;

/** A JSON document given either as a string (how the components pass policies) or as an object. */
export function parseJson(value: unknown): unknown {
  if (typeof value !== "string") return value;
  try {
    return JSON.parse(value);
  } catch {
    return undefined;
  }
}

export function asRecord(value: unknown): Props | undefined {
  return value !== null && typeof value === "object" && !Array.isArray(value) ? (value as Props) : undefined;
}

export function asArray(value: unknown): unknown[] {
  if (value === undefined || value === null) return [];
  return Array.isArray(value) ? value : [value];
}

/** `[]`-safe string list (IAM allows a single string wherever it allows a list). */
export function asStrings(value: unknown): string[] {
  return asArray(value).filter((v): v is string => typeof v === "string");
}

const isStringRecord = (value: unknown): value is Record<string, string> =>
  asRecord(value) !== undefined && Object.values(value as Props).every((v) => typeof v === "string");

/**
 * The tags a resource ends up with: the provider's default tags overlaid by the resource's own, as
 * the AWS provider computes `tagsAll`. Resource policies see inputs (no `tagsAll`), so the default
 * tags come from the provider the engine passes along; stack policies see `tagsAll` itself.
 */
export function effectiveTags(props: Props, provider?: { props: Props }): Record<string, string> {
  const defaults = asRecord(parseJson(provider?.props.defaultTags))?.tags;
  const tagsAll = props.tagsAll;
  return {
    ...(isStringRecord(defaults) ? defaults : {}),
    ...(isStringRecord(props.tags) ? props.tags : {}),
    ...(isStringRecord(tagsAll) ? tagsAll : {}),
  };
}

/** Settings of the rules that apply to production only (see README: "Which stacks are production"). */
export interface ProductionConfig {
  /** The stack is production, whatever its tags say (set in config/prod.json or the prod policy group). @default false */
  production?: boolean;
  /** The tag whose value names the environment. @default "environment" */
  environmentTagKey?: string;
  /** Values of that tag that mean production. @default ["prod", "production"] */
  productionTagValues?: string[];
}

export const PRODUCTION_CONFIG_SCHEMA = {
  production: { type: "boolean", default: false, description: "Treat the stack as production regardless of its tags." },
  environmentTagKey: { type: "string", default: "environment", description: "Tag that names the environment." },
  productionTagValues: { type: "array", items: { type: "string" }, default: ["prod", "production"], description: "Values of that tag that mean production." },
} as const;

/**
 * Production is a property of the stack's config, never of its name: either the pipeline says so
 * (policy config `production: true`) or the resource carries the environment tag the stack's config
 * sets. Either is enough, so a prod stack that lost its tag is still caught by the prod pipeline.
 */
export function isProduction(config: ProductionConfig, tags: Record<string, string>): boolean {
  if (config.production === true) return true;
  const value = tags[config.environmentTagKey ?? "environment"];
  return value !== undefined && (config.productionTagValues ?? ["prod", "production"]).includes(value);
}

export function tagsOf(args: Pick<ResourceValidationArgs, "props" | "provider">): Record<string, string> {
  return effectiveTags(args.props, args.provider);
}

/**
 * Whether `resource`'s property `property` points at `target`: through the engine's record of which
 * resources' outputs flowed into that property (known even in a preview of a new stack), or by
 * value, for a name or ID written literally.
 */
export function refersTo(resource: PolicyResource, property: string, target: PolicyResource, targetValues: readonly unknown[]): boolean {
  if ((resource.propertyDependencies?.[property] ?? []).some((d) => d.urn === target.urn)) return true;
  const value = resource.props[property];
  return typeof value === "string" && targetValues.some((t) => typeof t === "string" && t === value);
}

/** A short, stable way to name a resource in a message: its type's class and logical name. */
export function describe(resource: { type: string; name: string }): string {
  const cls = resource.type.split(":").pop() ?? resource.type;
  return `${cls} "${resource.name}"`;
}
