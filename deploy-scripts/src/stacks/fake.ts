import type { ChangeSummary, RunOptions, StackGateway } from "./gateway";

/**
 * An in-memory `StackGateway` for tests and for tools that drive the commands without Pulumi
 * (the local lifecycle). It records every call; `failUp` makes the next `up` of a stack throw.
 */
export class FakeStackGateway implements StackGateway {
  readonly calls: Array<{ op: "outputs" | "preview" | "up"; stack: string }> = [];
  private readonly failures = new Map<string, Error>();
  /** Called on every successful `up`: lets a test change outputs as infra would (e.g. a new endpoint). */
  onUp: ((stack: string) => void) | undefined;

  constructor(private readonly stacks: Record<string, Record<string, unknown>>) {}

  setOutputs(stack: string, outputs: Record<string, unknown>): void {
    this.stacks[stack] = outputs;
  }

  failUp(stack: string, error: Error = new Error(`update of stack ${stack} failed`)): void {
    this.failures.set(stack, error);
  }

  async outputs(stack: string): Promise<Record<string, unknown>> {
    this.calls.push({ op: "outputs", stack });
    const outputs = this.stacks[stack];
    if (!outputs) throw new Error(`no stack named '${stack}' found`);
    return structuredClone(outputs);
  }

  async preview(stack: string, opts: RunOptions = {}): Promise<ChangeSummary> {
    this.calls.push({ op: "preview", stack });
    opts.onOutput?.(`Previewing update (${stack})\n`);
    return { same: 10, update: 1 };
  }

  async up(stack: string, opts: RunOptions = {}): Promise<ChangeSummary> {
    this.calls.push({ op: "up", stack });
    opts.onOutput?.(`Updating (${stack})\n`);
    const failure = this.failures.get(stack);
    if (failure) {
      this.failures.delete(stack);
      throw failure;
    }
    this.onUp?.(stack);
    return { same: 10, update: 1 };
  }
}
