// The `ml-core` command line: registration only; each command lives in its own file.
import { Command } from "commander";
import { evaluateCommand } from "./evaluate";
import { exportCommand } from "./export";
import { importCommand } from "./import";
import { inspectCommand } from "./inspect";
import { predictCommand } from "./predict";
import { serveCommand } from "./serve";
import { snapshotCommand } from "./snapshot";
import { trainCommand } from "./train";

export function main(argv: string[]): void {
  const program = new Command("ml-core").description("Gradient-boosted trees behind the SageMaker training and hosting contract").showHelpAfterError();
  program.addCommand(trainCommand());
  program.addCommand(serveCommand());
  program.addCommand(predictCommand());
  program.addCommand(evaluateCommand());
  program.addCommand(inspectCommand());
  program.addCommand(exportCommand());
  program.addCommand(importCommand());
  program.addCommand(snapshotCommand());
  program.parseAsync(argv, { from: "user" }).catch(fail);
}

/** The one error path: a clear message on stderr and a non-zero exit status. */
function fail(e: unknown): void {
  process.stderr.write(`ml-core: error: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exitCode = 1;
}
