// The `ml-core` command line: registration only; each command lives in its own file.
import { Command } from "commander";

// A command's module is loaded only when that command runs (every one for help or an unknown
// name): loading all of them cost `ml-core predict` ~40 ms of its start-up.
const COMMANDS: Readonly<Record<string, () => Command>> = {
  train: () => (require("./train") as typeof import("./train")).trainCommand(),
  serve: () => (require("./serve") as typeof import("./serve")).serveCommand(),
  predict: () => (require("./predict") as typeof import("./predict")).predictCommand(),
  evaluate: () => (require("./evaluate") as typeof import("./evaluate")).evaluateCommand(),
  inspect: () => (require("./inspect") as typeof import("./inspect")).inspectCommand(),
  export: () => (require("./export") as typeof import("./export")).exportCommand(),
  import: () => (require("./import") as typeof import("./import")).importCommand(),
  snapshot: () => (require("./snapshot") as typeof import("./snapshot")).snapshotCommand(),
};

export function main(argv: string[]): void {
  const program = new Command("ml-core").description("Gradient-boosted trees behind the SageMaker training and hosting contract").showHelpAfterError();
  const named = argv[0] !== undefined && Object.hasOwn(COMMANDS, argv[0]) ? [argv[0]] : Object.keys(COMMANDS);
  for (const name of named) program.addCommand(COMMANDS[name]!());
  program.parseAsync(argv, { from: "user" }).catch(fail);
}

/** The one error path: a clear message on stderr and a non-zero exit status. */
function fail(e: unknown): void {
  process.stderr.write(`ml-core: error: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exitCode = 1;
}
