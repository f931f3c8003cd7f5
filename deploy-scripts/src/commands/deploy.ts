import { Command, Option } from "commander";
import { action, positiveInt, stackOption, withCommon, type CommandFactory } from "../cli";
import type { Context } from "../context";
import { DEFAULT_SMOKE_ROWS } from "../smoke/stack";
import { formatPromote, promote, type PromoteOptions, type PromoteResult } from "./promote";

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

export const deployCommand: CommandFactory = (deps) =>
  withCommon(
    new Command("deploy")
      .description("Pin a version of the stack's own registry (e.g. a new version in dev): check its gates, pin it, pulumi up, smoke-test")
      .addOption(stackOption())
      .addOption(new Option("--version <ref>", 'version ARN, number in the stack\'s group, "latest" or "latest-approved"').makeOptionMandatory())
      .addOption(new Option("--dry-run", "check the gates and preview; write and apply nothing"))
      .addOption(new Option("--yes", "confirm a change to a stack that requires it (prod)"))
      .addOption(new Option("--samples <file>", "CSV with a header row for the smoke test (default: the stack's validation channel)"))
      .addOption(new Option("--rows <n>", "rows per smoke request").argParser(positiveInt("--rows")).default(DEFAULT_SMOKE_ROWS))
      .addOption(new Option("--no-rollback", "keep the new version deployed when its smoke test fails")),
  ).action(action(deps, deploy, formatPromote));
