import { Command, Option } from "commander";
import { action, positiveInt, stackOption, withCommon, type CommandFactory } from "../cli";
import { pinPrevious } from "../config/stack-file";
import type { Context } from "../context";
import { applyPin, requireConfirmation, type ApplyResult } from "../deploy/apply";
import { CliError, EXIT } from "../errors";
import { formatFields } from "../output";
import { describeVersion, type ModelVersion } from "../registry/model-version";
import { DEFAULT_SMOKE_ROWS, loadSamples } from "../smoke/stack";
import { readStackOutputs } from "../stacks/gateway";
import { parseSettings } from "../config/stack-file";

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
  requireConfirmation(opts.stack, opts, `ml-deploy rollback --stack ${opts.stack}`);
  const file = await ctx.stackFiles.read(opts.stack);
  const outputs = await readStackOutputs(ctx.stacks, opts.stack);
  const text = pinPrevious(file.text, opts.to);
  const arn = parseSettings(opts.stack, text).model?.packageArn ?? "";
  ctx.out.step(`Rolling stack "${opts.stack}" back to ${arn}`);
  const version = await describeVersion(ctx.aws.sagemaker(outputs.region), arn);
  if (version.approval === "Rejected" || version.status !== "Completed") {
    throw new CliError(`cannot roll back to version ${version.version}: it is ${version.status === "Completed" ? `rejected (${version.approvalDescription ?? "no reason"})` : version.status}`, {
      exitCode: EXIT.gateRefused,
      hint: "pick another with --to <arn> from mlPlatform:model.previousPackageArns",
    });
  }
  const sample = await loadSamples(ctx, { file: opts.samples, rows: opts.rows ?? DEFAULT_SMOKE_ROWS }, outputs, file.settings);
  const apply = await applyPin(ctx, {
    stack: opts.stack,
    file,
    text,
    dryRun: !!opts.dryRun,
    sample,
    maxLatencyMs: file.settings.promotion.smokeMaxLatencyMs,
    rollbackOnSmokeFailure: false,
  });
  return { stack: opts.stack, from: file.settings.model?.packageArn, to: version, apply };
}

function formatRollback(r: RollbackResult): string {
  return [
    formatFields([
      ["stack", r.stack],
      ["from", r.from],
      ["to", r.to.arn],
      ["smoke test", r.apply.smoke ? "passed" : undefined],
    ]),
    r.apply.applied ? `rolled back; commit ${r.apply.configFile}` : "dry run: nothing was changed",
  ].join("\n");
}

export const rollbackCommand: CommandFactory = (deps) =>
  withCommon(
    new Command("rollback")
      .description("Pin the previously deployed version of a stack again and apply it")
      .addOption(stackOption())
      .addOption(new Option("--to <arn>", "an older version from mlPlatform:model.previousPackageArns (default: the most recent)"))
      .addOption(new Option("--dry-run", "preview only; write and apply nothing"))
      .addOption(new Option("--yes", "confirm a change to a stack that requires it (prod)"))
      .addOption(new Option("--samples <file>", "CSV with a header row for the smoke test"))
      .addOption(new Option("--rows <n>", "rows per smoke request").argParser(positiveInt("--rows")).default(DEFAULT_SMOKE_ROWS)),
  ).action(action(deps, rollback, formatRollback));
