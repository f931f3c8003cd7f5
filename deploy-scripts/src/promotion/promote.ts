import { PutObjectCommand } from "@aws-sdk/client-s3";
import { CreateModelPackageCommand, ListModelPackagesCommand, UpdateModelPackageCommand } from "@aws-sdk/client-sagemaker";
import { FILES, promotedModelPrefix } from "@ml-platform/contract";
import { parseModelPackageArn } from "../aws/arn";
import { DESCRIPTION_MAX_LENGTH } from "../aws/limits";
import { pinPackage, type ArtifactPin, type StackFile } from "../config/stack-file";
import type { Context } from "../context";
import { CliError, EXIT } from "../errors";
import { featureSchemaGates } from "../features/schema-check";
import { copyImage, parseEcrImage, repositoryOfUrl } from "../images/copy";
import { copyArtifactVersion } from "../registry/artifact";
import { metricGateFailures, modelQualityReport } from "../registry/metrics";
import { META, describeVersion, findVersionByMetadata, resolveVersionArn, type ModelVersion } from "../registry/model-version";
import { modelPackageInput } from "../registry/register";
import type { SampleRows } from "../smoke/sample";
import { DEFAULT_SMOKE_ROWS, expectedIdentity, loadSamples, smokeStack, type StackSmoke } from "../smoke/stack";
import { readStackOutputs, type StackOutputs } from "../stacks/gateway";
import { applyPin, type ApplyResult } from "./apply";
import { lockStack, updateSetup } from "./change";
import { requireConfirmation } from "./confirmation";

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
  target: { arn: string; created: boolean; predicted: boolean; image?: string };
  previousPin?: string;
  /** Absent while the copy waits for the target's approver: nothing was pinned. */
  apply?: ApplyResult;
  /** The target requires approval and its copy has none yet: who does what next. */
  awaitingApproval?: { arn: string; next: string[] };
}

interface Side {
  stack: string;
  file: StackFile;
  outputs: StackOutputs;
}

/**
 * Moves a version into a stack. With `from`: the version the source stack serves (or `version`),
 * gated on the source's approval (when the target requires approval), the target's metric
 * thresholds and the source endpoint's health and smoke test; then its artifact (that S3 version,
 * checked by SHA-256) and its image (by digest) are copied into the target's bucket and repository
 * and it is registered in the target's group, `PendingManualApproval`: each stage owns its copy, and
 * the deployer never approves. A target that requires approval stops there until its approver
 * approves the copy (`approve`), then `deploy` pins it; one that does not is pinned now. Without
 * `from` it pins a version of the stack's own group. Pinning: stack file, preview, `pulumi up` as
 * the stack's updater role, endpoint check, smoke test, restore on any failure. The stack is locked
 * for the whole run.
 */
export async function promote(ctx: Context, opts: PromoteOptions): Promise<PromoteResult> {
  const command = opts.from ? `ml-deploy promote --from ${opts.from} --to ${opts.to}` : `ml-deploy deploy --stack ${opts.to}`;
  if (opts.from === opts.to) throw new CliError("--from and --to name the same stack", { exitCode: EXIT.usage });
  requireConfirmation(await ctx.stackFiles.read(opts.to), opts, command);
  const { file: targetFile, lock } = await lockStack(ctx, opts.to, command);
  try {
    return await promoteLocked(ctx, opts, targetFile);
  } finally {
    await lock.release();
  }
}

async function promoteLocked(ctx: Context, opts: PromoteOptions, targetFile: StackFile): Promise<PromoteResult> {
  const rows = opts.rows ?? DEFAULT_SMOKE_ROWS;
  const target = await side(ctx, opts.to, targetFile);
  const source = opts.from ? await side(ctx, opts.from) : undefined;
  const home = source ?? target;
  const homeSm = ctx.aws.sagemaker(home.outputs.region);
  const setup = await updateSetup(ctx, target.file, target.outputs, source ? "promote" : "deploy");

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

  // Gates: all are evaluated, so one run lists every reason to refuse. Approval: into a stage that
  // requires it, the version must be Approved where it is (the source's approver, or this stage's
  // own for `deploy`); a copy then waits for the target's approver before it is pinned.
  let sample: SampleRows | undefined;
  let sourceSmoke: StackSmoke | undefined;
  const promotion = target.file.settings.promotion;
  const where = source ? `in stack "${source.stack}"` : `in stack "${opts.to}"`;
  const gates: Gate[] = [
    gate("registered", version.status === "Completed", `version ${version.version} is ${version.status}`),
    promotion.requireApproval
      ? gate(
          "approved",
          version.approval === "Approved",
          `version ${version.version} is ${version.approval} ${where}${version.approvalDescription ? ` (${version.approvalDescription})` : ""}; stack "${opts.to}" requires Approved`,
        )
      : gate("approved", true, `not required by stack "${opts.to}" (version is ${version.approval})`),
    ...metricGates(version, promotion, opts.to),
    ...featureSchemaGates(ctx.repoRoot, version.metadata),
  ];
  if (version.approval === "Rejected" && !promotion.requireApproval)
    gates.push(gate("not rejected", false, `version ${version.version} was rejected: ${version.approvalDescription ?? ""}`));
  if (source) {
    const pinned = source.file.settings.model?.packageArn;
    gates.push(
      gate(
        `served by ${source.stack}`,
        pinned === arn,
        `stack "${source.stack}" serves ${pinned ?? "no registered version"}, not ${arn}; its endpoint cannot vouch for this version`,
      ),
    );
    sample = await loadSamples(ctx, { file: opts.samples, rows }, source.outputs, source.file.settings);
    sourceSmoke = await smokeStack(
      ctx,
      source.stack,
      source.outputs,
      sample,
      promotion.smokeMaxLatencyMs,
      expectedIdentity(ctx, version),
      source.file.settings,
    );
    gates.push(gate(`${source.stack} endpoint healthy`, sourceSmoke.problems.length === 0, sourceSmoke.problems.join("; ")));
  }
  const failed = gates.filter((g) => !g.passed);
  if (failed.length > 0) {
    throw new CliError(
      `refusing to ${source ? `promote to "${opts.to}"` : `deploy to "${opts.to}"`}: ${failed.length} gate${failed.length > 1 ? "s" : ""} failed`,
      {
        details: failed.map((g) => `${g.name}: ${g.detail}`),
        exitCode: EXIT.gateRefused,
      },
    );
  }
  for (const g of gates) ctx.out.info(`gate passed: ${g.name}`);

  const copy = source ? await ensureTargetVersion(ctx, source, target, version, !!opts.dryRun) : undefined;
  const targetVersion: TargetVersion = copy ?? {
    arn,
    created: false,
    predicted: false,
    approval: version.approval,
    image: version.image,
    artifactUri: version.modelDataUrl,
  };
  const result = { from: opts.from, to: opts.to, source: version, gates, sourceSmoke, previousPin: target.file.settings.model?.packageArn };
  const { approval, artifactUri: _artifactUri, ...shown } = targetVersion;
  if (copy && promotion.requireApproval && approval !== "Approved" && !opts.dryRun) {
    const next = [
      `the approver of stack "${opts.to}" reviews and runs: ml-deploy approve --stack ${opts.to} --version ${copy.arn} --reason "<why>"`,
      `then the deployer runs: ml-deploy deploy --stack ${opts.to} --version ${copy.arn}${target.file.settings.deployer.requireConfirmation ? " --yes" : ""}`,
    ];
    ctx.out.step(`Registered ${copy.arn} in stack "${opts.to}", PendingManualApproval: stack "${opts.to}" pins only versions its approver approved`);
    return { ...result, target: shown, awaitingApproval: { arn: copy.arn, next } };
  }

  sample ??= await loadSamples(ctx, { file: opts.samples, rows }, target.outputs, target.file.settings);
  const isCopy = copy !== undefined || version.metadata[META.promotedFrom] !== undefined;
  const apply = await applyPin(ctx, {
    stack: opts.to,
    file: target.file,
    text: pinPackage(
      target.file.text,
      targetVersion.arn,
      target.file.settings.serving.target === "kubernetes" ? kubernetesPin(targetVersion, opts.to) : undefined,
    ),
    dryRun: !!opts.dryRun,
    ...setup,
    sample,
    maxLatencyMs: promotion.smokeMaxLatencyMs,
    expectedIdentity: version.metadata[META.modelIdentity],
    rollbackOnSmokeFailure: opts.rollback ?? true,
    // A copy that fails on its stage is rejected there, so `latest-approved` and a re-run never pick it.
    onFailure: isCopy && !opts.dryRun ? (problems) => rejectVersion(ctx, target, targetVersion.arn, problems) : undefined,
  });
  return { ...result, target: shown, apply };
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

type TargetVersion = PromoteResult["target"] & { approval: string; artifactUri?: string };

/**
 * What a Kubernetes stack pins beside the version: its artifact (in the stack's own bucket) and
 * image (in the stack's own repository, by digest), which the pods fetch and run.
 */
function kubernetesPin(version: { arn: string; artifactUri?: string; image?: string }, stack: string): ArtifactPin {
  if (!version.artifactUri || !version.image) throw new CliError(`cannot pin ${version.arn} on Kubernetes stack "${stack}": its artifact or image is unknown`);
  return { artifactUri: version.artifactUri, image: version.image };
}

/**
 * The source version's counterpart in the target's group: found by its `promotedFrom` metadata
 * when an earlier run got that far, else copied and registered now. On a dry run nothing is
 * written: the preview uses the ARN the next version of the group will get.
 */
async function ensureTargetVersion(ctx: Context, source: Side, target: Side, version: ModelVersion, dryRun: boolean): Promise<TargetVersion> {
  const sm = ctx.aws.sagemaker(target.outputs.region);
  const group = target.outputs.modelPackageGroupName;
  const existing = await findVersionByMetadata(sm, group, META.promotedFrom, version.arn);
  if (existing) {
    if (existing.approval === "Rejected") {
      throw new CliError(
        `${existing.arn}, the copy of this version in stack "${target.stack}", was rejected: ${existing.approvalDescription ?? "(no reason)"}`,
        { exitCode: EXIT.gateRefused },
      );
    }
    ctx.out.step(`Version already in ${group} as version ${existing.version} (${existing.approval}, from an earlier run)`);
    return { arn: existing.arn, created: false, predicted: false, image: existing.image, approval: existing.approval, artifactUri: existing.modelDataUrl };
  }
  const targetImage = targetImageOf(version, source, target);
  if (dryRun) {
    const latest = await sm.send(
      new ListModelPackagesCommand({ ModelPackageGroupName: group, SortBy: "CreationTime", SortOrder: "Descending", MaxResults: 1 }),
    );
    const next = (latest.ModelPackageSummaryList?.[0]?.ModelPackageVersion ?? 0) + 1;
    const arn = `arn:aws:sagemaker:${target.outputs.region}:${target.outputs.accountId}:model-package/${group}/${next}`;
    ctx.out.step(
      `Dry run: would copy the model into ${target.outputs.artifactBucketName}, the image into ${targetImage.url}, and register it as ${arn} (PendingManualApproval)`,
    );
    return {
      arn,
      created: false,
      predicted: true,
      image: targetImage.uri,
      approval: "PendingManualApproval",
      artifactUri: `s3://${target.outputs.artifactBucketName}/${promotedModelPrefix(version.group, version.version)}/${FILES.modelArtifact}`,
    };
  }

  const sha256 = version.metadata[META.artifactSha256];
  if (!sha256) {
    throw new CliError(
      `version ${version.version} of ${version.group} has no ${META.artifactSha256} metadata: it was registered before artifacts were pinned by hash`,
      {
        hint: `register its training job again (\`ml-deploy register --stack ${source.stack} --job ${version.metadata[META.trainingJob] ?? "<job>"}\` on a new version) so the copy can be verified`,
      },
    );
  }
  const base = promotedModelPrefix(version.group, version.version);
  const s3 = ctx.aws.s3(target.outputs.region);
  const key = `${base}/${FILES.modelArtifact}`;
  ctx.out.step(
    `Copying ${version.modelDataUrl}${version.metadata[META.artifactVersionId] ? ` (version ${version.metadata[META.artifactVersionId]})` : ""} to s3://${target.outputs.artifactBucketName}/${key}`,
  );
  const artifact = await copyArtifactVersion(
    s3,
    { uri: version.modelDataUrl, versionId: version.metadata[META.artifactVersionId] || undefined, sha256 },
    { bucket: target.outputs.artifactBucketName, key, kmsKeyArn: target.outputs.kmsKeyArn },
  );
  ctx.out.info(`${artifact.reused ? "an earlier run's copy" : "copied"}; SHA-256 ${sha256} verified`);

  ctx.out.step(`Copying image ${version.image} to ${targetImage.url}`);
  const copied = await copyImage(
    { source: ctx.aws.ecr(targetImage.source.region), target: ctx.aws.ecr(targetImage.target.region), fetch: ctx.fetch },
    targetImage.source,
    targetImage.target,
  );
  ctx.out.info(`${copied.uploadedBlobs.length} blob(s) uploaded, ${copied.manifests} manifest(s) put; digest ${copied.digest} verified`);

  const reportKey = `${base}/${FILES.modelQualityReport}`;
  try {
    await s3.send(
      new PutObjectCommand({
        Bucket: target.outputs.artifactBucketName,
        Key: reportKey,
        Body: JSON.stringify(modelQualityReport(version.metrics, version.arn), null, 2),
        ContentType: "application/json",
        IfNoneMatch: "*",
        ServerSideEncryption: "aws:kms",
        SSEKMSKeyId: target.outputs.kmsKeyArn,
      }),
    );
  } catch (err) {
    // Written by an earlier run from the same registered metrics.
    if ((err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode !== 412) throw err;
  }
  const metadata = Object.fromEntries(Object.entries(version.metadata).filter(([k]) => !k.startsWith(META.metricPrefix)));
  ctx.out.step(`Registering in ${group} (PendingManualApproval)`);
  const created = await sm.send(
    new CreateModelPackageCommand(
      modelPackageInput({
        group,
        description: `Promoted from ${version.arn} (stack ${source.stack})`,
        image: targetImage.uri,
        modelDataUrl: artifact.uri,
        metrics: version.metrics,
        metricsReportUri: `s3://${target.outputs.artifactBucketName}/${reportKey}`,
        approval: "PendingManualApproval",
        gitCommit: version.metadata[META.gitCommit] ?? "unknown",
        generatedBy: version.arn,
        metadata: {
          ...metadata,
          [META.stack]: target.stack,
          [META.promotedFrom]: version.arn,
          [META.promotedFromStack]: source.stack,
          [META.promotedBy]: await ctx.gitCommit(),
          [META.artifactVersionId]: artifact.versionId ?? "",
          [META.artifactSha256]: sha256,
        },
        idempotencyKey: `${group}/${version.arn}`,
      }),
    ),
  );
  return {
    arn: created.ModelPackageArn ?? "",
    created: true,
    predicted: false,
    image: targetImage.uri,
    approval: "PendingManualApproval",
    artifactUri: artifact.uri,
  };
}

/** The target stage's repository for the version's image: the one with the same image name (the `repositoryUrls` key). */
function targetImageOf(version: ModelVersion, source: Side, target: Side) {
  const image = parseEcrImage(version.image);
  if (!image)
    throw new CliError(`version ${version.version} of ${version.group} runs ${version.image}, not an ECR image by digest; promotion copies images by digest`);
  const name = Object.entries(source.outputs.repositoryUrls).find(([, url]) => {
    const repo = repositoryOfUrl(url);
    return repo?.registryId === image.registryId && repo.region === image.region && repo.repository === image.repository;
  })?.[0];
  if (!name) {
    throw new CliError(`version ${version.version}'s image ${version.image} is not in a repository of stack "${source.stack}"`, {
      details: Object.entries(source.outputs.repositoryUrls).map(([k, url]) => `${k}: ${url}`),
    });
  }
  const url = target.outputs.repositoryUrls[name];
  const repo = url ? repositoryOfUrl(url) : undefined;
  if (!url || !repo) {
    throw new CliError(`stack "${target.stack}" has no ECR repository "${name}" to copy the image into`, {
      hint: `the platform admin adds "${name}" to mlPlatform:images.repositories of stack "${target.stack}" and runs \`pulumi up --stack ${target.stack}\``,
    });
  }
  return { source: image, target: repo, url, uri: `${url}@${image.digest}` };
}

/** Marks a version Rejected with what failed, so no later run (or `latest-approved`) picks it. */
async function rejectVersion(ctx: Context, target: Side, arn: string, problems: readonly string[]): Promise<void> {
  ctx.out.step(`Rejecting ${arn} in stack "${target.stack}": it failed there after the update`);
  await ctx.aws.sagemaker(target.outputs.region).send(
    new UpdateModelPackageCommand({
      ModelPackageArn: arn,
      ModelApprovalStatus: "Rejected",
      ApprovalDescription: `Rejected by ml-deploy: failed on stack ${target.stack} after it was pinned: ${problems.join("; ")}`.slice(
        0,
        DESCRIPTION_MAX_LENGTH,
      ),
    }),
  );
}

/** `promote`'s options, with one stack instead of a source and a target, and a version required. */
export type DeployOptions = Omit<PromoteOptions, "from" | "to" | "version"> & { stack: string; version: string };

/**
 * Pins a version of the stack's own model package group: how the first stage (dev, which has no
 * earlier stage to promote from) gets a version, and how a stage pins a copy its approver approved.
 * The stack's own gates (approval if required, metric thresholds) apply.
 */
export function deploy(ctx: Context, opts: DeployOptions): Promise<PromoteResult> {
  return promote(ctx, { ...opts, to: opts.stack, from: undefined });
}
