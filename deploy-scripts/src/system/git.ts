import type { Exec } from "./exec";

/**
 * The commit the tools record on every job and version: `git rev-parse HEAD`, with `-dirty` when
 * the work tree has uncommitted changes (so a version never claims a commit it was not built from).
 * CI systems that check out without `.git` set GITHUB_SHA / CI_COMMIT_SHA instead.
 */
export async function gitCommit(exec: Exec, cwd: string, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const head = await exec("git", ["rev-parse", "HEAD"], { cwd });
  if (head.code !== 0) return env.GITHUB_SHA ?? env.CI_COMMIT_SHA ?? "unknown";
  const status = await exec("git", ["status", "--porcelain", "--untracked-files=no"], { cwd });
  const dirty = status.code === 0 && status.stdout.trim() !== "";
  return `${head.stdout.trim()}${dirty ? "-dirty" : ""}`;
}
