// The repository's real stack files as test fixtures: each `config:` block as YAML parses it (the
// values ml-deploy reads; `pulumi up` hands the program the same values JSON-encoded).
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";

export const STACKS = ["dev", "staging", "prod", "dev-k8s"] as const;

export function stackConfig(stack: string): Record<string, unknown> {
  const text = readFileSync(path.join(__dirname, "..", "..", "stacks", `Pulumi.${stack}.yaml`), "utf8");
  return (parse(text) as { config: Record<string, unknown> }).config;
}
