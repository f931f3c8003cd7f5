// The stack's feature sets (mlPlatform:featureStore.featureSets), read from the repository and
// validated with the contract's schema before any resource is registered.
import * as fs from "node:fs";
import * as path from "node:path";
import { parse as parseYaml } from "yaml";
import { CONFIG_NAMESPACE, ConfigError, featureGroupName, FeatureSetError, parseFeatureSet, type FeatureSet } from "@ml-platform/contract";

/** The repository root: feature-set paths in the stack config are relative to it (this file is infra/feature-sets.ts). */
export const REPOSITORY_ROOT = path.resolve(__dirname, "..");

/**
 * Reads and validates each feature-set file (paths relative to `root`, the repository). Every
 * problem is collected, then thrown once as a ConfigError naming the stack, the key and the file.
 */
export function loadFeatureSets(stack: string, files: readonly string[], root: string): FeatureSet[] {
  const problems: string[] = [];
  const sets: FeatureSet[] = [];
  files.forEach((file, i) => {
    const key = `${CONFIG_NAMESPACE}:featureStore.featureSets.${i}`;
    let text: string;
    try {
      text = fs.readFileSync(path.join(root, file), "utf8");
    } catch (e) {
      problems.push(`${stack}: ${key} (${JSON.stringify(file)}) cannot be read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
      return;
    }
    try {
      sets.push(parseFeatureSet(parseYaml(text), file));
    } catch (e) {
      if (e instanceof FeatureSetError) problems.push(...e.problems.map((p) => `${stack}: ${key}: ${p}`));
      else problems.push(`${stack}: ${key}: ${file} is not valid YAML: ${(e as Error).message.split("\n")[0]}`);
    }
  });
  const seen = new Map<string, number>();
  sets.forEach((set) => {
    try {
      featureGroupName(set, stack);
    } catch {
      problems.push(
        `${stack}: ${CONFIG_NAMESPACE}:featureStore.featureSets: the feature group name "${set.name}-${stack}" (<set name>-<stack>) exceeds 64 characters or is not a SageMaker name`,
      );
    }
    if (seen.has(set.name))
      problems.push(`${stack}: ${CONFIG_NAMESPACE}:featureStore.featureSets: two files declare the feature set ${JSON.stringify(set.name)}`);
    seen.set(set.name, 1);
  });
  if (problems.length > 0) throw new ConfigError(stack, problems);
  return sets;
}
