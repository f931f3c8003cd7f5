import { createHash } from "node:crypto";
import { DATASET_CHANNELS, IMAGE_BY_DIGEST } from "@ml-platform/contract";
import { paginateListObjectsV2, type S3Client } from "@aws-sdk/client-s3";
import {
  CreateTrainingJobCommand,
  DescribeTrainingJobCommand,
  type CreateTrainingJobCommandInput,
  type DescribeTrainingJobCommandOutput,
  type SageMakerClient,
} from "@aws-sdk/client-sagemaker";
import { joinS3, parseS3Uri } from "../aws/arn";
import { HYPERPARAMETERS, TAGS, TRAINING_JOB_NAME, TRAINING_RETRY_ATTEMPTS, hasInstanceStorage } from "../aws/limits";
import type { TrainingSettings } from "../config/settings";
import type { Context } from "../context";
import { CliError, EXIT } from "../errors";
import { formatDuration } from "../output";
import { resolveHyperparameters, type HyperparameterSource } from "./hyperparameters";
import { readStackOutputs, type StackOutputs } from "../stacks/gateway";
import { currentImageUri } from "../images/build";
import { latestManifest, readManifest } from "../data/snapshot";
import { MANIFEST_ID, emptyChannels, manifestKey } from "@ml-platform/contract";
import { manifestChannels } from "./manifest-channels";
import { asXgboostJob, DEFAULT_XGBOOST_VERSION, xgboostHyperparameters, xgboostImageUri } from "./xgboost";

/** Where SageMaker syncs `CheckpointConfig.S3Uri` to inside the container (its default). */
export const CHECKPOINT_LOCAL_PATH = "/opt/ml/checkpoints";
/** Tags every training job gets besides the stack's own (`mlPlatform:tags`). */
export const TAG_KEYS = {
  gitCommit: "ml-platform:git-commit",
  dataset: "ml-platform:dataset",
  datasetHash: "ml-platform:dataset-hash",
  datasetManifest: "ml-platform:dataset-manifest",
  stack: "ml-platform:stack",
  /** `xgboost:<version>` on a built-in XGBoost job. */
  algorithm: "ml-platform:algorithm",
  /** The ml-core image (by digest) that serves a built-in XGBoost job's model; `register` reads it. */
  servingImage: "ml-platform:serving-image",
} as const;

export interface TrainOptions {
  stack: string;
  image?: string;
  wait?: boolean;
  maxRetries?: number;
  /** `--hp key=value`: overrides of the stack's hyperparameters for this job. */
  hp?: string[];
  /** The dataset manifest's id; default: the newest snapshot of the stack's dataset. */
  manifest?: string;
  json?: boolean;
}

export interface TrainResult {
  jobName: string;
  jobArn: string;
  stack: string;
  image: string;
  datasetUri: string;
  datasetHash: string;
  manifestId: string;
  gitCommit: string;
  spot: boolean;
  /** Present with `--wait`. */
  outcome?: TrainingOutcome;
}

export interface TrainingOutcome {
  status: string;
  secondaryStatus: string;
  modelArtifact?: string;
  metrics: Record<string, number>;
  trainingSeconds?: number;
  billableSeconds?: number;
  failureReason?: string;
}

export async function train(ctx: Context, opts: TrainOptions): Promise<TrainResult> {
  const { settings } = await ctx.stackFiles.read(opts.stack);
  if (!settings.training) throw new CliError(`stack "${opts.stack}" has no mlPlatform:training settings`);
  const overrides = parseHpOptions(opts.hp ?? []);
  // Before anything is looked up or created: a job with hyperparameters ml-core refuses would be
  // billed for its instance and fail minutes later.
  const xgboost = settings.training.algorithm === "xgboost";
  (xgboost ? xgboostHyperparameters : resolveHyperparameters)(opts.stack, hyperparameterSources(opts.stack, settings.training, overrides));
  const outputs = await readStackOutputs(ctx.stacks, opts.stack);
  // With xgboost, the ml-core image still serves the model: it is checked and recorded on the job.
  const image = opts.image ?? (await currentImageUri(ctx, opts.stack, outputs));
  if (!IMAGE_BY_DIGEST.test(image)) {
    throw new CliError(`--image ${image} is not an ECR image by digest`, {
      hint: "use <account>.dkr.ecr.<region>.amazonaws.com/<repository>@sha256:<digest>, as `ml-deploy images` prints it: a tag can be moved, a digest cannot",
    });
  }
  const s3 = ctx.aws.s3(outputs.region);
  const sm = ctx.aws.sagemaker(outputs.region);

  ctx.out.step(`Reading the dataset manifest of ${outputs.datasetUri}`);
  const manifestId = await jobManifest(s3, outputs, opts.manifest);
  const datasetHash = `sha256:${manifestId}`;
  const gitCommit = await ctx.gitCommit();
  const jobName = trainingJobName(settings.modelName, opts.stack, new Date(ctx.now()));
  const input = trainingJobInput({
    ...(xgboost ? { xgboostImage: xgboostImageUri(opts.stack, outputs.region, settings.training.xgboostVersion ?? DEFAULT_XGBOOST_VERSION) } : {}),
    jobName,
    image,
    outputs,
    training: settings.training,
    tags: settings.tags,
    stack: opts.stack,
    gitCommit,
    datasetHash,
    manifestId,
    maxRetries: opts.maxRetries ?? 2,
    hyperparameterOverrides: overrides,
  });
  ctx.out.step(
    `Creating training job ${jobName} (${settings.training.instanceCount} × ${settings.training.instanceType}${settings.training.spot ? ", spot" : ""})`,
  );
  const created = await sm.send(new CreateTrainingJobCommand(input));
  const result: TrainResult = {
    jobName,
    jobArn: created.TrainingJobArn ?? "",
    stack: opts.stack,
    image: input.AlgorithmSpecification?.TrainingImage ?? image,
    datasetUri: outputs.datasetUri,
    datasetHash,
    manifestId,
    gitCommit,
    spot: settings.training.spot,
  };
  ctx.out.info(`console: https://${outputs.region}.console.aws.amazon.com/sagemaker/home?region=${outputs.region}#/jobs/${jobName}`);
  if (!opts.wait) return result;
  const final = await waitForTrainingJob(ctx, sm, jobName);
  result.outcome = outcomeOf(final);
  if (final.TrainingJobStatus !== "Completed") {
    throw new CliError(
      `training job ${jobName} ${final.TrainingJobStatus === "Stopped" ? "was stopped" : "failed"}: ${final.FailureReason ?? "(no reason given)"}`,
      {
        details: [`secondary status: ${final.SecondaryStatus ?? "?"}`],
        hint: `logs: CloudWatch log group /aws/sagemaker/TrainingJobs, stream prefix ${jobName}/`,
      },
    );
  }
  return result;
}

/** `<model>-<stack>-<yyyymmdd>-<hhmmss>` in UTC: sortable, unique per second, within the 63-character limit. */
export function trainingJobName(modelName: string, stack: string, at: Date): string {
  const stamp = at.toISOString().replace(/[-:]/g, "").replace("T", "-").slice(0, 15);
  const name = `${modelName}-${stack}-${stamp}`;
  if (name.length > TRAINING_JOB_NAME.maxLength || !TRAINING_JOB_NAME.pattern.test(name)) {
    throw new CliError(`training job name ${name} is not valid (at most ${TRAINING_JOB_NAME.maxLength} letters, digits and '-')`);
  }
  return name;
}

export interface TrainingJobSpec {
  jobName: string;
  image: string;
  outputs: StackOutputs;
  training: TrainingSettings;
  tags: Record<string, string>;
  stack: string;
  gitCommit: string;
  datasetHash: string;
  /** The dataset manifest the job trains on (its channels read exactly its objects). */
  manifestId: string;
  maxRetries: number;
  /** `--hp` values, over the stack's `training.hyperparameters`. */
  hyperparameterOverrides?: Readonly<Record<string, string>>;
  /** With training.algorithm xgboost: the built-in XGBoost image that trains (`image` then serves). */
  xgboostImage?: string;
}

/** Where a job's hyperparameters come from, in order of precedence (the last wins). */
export function hyperparameterSources(stack: string, training: TrainingSettings, overrides: Readonly<Record<string, string>> = {}): HyperparameterSource[] {
  return [
    { where: `mlPlatform:training.hyperparameters of stack "${stack}"`, values: training.hyperparameters },
    { where: "--hp", values: overrides },
  ];
}

/** `--hp key=value` pairs; a key given twice keeps its last value, as with any repeated option. */
export function parseHpOptions(pairs: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf("=");
    if (eq <= 0) throw new CliError(`--hp ${pair}: expected key=value`, { exitCode: EXIT.usage });
    out[pair.slice(0, eq).trim()] = pair.slice(eq + 1);
  }
  return out;
}

/** The CreateTrainingJob request, as a pure function of the stack's settings and outputs. */
export function trainingJobInput(spec: TrainingJobSpec): CreateTrainingJobCommandInput {
  const { training: t, outputs } = spec;
  const problems: string[] = [];
  const sources = hyperparameterSources(spec.stack, t, spec.hyperparameterOverrides);
  const xgboost = t.algorithm === "xgboost" ? { image: spec.xgboostImage ?? "", hyperparameters: xgboostHyperparameters(spec.stack, sources) } : undefined;
  const resolved = xgboost ? { values: xgboost.hyperparameters, metricDefinitions: [] } : resolveHyperparameters(spec.stack, sources);
  const hyperparameters = resolved.values;
  if (Object.keys(hyperparameters).length > HYPERPARAMETERS.maxEntries)
    problems.push(`mlPlatform:training.hyperparameters has ${Object.keys(hyperparameters).length} entries; SageMaker allows ${HYPERPARAMETERS.maxEntries}`);
  for (const [k, v] of Object.entries(hyperparameters)) {
    if (k.length > HYPERPARAMETERS.maxKeyLength || v.length > HYPERPARAMETERS.maxValueLength)
      problems.push(`mlPlatform:training.hyperparameters.${k.slice(0, 40)}: keys and values are limited to 256 characters`);
  }
  if (spec.maxRetries < TRAINING_RETRY_ATTEMPTS.min || spec.maxRetries > TRAINING_RETRY_ATTEMPTS.max) {
    problems.push(`--max-retries (${spec.maxRetries}) must be ${TRAINING_RETRY_ATTEMPTS.min}-${TRAINING_RETRY_ATTEMPTS.max}`);
  }
  const tags = [
    ...Object.entries(spec.tags).map(([Key, Value]) => ({ Key, Value })),
    { Key: TAG_KEYS.gitCommit, Value: spec.gitCommit },
    { Key: TAG_KEYS.dataset, Value: spec.outputs.datasetUri.slice(0, TAGS.maxValueLength) },
    { Key: TAG_KEYS.datasetHash, Value: spec.datasetHash },
    { Key: TAG_KEYS.datasetManifest, Value: spec.manifestId },
    { Key: TAG_KEYS.stack, Value: spec.stack },
    ...(xgboost
      ? [
          { Key: TAG_KEYS.algorithm, Value: `xgboost:${xgboost.image.slice(xgboost.image.lastIndexOf(":") + 1)}` },
          { Key: TAG_KEYS.servingImage, Value: spec.image },
        ]
      : []),
  ];
  if (tags.length > TAGS.maxEntries)
    problems.push(`a training job takes at most ${TAGS.maxEntries} tags; mlPlatform:tags has ${Object.keys(spec.tags).length}`);
  if (problems.length > 0) throw new CliError(`stack "${spec.stack}": cannot start a training job`, { details: problems });

  const request: CreateTrainingJobCommandInput = {
    TrainingJobName: spec.jobName,
    RoleArn: outputs.executionRoleArn,
    AlgorithmSpecification: { TrainingImage: spec.image, TrainingInputMode: "File", MetricDefinitions: resolved.metricDefinitions },
    HyperParameters: hyperparameters,
    InputDataConfig: manifestChannels(parseS3Uri(outputs.datasetUri).bucket, spec.manifestId),
    OutputDataConfig: { S3OutputPath: outputs.trainingOutputUri, KmsKeyId: outputs.kmsKeyArn },
    ResourceConfig: {
      InstanceType: t.instanceType as never,
      InstanceCount: t.instanceCount,
      VolumeSizeInGB: t.volumeSizeGb,
      ...(hasInstanceStorage(t.instanceType) ? {} : { VolumeKmsKeyId: outputs.kmsKeyArn }),
    },
    // The contract's schema requires maxWaitSeconds >= maxRuntimeSeconds with spot.
    StoppingCondition: { MaxRuntimeInSeconds: t.maxRuntimeSeconds, ...(t.spot ? { MaxWaitTimeInSeconds: t.maxWaitSeconds } : {}) },
    EnableManagedSpotTraining: t.spot,
    // A spot interruption resumes from here; without it the job restarts from scratch.
    ...(t.spot ? { CheckpointConfig: { S3Uri: joinS3(outputs.checkpointUri, spec.jobName) + "/", LocalPath: CHECKPOINT_LOCAL_PATH } } : {}),
    // SageMaker retries the job on internal errors and capacity shortages, not on algorithm errors.
    RetryStrategy: { MaximumRetryAttempts: spec.maxRetries },
    // ml-core needs no network: the container gets none. Traffic between instances is encrypted
    // (free on one instance, and the policy pack's rule holds whatever the count).
    EnableNetworkIsolation: true,
    EnableInterContainerTrafficEncryption: true,
    Tags: tags,
  };
  return xgboost ? asXgboostJob(request, xgboost, DATASET_CHANNELS[0]) : request;
}

/** The manifest `--manifest` names (checked: it exists, hashes to its id, has every channel), or the newest snapshot. */
async function jobManifest(s3: S3Client, outputs: StackOutputs, requested: string | undefined): Promise<string> {
  if (requested !== undefined && !MANIFEST_ID.test(requested))
    throw new CliError(`--manifest ${requested}: expected a manifest id (64 hex digits), as \`ml-deploy data snapshot\` prints it`, { exitCode: EXIT.usage });
  const bucket = parseS3Uri(outputs.datasetUri).bucket;
  const id = requested ?? (await latestManifest(s3, bucket, outputs.datasetUri));
  const { manifest } = await readManifest(s3, `s3://${bucket}/${manifestKey(id)}`);
  const empty = emptyChannels(manifest);
  if (empty.length > 0) throw new CliError(`dataset manifest ${id} has no data for ${empty.join(", ")}`);
  return id;
}

/**
 * Fails early, naming the channel, when a channel has no objects (SageMaker would start, bill for
 * the instance, and fail minutes later), and returns a fingerprint of the data: SHA-256 over every
 * object's key, size and ETag. Recorded on the job and the version, it tells whether two versions
 * were trained on the same data.
 */
export async function datasetFingerprint(s3: S3Client, datasetUri: string): Promise<string> {
  const { bucket, key } = parseS3Uri(datasetUri);
  const prefix = key.endsWith("/") || key === "" ? key : `${key}/`;
  const lines: string[] = [];
  for await (const page of paginateListObjectsV2({ client: s3 }, { Bucket: bucket, Prefix: prefix })) {
    for (const o of page.Contents ?? []) {
      if (o.Key && !o.Key.endsWith("/")) lines.push(`${o.Key.slice(prefix.length)}\t${o.Size ?? 0}\t${o.ETag ?? ""}`);
    }
  }
  const empty = DATASET_CHANNELS.filter((c) => !lines.some((l) => l.startsWith(`${c}/`)));
  if (empty.length > 0) {
    throw new CliError(`the dataset has no data for channel${empty.length > 1 ? "s" : ""} ${empty.join(", ")}`, {
      details: empty.map((c) => `s3://${bucket}/${prefix}${c}/ is empty`),
      hint: `upload CSV files (with a header row) under s3://${bucket}/${prefix}{train,validation}/`,
    });
  }
  return `sha256:${createHash("sha256").update(lines.sort().join("\n")).digest("hex")}`;
}

/**
 * Polls the job until it ends, printing every change of status or secondary status with the time
 * since the job was created. Stopping the CLI (Ctrl-C) stops the waiting, not the job.
 */
export async function waitForTrainingJob(ctx: Context, sm: SageMakerClient, jobName: string): Promise<DescribeTrainingJobCommandOutput> {
  let last = "";
  const started = ctx.now();
  for (;;) {
    const job = await sm.send(new DescribeTrainingJobCommand({ TrainingJobName: jobName }));
    const state = `${job.TrainingJobStatus}/${job.SecondaryStatus}`;
    if (state !== last) {
      last = state;
      const since = job.CreationTime ? Math.max(0, ctx.now() - job.CreationTime.getTime()) : ctx.now() - started;
      const message = job.SecondaryStatusTransitions?.at(-1)?.StatusMessage;
      ctx.out.info(`[${formatDuration(since).padStart(8)}] ${job.TrainingJobStatus} / ${job.SecondaryStatus}${message ? ` - ${message}` : ""}`);
    }
    if (job.TrainingJobStatus === "Completed" || job.TrainingJobStatus === "Failed" || job.TrainingJobStatus === "Stopped") return job;
    await ctx.sleep(ctx.pollIntervalMs);
  }
}

/** The job's final metrics as SageMaker read them from its log (rounded as the log line printed them). */
export function finalMetrics(job: DescribeTrainingJobCommandOutput): Record<string, number> {
  return Object.fromEntries(
    (job.FinalMetricDataList ?? []).flatMap((m) =>
      m.MetricName && m.Value !== undefined && Number.isFinite(m.Value) ? [[m.MetricName, m.Value] as const] : [],
    ),
  );
}

function outcomeOf(job: DescribeTrainingJobCommandOutput): TrainingOutcome {
  return {
    status: job.TrainingJobStatus ?? "Unknown",
    secondaryStatus: job.SecondaryStatus ?? "Unknown",
    modelArtifact: job.ModelArtifacts?.S3ModelArtifacts,
    metrics: finalMetrics(job),
    trainingSeconds: job.TrainingTimeInSeconds,
    billableSeconds: job.BillableTimeInSeconds,
    failureReason: job.FailureReason,
  };
}
