// `ml-deploy features dataset`: the point-in-time training set of a feature set's labels, from the
// local DuckDB store (`--stack local`) or from the stack's offline store through Athena.
import * as fs from "node:fs";
import * as path from "node:path";
import {
  DATASET_CHANNELS,
  FEATURE_TRAINING_SETS_PREFIX,
  featureGroupName,
  featureTrainingSetPrefix,
  type DatasetChannel,
  type StackOutputs,
} from "@ml-platform/contract";
import { parseS3Uri } from "../aws/arn";
import { snapshotS3 } from "../data/snapshot";
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
  /**
   * A directory (local, required) or, for a stack, an `s3://` prefix under the dataset bucket's
   * FEATURE_TRAINING_SETS_PREFIX; by default `<that prefix>/<feature set>/<run>/`.
   */
  output?: string;
  /** Where the local store lives (`.local`). */
  workDir: string;
  /** The Athena workgroup; the stack's `featureQueryWorkgroup` by default. */
  workgroup?: string;
  json?: boolean;
}

export interface DatasetResult {
  readonly stack: string;
  readonly featureSet: string;
  readonly source: string;
  readonly queryExecutionId?: string;
  readonly channels: Record<DatasetChannel, { uri: string; rows: number }>;
  /** The cloud training set's dataset manifest (`data snapshot` of the output prefix). */
  readonly manifestId?: string;
}

export async function featuresDataset(ctx: Context, opts: DatasetOptions): Promise<DatasetResult> {
  const { set, labelsFile: defaultLabels } = loadFeatureSet(path.resolve(ctx.repoRoot, opts.definition));
  const labelsFile = opts.labels ? path.resolve(ctx.repoRoot, opts.labels) : defaultLabels;
  if (opts.stack === LOCAL_STACK) {
    const file = localStoreFile(path.resolve(ctx.repoRoot, opts.workDir), set);
    if (!fs.existsSync(file)) throw new CliError(`the local feature store ${file} does not exist`, { hint: "`npm start` builds it from the bundled flights" });
    if (!opts.output) throw new CliError(`--output: with --stack ${LOCAL_STACK} name the directory the training set is written to`);
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
  const outputs = await readStackOutputs(ctx.stacks, opts.stack);
  const workgroup = opts.workgroup ?? queryWorkgroup(opts.stack, outputs);
  const run = runStamp(ctx.now());
  const output = trainingSetOutput(opts.stack, outputs.datasetBucketName, opts.output, set.name, run);
  const region = outputs.region;
  const group = featureGroupName(set, opts.stack);
  const result = await athenaTrainingSet({
    set,
    featureGroupName: group,
    labels: fs.readFileSync(labelsFile, "utf8"),
    output,
    workgroup,
    kmsKeyArn: outputs.kmsKeyArn,
    runId: `${set.name}-${run}`,
    clients: { sagemaker: ctx.aws.sagemaker(region), athena: ctx.aws.athena(region), s3: ctx.aws.s3(region) },
    sleep: ctx.sleep,
    pollIntervalMs: Math.min(ctx.pollIntervalMs, 5_000),
    out: ctx.out,
  });
  // The training set is pinned as any dataset is: `train --manifest <id>` reads exactly these bytes.
  const target = parseS3Uri(output);
  const snap = await snapshotS3(ctx.aws.s3(region), { bucket: target.bucket, prefix: target.key.replace(/\/+$/, ""), kmsKeyArn: outputs.kmsKeyArn }, ctx.out);
  ctx.out.info(`dataset manifest ${snap.id} (ml-deploy train --stack ${opts.stack} --manifest ${snap.id})`);
  return {
    stack: opts.stack,
    featureSet: set.name,
    source: group,
    queryExecutionId: result.queryExecutionId,
    channels: result.channels,
    manifestId: snap.id,
  };
}

/** The stack's workgroup for offline-store queries: only a stack with a feature store has one. */
function queryWorkgroup(stack: string, outputs: StackOutputs): string {
  if (!outputs.featureQueryWorkgroup)
    throw new CliError(`stack "${stack}" has no feature store (no featureQueryWorkgroup output): a training set is queried from its offline store`, {
      hint: "set mlPlatform:featureStore in the stack's file and run `pulumi up`, or pass --workgroup",
    });
  return outputs.featureQueryWorkgroup;
}

/** `20250301T120000Z`: sorts by time, and is a valid S3 key part and (lower-cased) Glue name part. */
function runStamp(ms: number): string {
  return new Date(ms)
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.\d+Z$/, "Z");
}

/**
 * Where a stack's training set goes: by default a fresh `<FEATURE_TRAINING_SETS_PREFIX>/<set>/<run>`
 * of the stack's dataset bucket; an --output must lie under that prefix of that bucket, the only
 * place there the deployer may write training sets (the raw datasets are not its to change).
 */
export function trainingSetOutput(stack: string, datasetBucket: string, output: string | undefined, featureSet: string, run: string): string {
  const allowed = `s3://${datasetBucket}/${FEATURE_TRAINING_SETS_PREFIX}/`;
  if (output === undefined) return `s3://${datasetBucket}/${featureTrainingSetPrefix(featureSet, run)}`;
  const prefix = output.replace(/\/+$/, "");
  if (!prefix.startsWith(allowed) || prefix.length === allowed.length || prefix.split("/").some((part) => part === "." || part === ".."))
    throw new CliError(`--output ${output}: for stack "${stack}" a training set is written under ${allowed} (the dataset bucket's training-set prefix)`, {
      hint: `leave --output out to write ${allowed}${featureSet}/<run>/`,
    });
  return prefix;
}
