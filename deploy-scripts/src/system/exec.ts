import { spawn } from "node:child_process";

export interface ExecResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface ExecOptions {
  readonly cwd?: string;
  readonly input?: string;
  /** Called with each chunk of output as it arrives (progress of `docker build`). */
  readonly onOutput?: (text: string) => void;
}

/** Runs a program without a shell. A missing program resolves with code 127, as a shell would. */
export type Exec = (command: string, args: readonly string[], opts?: ExecOptions) => Promise<ExecResult>;

export const exec: Exec = (command, args, opts = {}) =>
  new Promise((resolve) => {
    const child = spawn(command, args, { cwd: opts.cwd, stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => {
      stdout += d.toString();
      opts.onOutput?.(d.toString());
    });
    child.stderr.on("data", (d: Buffer) => {
      stderr += d.toString();
      opts.onOutput?.(d.toString());
    });
    // Every child stream can fail on its own: a program that exits without reading its input
    // (`git rev-parse` never does) closes the pipe, and writing to it raises EPIPE on stdin. An
    // unhandled stream error kills the whole CLI, so each one is noted and the exit code decides.
    const streamError = (err: Error) => {
      if ((err as NodeJS.ErrnoException).code !== "EPIPE") stderr += `${err.message}\n`;
    };
    child.stdin.on("error", streamError);
    child.stdout.on("error", streamError);
    child.stderr.on("error", streamError);
    child.on("error", (err: NodeJS.ErrnoException) => resolve({ code: err.code === "ENOENT" ? 127 : 1, stdout, stderr: stderr + err.message }));
    child.on("close", (code) => resolve({ code: code ?? 1, stdout, stderr }));
    child.stdin.end(opts.input ?? "");
  });
