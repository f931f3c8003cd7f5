/**
 * The one kind of error a command throws on purpose. The single handler in `index.ts` prints it
 * (message, then each detail on its own line, then the hint) and sets the exit code; anything else
 * that escapes a command is an unexpected failure and is printed the same way with exit code 1.
 */
export class CliError extends Error {
  readonly exitCode: number;
  readonly details: readonly string[];
  readonly hint: string | undefined;

  constructor(message: string, opts: { details?: readonly string[]; hint?: string; exitCode?: number; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = "CliError";
    this.exitCode = opts.exitCode ?? EXIT.failure;
    this.details = opts.details ?? [];
    this.hint = opts.hint;
  }
}

/** Exit codes a CI job can branch on. */
export const EXIT = {
  ok: 0,
  /** Anything went wrong: AWS error, failed training job, failed `pulumi up`, failed smoke test. */
  failure: 1,
  /** The command line itself is wrong (commander's own code for usage errors). */
  usage: 2,
  /** A promotion gate refused: nothing was changed. */
  gateRefused: 3,
} as const;

/** Turns whatever was thrown into one line a user can act on (AWS errors carry name and message). */
export function describeError(err: unknown): string {
  if (err instanceof Error) {
    const name = err.name && err.name !== "Error" && !(err instanceof CliError) ? `${err.name}: ` : "";
    return `${name}${err.message}`;
  }
  return String(err);
}
