import { CONFIG_NAMESPACE } from "../config/settings";
import type { StackFile } from "../config/stack-file";
import { CliError, EXIT } from "../errors";

/**
 * Refuses, before anything is looked up or changed, a change to a stack whose settings require
 * confirmation, unless `--yes` (or `--dry-run`, which changes nothing) was given.
 */
export function requireConfirmation(file: StackFile, opts: { yes?: boolean; dryRun?: boolean }, command: string): void {
  // `mlPlatform:deployer.requireConfirmation`, validated with the rest of the stack file when it was read.
  if (file.settings.deployer.requireConfirmation && !opts.yes && !opts.dryRun) {
    throw new CliError(`changing stack "${file.stack}" needs --yes (${CONFIG_NAMESPACE}:deployer.requireConfirmation is true)`, {
      exitCode: EXIT.usage,
      hint: `review with \`${command} --dry-run\`, then re-run with --yes`,
    });
  }
}
