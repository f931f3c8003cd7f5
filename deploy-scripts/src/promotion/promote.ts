import { FILES, promotedModelPrefix } from "@ml-platform/contract";
import { CopyObjectCommand, HeadObjectCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { CreateModelPackageCommand, ListModelPackagesCommand, UpdateModelPackageCommand } from "@aws-sdk/client-sagemaker";
import { parseModelPackageArn, parseS3Uri } from "../aws/arn";
import { COPY_OBJECT_MAX_BYTES, DESCRIPTION_MAX_LENGTH } from "../aws/limits";
import { pinPackage, type StackFile } from "../config/stack-file";
import type { Context } from "../context";
import { applyPin, type ApplyResult } from "./apply";
import { requireConfirmation } from "./confirmation";
import { CliError, EXIT } from "../errors";
import { metricGateFailures, modelQualityReport } from "../registry/metrics";
import { META, describeVersion, findVersionByMetadata, resolveVersionArn, type ModelVersion } from "../registry/model-version";
import type { SampleRows } from "../smoke/sample";
import { DEFAULT_SMOKE_ROWS, loadSamples, smokeStack, type StackSmoke } from "../smoke/stack";
import { readStackOutputs, type StackOutputs } from "../stacks/gateway";
import { modelPackageInput } from "../registry/register";

export interface PromoteOptions {
  /** The earlier stage; absent: pin a version of the target's own group (`deploy`). */
  from?: string;
  to: string;
  version?: string;
  dryRun?: boolean;
  yes?: boolean;
  samples?: string;
  rows?: number;
  /** `--no-rollback` sets false: keep the new version deployed even if its smoke test fails. */
  rollback?: boolean;
  json?: boolean;
}

export interface Gate {
  name: string;
  passed: boolean;
  detail: string;
}

export interface PromoteResult {
  from?: string;
  to: string;
  source: ModelVersion;
  gates: Gate[];
  sourceSmoke?: StackSmoke;
  /** The version the target pins: the source itself (same group) or its copy in the target's group. */
  target: { arn: string; created: boolean; predicted: boolean };
  previousPin?: string;
  apply: ApplyResult;
}

interface Side {
  stack: string;
  file: StackFile;
  outputs: StackOutputs;
}

/**
 * Moves a version into a stack. With `from`: the version the source stack serves (or `version`),
 * gated on approval, the target's metric thresholds and the source endpoint's health and smoke
 * test, then copied into the target's artifact bucket and registry (each stage owns its copy, so
 * prod never depends on dev's retention). Without `from` it pins a version of the stack's own group.
 * Then: pin in the stack file, preview, `pulumi up`, smoke test, restore on any failure.
 */
export async function promote(ctx: Context, opts: PromoteOptions): Promise<PromoteResult> {
  const command = opts.from ? `ml-deploy promote --from ${opts.from} --to ${opts.to}` : `ml-deploy deploy --stack ${opts.to}`;
  if (opts.from === opts.to) throw new CliError("--from and --to name the same stack", { exitCode: EXIT.usage });
  const targetFile = await ctx.stackFiles.read(opts.to);
  requireConfirmation(targetFile, opts, command);
  const rows = opts.rows ?? DEFAULT_SMOKE_ROWS;

  const target = await side(ctx, opts.to, targetFile);
  const source = opts.from ? await side(ctx, opts.from) : undefined;
  const home = source ?? target;
  const homeSm = ctx.aws.sagemaker(home.outputs.region);

  const ref = opts.version ?? source?.file.settings.model?.packageArn;
  if (!ref) {
    throw new CliError(source ? `stack "${source.stack}" pins no registered version (mlPlatform:model.packageArn)` : "--version is required", {
      exitCode: EXIT.usage,
      hint: source ? "pass --version <arn>" : undefined,
    });
  }
  const arn = await resolveVersionArn(homeSm, home.outputs.modelPackageGroupName, ref);
  if (!source && parseModelPackageArn(arn).group !== target.outputs.modelPackageGroupName) {
    throw new CliError(`${arn} is not in stack "${opts.to}"'s model package group ${target.outputs.modelPackageGroupName}`, {
      exitCode: EXIT.usage,
      hint: `versions move between stages with \`ml-deploy promote --from <stack> --to ${opts.to}\`, which checks the earlier stage's endpoint`,
    });
  }
  ctx.out.step(`Checking version ${arn}`);
  const version = await describeVersion(homeSm, arn);

  // Gates: all are evaluated, so one run lists every reason to refuse.
  let sample: SampleRows | undefined;
  let sourceSmoke: StackSmoke | undefined;
  const promotion = target.file.settings.promotion;
  const gates: Gate[] = [
    gate("registered", version.status === "Completed", `version ${version.version} is ${version.status}`),
    promotion.requireApproval
      ? gate("approved", version.approval === "Approved", `version ${version.version} is ${version.approval}${version.approvalDescription ? ` (${version.approvalDescription})` : ""}; stack "${opts.to}" requires Approved`)
      : gate("approved", true, `not required by stack "${opts.to}" (version is ${version.approval})`),
    ...metricGates(version, promotion, opts.to),
  ];
  if (version.approval === "Rejected" && !promotion.requireApproval) gates.push(gate("not rejected", false, `version ${version.version} was rejected: ${version.approvalDescription ?? ""}`));
  if (source) {
    const pinned = source.file.settings.model?.packageArn;
    gates.push(gate(`served by ${source.stack}`, pinned === arn, `stack "${source.stack}" serves ${pinned ?? "no registered version"}, not ${arn}; its endpoint cannot vouch for this version`));
    sample = await loadSamples(ctx, { file: opts.samples, rows }, source.outputs, source.file.settings);
    sourceSmoke = await smokeStack(ctx, source.stack, source.outputs, sample, promotion.smokeMaxLatencyMs);
    gates.push(gate(`${source.stack} endpoint healthy`, sourceSmoke.problems.length === 0, sourceSmoke.problems.join("; ")));
  }
  const failed = gates.filter((g) => !g.passed);
  if (failed.length > 0) {
    throw new CliError(`refusing to ${source ? `promote to "${opts.to}"` : `deploy to "${opts.to}"`}: ${failed.length} gate${failed.length > 1 ? "s" : ""} failed`, {
      details: failed.map((g) => `${g.name}: ${g.detail}`),
      exitCode: EXIT.gateRefused,
    });
  }
  for (const g of gates) ctx.out.info(`gate passed: ${g.name}`);

  const targetVersion = source ? await ensureTargetVersion(ctx, source, target, version, !!opts.dryRun) : { arn, created: false, predicted: false };
  sample ??= await loadSamples(ctx, { file: opts.samples, rows }, target.outputs, target.file.settings);
  const apply = await applyPin(ctx, {
    stack: opts.to,
    file: target.file,
    text: pinPackage(target.file.text, targetVersion.arn),
    dryRun: !!opts.dryRun,
    sample,
    maxLatencyMs: promotion.smokeMaxLatencyMs,
    rollbackOnSmokeFailure: opts.rollback ?? true,
  });
  return { from: opts.from, to: opts.to, source: version, gates, sourceSmoke, target: targetVersion, previousPin: target.file.settings.model?.packageArn, apply };
}

async function side(ctx: Context, stack: string, read?: StackFile): Promise<Side> {
  const file = read ?? (await ctx.stackFiles.read(stack));
  return { stack, file, outputs: await readStackOutputs(ctx.stacks, stack) };
}

function gate(name: string, passed: boolean, detail: string): Gate {
  return { name, passed, detail: passed && !detail.startsWith("not required") ? "ok" : detail };
}

function metricGates(version: ModelVersion, thresholds: { minMetrics: Record<string, number>; maxMetrics: Record<string, number> }, stack: string): Gate[] {
  // One gate per threshold, so a refusal lists each metric on its own line.
  const one = (name: string, only: Parameters<typeof metricGateFailures>[1]) => {
    const failures = metricGateFailures(version.metrics, only, `stack "${stack}"`);
    return gate(`metric ${name}`, failures.length === 0, failures.join("; "));
  };
  return [
    ...Object.entries(thresholds.minMetrics).map(([name, min]) => one(name, { minMetrics: { [name]: min }, maxMetrics: {} })),
    ...Object.entries(thresholds.maxMetrics).map(([name, max]) => one(name, { minMetrics: {}, maxMetrics: { [name]: max } })),
  ];
}

/**
 * The source version's counterpart in the target's group: found by its `promotedFrom` metadata
 * when an earlier run got that far, else copied and registered now. On a dry run nothing is
 * written: the preview uses the ARN the next version of the group will get.
 */
async function ensureTargetVersion(ctx: Context, source: Side, target: Side, version: ModelVersion, dryRun: boolean): Promise<PromoteResult["target"]> {
  const sm = ctx.aws.sagemaker(target.outputs.region);
  const group = target.outputs.modelPackageGroupName;
  const existing = await findVersionByMetadata(sm, group, META.promotedFrom, version.arn);
  if (existing) {
    if (existing.approval === "Rejected") {
      throw new CliError(`${existing.arn}, the copy of this version in stack "${target.stack}", was rejected: ${existing.approvalDescription ?? "(no reason)"}`, { exitCode: EXIT.gateRefused });
    }
    ctx.out.step(`Version already in ${group} as version ${existing.version} (from an earlier run)`);
    if (existing.approval !== "Approved" && !dryRun) await approveCopy(ctx, target, existing.arn, version, source.stack);
    return { arn: existing.arn, created: false, predicted: false };
  }
  if (dryRun) {
    const latest = await sm.send(new ListModelPackagesCommand({ ModelPackageGroupName: group, SortBy: "CreationTime", SortOrder: "Descending", MaxResults: 1 }));
    const next = (latest.ModelPackageSummaryList?.[0]?.ModelPackageVersion ?? 0) + 1;
    const arn = `arn:aws:sagemaker:${target.outputs.region}:${target.outputs.accountId}:model-package/${group}/${next}`;
    ctx.out.step(`Dry run: would copy the model into ${target.outputs.artifactBucketName} and register it as ${arn}`);
    return { arn, created: false, predicted: true };
  }

  const s3 = ctx.aws.s3(target.outputs.region);
  const from = parseS3Uri(version.modelDataUrl);
  const base = promotedModelPrefix(version.group, version.version);
  const key = `${base}/${FILES.modelArtifact}`;
  const head = await s3.send(new HeadObjectCommand({ Bucket: from.bucket, Key: from.key }));
  if ((head.ContentLength ?? 0) > COPY_OBJECT_MAX_BYTES) {
    throw new CliError(`${version.modelDataUrl} is ${head.ContentLength} bytes; a single S3 copy is limited to 5 GB`);
  }
  ctx.out.step(`Copying ${version.modelDataUrl} to s3://${target.outputs.artifactBucketName}/${key}`);
  await s3.send(
    new CopyObjectCommand({
      Bucket: target.outputs.artifactBucketName,
      Key: key,
      CopySource: `${from.bucket}/${from.key.split("/").map(encodeURIComponent).join("/")}`,
      // Re-encrypted under the target stack's key: the target never needs the source's key.
      ServerSideEncryption: "aws:kms",
      SSEKMSKeyId: target.outputs.kmsKeyArn,
      MetadataDirective: "COPY",
    }),
  );
  const reportKey = `${base}/${FILES.modelQualityReport}`;
  await s3.send(
    new PutObjectCommand({
      Bucket: target.outputs.artifactBucketName,
      Key: reportKey,
      Body: JSON.stringify(modelQualityReport(version.metrics, version.arn), null, 2),
      ContentType: "application/json",
      ServerSideEncryption: "aws:kms",
      SSEKMSKeyId: target.outputs.kmsKeyArn,
    }),
  );
  const metadata = Object.fromEntries(Object.entries(version.metadata).filter(([k]) => !k.startsWith(META.metricPrefix)));
  ctx.out.step(`Registering in ${group}`);
  const created = await sm.send(
    new CreateModelPackageCommand(
      modelPackageInput({
        group,
        description: `Promoted from ${version.arn} (stack ${source.stack})`,
        image: version.image,
        modelDataUrl: `s3://${target.outputs.artifactBucketName}/${key}`,
        metrics: version.metrics,
        metricsReportUri: `s3://${target.outputs.artifactBucketName}/${reportKey}`,
        approval: "PendingManualApproval",
        gitCommit: version.metadata[META.gitCommit] ?? "unknown",
        generatedBy: version.arn,
        metadata: { ...metadata, [META.stack]: target.stack, [META.promotedFrom]: version.arn, [META.promotedFromStack]: source.stack, [META.promotedBy]: await ctx.gitCommit() },
        idempotencyKey: `${group}/${version.arn}`,
      }),
    ),
  );
  const arn = created.ModelPackageArn ?? "";
  await approveCopy(ctx, target, arn, version, source.stack);
  return { arn, created: true, predicted: false };
}

async function approveCopy(ctx: Context, target: Side, arn: string, version: ModelVersion, from: string): Promise<void> {
  await ctx.aws.sagemaker(target.outputs.region).send(
    new UpdateModelPackageCommand({
      ModelPackageArn: arn,
      ModelApprovalStatus: "Approved",
      ApprovalDescription: `Promoted from stack ${from} (${version.arn}, ${version.approval}${version.approvalDescription ? `: ${version.approvalDescription}` : ""}) after its gates passed`.slice(0, DESCRIPTION_MAX_LENGTH),
    }),
  );
}

/** `promote`'s options, with one stack instead of a source and a target, and a version required. */
export type DeployOptions = Omit<PromoteOptions, "from" | "to" | "version"> & { stack: string; version: string };

/**
 * Pins a version of the stack's own model package group: how the first stage (dev, which has no
 * earlier stage to promote from) gets a version, and how any stage is pinned to a version its
 * registry already holds. The stack's own gates (approval if required, metric thresholds) apply.
 */
export function deploy(ctx: Context, opts: DeployOptions): Promise<PromoteResult> {
  return promote(ctx, { ...opts, to: opts.stack, from: undefined });
}
