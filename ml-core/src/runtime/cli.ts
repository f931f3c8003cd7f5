// The `ml-core` command line: registration only; each command lives in its own file.
import { Command } from "commander";
import { predictCommand } from "./predict";
import { serveCommand } from "./serve";

export function main(argv: string[]): void {
  const program = new Command("ml-core")
    .description("Gradient-boosted trees behind the SageMaker training and hosting contract")
    .showHelpAfterError();
  program.addCommand(serveCommand());
  program.addCommand(predictCommand());
  void program.parseAsync(argv, { from: "user" });
}
