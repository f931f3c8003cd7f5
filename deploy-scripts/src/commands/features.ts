import { Command, Option } from "commander";
import { action, positiveInt, stackOption, withCommon, type CommandFactory } from "../cli";
import { featuresDataset, type DatasetResult } from "../features/dataset";
import { featuresIngest, type IngestResult } from "../features/ingest";
import { formatFields } from "../output";

/** The feature-set file every subcommand reads; the flight-delays example by default. */
const definitionOption = () => new Option("--definition <file>", "the feature-set file").default("examples/flight-delays/features.yaml");

export function formatDataset(r: DatasetResult): string {
  return formatFields([
    ["feature set", `${r.featureSet} (${r.stack === "local" ? "local store" : "feature group"} ${r.source})`],
    ...(r.queryExecutionId ? [["Athena query", r.queryExecutionId] as [string, string]] : []),
    ...Object.entries(r.channels).map(([channel, c]) => [channel, `${c.rows} rows: ${c.uri}`] as [string, string]),
    ...(r.manifestId ? [["dataset manifest", r.manifestId] as [string, string]] : []),
  ]);
}

const datasetCommand = (deps: Parameters<CommandFactory>[0]) =>
  withCommon(
    new Command("dataset")
      .description("Build a point-in-time training set: each label row gets the latest feature values at or before its time, never after")
      .addOption(stackOption("the stack whose offline store is queried (Athena), or `local` for the DuckDB store"))
      .addOption(definitionOption())
      .addOption(new Option("--labels <file>", "labelled events CSV (record identifier, label time, label); the definition's label.source by default"))
      .addOption(
        new Option(
          "--output <prefix>",
          "where <prefix>/train/train.csv and <prefix>/validation/validation.csv go: a directory for local (required); for a stack, under s3://<dataset bucket>/datasets/feature-sets/ (default: <that>/<feature set>/<run>)",
        ),
      )
      .addOption(new Option("--work-dir <dir>", "where the local store lives (with --stack local)").default(".local"))
      .addOption(new Option("--workgroup <name>", "the Athena workgroup (default: the stack's featureQueryWorkgroup output)")),
  ).action(action(deps, featuresDataset, formatDataset));

export function formatIngest(r: IngestResult): string {
  return formatFields([
    ["feature group", `${r.featureGroupName} (feature set ${r.featureSet}, stack ${r.stack})`],
    ["written", `${r.written} of ${r.records} records${r.retries > 0 ? ` (${r.retries} throttled or failed attempts retried)` : ""}`],
    ["rejected", r.rejected],
    ...r.rejections.map((x) => ["  why", `${x.count} × ${x.reason} (lines ${x.lines.join(", ")}${x.count > x.lines.length ? ", …" : ""})`] as [string, string]),
  ]);
}

const ingestCommand = (deps: Parameters<CommandFactory>[0]) =>
  withCommon(
    new Command("ingest")
      .description("Write feature records (CSV) to the stack's feature group: every row is checked first, nothing is written from a bad file")
      .addOption(stackOption())
      .addOption(definitionOption())
      .addOption(new Option("--input <file>", "feature records CSV: a header of the record identifier, event time and features").makeOptionMandatory())
      .addOption(new Option("--concurrency <n>", "PutRecord calls in flight").argParser(positiveInt("--concurrency")).default(8))
      .addOption(new Option("--max-attempts <n>", "attempts per record on throttling").argParser(positiveInt("--max-attempts")).default(8)),
  ).action(action(deps, featuresIngest, formatIngest));

/** `ml-deploy features <subcommand>`: one subcommand per file of src/features/. */
export const featuresCommand: CommandFactory = (deps) =>
  new Command("features")
    .description("Feature sets: point-in-time training sets from the feature store")
    .addCommand(datasetCommand(deps))
    .addCommand(ingestCommand(deps));
