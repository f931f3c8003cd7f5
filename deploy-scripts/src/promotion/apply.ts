import { constants } from "node:os";
import { parseSettings, type StackFile } from "../config/stack-file";
import type { Context } from "../context";
import { CliError, describeError } from "../errors";
import { missingPrerequisite } from "../prerequisites";
import type { SampleRows } from "../smoke/sample";
import { smokeStack, type StackSmoke } from "../smoke/stack";
import { readStackOutputs, type ChangeSummary, type RunOptions } from "../stacks/gateway";
import type { PolicyPackRun } from "../stacks/policy-packs";
import type { UpdaterIdentity } from "./updater";
import { checkEndpointConfig } from "./verify";

export interface ApplyPlan {
  readonly stack: string;
  /** The stack file as it was before: what a failure restores. */
  readonly file: StackFile;
  /** The stack file with the new pin. */
  readonly text: string;
  readonly dryRun: boolean;
  /** Who the preview and the update run as: the stack's endpoint-updater role. */
  readonly identity: UpdaterIdentity;
  /** The policy packs the stack's settings require. */
  readonly policyPacks: PolicyPackRun;
  /** Rows for the smoke test after the update. */
  readonly sample: SampleRows;
  readonly maxLatencyMs: number;
  /** The identity the new version's model answers with; absent: not checked (see expectedIdentity). */
  readonly expectedIdentity?: string;
  /** On a failed smoke test after the update: put the previous version back (restore and re-apply). */
  readonly rollbackOnSmokeFailure: boolean;
  /** Called when the new version fails on the stack after the update (e.g. to reject it), before the previous one is re-applied. */
  readonly onFailure?: (problems: readonly string[]) => Promise<void>;
}

export interface ApplyResult {
  configFile: string;
  /** The file's pin changed (false: it already pinned this version). */
  changed: boolean;
  preview: ChangeSummary;
  applied: boolean;
  update?: ChangeSummary;
  smoke?: StackSmoke;
}

const SIGNALS = ["SIGINT", "SIGTERM"] as const;
type Signal = (typeof SIGNALS)[number];

/**
 * Writes the new pin, previews, applies, checks the endpoint runs the new configuration and
 * smoke-tests; every failure puts the previous file back. When `pulumi up` fails part-way, the
 * stack is updated again with the restored file, so the stack and the file in git both end on the
 * previous version rather than half of the new one.
 *
 * SIGINT or SIGTERM interrupts the running preview or update as Ctrl-C does `pulumi up` (it
 * finishes the operations in flight and saves the state), then the file is restored and, if an
 * update had started, re-applied; the command exits 128 + the signal's number saying where the
 * stack is.
 */
export async function applyPin(ctx: Context, plan: ApplyPlan): Promise<ApplyResult> {
  const { stack, file } = plan;
  const changed = plan.text !== file.text;
  const restore = async () => {
    if (changed) await ctx.stackFiles.write(stack, file.text);
  };
  const abort = new AbortController();
  let interrupted: Signal | undefined;
  const handlers = SIGNALS.map((signal) => {
    const handler = () => {
      if (interrupted) {
        ctx.out.warn(`${signal} again: ml-deploy is putting stack "${stack}" back on the previous version; stopping now could leave it partly updated`);
        return;
      }
      interrupted = signal;
      ctx.out.warn(`${signal} received: stopping the Pulumi operation on stack "${stack}"`);
      abort.abort();
    };
    ctx.signals.on(signal, handler);
    return [signal, handler] as const;
  });
  const onOutput = (t: string) => ctx.out.passthrough(t);
  const run: RunOptions = { onOutput, env: plan.identity.env, ...plan.policyPacks, signal: abort.signal };
  try {
    if (changed) {
      ctx.out.step(`Pinning the version in ${file.path}`);
      await ctx.stackFiles.write(stack, plan.text);
    }

    ctx.out.step(`Previewing stack "${stack}"`);
    let preview: ChangeSummary;
    try {
      preview = await ctx.stacks.preview(stack, run);
    } catch (err) {
      await restore();
      if (interrupted) throw interruptedError(interrupted, `during the preview of stack "${stack}": nothing was applied and ${file.path} is unchanged`);
      if (missingPrerequisite(err)) throw err;
      throw new CliError(`pulumi preview of stack "${stack}" failed; ${file.path} was restored`, { details: [describeError(err)], cause: err });
    }
    if (interrupted) {
      await restore();
      throw interruptedError(interrupted, `after the preview of stack "${stack}": nothing was applied and ${file.path} is unchanged`);
    }
    if (plan.dryRun) {
      await restore();
      ctx.out.step(`Dry run: nothing applied; ${file.path} left as it was`);
      return { configFile: file.path, changed, preview, applied: false };
    }

    ctx.out.step(`Updating stack "${stack}" (pulumi up as ${plan.identity.description})`);
    let update: ChangeSummary;
    try {
      update = await ctx.stacks.up(stack, run);
    } catch (err) {
      await restore();
      if (interrupted)
        throw await reapplyPrevious(ctx, plan, `${interrupted} cancelled the update of stack "${stack}"`, [describeError(err)], err, interrupted);
      throw await reapplyPrevious(ctx, plan, `pulumi up of stack "${stack}" failed`, [describeError(err)], err);
    }
    if (interrupted) {
      await restore();
      throw await reapplyPrevious(ctx, plan, `${interrupted} arrived as the update of stack "${stack}" finished`, [], undefined, interrupted);
    }

    const outputs = await readStackOutputs(ctx.stacks, stack);
    // A Kubernetes stack has no endpoint: `pulumi up` waited for the Deployment's rollout, and the
    // smoke test below asks its pods which model they serve.
    const kubernetes = file.settings.serving.target === "kubernetes";
    if (!kubernetes) ctx.out.step(`Checking endpoint ${outputs.endpointName ?? "(none)"} runs the configuration just deployed`);
    const endpoint = kubernetes ? { problems: [] as string[], rolledBack: false } : await checkEndpointConfig(ctx, stack, outputs);
    if (endpoint.problems.length > 0) {
      await plan.onFailure?.(endpoint.problems);
      await restore();
      const what = endpoint.rolledBack
        ? `SageMaker rolled back the update of stack "${stack}"`
        : `stack "${stack}" was updated but its endpoint is not serving the new configuration`;
      throw await reapplyPrevious(ctx, plan, what, endpoint.problems);
    }
    const smoke = await smokeStack(ctx, stack, outputs, plan.sample, plan.maxLatencyMs, plan.expectedIdentity, parseSettings(stack, plan.text));
    if (smoke.problems.length > 0) {
      await plan.onFailure?.(smoke.problems);
      if (!plan.rollbackOnSmokeFailure) {
        throw new CliError(`stack "${stack}" was updated but fails its smoke test`, {
          details: smoke.problems,
          hint: `roll back with \`ml-deploy rollback --stack ${stack}\``,
        });
      }
      await restore();
      throw await reapplyPrevious(ctx, plan, `stack "${stack}" failed its smoke test after the update`, [...smoke.problems]);
    }
    return { configFile: file.path, changed, preview, applied: true, update, smoke };
  } finally {
    for (const [signal, handler] of handlers) ctx.signals.removeListener(signal, handler);
  }
}

/**
 * Applies the restored file and returns the error to throw, saying how far the recovery got. Not
 * interruptible: stopping it would leave the stack between two versions.
 */
async function reapplyPrevious(ctx: Context, plan: ApplyPlan, what: string, details: string[], cause?: unknown, signal?: Signal): Promise<CliError> {
  const { stack, file } = plan;
  const exitCode = signal ? 128 + constants.signals[signal] : undefined;
  ctx.out.step(`${what}; restored ${file.path}, re-applying the previous version`);
  try {
    await ctx.stacks.up(stack, { onOutput: (t) => ctx.out.passthrough(t), env: plan.identity.env, ...plan.policyPacks });
  } catch (again) {
    return new CliError(`${what}, and re-applying the previous version failed too: stack "${stack}" may be partly updated`, {
      details: [...details, `re-apply: ${describeError(again)}`],
      hint: `${file.path} holds the previous version; once the cause is fixed, run \`${Object.entries(plan.identity.env)
        .map(([k, v]) => `${k}=${v} `)
        .join("")}pulumi up --stack ${stack}\``,
      cause,
      exitCode,
    });
  }
  return new CliError(`${what}; stack "${stack}" is back on the previous version and ${file.path} is unchanged`, { details, cause, exitCode });
}

function interruptedError(signal: Signal, where: string): CliError {
  return new CliError(`interrupted by ${signal} ${where}`, { exitCode: 128 + constants.signals[signal] });
}
