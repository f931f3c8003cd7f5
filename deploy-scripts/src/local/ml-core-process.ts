// `ml-core <command>` as a child process, as the container's entrypoint runs it.
import { spawn } from "node:child_process";
import type { Output } from "../output";

/**
 * Runs `ml-core` with `args`, every line it prints forwarded to `out`. Resolves with its exit code
 * and what it wrote on stderr (for the caller's error message).
 */
export function runMlCore(
  mlCoreBin: string,
  args: readonly string[],
  out: Output,
  env: NodeJS.ProcessEnv = {},
): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [mlCoreBin, ...args], { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    let stderr = "";
    const forward = (chunk: Buffer) =>
      chunk
        .toString()
        .split("\n")
        .filter(Boolean)
        .forEach((line) => out.info(line));
    child.stdout.on("data", forward);
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
      forward(chunk);
    });
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stderr }));
  });
}
