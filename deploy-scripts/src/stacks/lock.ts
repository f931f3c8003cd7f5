import { promises as fs } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { CliError } from "../errors";

/** What a lock file holds: who is changing the stack, so a refused run can say so. */
export interface LockOwner {
  readonly pid: number;
  readonly host: string;
  readonly command: string;
  readonly startedAt: string;
}

export interface StackLock {
  readonly path: string;
  release(): Promise<void>;
}

/** `stacks/.Pulumi.<stack>.lock`, beside the stack file it guards. */
export function lockPath(stacksDir: string, stack: string): string {
  return path.join(stacksDir, `.Pulumi.${stack}.lock`);
}

/**
 * Takes the lock of one stack for a change (deploy, promote, rollback): an exclusive create
 * (O_EXCL), so of two runs exactly one gets it. The backend's own lock is not enough: a change edits
 * the stack file and previews before `pulumi up` takes that lock, and a second run would edit the
 * same file under the first. This lock covers one checkout; two machines are kept apart by the
 * backend's lock on the update and by review of the stack file in git.
 */
export async function acquireStackLock(stacksDir: string, stack: string, command: string, now: Date = new Date()): Promise<StackLock> {
  const file = lockPath(stacksDir, stack);
  const owner: LockOwner = { pid: process.pid, host: os.hostname(), command, startedAt: now.toISOString() };
  const text = `${JSON.stringify(owner, null, 2)}\n`;
  try {
    await fs.writeFile(file, text, { flag: "wx" });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    throw await lockedError(file, stack);
  }
  return {
    path: file,
    async release() {
      // Only our own lock: a user may have cleared a stale one and another run taken it since.
      const current = await fs.readFile(file, "utf8").catch(() => undefined);
      if (current === text) await fs.rm(file, { force: true });
    },
  };
}

async function lockedError(file: string, stack: string): Promise<CliError> {
  const holder = await readOwner(file);
  if (!holder) {
    return new CliError(`stack "${stack}" is locked by ${file}, which says nothing about its owner`, {
      hint: `if no ml-deploy run is changing stack "${stack}", remove ${file} and re-run`,
    });
  }
  const who = `\`${holder.command}\` (pid ${holder.pid} on ${holder.host}, since ${holder.startedAt})`;
  if (holder.host === os.hostname() && !isRunning(holder.pid)) {
    return new CliError(`stack "${stack}" has a stale lock: ${who} is no longer running`, {
      details: [`lock file: ${file}`],
      hint: `it was interrupted before it could clean up; check \`git diff ${path.join(path.basename(path.dirname(file)), `Pulumi.${stack}.yaml`)}\` and \`pulumi stack history --stack ${stack}\`, then remove ${file} and re-run`,
    });
  }
  return new CliError(`stack "${stack}" is being changed by ${who}; nothing was changed`, {
    details: [`lock file: ${file}`],
    hint: "wait for it to finish, then re-run",
  });
}

async function readOwner(file: string): Promise<LockOwner | undefined> {
  try {
    const data = JSON.parse(await fs.readFile(file, "utf8")) as Partial<LockOwner>;
    return typeof data.pid === "number" && typeof data.host === "string" ? (data as LockOwner) : undefined;
  } catch {
    return undefined;
  }
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists, under another user.
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}
