// Promotion's feature-schema gate: a model records the feature set it trained on and a digest of
// that set's schema (training-set.ts, FEATURE_META); promotion reads the definition as it is now and
// refuses the model if the two differ, since the store would then serve it other inputs.
import * as fs from "node:fs";
import * as path from "node:path";
import { CliError } from "../errors";
import { featureSchemaHash, loadFeatureSet } from "./definition";
import { FEATURE_META } from "./training-set";

export interface FeatureSchemaCheck {
  readonly name: string;
  readonly passed: boolean;
  readonly detail: string;
}

/** The gates for a version's metadata: none for a version that claims no feature set (it trained on CSVs). */
export function featureSchemaGates(repoRoot: string, metadata: Readonly<Record<string, string>>): FeatureSchemaCheck[] {
  return metadata[FEATURE_META.featureSet] ? [featureSchemaCheck(repoRoot, metadata)] : [];
}

/** The gate for a version's metadata; a version that claims no feature set passes. */
export function featureSchemaCheck(repoRoot: string, metadata: Readonly<Record<string, string>>): FeatureSchemaCheck {
  const name = "feature schema";
  const claimed = metadata[FEATURE_META.featureSet];
  if (!claimed) return { name, passed: true, detail: "the version claims no feature set" };
  const recorded = metadata[FEATURE_META.featureSchemaHash];
  const file = metadata[FEATURE_META.featureSetFile];
  if (!recorded || !file)
    return {
      name,
      passed: false,
      detail: `the version claims feature set "${claimed}" but records no ${!recorded ? FEATURE_META.featureSchemaHash : FEATURE_META.featureSetFile}`,
    };
  const absolute = path.resolve(repoRoot, file);
  if (!fs.existsSync(absolute)) return { name, passed: false, detail: `feature set "${claimed}": its definition ${file} no longer exists` };
  let current;
  try {
    current = loadFeatureSet(absolute).set;
  } catch (err) {
    if (err instanceof CliError) return { name, passed: false, detail: `feature set "${claimed}": ${[err.message, ...err.details].join("; ")}` };
    throw err;
  }
  if (current.name !== claimed) return { name, passed: false, detail: `${file} now defines feature set "${current.name}", not "${claimed}"` };
  const now = featureSchemaHash(current);
  return now === recorded
    ? { name, passed: true, detail: `feature set "${claimed}" (${now})` }
    : {
        name,
        passed: false,
        detail: `feature set "${claimed}" changed since the model trained: ${file} has schema ${now}, the model was trained on ${recorded}`,
      };
}
