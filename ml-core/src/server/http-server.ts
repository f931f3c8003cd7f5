/**
 * The HTTP server around the app (app.ts), without a listener: keep-alive and request timeouts for
 * SageMaker's proxies, and answers to unparseable HTTP. runtime/serve.ts listens on it; tests mount
 * the same server on an ephemeral loopback port.
 */
import * as http from "node:http";
import type { App } from "./app";
import { KEEP_ALIVE_TIMEOUT_MS } from "./limits";
import type { Logger } from "./logger";

export interface HttpServerOptions {
  /** Longest time to receive a whole request, in ms. */
  readonly requestTimeoutMs: number;
}

export function createHttpServer(app: App, logger: Logger, options: HttpServerOptions): http.Server {
  const server = http.createServer();
  server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
  // headersTimeout must stay below requestTimeout (Node checks both on one timer).
  server.requestTimeout = options.requestTimeoutMs;
  server.headersTimeout = Math.min(60_000, options.requestTimeoutMs);
  server.on("request", app.handle);
  server.on("checkContinue", app.checkContinue);
  server.on("clientError", (err: NodeJS.ErrnoException, socket) => {
    // Unparseable HTTP: answer like Node's default handler would, and note it at debug level.
    logger.debug("client error", { code: err.code, message: err.message });
    if (!socket.writable || (err.code === "ECONNRESET" && socket.destroyed)) return socket.destroy();
    const status =
      err.code === "HPE_HEADER_OVERFLOW"
        ? "431 Request Header Fields Too Large"
        : err.code === "ERR_HTTP_REQUEST_TIMEOUT"
          ? "408 Request Timeout"
          : "400 Bad Request";
    socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
  });
  return server;
}
