// Validates the Kubernetes objects a plan registers against the Kubernetes API's OpenAPI schema,
// through kubernetes-models (its classes validate against the schema of the Kubernetes version the
// package was generated from: v1.36 for kubernetes-models 5.x).
import type { PlannedResource } from "./mock-run";

/** The Kubernetes version whose API schema the manifests are checked against. */
export const KUBERNETES_SCHEMA_VERSION = "v1.36";

/** A `kubernetes:<group>/<version>:<Kind>` type token's model module (`core` lives at `v1/`). */
export function modelModule(type: string): string {
  const m = /^kubernetes:([^/]+)\/([^:]+):(.+)$/.exec(type);
  if (!m) throw new Error(`${type} is not a Kubernetes resource type`);
  const [, group, version, kind] = m;
  return group === "core" ? `kubernetes-models/${version}/${kind}` : `kubernetes-models/${group}/${version}/${kind}`;
}

/** The object as the provider would send it to the API server (apiVersion and kind included). */
export function manifestOf(resource: PlannedResource): Record<string, unknown> {
  return JSON.parse(JSON.stringify(resource.inputs)) as Record<string, unknown>;
}

/** Throws the schema's error (naming the path) when `manifest` is not a valid object of `type`. */
export async function validateManifest(type: string, manifest: Record<string, unknown>): Promise<void> {
  const kind = /:([^:]+)$/.exec(type)![1]!;
  const module = (await import(modelModule(type))) as Record<string, new (data: unknown) => { validate(): void }>;
  const Model = module[kind];
  if (!Model) throw new Error(`kubernetes-models has no ${kind} in ${modelModule(type)}`);
  new Model(manifest).validate();
}

/** What `npm run plan` reports of a plan's Kubernetes objects: all validated, or each invalid one. */
export interface KubernetesValidation {
  readonly schemaVersion: string;
  readonly validated: number;
  readonly invalid: ReadonlyArray<{ readonly resource: string; readonly error: string }>;
}

/** Validates every Kubernetes object of a plan; undefined when the plan has none. */
export async function validateKubernetesObjects(resources: readonly PlannedResource[]): Promise<KubernetesValidation | undefined> {
  const objects = resources.filter((r) => r.custom && r.type.startsWith("kubernetes:"));
  if (objects.length === 0) return undefined;
  const invalid: Array<{ resource: string; error: string }> = [];
  for (const r of objects) {
    try {
      await validateManifest(r.type, manifestOf(r));
    } catch (error) {
      invalid.push({ resource: `${r.type} ${r.name}`, error: error instanceof Error ? error.message : String(error) });
    }
  }
  return { schemaVersion: KUBERNETES_SCHEMA_VERSION, validated: objects.length - invalid.length, invalid };
}

/** One line per plan (and one per invalid object). */
export function renderKubernetesValidation(v: KubernetesValidation): string {
  const head = `Kubernetes manifests: ${v.validated} of ${v.validated + v.invalid.length} valid against the Kubernetes ${v.schemaVersion} API schema (kubernetes-models)`;
  return [head, ...v.invalid.map((i) => `  invalid: ${i.resource}: ${i.error}`)].join("\n");
}
