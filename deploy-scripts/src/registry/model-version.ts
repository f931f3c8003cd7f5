import {
  DescribeModelPackageCommand,
  paginateListModelPackages,
  type DescribeModelPackageCommandOutput,
  type ModelPackageSummary,
  type SageMakerClient,
} from "@aws-sdk/client-sagemaker";
import { isModelPackageArn } from "../aws/arn";
import { CliError } from "../errors";
import { formatFields } from "../output";
import type { Metrics } from "./metrics";

/**
 * Keys of `CustomerMetadataProperties` on the versions ml-deploy registers. They carry what the
 * gates and idempotency checks read back, so a version explains itself in the console too.
 */
export const META = {
  trainingJob: "trainingJobName",
  trainingJobArn: "trainingJobArn",
  gitCommit: "gitCommit",
  datasetUri: "datasetUri",
  datasetHash: "datasetHash",
  stack: "stack",
  promotedFrom: "promotedFrom",
  promotedFromStack: "promotedFromStack",
  promotedBy: "promotedByCommit",
  /** `model-sha256=<hex>` of the artifact's model.json: what the serving container answers with (CustomAttributes). */
  modelIdentity: "modelIdentity",
  /** Hex SHA-256 of model.tar.gz as registered; promote verifies its copy against it. */
  artifactSha256: "artifactSha256",
  /** The S3 version of model.tar.gz the version means; promote copies exactly this one. */
  artifactVersionId: "artifactVersionId",
  /** The dataset manifest the version was trained on: its id (hex SHA-256) and where it is stored. */
  datasetManifestId: "datasetManifestId",
  datasetManifestUri: "datasetManifestUri",
  /** `sha256:<hex>` of the training image (the part after `@` of the image by digest). */
  imageDigest: "imageDigest",
  /** The job's hyperparameters as canonical JSON, when it fits a metadata value (256 characters); the hash always. */
  hyperparameters: "hyperparameters",
  hyperparametersSha256: "hyperparametersSha256",
  /** Prefix of one key per metric: `metric:validation:auc` = `0.9876`. */
  metricPrefix: "metric:",
} as const;

/** A registered model version, as the commands use it. */
export interface ModelVersion {
  readonly arn: string;
  readonly group: string;
  readonly version: number;
  readonly status: string;
  readonly approval: string;
  readonly approvalDescription: string | undefined;
  readonly description: string | undefined;
  readonly image: string;
  readonly modelDataUrl: string;
  readonly contentTypes: readonly string[];
  readonly responseTypes: readonly string[];
  readonly metrics: Metrics;
  readonly metadata: Readonly<Record<string, string>>;
  readonly metricsReportUri: string | undefined;
  readonly createdAt: string | undefined;
}

export async function describeVersion(sm: SageMakerClient, arn: string): Promise<ModelVersion> {
  const out = await sm.send(new DescribeModelPackageCommand({ ModelPackageName: arn }));
  return toModelVersion(out);
}

export function toModelVersion(out: DescribeModelPackageCommandOutput | Omit<DescribeModelPackageCommandOutput, "$metadata">): ModelVersion {
  const container = out.InferenceSpecification?.Containers?.[0];
  const metadata = out.CustomerMetadataProperties ?? {};
  const metrics: Metrics = {};
  for (const [k, v] of Object.entries(metadata)) {
    if (k.startsWith(META.metricPrefix) && Number.isFinite(Number(v))) metrics[k.slice(META.metricPrefix.length)] = Number(v);
  }
  return {
    arn: out.ModelPackageArn ?? "",
    group: out.ModelPackageGroupName ?? "",
    version: out.ModelPackageVersion ?? 0,
    status: out.ModelPackageStatus ?? "Unknown",
    approval: out.ModelApprovalStatus ?? "Unknown",
    approvalDescription: out.ApprovalDescription,
    description: out.ModelPackageDescription,
    image: container?.Image ?? "",
    modelDataUrl: container?.ModelDataUrl ?? container?.ModelDataSource?.S3DataSource?.S3Uri ?? "",
    contentTypes: out.InferenceSpecification?.SupportedContentTypes ?? [],
    responseTypes: out.InferenceSpecification?.SupportedResponseMIMETypes ?? [],
    metrics,
    metadata,
    metricsReportUri: out.ModelMetrics?.ModelQuality?.Statistics?.S3Uri,
    createdAt: out.CreationTime?.toISOString(),
  };
}

/**
 * Finds a version in `group` by what its metadata says (the job it was trained by, the version it
 * was promoted from). The description carries the same marker, so only the summaries that mention
 * it are described: one List page per 100 versions plus one Describe, not one Describe per version.
 */
export async function findVersionByMetadata(sm: SageMakerClient, group: string, key: string, value: string): Promise<ModelVersion | undefined> {
  for await (const page of paginateListModelPackages({ client: sm }, { ModelPackageGroupName: group, SortBy: "CreationTime", SortOrder: "Descending" })) {
    for (const summary of page.ModelPackageSummaryList ?? []) {
      if (!summary.ModelPackageArn || !(summary.ModelPackageDescription ?? "").includes(value)) continue;
      const version = await describeVersion(sm, summary.ModelPackageArn);
      if (version.metadata[key] === value) return version;
    }
  }
  return undefined;
}

/**
 * Resolves what a user typed for `--version`: a version ARN, a version number in the stack's group,
 * `latest` or `latest-approved`.
 */
export async function resolveVersionArn(sm: SageMakerClient, group: string, ref: string): Promise<string> {
  if (isModelPackageArn(ref)) return ref;
  if (/^\d+$/.test(ref) || ref === "latest" || ref === "latest-approved") {
    const match = (s: ModelPackageSummary) =>
      /^\d+$/.test(ref) ? s.ModelPackageVersion === Number(ref) : ref === "latest" || s.ModelApprovalStatus === "Approved";
    for await (const page of paginateListModelPackages({ client: sm }, { ModelPackageGroupName: group, SortBy: "CreationTime", SortOrder: "Descending" })) {
      const found = (page.ModelPackageSummaryList ?? []).find(match);
      if (found?.ModelPackageArn) return found.ModelPackageArn;
    }
    throw new CliError(`no ${/^\d+$/.test(ref) ? `version ${ref}` : `${ref} version`} in model package group ${group}`);
  }
  throw new CliError(`--version ${ref}: expected a model package version ARN, a version number, "latest" or "latest-approved"`);
}

/** A version for humans: the fields a reviewer checks, then its metrics. */
export function formatVersion(v: ModelVersion): string {
  return [
    formatFields([
      ["version", `${v.version} (${v.arn})`],
      ["status", `${v.approval}${v.approvalDescription ? ` - ${v.approvalDescription}` : ""}`],
      ["image", v.image],
      ["model data", v.modelDataUrl],
      ["commit", v.metadata[META.gitCommit]],
      ["training job", v.metadata[META.trainingJob]],
      ["promoted from", v.metadata[META.promotedFrom]],
    ]),
    ...(Object.keys(v.metrics).length > 0
      ? [
          "metrics:",
          ...Object.entries(v.metrics)
            .sort()
            .map(([k, m]) => `  ${k} = ${m}`),
        ]
      : []),
  ].join("\n");
}
