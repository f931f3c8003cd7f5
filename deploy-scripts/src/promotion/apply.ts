import { writeFileSync } from "node:fs";
import type { StackFile } from "../config/stack-file";
import type { Context } from "../context";
import { CliError, describeError } from "../errors";
import { missingPrerequisite } from "../prerequisites";
import type { SampleRows } from "../smoke/sample";
import { smokeStack, type StackSmoke } from "../smoke/stack";
import { readStackOutputs, type ChangeSummary } from "../stacks/gateway";

export interface ApplyPlan {
  readonly stack: string;
  /** The stack file as it was before: what a failure restores. */
  readonly file: StackFile;
  /** The stack file with the new pin. */
  readonly text: string;
  readonly dryRun: boolean;
  /** Rows for the smoke test after the update. */
  readonly sample: SampleRows;
  readonly maxLatencyMs: number;
  /** On a failed smoke test after the update: put the previous version back (restore and re-apply). */
  readonly rollbackOnSmokeFailure: boolean;
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

/**
 * Writes the new pin, previews, applies and smoke-tests; every failure puts the previous file back.
 * When `pulumi up` fails part-way, the stack is updated again with the restored file, so the stack
 * and the file in git both end on the previous version rather than half of the new one.
 */
export async function applyPin(ctx: Context, plan: ApplyPlan): Promise<ApplyResult> {
  const { stack, file } = plan;
  const changed = plan.text !== file.text;
  const restore = async () => {
    if (changed) await ctx.stackFiles.write(stack, file.text);
  };
  // Ctrl-C while Pulumi runs must not leave the new pin behind in the file.
  const onSignal = () => {
    if (changed) writeFileSync(file.path, file.text);
    process.exit(130);
  };
  process.once("SIGINT", onSignal);
  try {
    if (changed) {
      ctx.out.step(`Pinning the version in ${file.path}`);
      await ctx.stackFiles.write(stack, plan.text);
    }
    const onOutput = (t: string) => ctx.out.passthrough(t);

    ctx.out.step(`Previewing stack "${stack}"`);
    let preview: ChangeSummary;
    try {
      preview = await ctx.stacks.preview(stack, { onOutput });
    } catch (err) {
      await restore();
      if (missingPrerequisite(err)) throw err;
      throw new CliError(`pulumi preview of stack "${stack}" failed; ${file.path} was restored`, { details: [describeError(err)], cause: err });
    }
    if (plan.dryRun) {
      await restore();
      ctx.out.step(`Dry run: nothing applied; ${file.path} left as it was`);
      return { configFile: file.path, changed, preview, applied: false };
    }

    ctx.out.step(`Updating stack "${stack}" (pulumi up)`);
    let update: ChangeSummary;
    try {
      update = await ctx.stacks.up(stack, { onOutput });
    } catch (err) {
      await restore();
      throw await reapplyPrevious(ctx, stack, file.path, `pulumi up of stack "${stack}" failed`, [describeError(err)], err);
    }

    const outputs = await readStackOutputs(ctx.stacks, stack);
    const smoke = await smokeStack(ctx, stack, outputs, plan.sample, plan.maxLatencyMs);
    if (smoke.problems.length > 0) {
      if (!plan.rollbackOnSmokeFailure) {
        throw new CliError(`stack "${stack}" was updated but fails its smoke test`, {
          details: smoke.problems,
          hint: `roll back with \`ml-deploy rollback --stack ${stack}\``,
        });
      }
      await restore();
      throw await reapplyPrevious(ctx, stack, file.path, `stack "${stack}" failed its smoke test after the update`, [...smoke.problems]);
    }
    return { configFile: file.path, changed, preview, applied: true, update, smoke };
  } finally {
    process.removeListener("SIGINT", onSignal);
  }
}

/** Applies the restored file and returns the error to throw, saying how far the recovery got. */
async function reapplyPrevious(ctx: Context, stack: string, path: string, what: string, details: string[], cause?: unknown): Promise<CliError> {
  ctx.out.step(`${what}; restored ${path}, re-applying the previous version`);
  try {
    await ctx.stacks.up(stack, { onOutput: (t) => ctx.out.passthrough(t) });
  } catch (again) {
    return new CliError(`${what}, and re-applying the previous version failed too`, {
      details: [...details, `re-apply: ${describeError(again)}`],
      hint: `${path} holds the previous version; run \`pulumi up --stack ${stack}\` once the cause is fixed`,
      cause,
    });
  }
  return new CliError(`${what}; stack "${stack}" is back on the previous version and ${path} is unchanged`, { details, cause });
}
