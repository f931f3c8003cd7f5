import { Command, CommanderError } from "commander";
import { approveCommand, rejectCommand } from "./commands/approve";
import { deployCommand } from "./commands/deploy";
import { featuresCommand } from "./commands/features";
import { imagesCommand } from "./commands/images";
import { localCommand } from "./commands/local";
import { promoteCommand } from "./commands/promote";
import { registerCommand } from "./commands/register";
import { rollbackCommand } from "./commands/rollback";
import { smokeCommand } from "./commands/smoke";
import { statusCommand } from "./commands/status";
import { trainCommand } from "./commands/train";
import { defaultDeps, type Deps } from "./context";
import { CliError, EXIT, describeError } from "./errors";
import { prerequisiteError } from "./prerequisites";

export function createProgram(deps: () => Deps): Command {
  const program = new Command("ml-deploy")
    .description("Train, register, approve, promote (dev → staging → prod), smoke-test and roll back model versions of the ML platform")
    .showHelpAfterError("(add --help for usage)")
    .exitOverride();
  for (const factory of [
    imagesCommand,
    trainCommand,
    registerCommand,
    approveCommand,
    rejectCommand,
    deployCommand,
    promoteCommand,
    smokeCommand,
    rollbackCommand,
    statusCommand,
    localCommand,
    featuresCommand,
  ]) {
    program.addCommand(factory(deps).exitOverride());
  }
  return program;
}

/**
 * Runs the CLI and resolves with the exit code (also set on `process.exitCode`). The one error
 * path: whatever a command throws ends here, is printed once (as JSON on stdout with `--json`),
 * and becomes the exit code.
 */
export async function main(argv: readonly string[], overrides: Partial<Deps> = {}): Promise<number> {
  let deps: Deps | undefined;
  const lazyDeps = () => (deps ??= defaultDeps(overrides));
  const streams = overrides.streams ?? { stdout: process.stdout, stderr: process.stderr };
  const program = createProgram(lazyDeps);
  program.configureOutput({ writeOut: (s) => streams.stdout.write(s), writeErr: (s) => streams.stderr.write(s) });
  for (const cmd of program.commands) cmd.configureOutput({ writeOut: (s) => streams.stdout.write(s), writeErr: (s) => streams.stderr.write(s) });
  let code: number = EXIT.ok;
  try {
    await program.parseAsync([...argv], { from: "user" });
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and version exit 0; usage errors were already printed by commander.
      code = err.exitCode === 0 ? EXIT.ok : EXIT.usage;
    } else {
      // No global option takes a value, so the first word that is not an option is the command.
      const error = prerequisiteError(err, argv.find((a) => !a.startsWith("-")) ?? "") ?? err;
      code = error instanceof CliError ? error.exitCode : EXIT.failure;
      printError(error, argv.includes("--json"), streams);
    }
  }
  process.exitCode = code;
  return code;
}

function printError(err: unknown, json: boolean, streams: Pick<Deps["streams"], "stdout" | "stderr">): void {
  const details = err instanceof CliError ? err.details : [];
  const hint = err instanceof CliError ? err.hint : undefined;
  const message = describeError(err);
  if (json) {
    streams.stdout.write(`${JSON.stringify({ error: { message, details, hint } }, null, 2)}\n`);
  }
  const lines = [`error: ${message}`, ...details.map((d) => `  - ${d}`), ...(hint ? [`hint: ${hint}`] : [])];
  streams.stderr.write(`${lines.join("\n")}\n`);
}

export type { Deps } from "./context";
export { CliError, EXIT } from "./errors";
export { FakeStackGateway } from "./stacks/fake";
export type { StackGateway, StackOutputs } from "./stacks/gateway";
export { createAwsClients, type AwsClients } from "./aws/clients";
export { SDK_PERMISSIONS, dockerPushPermissions, requiredPermissions, type PermissionEnv, type RequiredPermission } from "./aws/permissions";
export { StackFiles } from "./config/stack-file";
export { trainingJobInput, type TrainingJobSpec } from "./training/job";
export { modelPackageInput, type ModelPackageSpec } from "./registry/register";
export { LocalModelRegistry, localArn, contentDigest } from "./local/registry";
export { runLocalLifecycle, prepareTrainingTree, type LifecycleOptions, type LifecycleResult } from "./local/lifecycle";
export { buildSmokeRequests, type SmokeRequest, type SmokeResponse, type SmokeTransport } from "./smoke/requests";
export { checkSmokeResponse } from "./smoke/checks";
export { runSmoke, type SmokeResult } from "./smoke/run";
export { sampleFromCsv, type SampleRows } from "./smoke/sample";
export { httpTransport, sageMakerTransport } from "./smoke/transports";
