// A training set as ml-core reads it: the definition's training columns (features, then the label),
// split by the label's time into the train and validation channels.
import { categoricalColumns, trainingColumns, type DatasetChannel, type FeatureSet } from "@ml-platform/contract";
import { CliError } from "../errors";
import { featureSchemaHash } from "./definition";
import { resultColumns } from "./sql";

export interface TrainingSetFiles {
  /** CSV text per channel, header first. */
  readonly channels: Record<DatasetChannel, string>;
  readonly rows: Record<DatasetChannel, number>;
}

/** Splits query rows (in `resultColumns` order) at `training.validationFrom` and renders each channel. */
export function trainingSetFiles(set: FeatureSet, columns: readonly string[], rows: readonly (readonly string[])[]): TrainingSetFiles {
  const validationFrom = set.training?.validationFrom;
  if (!validationFrom)
    throw new CliError(`feature set "${set.name}" has no training.validationFrom: the training set cannot be split into train and validation`);
  const expected = resultColumns(set);
  if (columns.join(",") !== expected.join(","))
    throw new CliError(`the training-set query returned columns ${columns.join(", ")}; expected ${expected.join(", ")}`);
  const timeAt = expected.indexOf(set.label.eventTime);
  const keep = trainingColumns(set).map((c) => expected.indexOf(c));
  const lines: Record<DatasetChannel, string[]> = { train: [], validation: [] };
  for (const row of rows) lines[row[timeAt]! >= validationFrom ? "validation" : "train"].push(keep.map((i) => csvCell(row[i] ?? "")).join(","));
  const header = trainingColumns(set).join(",");
  return {
    channels: { train: [header, ...lines.train].join("\n") + "\n", validation: [header, ...lines.validation].join("\n") + "\n" },
    rows: { train: lines.train.length, validation: lines.validation.length },
  };
}

function csvCell(v: string): string {
  return /[",\n\r]/.test(v) ? `"${v.replaceAll('"', '""')}"` : v;
}

/** Registry metadata keys a model trained on a feature set carries. */
export const FEATURE_META = {
  featureSet: "featureSet",
  featureSchemaHash: "featureSchemaHash",
  /** The definition, relative to the repository root, as it was when the model trained. */
  featureSetFile: "featureSetFile",
} as const;

/** What training on this feature set adds: ml-core's hyperparameters and the registry metadata. */
export function trainingOnFeatureSet(set: FeatureSet, definitionPath: string): { hyperparameters: Record<string, string>; metadata: Record<string, string> } {
  return {
    hyperparameters: { label: set.label.name, categorical_columns: categoricalColumns(set) },
    metadata: { [FEATURE_META.featureSet]: set.name, [FEATURE_META.featureSchemaHash]: featureSchemaHash(set), [FEATURE_META.featureSetFile]: definitionPath },
  };
}
