// Reads a feature-set file (YAML) into the contract's FeatureSet, and the digest a model records of
// the schema it was trained on.
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { featureSchema, FeatureSetError, parseFeatureSet, type FeatureSet } from "@ml-platform/contract";
import { parse } from "yaml";
import { CliError } from "../errors";

/** A feature set and where it was read from (its label source is relative to the file). */
export interface LoadedFeatureSet {
  readonly set: FeatureSet;
  /** Absolute path of the definition. */
  readonly file: string;
  /** Absolute path of the label source. */
  readonly labelsFile: string;
}

/** Reads and validates a feature-set file; every problem names the file and the key. */
export function loadFeatureSet(file: string): LoadedFeatureSet {
  const absolute = path.resolve(file);
  let text: string;
  try {
    text = fs.readFileSync(absolute, "utf8");
  } catch (err) {
    throw new CliError(`cannot read the feature set ${file}: ${(err as Error).message}`);
  }
  let value: unknown;
  try {
    value = parse(text, { prettyErrors: true });
  } catch (err) {
    throw new CliError(`${file} is not valid YAML: ${(err as Error).message}`);
  }
  try {
    const set = parseFeatureSet(value, file);
    return { set, file: absolute, labelsFile: path.resolve(path.dirname(absolute), set.label.source) };
  } catch (err) {
    if (err instanceof FeatureSetError) throw new CliError(`invalid feature set ${file}`, { details: err.problems });
    throw err;
  }
}

/** `sha256:<hex>` of the schema a model depends on (contract's `featureSchema`). */
export function featureSchemaHash(set: FeatureSet): string {
  return `sha256:${createHash("sha256")
    .update(JSON.stringify(featureSchema(set)))
    .digest("hex")}`;
}
