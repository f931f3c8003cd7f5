import { Command, Option } from "commander";
import { action, positiveInt, stackOption, withCommon, type CommandFactory } from "../cli";
import { formatFields } from "../output";
import { rollback, type RollbackResult } from "../promotion/rollback";
import { DEFAULT_SMOKE_ROWS } from "../smoke/stack";

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
      .addOption(new Option("--yes", "confirm a change to a stack whose mlPlatform:deployer.requireConfirmation is true"))
      .addOption(new Option("--samples <file>", "CSV with a header row for the smoke test"))
      .addOption(new Option("--rows <n>", "rows per smoke request").argParser(positiveInt("--rows")).default(DEFAULT_SMOKE_ROWS)),
  ).action(action(deps, rollback, formatRollback));
