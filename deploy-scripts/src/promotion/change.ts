import type { StackFile } from "../config/stack-file";
import type { Context } from "../context";
import { acquireStackLock, type StackLock } from "../stacks/lock";
import { stackPolicyPacks, type PolicyPackRun } from "../stacks/policy-packs";
import type { StackOutputs } from "../stacks/gateway";
import { updaterIdentity, type UpdaterIdentity } from "./updater";

/** The stack is locked for this change: the file as read under the lock, and how `pulumi up` will run. */
export interface LockedChange {
  readonly file: StackFile;
  readonly lock: StackLock;
}

/**
 * Takes the stack's lock, then reads its file again: another run may have changed it between the
 * first read (for the confirmation check) and the lock. Release the lock in a `finally`.
 */
export async function lockStack(ctx: Context, stack: string, command: string): Promise<LockedChange> {
  const lock = await acquireStackLock(ctx.stackFiles.dir, stack, command, new Date(ctx.now()));
  try {
    return { lock, file: await ctx.stackFiles.read(stack) };
  } catch (err) {
    await lock.release();
    throw err;
  }
}

export interface UpdateSetup {
  readonly identity: UpdaterIdentity;
  readonly policyPacks: PolicyPackRun;
}

/** What the stack's preview and update run with: its updater role and the policy packs its settings require. */
export async function updateSetup(ctx: Context, file: StackFile, outputs: StackOutputs, verb: string): Promise<UpdateSetup> {
  const policyPacks = stackPolicyPacks(ctx.repoRoot, file.stack, file.settings.policyPack);
  const serving = file.settings.serving;
  const identity = await updaterIdentity(ctx, file.stack, outputs, verb, serving.target === "kubernetes" ? (serving.cluster.context ?? null) : undefined);
  return { identity, policyPacks };
}
