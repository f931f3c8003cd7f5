import { Command, Option } from "commander";
import { action, positiveInt, stackOption, withCommon, type CommandFactory } from "../cli";
import { formatFields } from "../output";
import { DEFAULT_SMOKE_ROWS, smoke, type StackSmoke } from "../smoke/stack";

export function formatSmoke(r: StackSmoke): string {
  return [
    `smoke test passed: endpoint ${r.endpoint.name}`,
    formatFields((r.smoke?.requests ?? []).map((q) => [`  ${q.name}`, `${q.latencyMs} ms`] as const)),
  ].join("\n");
}

export const smokeCommand: CommandFactory = (deps) =>
  withCommon(
    new Command("smoke")
      .description("Send sample rows to the stack's endpoint as CSV and JSON; check status, one prediction per row, value ranges and latency")
      .addOption(stackOption())
      .addOption(new Option("--samples <file>", "CSV file with a header row (default: the first rows of the stack's validation channel)"))
      .addOption(new Option("--rows <n>", "number of rows to send").argParser(positiveInt("--rows")).default(DEFAULT_SMOKE_ROWS))
      .addOption(
        new Option("--max-latency-ms <ms>", "latency limit per request (default: mlPlatform:promotion.smokeMaxLatencyMs)").argParser(
          positiveInt("--max-latency-ms"),
        ),
      ),
  ).action(action(deps, smoke, formatSmoke));
