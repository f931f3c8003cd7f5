import { spawn } from "node:child_process";

/** A local port forwarded to a Service in the cluster, open until `close`. */
export interface PortForward {
  /** `http://127.0.0.1:<local port>` */
  readonly url: string;
  close(): Promise<void>;
}

export interface PortForwardTarget {
  readonly namespace: string;
  readonly service: string;
  readonly port: number;
  /** The kubeconfig context; absent: kubectl's current context. */
  readonly context?: string;
}

/** Opens a port forward; tests pass one that serves from memory. */
export type StartPortForward = (target: PortForwardTarget) => Promise<PortForward>;

/** How long kubectl may take to report the forward (it resolves the Service to a ready pod first). */
export const PORT_FORWARD_TIMEOUT_MS = 30_000;

export function portForwardArgs(t: PortForwardTarget): string[] {
  // Local port 0: kubectl picks a free one and prints it.
  return [
    "port-forward",
    `svc/${t.service}`,
    `:${t.port}`,
    "--namespace",
    t.namespace,
    "--address",
    "127.0.0.1",
    ...(t.context ? ["--context", t.context] : []),
  ];
}

/** `kubectl port-forward svc/<service> :<port>`: resolves once kubectl prints the local port. */
export const kubectlPortForward: StartPortForward = (target) =>
  new Promise((resolve, reject) => {
    const child = spawn("kubectl", portForwardArgs(target), { stdio: ["ignore", "pipe", "pipe"] });
    let stderr = "";
    let settled = false;
    const fail = (err: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      child.kill();
      reject(err);
    };
    const timer = setTimeout(
      () =>
        fail(
          new Error(
            `kubectl port-forward to svc/${target.service} in namespace ${target.namespace} reported no port within ${PORT_FORWARD_TIMEOUT_MS / 1000} s${stderr ? `: ${stderr.trim()}` : ""}`,
          ),
        ),
      PORT_FORWARD_TIMEOUT_MS,
    );
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.stdout.on("data", (d: Buffer) => {
      // "Forwarding from 127.0.0.1:54321 -> 8080"
      const port = /Forwarding from 127\.0\.0\.1:(\d+)/.exec(d.toString())?.[1];
      if (!port || settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({
        url: `http://127.0.0.1:${port}`,
        close: () =>
          new Promise<void>((done) => {
            if (child.exitCode !== null) return done();
            child.once("exit", () => done());
            child.kill();
          }),
      });
    });
    // No kubectl on PATH: spawn's ENOENT, which the caller reports as the missing prerequisite.
    child.on("error", (err: NodeJS.ErrnoException) => fail(err));
    child.on("exit", (code) =>
      fail(new Error(`kubectl port-forward to svc/${target.service} in namespace ${target.namespace} exited with ${code}: ${stderr.trim() || "(no output)"}`)),
    );
  });
