import { pinArtifact, pinnedPackageArn, pinPrevious, type StackFile } from "../config/stack-file";
import type { Context } from "../context";
import { applyPin, type ApplyResult } from "./apply";
import { lockStack, updateSetup } from "./change";
import { requireConfirmation } from "./confirmation";
import { CliError, EXIT } from "../errors";
import { describeVersion, type ModelVersion } from "../registry/model-version";
import { DEFAULT_SMOKE_ROWS, expectedIdentity, loadSamples } from "../smoke/stack";
import { readStackOutputs } from "../stacks/gateway";

export interface RollbackOptions {
  stack: string;
  to?: string;
  dryRun?: boolean;
  yes?: boolean;
  samples?: string;
  rows?: number;
  json?: boolean;
}

export interface RollbackResult {
  stack: string;
  from: string | undefined;
  to: ModelVersion;
  apply: ApplyResult;
}

/**
 * Pins the version deployed before the current one (the head of `previousPackageArns`, or `--to`
 * one further back) and applies it. The metric gates are not re-checked: the version already served
 * this stack, and a rollback must not be blocked by thresholds raised since. A rejected version is
 * refused. If the rolled-back-to version fails its smoke test, the command fails and leaves it.
 */
export async function rollback(ctx: Context, opts: RollbackOptions): Promise<RollbackResult> {
  const command = `ml-deploy rollback --stack ${opts.stack}`;
  requireConfirmation(await ctx.stackFiles.read(opts.stack), opts, command);
  const { file, lock } = await lockStack(ctx, opts.stack, command);
  try {
    return await rollbackLocked(ctx, opts, file);
  } finally {
    await lock.release();
  }
}

async function rollbackLocked(ctx: Context, opts: RollbackOptions, file: StackFile): Promise<RollbackResult> {
  const outputs = await readStackOutputs(ctx.stacks, opts.stack);
  const setup = await updateSetup(ctx, file, outputs, "rollback");
  let text = pinPrevious(file.text, opts.to);
  const arn = pinnedPackageArn(text) ?? "";
  ctx.out.step(`Rolling stack "${opts.stack}" back to ${arn}`);
  const version = await describeVersion(ctx.aws.sagemaker(outputs.region), arn);
  if (version.approval === "Rejected" || version.status !== "Completed") {
    throw new CliError(
      `cannot roll back to version ${version.version}: it is ${version.status === "Completed" ? `rejected (${version.approvalDescription ?? "no reason"})` : version.status}`,
      {
        exitCode: EXIT.gateRefused,
        hint: "pick another with --to <arn> from mlPlatform:model.previousPackageArns",
      },
    );
  }
  // A Kubernetes stack's pods run the pin's artifact and image: those of the version rolled back to.
  if (file.settings.serving.target === "kubernetes") text = pinArtifact(text, { artifactUri: version.modelDataUrl, image: version.image });
  const sample = await loadSamples(ctx, { file: opts.samples, rows: opts.rows ?? DEFAULT_SMOKE_ROWS }, outputs, file.settings);
  const apply = await applyPin(ctx, {
    stack: opts.stack,
    file,
    text,
    dryRun: !!opts.dryRun,
    ...setup,
    sample,
    expectedIdentity: expectedIdentity(ctx, version),
    maxLatencyMs: file.settings.promotion.smokeMaxLatencyMs,
    rollbackOnSmokeFailure: false,
  });
  return { stack: opts.stack, from: file.settings.model?.packageArn, to: version, apply };
}
