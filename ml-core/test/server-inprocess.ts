/**
 * The inference app mounted in this process: the same app factory and HTTP server `ml-core serve`
 * uses, listening on an ephemeral loopback port, with its log lines kept in memory.
 */
import type * as http from "node:http";
import type { AddressInfo } from "node:net";
import { createApp, type App, type AppOptions } from "../src/server/app";
import { createHttpServer } from "../src/server/http-server";
import { createLogger, type LogLevel } from "../src/server/logger";

export interface MountedApp {
  readonly port: number;
  readonly app: App;
  readonly server: http.Server;
  /** The JSON log lines written so far (buffered access log lines included). */
  logs(): Record<string, unknown>[];
  close(): Promise<void>;
}

export async function mountApp(options: Omit<AppOptions, "logger"> & { logLevel?: LogLevel }): Promise<MountedApp> {
  let text = "";
  const logger = createLogger({ level: options.logLevel ?? "info", sink: (t) => (text += t) });
  const app = createApp({ ...options, logger });
  const server = createHttpServer(app, logger, { requestTimeoutMs: 60_000 });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  return {
    port: (server.address() as AddressInfo).port,
    app,
    server,
    logs: () => {
      logger.flush();
      return text
        .split("\n")
        .filter((l) => l.startsWith("{"))
        .map((l) => JSON.parse(l) as Record<string, unknown>);
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
