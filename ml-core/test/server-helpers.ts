/**
 * Helpers for the server tests: start the real server as a child process on a free loopback port,
 * talk HTTP to it with full control over headers, and stop it.
 */
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as http from "node:http";
import * as net from "node:net";
import * as path from "node:path";

export const ML_CORE = path.resolve(__dirname, "..");
export const REPO = path.resolve(ML_CORE, "..");
export const FAKE_SERVE = path.join(ML_CORE, "test", "server-fake-serve.cjs");
export const BIN = path.join(ML_CORE, "bin", "ml-core.js");

/**
 * The child processes run the compiled code. Rebuild when any source file under src/ is newer than
 * its output (or has none), so the suite never tests stale JavaScript: a child process loads
 * modules of every room (CI builds first, so this is a no-op there).
 */
export function ensureBuilt(): void {
  if (staleSources(ML_CORE).length > 0) {
    execFileSync(path.join(REPO, "node_modules", ".bin", "tsc"), ["-b", ML_CORE], { cwd: REPO, stdio: "pipe" });
  }
}

/** A compiled module's path, as a string literal for the script a child process runs (`require(${distModule(…)})`). */
export function distModule(module: string): string {
  return JSON.stringify(path.join(ML_CORE, "dist", module));
}

/** The `.ts` files under `<root>/src` whose `.js` under `<root>/dist` is missing or older. */
export function staleSources(root: string): string[] {
  const src = path.join(root, "src");
  return fs
    .readdirSync(src, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith(".ts") && !e.name.endsWith(".d.ts"))
    .map((e) => path.join(e.parentPath, e.name))
    .filter((file) => {
      const out = path.join(root, "dist", path.relative(src, file)).replace(/\.ts$/, ".js");
      return !fs.existsSync(out) || fs.statSync(out).mtimeMs < fs.statSync(file).mtimeMs;
    });
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

export interface Response {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export interface RequestOptions {
  method?: string;
  path?: string;
  headers?: Record<string, string | number>;
  body?: string | Buffer;
  /** Give up after this long without a response. @default 10000 */
  timeoutMs?: number;
}

/** One HTTP request to 127.0.0.1:`port`; the body is sent exactly as given. */
export function request(port: number, opts: RequestOptions = {}): Promise<Response> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: "127.0.0.1", port, method: opts.method ?? "GET", path: opts.path ?? "/", headers: opts.headers ?? {}, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString("utf8") }));
        res.on("error", reject);
      },
    );
    req.setTimeout(opts.timeoutMs ?? 10_000, () => req.destroy(new Error("request timed out")));
    req.on("error", reject);
    req.end(opts.body);
  });
}

/** POST /invocations with a content type and an optional Accept. */
export function invoke(port: number, body: string | Buffer, contentType?: string, accept?: string): Promise<Response> {
  const headers: Record<string, string> = {};
  if (contentType !== undefined) headers["Content-Type"] = contentType;
  if (accept !== undefined) headers.Accept = accept;
  return request(port, { method: "POST", path: "/invocations", headers, body });
}

export interface RunningServer {
  readonly port: number;
  readonly proc: ChildProcess;
  /** Everything the process wrote to stdout, so far. */
  stdout(): string;
  stderr(): string;
  /** Parsed JSON log lines written so far. */
  logs(): Record<string, unknown>[];
  /** Resolves with the exit code (or signal) once the process exits. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGTERM, then wait for the exit. */
  stop(): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export interface StartOptions {
  /** The script to run: the fake-predictor server (default) or the real CLI. */
  script?: string;
  args?: string[];
  env?: Record<string, string>;
  /** Wait for /ping to answer 200. @default true */
  waitReady?: boolean;
}

const running = new Set<ChildProcess>();

/** Starts `serve` on a free loopback port and waits until /ping answers 200. */
export async function startServer(opts: StartOptions = {}): Promise<RunningServer> {
  const port = await freePort();
  const script = opts.script ?? FAKE_SERVE;
  const args = script === BIN ? ["serve", ...(opts.args ?? [])] : (opts.args ?? []);
  const proc = spawn(process.execPath, [script, ...args, "--host", "127.0.0.1", "--port", String(port)], {
    env: { PATH: process.env.PATH ?? "", SAGEMAKER_MODEL_SERVER_WORKERS: "1", ...opts.env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  running.add(proc);
  let out = "";
  let err = "";
  proc.stdout?.on("data", (c: Buffer) => (out += c.toString()));
  proc.stderr?.on("data", (c: Buffer) => (err += c.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    proc.on("exit", (code, signal) => {
      running.delete(proc);
      resolve({ code, signal });
    }),
  );
  const server: RunningServer = {
    port,
    proc,
    stdout: () => out,
    stderr: () => err,
    logs: () =>
      out
        .split("\n")
        .filter((l) => l.startsWith("{"))
        .map((l) => JSON.parse(l) as Record<string, unknown>),
    exited,
    stop: async () => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill("SIGTERM");
      return exited;
    },
  };
  if (opts.waitReady ?? true) await waitReady(server);
  return server;
}

/** Polls /ping until it answers 200; fails with the server's output if it exits or takes > 15 s. */
export async function waitReady(server: RunningServer, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exited = false;
  void server.exited.then(() => (exited = true));
  while (Date.now() < deadline) {
    if (exited) throw new Error(`server exited before becoming ready:\n${server.stdout()}\n${server.stderr()}`);
    try {
      const res = await request(server.port, { path: "/ping", timeoutMs: 1000 });
      if (res.status === 200) return;
    } catch {
      // Not listening yet.
    }
    await sleep(25);
  }
  throw new Error(`server not ready after ${timeoutMs} ms:\n${server.stdout()}\n${server.stderr()}`);
}

/** Kills every server a test left running (afterAll safety net; tests stop their own). */
export function killAll(): void {
  for (const proc of running) proc.kill("SIGKILL");
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** A seeded PRNG (mulberry32), so fuzz and property tests replay exactly. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
