import { createHash } from "node:crypto";
import { FILES, registeredReportKey } from "@ml-platform/contract";
import { PutObjectCommand } from "@aws-sdk/client-s3";
import { CreateModelPackageCommand, DescribeTrainingJobCommand, ListTagsCommand, type CreateModelPackageCommandInput } from "@aws-sdk/client-sagemaker";
import { CLIENT_TOKEN_LENGTH, CUSTOMER_METADATA, DESCRIPTION_MAX_LENGTH } from "../aws/limits";
import type { Context } from "../context";
import { CliError } from "../errors";
import { modelQualityReport, type Metrics } from "./metrics";
import { META, describeVersion, findVersionByMetadata, type ModelVersion } from "./model-version";
import { isPreconditionFailed, readArtifact } from "./artifact";
import { readStackOutputs } from "../stacks/gateway";
import { TAG_KEYS, finalMetrics } from "../training/job";
import { MANIFEST_CHANNEL } from "@ml-platform/ml-core";
import { DATASET_CHANNELS, manifestIdOf, manifestKey } from "@ml-platform/contract";
import { parseS3Uri } from "../aws/arn";
import { lineageMetadata } from "./lineage-metadata";

/** What the container accepts and answers (ml-core's server). */
export const CONTENT_TYPES = ["text/csv", "application/json"];
export const RESPONSE_TYPES = ["application/json", "text/csv"];

export interface RegisterOptions {
  stack: string;
  job: string;
  json?: boolean;
}

export interface RegisterResult {
  stack: string;
  created: boolean;
  version: ModelVersion;
  /** Where the metrics came from: the model archive, or (when it has none) the job's log metrics. */
  metricsSource: "model.tar.gz" | "training-job" | "existing";
}

/**
 * Registers a completed training job as a new version in the stack's model package group, pending
 * approval. Idempotent: a version already registered for the job is returned as it is, found by
 * its metadata (and `ClientToken` guards against two concurrent runs).
 *
 * Metrics come from `metrics.json` inside `model.tar.gz`: it is what ml-core computed, exactly, and
 * it travels with the model. The job's log-scraped `FinalMetricDataList` is the fallback for an
 * archive without it (rounded to what the log line printed).
 */
export async function register(ctx: Context, opts: RegisterOptions): Promise<RegisterResult> {
  const outputs = await readStackOutputs(ctx.stacks, opts.stack);
  const sm = ctx.aws.sagemaker(outputs.region);
  const s3 = ctx.aws.s3(outputs.region);
  const group = outputs.modelPackageGroupName;

  ctx.out.step(`Reading training job ${opts.job}`);
  const job = await sm.send(new DescribeTrainingJobCommand({ TrainingJobName: opts.job }));
  if (job.TrainingJobStatus !== "Completed") {
    throw new CliError(
      `training job ${opts.job} is ${job.TrainingJobStatus}${job.FailureReason ? `: ${job.FailureReason}` : ""}; only a completed job can be registered`,
      {
        hint:
          job.TrainingJobStatus === "InProgress"
            ? `wait for it: the job's status is shown by \`ml-deploy train --wait\`, or re-run register when it completes`
            : undefined,
      },
    );
  }

  const existing = await findVersionByMetadata(sm, group, META.trainingJob, opts.job);
  if (existing) {
    ctx.out.step(`Job ${opts.job} is already registered as version ${existing.version}; nothing to do`);
    return { stack: opts.stack, created: false, version: existing, metricsSource: "existing" };
  }

  const image = job.AlgorithmSpecification?.TrainingImage;
  const modelData = job.ModelArtifacts?.S3ModelArtifacts;
  if (!image || !modelData) throw new CliError(`training job ${opts.job} has no ${image ? "model artifact" : "training image"}`);

  ctx.out.step(`Reading ${modelData} (version, SHA-256, model identity, ${FILES.metrics})`);
  const artifact = await readArtifact(s3, modelData);
  if (!artifact.versionId)
    ctx.out.warn(`${modelData} has no S3 version id (the bucket is not versioned): promote copies whatever the key holds then, checked by its SHA-256`);
  let metrics = artifact.metrics;
  let metricsSource: RegisterResult["metricsSource"] = "model.tar.gz";
  if (!metrics) {
    metrics = finalMetrics(job);
    metricsSource = "training-job";
    ctx.out.warn(`${modelData} has no ${FILES.metrics}; using the metrics SageMaker read from the job's log`);
  }
  if (Object.keys(metrics).length === 0) ctx.out.warn("the version has no metrics: promotion gates on metrics will refuse it");

  const tags = Object.fromEntries(
    ((await sm.send(new ListTagsCommand({ ResourceArn: job.TrainingJobArn }))).Tags ?? []).map((t) => [t.Key ?? "", t.Value ?? ""]),
  );
  const gitCommit = tags[TAG_KEYS.gitCommit] ?? "unknown";
  // The manifest channel says which data the job read, whoever started it (this CLI or the pipeline).
  // A built-in XGBoost job has no manifest channel (the algorithm takes only its own): its manifest
  // id is the tag `train` set, beside the ManifestFile channels in the same bucket.
  const channelUri = (name: string) => job.InputDataConfig?.find((c) => c.ChannelName === name)?.DataSource?.S3DataSource?.S3Uri;
  const taggedManifest = tags[TAG_KEYS.datasetManifest];
  const trainUri = channelUri(DATASET_CHANNELS[0]);
  const manifestUri =
    channelUri(MANIFEST_CHANNEL) ?? (taggedManifest && trainUri ? `s3://${parseS3Uri(trainUri).bucket}/${manifestKey(taggedManifest)}` : undefined);
  const manifestId = manifestUri ? manifestIdOf(manifestUri) : undefined;
  if (!manifestId) ctx.out.warn(`training job ${opts.job} has no dataset manifest channel: the version's data cannot be traced`);
  // A built-in XGBoost job trained with AWS's image; the ml-core image recorded on it serves the model.
  const servingImage = tags[TAG_KEYS.servingImage] ?? image;

  const reportKey = registeredReportKey(opts.job);
  try {
    await s3.send(
      new PutObjectCommand({
        Bucket: outputs.artifactBucketName,
        Key: reportKey,
        Body: JSON.stringify(modelQualityReport(metrics, `training job ${opts.job}`), null, 2),
        ContentType: "application/json",
        // Write-once: what the gates read can't be replaced (the bucket policy enforces it under models/).
        IfNoneMatch: "*",
        ServerSideEncryption: "aws:kms",
        SSEKMSKeyId: outputs.kmsKeyArn,
      }),
    );
  } catch (err) {
    // Registering the same job again: its report, made from the same finished job's metrics, is there.
    if (!isPreconditionFailed(err)) throw err;
  }

  ctx.out.step(`Registering ${opts.job} in model package group ${group}`);
  const input = modelPackageInput({
    group,
    description: `Trained by job ${opts.job} from commit ${gitCommit}`,
    image: servingImage,
    modelDataUrl: modelData,
    metrics,
    metricsReportUri: `s3://${outputs.artifactBucketName}/${reportKey}`,
    approval: "PendingManualApproval",
    gitCommit,
    generatedBy: job.TrainingJobArn,
    metadata: {
      [META.trainingJob]: opts.job,
      [META.gitCommit]: gitCommit,
      ...lineageMetadata({ manifestId, manifestUri, image, hyperparameters: job.HyperParameters ?? {}, trainingJobArn: job.TrainingJobArn ?? "" }),
      [META.datasetUri]: tags[TAG_KEYS.dataset] ?? "",
      [META.datasetHash]: tags[TAG_KEYS.datasetHash] ?? "",
      [META.stack]: opts.stack,
      [META.modelIdentity]: artifact.identity,
      [META.artifactSha256]: artifact.sha256,
      [META.artifactVersionId]: artifact.versionId ?? "",
    },
    idempotencyKey: `${group}/${opts.job}`,
  });
  const created = await sm.send(new CreateModelPackageCommand(input));
  const version = await describeVersion(sm, created.ModelPackageArn ?? "");
  return { stack: opts.stack, created: true, version, metricsSource };
}

export interface ModelPackageSpec {
  group: string;
  description: string;
  image: string;
  modelDataUrl: string;
  metrics: Metrics;
  metricsReportUri: string;
  approval: "PendingManualApproval" | "Approved";
  gitCommit: string;
  generatedBy: string | undefined;
  metadata: Record<string, string>;
  /** Same key, same request: SageMaker returns the first call's version instead of a second one. */
  idempotencyKey: string;
}

/** The CreateModelPackage request for a version of this platform (used by register and promote). */
export function modelPackageInput(spec: ModelPackageSpec): CreateModelPackageCommandInput {
  const metadata: Record<string, string> = {};
  for (const [k, v] of Object.entries(spec.metadata)) if (v !== "") metadata[k] = v.slice(0, CUSTOMER_METADATA.maxValueLength);
  for (const [k, v] of Object.entries(spec.metrics)) metadata[`${META.metricPrefix}${k}`] = String(v);
  if (Object.keys(metadata).length > CUSTOMER_METADATA.maxEntries) {
    throw new CliError(
      `a model package takes at most ${CUSTOMER_METADATA.maxEntries} metadata entries; this one would have ${Object.keys(metadata).length} (too many metrics?)`,
    );
  }
  return {
    ModelPackageGroupName: spec.group,
    ModelPackageDescription: spec.description.slice(0, DESCRIPTION_MAX_LENGTH),
    InferenceSpecification: {
      Containers: [{ Image: spec.image, ModelDataUrl: spec.modelDataUrl }],
      SupportedContentTypes: CONTENT_TYPES,
      SupportedResponseMIMETypes: RESPONSE_TYPES,
    },
    ModelApprovalStatus: spec.approval,
    MetadataProperties: { CommitId: spec.gitCommit, ...(spec.generatedBy ? { GeneratedBy: spec.generatedBy } : {}) },
    ModelMetrics: { ModelQuality: { Statistics: { ContentType: "application/json", S3Uri: spec.metricsReportUri } } },
    CustomerMetadataProperties: metadata,
    ClientToken: createHash("sha256").update(spec.idempotencyKey).digest("hex").slice(0, CLIENT_TOKEN_LENGTH),
  };
}
