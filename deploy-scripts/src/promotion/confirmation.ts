import { parseDocument } from "yaml";
import { z } from "zod";
import { CONFIG_NAMESPACE, settingsInput } from "../config/settings";
import type { StackFile } from "../config/stack-file";
import { CliError, EXIT } from "../errors";

// --- Addition to the stack settings, to move into the shared schema (config/settings.ts) -------
// `mlPlatform:deployer.requireConfirmation` (boolean, default false): a change this CLI applies to
// the stack (deploy, promote into it, rollback) needs `--yes`. Read from the same `config:` block
// through the same `settingsInput` mapping as every other setting; only this key is added here.
const confirmationSettingsSchema = z.object({
  deployer: z.object({ requireConfirmation: z.boolean().default(false) }).default({ requireConfirmation: false }),
});
// ------------------------------------------------------------------------------------------------

/** Whether the stack's settings ask for `--yes` before a change is applied to it. */
export function requiresConfirmation(file: StackFile): boolean {
  const config = (parseDocument(file.text).toJS() as { config?: Record<string, unknown> } | null)?.config ?? {};
  const parsed = confirmationSettingsSchema.safeParse(settingsInput(config));
  if (!parsed.success) {
    throw new CliError(`stack "${file.stack}": invalid configuration`, {
      details: parsed.error.issues.map((i) => `${CONFIG_NAMESPACE}:${i.path.join(".")}: ${i.message}`),
    });
  }
  return parsed.data.deployer.requireConfirmation;
}

/**
 * Refuses, before anything is looked up or changed, a change to a stack whose settings require
 * confirmation, unless `--yes` (or `--dry-run`, which changes nothing) was given.
 */
export function requireConfirmation(file: StackFile, opts: { yes?: boolean; dryRun?: boolean }, command: string): void {
  // Read even with --yes: a mistyped value is reported, not silently ignored.
  const required = requiresConfirmation(file);
  if (required && !opts.yes && !opts.dryRun) {
    throw new CliError(`changing stack "${file.stack}" needs --yes (${CONFIG_NAMESPACE}:deployer.requireConfirmation is true)`, {
      exitCode: EXIT.usage,
      hint: `review with \`${command} --dry-run\`, then re-run with --yes`,
    });
  }
}
