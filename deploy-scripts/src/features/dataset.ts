// `ml-deploy features dataset`: the point-in-time training set of a feature set's labels, from the
// local DuckDB store (`--stack local`) or from the stack's offline store through Athena.
import * as fs from "node:fs";
import * as path from "node:path";
import { DATASET_CHANNELS, featureGroupName, type DatasetChannel } from "@ml-platform/contract";
import type { Context } from "../context";
import { CliError } from "../errors";
import { readStackOutputs } from "../stacks/gateway";
import { athenaTrainingSet } from "./athena";
import { loadFeatureSet } from "./definition";
import { LocalFeatureStore, localStoreFile } from "./local-store";
import { trainingSetFiles } from "./training-set";

/** The stack name that means this machine's DuckDB store. */
export const LOCAL_STACK = "local";

export interface DatasetOptions {
  stack: string;
  /** The feature-set file. */
  definition: string;
  /** Label source; the definition's `label.source` by default. */
  labels?: string;
  /** A directory (local) or `s3://bucket/prefix` (a stack). */
  output: string;
  /** Where the local store lives (`.local`). */
  workDir: string;
  workgroup: string;
  json?: boolean;
}

export interface DatasetResult {
  readonly stack: string;
  readonly featureSet: string;
  readonly source: string;
  readonly queryExecutionId?: string;
  readonly channels: Record<DatasetChannel, { uri: string; rows: number }>;
}

export async function featuresDataset(ctx: Context, opts: DatasetOptions): Promise<DatasetResult> {
  const { set, labelsFile: defaultLabels } = loadFeatureSet(path.resolve(ctx.repoRoot, opts.definition));
  const labelsFile = opts.labels ? path.resolve(ctx.repoRoot, opts.labels) : defaultLabels;
  if (opts.stack === LOCAL_STACK) {
    const file = localStoreFile(path.resolve(ctx.repoRoot, opts.workDir), set);
    if (!fs.existsSync(file)) throw new CliError(`the local feature store ${file} does not exist`, { hint: "`npm start` builds it from the bundled flights" });
    if (opts.output.startsWith("s3://")) throw new CliError(`--output ${opts.output}: with --stack ${LOCAL_STACK} the training set is written to a directory`);
    const store = await LocalFeatureStore.open(file);
    try {
      ctx.out.step(`Joining ${labelsFile} point-in-time (ASOF) with the local store's "${set.name}"`);
      const { columns, rows } = await store.trainingSet(set, labelsFile);
      const files = trainingSetFiles(set, columns, rows);
      const dir = path.resolve(ctx.repoRoot, opts.output);
      const channels = {} as DatasetResult["channels"];
      for (const channel of DATASET_CHANNELS) {
        const target = path.join(dir, channel, `${channel}.csv`);
        fs.mkdirSync(path.dirname(target), { recursive: true });
        fs.writeFileSync(target, files.channels[channel]);
        channels[channel] = { uri: target, rows: files.rows[channel] };
      }
      return { stack: opts.stack, featureSet: set.name, source: file, channels };
    } finally {
      store.close();
    }
  }
  if (!opts.output.startsWith("s3://"))
    throw new CliError(`--output ${opts.output}: for stack "${opts.stack}" the training set is written to an s3://bucket/prefix`);
  const outputs = await readStackOutputs(ctx.stacks, opts.stack);
  const region = outputs.region;
  const group = featureGroupName(set, opts.stack);
  const result = await athenaTrainingSet({
    set,
    featureGroupName: group,
    labels: fs.readFileSync(labelsFile, "utf8"),
    output: opts.output,
    workgroup: opts.workgroup,
    kmsKeyArn: outputs.kmsKeyArn,
    runId: `${set.name}-${ctx.now()}`,
    clients: { sagemaker: ctx.aws.sagemaker(region), athena: ctx.aws.athena(region), s3: ctx.aws.s3(region) },
    sleep: ctx.sleep,
    pollIntervalMs: Math.min(ctx.pollIntervalMs, 5_000),
    out: ctx.out,
  });
  return { stack: opts.stack, featureSet: set.name, source: group, queryExecutionId: result.queryExecutionId, channels: result.channels };
}
