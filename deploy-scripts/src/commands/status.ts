import { Command } from "commander";
import { action, stackOption, withCommon, type CommandFactory } from "../cli";
import { formatFields } from "../output";
import { status, type StatusResult } from "../promotion/status";

function formatStatus(r: StatusResult): string {
  return formatFields([
    ["stack", r.stack],
    ["pinned", r.pinned ?? "(nothing: no endpoint)"],
    ["approval", r.version ? `${r.version.approval}${r.version.approvalDescription ? ` - ${r.version.approvalDescription}` : ""}` : undefined],
    [
      "metrics",
      r.version
        ? Object.entries(r.version.metrics)
            .map(([k, v]) => `${k}=${v}`)
            .join(" ")
        : undefined,
    ],
    ["endpoint", r.endpoint.name ? `${r.endpoint.name} (${r.endpoint.status})` : "(none)"],
    ["rollback to", r.previous[0]],
  ]);
}

export const statusCommand: CommandFactory = (deps) =>
  withCommon(
    new Command("status").description("Show the version a stack pins, its approval and metrics, and its endpoint's status").addOption(stackOption()),
  ).action(action(deps, status, formatStatus));
