import { Command, Option } from "commander";
import { action, stackOption, withCommon, type CommandFactory } from "../cli";
import { decide, type Decision, type DecideOptions, type DecideResult } from "../registry/decision";
import { formatVersion } from "../registry/model-version";

function formatDecision(r: DecideResult): string {
  return [
    `${r.decision.toLowerCase()} version ${r.version.version} (was ${r.previous})`,
    formatVersion(r.version),
    ...r.warnings.map((w) => `warning: ${w}`),
  ].join("\n");
}

function decisionCommand(name: "approve" | "reject", decision: Decision, description: string): CommandFactory {
  return (deps) =>
    withCommon(
      new Command(name)
        .description(description)
        .addOption(stackOption("the stack whose model package group holds the version"))
        .addOption(new Option("--version <ref>", 'version ARN, version number in the stack\'s group, "latest" or "latest-approved"').makeOptionMandatory())
        .addOption(new Option("--reason <text>", "why: recorded as the version's approval description").makeOptionMandatory()),
    ).action(action(deps, (ctx, opts: DecideOptions) => decide(ctx, decision, opts), formatDecision));
}

export const approveCommand = decisionCommand(
  "approve",
  "Approved",
  "Approve a model version, with a reason (run as the stage's approver; it may then be promoted, or deployed if it is a copy)",
);
export const rejectCommand = decisionCommand(
  "reject",
  "Rejected",
  "Reject a model version, with a reason (run as the stage's approver; promotion and deploy will refuse it)",
);
