import { Command, Option } from "commander";
import { action, positiveInt, stackOption, withCommon, type CommandFactory } from "../cli";
import { formatPromote } from "../promotion/format";
import { deploy } from "../promotion/promote";
import { DEFAULT_SMOKE_ROWS } from "../smoke/stack";

export const deployCommand: CommandFactory = (deps) =>
  withCommon(
    new Command("deploy")
      .description(
        "Pin a version of the stack's own registry (a new version in dev, an approved copy in staging or prod): check its gates, pin it, pulumi up as the updater role, check the endpoint, smoke-test",
      )
      .addOption(stackOption())
      .addOption(new Option("--version <ref>", 'version ARN, number in the stack\'s group, "latest" or "latest-approved"').makeOptionMandatory())
      .addOption(new Option("--dry-run", "check the gates and preview; write and apply nothing"))
      .addOption(new Option("--yes", "confirm a change to a stack whose mlPlatform:deployer.requireConfirmation is true"))
      .addOption(new Option("--samples <file>", "CSV with a header row for the smoke test (default: the stack's validation channel)"))
      .addOption(new Option("--rows <n>", "rows per smoke request").argParser(positiveInt("--rows")).default(DEFAULT_SMOKE_ROWS))
      .addOption(new Option("--no-rollback", "keep the new version deployed when its smoke test fails")),
  ).action(action(deps, deploy, formatPromote));
