import { parseStackOutputs, type StackOutputs } from "@ml-platform/contract";
import { CliError } from "../errors";

/**
 * What the commands need from Pulumi, and nothing more: a stack's outputs, a preview and an update.
 * The real implementation drives the Automation API (`automation.ts`); tests use `FakeStackGateway`.
 */
export interface StackGateway {
  /** The stack's outputs, as `pulumi stack output --json` shows them (secrets unwrapped). */
  outputs(stack: string): Promise<Record<string, unknown>>;
  preview(stack: string, opts?: RunOptions): Promise<ChangeSummary>;
  up(stack: string, opts?: RunOptions): Promise<ChangeSummary>;
}

export interface RunOptions {
  /** Streams Pulumi's own output (the diff, the progress) as it is produced. */
  onOutput?: (text: string) => void;
  /** Added to the environment of the `pulumi` process (e.g. the role the providers assume). */
  env?: Readonly<Record<string, string>>;
  /** Policy pack directories run with the operation (`--policy-pack`), in order. */
  policyPacks?: readonly string[];
  /** Config files of the first `policyPackConfigs.length` packs (`--policy-pack-config`), in the same order. */
  policyPackConfigs?: readonly string[];
  /**
   * Aborting it interrupts the operation as Ctrl-C does: the Automation API sends the `pulumi`
   * process SIGINT, which finishes the resource operations in flight, saves the state and stops.
   */
  signal?: AbortSignal;
}

/** Counts per operation, e.g. `{ same: 30, update: 1, replace: 2 }`. */
export type ChangeSummary = Record<string, number>;

/** The stack outputs the commands read: the contract's, the same names and types infra/index.ts exports. */
export { stackOutputsSchema, type StackOutputs } from "@ml-platform/contract";

/** Reads and validates a stack's outputs, naming every missing or malformed one. */
export async function readStackOutputs(gateway: StackGateway, stack: string): Promise<StackOutputs> {
  const parsed = parseStackOutputs(await gateway.outputs(stack));
  if (!parsed.ok) {
    throw new CliError(`stack "${stack}" does not have the outputs ml-deploy needs`, {
      details: [...parsed.problems],
      hint: `run \`pulumi up --stack ${stack}\` first (the outputs are created by the platform's infra program)`,
    });
  }
  return parsed.outputs;
}
