/**
 * `ml-core train`: with no data options it is SageMaker's `docker run IMAGE train` (paths under
 * $SAGEMAKER_BASE_DIR or /opt/ml, failure reason to output/failure); with `--train` it is the
 * convenience form for people. Both run the same job (training-job.ts).
 */
import { Command, Option } from "commander";
import * as fs from "node:fs";
import * as path from "node:path";
import { baseDirFromEnv, channelFiles, contractPaths, listDataFiles, readHyperparametersFile, TRAIN_CHANNEL, VALIDATION_CHANNEL } from "./contract";
import { MANIFEST_CHANNEL, verifyAgainstManifest, withSources, type VerifiedManifest } from "../train/manifest";
import { runTrainingJob, type JobIO, type JobOutcome, type TrainingJobSpec } from "../train/training-job";
import { baselineFromBins, writeBaseline, type Baseline } from "../profile/baseline";

/** Exit status after a SIGTERM stop with a saved checkpoint (128 + SIGTERM, the shell's convention). */
export const EXIT_STOPPED = 143;

interface TrainOptions {
  train?: string[];
  validation?: string[];
  modelDir?: string;
  checkpointDir?: string;
  hp: string[];
  json?: boolean;
}

export function trainCommand(): Command {
  return new Command("train")
    .description("train a model: SageMaker's training contract, or with --train the same job on local files")
    .option("--train <paths...>", "training CSV files or directories (convenience form)")
    .option("--validation <paths...>", "validation CSV files or directories")
    .option("--model-dir <dir>", "where to write model.json and metrics.json (convenience form)")
    .option("--checkpoint-dir <dir>", "save a checkpoint here on SIGTERM and resume from one found here")
    .addOption(new Option("--hp <key=value...>", "a hyperparameter (repeatable)").default([]))
    .option("--json", "print the outcome as one JSON document on stdout")
    .action(async (opts: TrainOptions) => {
      const outcome = await train(opts);
      if (opts.json) process.stdout.write(JSON.stringify(outcome) + "\n");
      if (outcome.status === "stopped") process.exitCode = EXIT_STOPPED;
    });
}

async function train(opts: TrainOptions): Promise<JobOutcome> {
  const contract = opts.train === undefined;
  const stop = watchForStop();
  const io: JobIO = {
    progress: (line) => process.stderr.write(line + "\n"),
    metric: (line) => {
      if (!opts.json) process.stdout.write(line + "\n");
    },
    stopRequested: stop.requested,
  };
  if (!contract) {
    try {
      if (opts.modelDir === undefined) throw new Error("--model-dir is required with --train");
      return await trainWithBaseline(convenienceSpec(opts, opts.modelDir), io);
    } finally {
      stop.dispose();
    }
  }
  const paths = contractPaths(baseDirFromEnv(process.env));
  let manifest: VerifiedManifest | undefined;
  try {
    if (opts.validation !== undefined || opts.modelDir !== undefined)
      throw new Error("--validation and --model-dir need --train (without it, train follows the SageMaker contract)");
    const channels = channelFiles(paths);
    // With a dataset manifest, the channels must hold exactly its bytes before anything is read.
    manifest = channels[MANIFEST_CHANNEL] && verifyAgainstManifest(channels[MANIFEST_CHANNEL], channels, paths.dataDir);
    if (manifest) io.progress(`dataset manifest ${manifest.id}: ${JSON.stringify(manifest.files)} files verified by SHA-256`);
    const spec: TrainingJobSpec = {
      // channelFiles fails when there is no train channel.
      trainFiles: channels[TRAIN_CHANNEL]!,
      validationFiles: channels[VALIDATION_CHANNEL],
      hyperparameters: readHyperparametersFile(paths.hyperparameters),
      modelDir: paths.modelDir,
      checkpointDir: opts.checkpointDir ?? paths.checkpointDir,
    };
    return await trainWithBaseline(spec, io);
  } catch (e) {
    // SageMaker shows this file's text as the job's FailureReason.
    fs.mkdirSync(paths.outputDir, { recursive: true });
    if (manifest) (e as Error).message = withSources((e as Error).message, manifest.sources);
    fs.writeFileSync(paths.failureFile, `${(e as Error).message}\n`);
    throw e;
  } finally {
    stop.dispose();
  }
}

/** The job, with the training data's baseline statistics written beside the model (statistics.json, constraints.json). */
async function trainWithBaseline(spec: TrainingJobSpec, io: JobIO): Promise<JobOutcome> {
  let baseline: Baseline | undefined;
  const outcome = await runTrainingJob(spec, { ...io, trainingData: (d) => (baseline = baselineFromBins(d.schema, d.mapper, d.table)) });
  if (outcome.status === "completed" && baseline !== undefined) writeBaseline(spec.modelDir, baseline);
  return outcome;
}

function convenienceSpec(opts: TrainOptions, modelDir: string): TrainingJobSpec {
  const hyperparameters: Record<string, string> = {};
  for (const kv of opts.hp) {
    const eq = kv.indexOf("=");
    if (eq <= 0) throw new Error(`--hp ${JSON.stringify(kv)}: expected key=value`);
    hyperparameters[kv.slice(0, eq)] = kv.slice(eq + 1);
  }
  const files = (ps: string[] | undefined): string[] => (ps ?? []).flatMap((p) => listDataFiles(path.resolve(p)));
  return { trainFiles: files(opts.train), validationFiles: files(opts.validation), hyperparameters, modelDir, checkpointDir: opts.checkpointDir };
}

/**
 * SIGTERM (SageMaker stopping the job or reclaiming a spot instance, with 120 s to spare) asks the
 * job to stop after the current round; the handler only sets a flag.
 */
function watchForStop(): { requested: () => boolean; dispose: () => void } {
  let requested = false;
  const onTerm = (): void => {
    requested = true;
  };
  process.on("SIGTERM", onTerm);
  return { requested: () => requested, dispose: () => process.off("SIGTERM", onTerm) };
}
