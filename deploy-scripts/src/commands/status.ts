import { Command } from "commander";
import { action, stackOption, withCommon, type CommandFactory } from "../cli";
import type { Context } from "../context";
import { formatFields } from "../output";
import { describeVersion, type ModelVersion } from "../registry/model-version";
import { endpointState, type EndpointState } from "../smoke/stack";
import { readStackOutputs } from "../stacks/gateway";

export interface StatusResult {
  stack: string;
  pinned: string | undefined;
  previous: string[];
  version?: ModelVersion;
  endpoint: EndpointState;
}

/** What a stack serves: the pinned version (from the stack file), its registry entry, the endpoint. */
export async function status(ctx: Context, opts: { stack: string; json?: boolean }): Promise<StatusResult> {
  const { settings } = await ctx.stackFiles.read(opts.stack);
  const outputs = await readStackOutputs(ctx.stacks, opts.stack);
  const pinned = settings.model?.packageArn;
  const version = pinned ? await describeVersion(ctx.aws.sagemaker(outputs.region), pinned) : undefined;
  return { stack: opts.stack, pinned: pinned ?? settings.model?.artifactUri, previous: settings.model?.previousPackageArns ?? [], version, endpoint: await endpointState(ctx, outputs) };
}

function formatStatus(r: StatusResult): string {
  return formatFields([
    ["stack", r.stack],
    ["pinned", r.pinned ?? "(nothing: no endpoint)"],
    ["approval", r.version ? `${r.version.approval}${r.version.approvalDescription ? ` - ${r.version.approvalDescription}` : ""}` : undefined],
    ["metrics", r.version ? Object.entries(r.version.metrics).map(([k, v]) => `${k}=${v}`).join(" ") : undefined],
    ["endpoint", r.endpoint.name ? `${r.endpoint.name} (${r.endpoint.status})` : "(none)"],
    ["rollback to", r.previous[0]],
  ]);
}

export const statusCommand: CommandFactory = (deps) =>
  withCommon(
    new Command("status").description("Show the version a stack pins, its approval and metrics, and its endpoint's status").addOption(stackOption()),
  ).action(action(deps, status, formatStatus));
