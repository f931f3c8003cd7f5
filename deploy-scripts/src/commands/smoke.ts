import { Command, Option } from "commander";
import { action, positiveInt, stackOption, withCommon, type CommandFactory } from "../cli";
import type { Context } from "../context";
import { CliError } from "../errors";
import { formatFields } from "../output";
import { readStackOutputs } from "../stacks/gateway";
import { DEFAULT_SMOKE_ROWS, loadSamples, smokeStack, type StackSmoke } from "../smoke/stack";

export interface SmokeOptions {
  stack: string;
  samples?: string;
  rows: number;
  maxLatencyMs?: number;
  json?: boolean;
}

export async function smoke(ctx: Context, opts: SmokeOptions): Promise<StackSmoke> {
  const { settings } = await ctx.stackFiles.read(opts.stack);
  const outputs = await readStackOutputs(ctx.stacks, opts.stack);
  const sample = await loadSamples(ctx, { file: opts.samples, rows: opts.rows }, outputs, settings);
  const result = await smokeStack(ctx, opts.stack, outputs, sample, opts.maxLatencyMs ?? settings.promotion.smokeMaxLatencyMs);
  if (result.problems.length > 0) throw new CliError(`smoke test of stack "${opts.stack}" failed`, { details: result.problems });
  return result;
}

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
      .addOption(new Option("--max-latency-ms <ms>", "latency limit per request (default: mlPlatform:promotion.smokeMaxLatencyMs)").argParser(positiveInt("--max-latency-ms"))),
  ).action(action(deps, smoke, formatSmoke));
