import { Command, Option } from "commander";
import { DEFAULT_MIN_ROWS } from "@ml-platform/ml-core";
import { action, positiveInt, stackOption, withCommon, type CommandFactory } from "../cli";
import { formatDriftTable } from "../drift/format";
import { drift, type DriftResult } from "../drift/measure";

export function formatDrift(r: DriftResult): string {
  return [
    `endpoint ${r.endpoint} (${r.variant}) of stack "${r.stack}": ${r.capture.requests} requests in ${r.capture.objects} capture objects since ${r.capture.since}`,
    `baseline: ${r.artifact}`,
    "",
    ...formatDriftTable(r.report),
  ].join("\n");
}

export const driftCommand: CommandFactory = (deps) =>
  withCommon(
    new Command("drift")
      .description("Compare the requests the stack's endpoint captured with the training baseline of the version it serves (PSI per feature)")
      .addOption(stackOption())
      .addOption(new Option("--since <time>", "an ISO 8601 time or a duration back from now (90m, 24h, 7d)").default("24h"))
      .addOption(new Option("--min-rows <n>", "request rows needed for a verdict").argParser(positiveInt("--min-rows")).default(DEFAULT_MIN_ROWS)),
  ).action(action(deps, drift, formatDrift));
