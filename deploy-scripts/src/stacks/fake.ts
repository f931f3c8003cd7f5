import type { ChangeSummary, RunOptions, StackGateway } from "./gateway";

export interface FakeCall {
  readonly op: "outputs" | "preview" | "up" | "cancel";
  readonly stack: string;
  /** What a preview or an update ran with (environment and policy packs). */
  readonly options?: Pick<RunOptions, "env" | "policyPacks" | "policyPackConfigs">;
}

/**
 * An in-memory `StackGateway` for tests and for tools that drive the commands without Pulumi
 * (the local lifecycle). It records every call; `failUp` makes the next `up` of a stack throw;
 * `blockUp` makes the next `up` run until its signal aborts it, as a real update does until it is
 * interrupted.
 */
export class FakeStackGateway implements StackGateway {
  readonly calls: FakeCall[] = [];
  private readonly failures = new Map<string, Error>();
  private readonly blocked = new Map<string, () => void>();
  /** Called on every successful `up`: lets a test change outputs as infra would (e.g. a new endpoint). */
  onUp: ((stack: string) => void) | undefined;

  constructor(private readonly stacks: Record<string, Record<string, unknown>>) {}

  setOutputs(stack: string, outputs: Record<string, unknown>): void {
    this.stacks[stack] = outputs;
  }

  /** Changes some outputs, as an update of the program would. */
  patchOutputs(stack: string, patch: Record<string, unknown>): void {
    Object.assign((this.stacks[stack] ??= {}), patch);
  }

  failUp(stack: string, error: Error = new Error(`update of stack ${stack} failed`)): void {
    this.failures.set(stack, error);
  }

  /** The next `up` of `stack` calls `started` and then waits for its signal. */
  blockUp(stack: string, started: () => void = () => undefined): void {
    this.blocked.set(stack, started);
  }

  async outputs(stack: string): Promise<Record<string, unknown>> {
    this.calls.push({ op: "outputs", stack });
    const outputs = this.stacks[stack];
    if (!outputs) throw new Error(`no stack named '${stack}' found`);
    return structuredClone(outputs);
  }

  async preview(stack: string, opts: RunOptions = {}): Promise<ChangeSummary> {
    this.calls.push({ op: "preview", stack, options: optionsOf(opts) });
    opts.onOutput?.(`Previewing update (${stack})\n`);
    return { same: 10, update: 1 };
  }

  async up(stack: string, opts: RunOptions = {}): Promise<ChangeSummary> {
    this.calls.push({ op: "up", stack, options: optionsOf(opts) });
    opts.onOutput?.(`Updating (${stack})\n`);
    const started = this.blocked.get(stack);
    if (started) {
      this.blocked.delete(stack);
      await new Promise<void>((_, reject) => {
        const cancelled = () => {
          this.calls.push({ op: "cancel", stack });
          reject(new Error(`update of stack ${stack} canceled`));
        };
        if (opts.signal?.aborted) cancelled();
        else opts.signal?.addEventListener("abort", cancelled, { once: true });
        started();
      });
    }
    const failure = this.failures.get(stack);
    if (failure) {
      this.failures.delete(stack);
      throw failure;
    }
    this.onUp?.(stack);
    return { same: 10, update: 1 };
  }
}

function optionsOf(opts: RunOptions): FakeCall["options"] {
  return { env: opts.env, policyPacks: opts.policyPacks, policyPackConfigs: opts.policyPackConfigs };
}
