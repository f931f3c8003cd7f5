import { existsSync } from "node:fs";
import * as path from "node:path";
import { CONFIG_NAMESPACE, type PolicyPackSettings } from "@ml-platform/contract";
import { CliError } from "../errors";

/** The platform's policy pack, relative to the repository root. */
export const PLATFORM_POLICY_PACK = "infra/policy-pack";

export interface PolicyPackRun {
  readonly policyPacks: string[];
  readonly policyPackConfigs: string[];
}

/**
 * The policy packs every preview and update of a stack runs, as its settings say
 * (`mlPlatform:policyPack.required` and `.config`): a stage that needs the guardrails gets them from
 * its config, not from whoever runs the tool. A required pack or config missing on disk is an error
 * before anything is changed.
 */
export function stackPolicyPacks(repoRoot: string, stack: string, settings: PolicyPackSettings): PolicyPackRun {
  if (!settings.required) return { policyPacks: [], policyPackConfigs: [] };
  const pack = path.join(repoRoot, PLATFORM_POLICY_PACK);
  const missing: string[] = [];
  if (!existsSync(path.join(pack, "PulumiPolicy.yaml"))) missing.push(`${pack} (no PulumiPolicy.yaml)`);
  const config = settings.config === undefined ? undefined : path.join(repoRoot, settings.config);
  if (config !== undefined && !existsSync(config)) missing.push(`${config} (${CONFIG_NAMESPACE}:policyPack.config)`);
  if (missing.length > 0) {
    throw new CliError(`stack "${stack}" requires the policy pack (${CONFIG_NAMESPACE}:policyPack.required), but it is missing`, {
      details: missing.map((m) => `not found: ${m}`),
      hint: "run from a complete checkout of the repository (npm ci installs the pack's dependencies)",
    });
  }
  return { policyPacks: [pack], policyPackConfigs: config === undefined ? [] : [config] };
}
