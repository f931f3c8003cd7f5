import { Command, InvalidArgumentError, Option } from "commander";
import { contextFor, type Context, type Deps } from "./context";

/** What each command file exports: a commander command bound to the dependencies. */
export type CommandFactory = (deps: () => Deps) => Command;

/**
 * A command's action: collect the data (`run`), then print it (`format` for humans, the data itself
 * as JSON with `--json`). Errors are not caught here: they reach the single handler in `main`.
 */
export function action<O extends { json?: boolean }, R>(deps: () => Deps, run: (ctx: Context, opts: O) => Promise<R>, format: (result: R) => string) {
  return async (opts: O) => {
    const ctx = contextFor(deps(), opts.json === true);
    const result = await run(ctx, opts);
    ctx.out.result(ctx.json ? JSON.stringify(result, null, 2) : format(result));
  };
}

/** Adds the options every command has. */
export function withCommon(cmd: Command): Command {
  return cmd.addOption(new Option("--json", "print the result as one JSON document on stdout (progress stays on stderr)"));
}

export function stackOption(description = "the stack to act on (dev, staging, prod)"): Option {
  return new Option("-s, --stack <name>", description).makeOptionMandatory();
}

export function positiveInt(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError(`${name} must be a positive integer, got "${value}"`);
    return n;
  };
}
