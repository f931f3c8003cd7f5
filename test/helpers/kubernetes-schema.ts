// Validates the Kubernetes objects a plan registers against the Kubernetes API's OpenAPI schema,
// through kubernetes-models (its classes validate against the schema of the Kubernetes version the
// package was generated from: v1.36 for kubernetes-models 5.x).
import type { PlannedResource } from "../../infra/offline/mock-run";

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
