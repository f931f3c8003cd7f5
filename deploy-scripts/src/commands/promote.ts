import { Command, Option } from "commander";
import { action, positiveInt, withCommon, type CommandFactory } from "../cli";
import { formatPromote } from "../promotion/format";
import { promote } from "../promotion/promote";
import { DEFAULT_SMOKE_ROWS } from "../smoke/stack";

export const promoteCommand: CommandFactory = (deps) =>
  withCommon(
    new Command("promote")
      .description(
        "Promote the version a stack serves to the next stack: check the gates, copy its artifact and image there and register it pending; pin it (pulumi up as the updater role, endpoint check, smoke test) unless that stack requires its approver's approval first",
      )
      .addOption(new Option("--from <stack>", "the earlier stage whose served version is promoted").makeOptionMandatory())
      .addOption(new Option("--to <stack>", "the stack to promote into").makeOptionMandatory())
      .addOption(new Option("--version <ref>", "promote this version of the source's group instead (ARN or number; must be the one it serves)"))
      .addOption(new Option("--dry-run", "check the gates and preview; register, write and apply nothing"))
      .addOption(new Option("--yes", "confirm a change to a stack whose mlPlatform:deployer.requireConfirmation is true"))
      .addOption(new Option("--samples <file>", "CSV with a header row for the smoke tests (default: the source stack's validation channel)"))
      .addOption(new Option("--rows <n>", "rows per smoke request").argParser(positiveInt("--rows")).default(DEFAULT_SMOKE_ROWS))
      .addOption(new Option("--no-rollback", "keep the new version deployed when its smoke test fails")),
  ).action(action(deps, promote, formatPromote));
