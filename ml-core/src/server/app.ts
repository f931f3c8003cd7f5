/**
 * The inference app: SageMaker's hosting routes over one loaded predictor. It is a plain
 * node:http request handler; creating the server and listening happen in runtime/serve.ts, so
 * tests can mount the app on any server.
 *
 * Written on node:http directly rather than on a framework: on this workload (tiny bodies,
 * thousands of requests a second per core) routing and body handling are most of the cost, and a
 * hand-written handler measured faster than the frameworks' (bench/serve.mjs compares it with a
 * bare fixed-body node:http server).
 *
 *   GET  /ping                   200 with an empty body while serving; 503 while draining
 *   POST /invocations            CSV, JSON or JSON lines in; CSV, JSON or JSON lines out
 *   GET  /execution-parameters   batch transform's tuning hints
 *   /v2/...                      the Open Inference Protocol (KServe V2 REST): health, metadata,
 *                                inference (server/oip.ts, codec/oip.ts)
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { performance } from "node:perf_hooks";
import { CUSTOM_ATTRIBUTES_MAX_LENGTH, MODEL_IDENTITY_HEADER } from "../model/identity";
import type { Predictor } from "../model/predictor";
import { HttpError } from "../codec/errors";
import { MEDIA_TYPE, requestFormat, responseFormat, type Format } from "../codec/media-types";
import { REALTIME_MAX_PAYLOAD_BYTES, YIELD_AFTER_MS } from "./limits";
import { createLogger, type Logger } from "./logger";
import { DEFAULT_SLICE_ROWS, Scorer, type RowCount } from "../codec/scoring";
import { inferenceResponse, modelMetadata, parseInferenceRequest, type ModelRef } from "../codec/oip";
import { DEFAULT_MODEL_NAME, isOipProbe, matchOipRoute, modelNameProblem, ROUTE_LIST, SERVER_METADATA, type OipRoute } from "./oip";

/** What GET /execution-parameters answers, in the container spelling SageMaker expects. */
export interface ExecutionParameters {
  readonly MaxConcurrentTransforms: number;
  readonly BatchStrategy: "MULTI_RECORD" | "SINGLE_RECORD";
  readonly MaxPayloadInMB: number;
}

export interface AppOptions {
  readonly predictor: Predictor;
  /** @default - a logger at info level on stdout */
  readonly logger?: Logger;
  /** Largest request body accepted, in bytes; Infinity for none. @default 6 MiB (real-time limit) */
  readonly maxPayloadBytes?: number;
  /** @default - MaxConcurrentTransforms 1, MULTI_RECORD, MaxPayloadInMB 6 */
  readonly executionParameters?: ExecutionParameters;
  /** Response format when the request has no Accept (or `*` / `*`). @default - the request's format */
  readonly defaultAccept?: Format;
  /**
   * The served model's identity (model/identity.ts), sent in the X-Amzn-SageMaker-Custom-Attributes
   * header of every response. @default - no header
   */
  readonly modelIdentity?: string;
  /**
   * The model's name in the Open Inference Protocol's routes (`/v2/models/{name}/...`); its
   * version there is `modelIdentity`. @default "model"
   */
  readonly oipModelName?: string;
  /** Rows scored between checks of the yield budget. @default 2048 */
  readonly sliceRows?: number;
  /** Longest stretch of scoring before yielding to the event loop. @default 20 ms */
  readonly yieldAfterMs?: number;
}

export interface App {
  /** The `request` listener. */
  readonly handle: (req: IncomingMessage, res: ServerResponse) => void;
  /** The `checkContinue` listener: refuses an oversized body before the client sends it. */
  readonly checkContinue: (req: IncomingMessage, res: ServerResponse) => void;
  /** Starts shutting down: /ping fails, and every response closes its connection. */
  drain(): void;
  readonly draining: boolean;
  /** Requests received and not yet answered. */
  readonly inFlight: number;
}

/**
 * How much of an oversized body is read and thrown away before answering 413. Answering while the
 * client is still sending makes many clients see a reset instead of the 413, so moderate excess is
 * drained; beyond this the connection is closed.
 */
const DISCARD_LIMIT_BYTES = 64 * 1024 * 1024;

const TEXT = "text/plain; charset=utf-8";
/** The access log's `path` of the common routes, serialized once. */
const INVOCATIONS_JSON = JSON.stringify("/invocations");
const PING_JSON = JSON.stringify("/ping");
const CONTENT_TYPE_OUT: Readonly<Record<Format, string>> = {
  csv: "text/csv; charset=utf-8",
  json: MEDIA_TYPE.json,
  jsonlines: MEDIA_TYPE.jsonlines,
};

export function createApp(options: AppOptions): App {
  const logger = options.logger ?? createLogger();
  const maxPayloadBytes = options.maxPayloadBytes ?? REALTIME_MAX_PAYLOAD_BYTES;
  const executionParameters = JSON.stringify(options.executionParameters ?? { MaxConcurrentTransforms: 1, BatchStrategy: "MULTI_RECORD", MaxPayloadInMB: 6 });
  const scorer = new Scorer(options.predictor, options.sliceRows ?? DEFAULT_SLICE_ROWS);
  // A body this small holds at most one slice of rows (a row takes at least two bytes, its value
  // and a line break), which the generator path would also score without yielding; so it is
  // scored in one call, without the generators' machinery.
  const oneSliceBytes = 2 * scorer.sliceRows;
  const yieldAfterMs = options.yieldAfterMs ?? YIELD_AFTER_MS;
  const identity = options.modelIdentity;
  if (identity !== undefined && (identity.length > CUSTOM_ATTRIBUTES_MAX_LENGTH || !/^[\t\x20-\x7e]*$/.test(identity))) {
    throw new RangeError(`modelIdentity must be at most ${CUSTOM_ATTRIBUTES_MAX_LENGTH} visible US-ASCII characters (SageMaker's CustomAttributes limit)`);
  }
  const oipName = options.oipModelName ?? DEFAULT_MODEL_NAME;
  const nameProblem = modelNameProblem(oipName);
  if (nameProblem !== undefined) throw new RangeError(`oipModelName ${nameProblem}`);
  const oipModel: ModelRef = { name: oipName, version: identity };
  const serverMetadata = JSON.stringify(SERVER_METADATA);
  const oipModelMetadata = JSON.stringify(modelMetadata(options.predictor, oipModel));
  const logRequests = logger.enabled("info");
  const logPings = logger.enabled("debug");
  let draining = false;
  let inFlight = 0;
  const responseClosed = (): void => {
    inFlight--;
  };

  /** Counts a request in flight until its response is sent or its connection dies. */
  function track(res: ServerResponse): void {
    inFlight++;
    // `on` with one shared listener: a response closes once, and `once` wraps a new closure per call.
    res.on("close", responseClosed);
  }

  /** Writes a complete response and the access log line. */
  function send(req: IncomingMessage, res: ServerResponse, started: number, status: number, type: string, body: string | Uint8Array, extra?: RequestLog): void {
    if (res.headersSent || res.destroyed) return;
    const length = Buffer.byteLength(body);
    const headers: Record<string, string | number> = { "Content-Type": type, "Content-Length": length };
    if (identity !== undefined) headers[MODEL_IDENTITY_HEADER] = identity;
    if (draining || extra?.close === true) headers.Connection = "close";
    if (extra?.headers) Object.assign(headers, extra.headers);
    res.writeHead(status, headers);
    res.end(body);
    const url = req.url ?? "";
    const isPing = url === "/ping" || (url !== "/invocations" && isOipProbe(url));
    if (status >= 500) {
      logger.error("request failed", {
        method: req.method,
        path: req.url,
        status,
        ms: Number(elapsed(started)),
        bytesIn: extra?.bytesIn ?? 0,
        error: extra?.error,
      });
    } else if (isPing ? logPings : logRequests) {
      // Serialized by hand: this line is written for every request.
      const path = url === "/invocations" ? INVOCATIONS_JSON : url === "/ping" ? PING_JSON : JSON.stringify(url);
      let members = `"method":"${req.method ?? ""}","path":${path},"status":${status},"ms":${elapsed(started)},"bytesIn":${extra?.bytesIn ?? 0},"bytesOut":${length}`;
      if (extra?.rows !== undefined) members += `,"rows":${extra.rows}`;
      if (extra?.error !== undefined) members += `,"error":${JSON.stringify(extra.error instanceof Error ? extra.error.message : String(extra.error))}`;
      logger.line(isPing ? "debug" : "info", "request", members);
    }
  }

  /** The error's status and message: as text, or as the Open Inference Protocol's `{"error": ...}` when `json`. */
  function sendError(req: IncomingMessage, res: ServerResponse, started: number, err: unknown, extra: RequestLog = {}, json = false): void {
    if (err instanceof HttpError) {
      const body = json ? JSON.stringify({ error: err.message }) : err.message + "\n";
      send(req, res, started, err.status, json ? MEDIA_TYPE.json : TEXT, body, { ...extra, headers: err.headers, error: err.message });
    } else {
      // A bug, not the client's doing: the details go to the log only.
      send(req, res, started, 500, json ? MEDIA_TYPE.json : TEXT, json ? '{"error":"internal server error"}' : "internal server error\n", {
        ...extra,
        error: err,
      });
    }
  }

  function invocations(req: IncomingMessage, res: ServerResponse, started: number): void {
    let input: Format;
    let output: Format;
    try {
      input = requestFormat(requestHeader(req, "content-type"));
      output = responseFormat(requestHeader(req, "accept", true), options.defaultAccept ?? input);
    } catch (e) {
      return receive(req, res, started, e, false, ignoreBody);
    }
    receive(req, res, started, undefined, false, (body, size) => scoreBody(req, res, started, body, size, input, output));
  }

  /**
   * Reads the body within the payload limit and hands it to `then`; answers 413 itself, and
   * `early` (an error found in the headers) once the body has been read. Errors are JSON when `json`.
   */
  function receive(
    req: IncomingMessage,
    res: ServerResponse,
    started: number,
    early: unknown,
    json: boolean,
    then: (body: Buffer, size: number) => void,
  ): void {
    const declared = contentLength(req);
    if (declared > maxPayloadBytes + DISCARD_LIMIT_BYTES) {
      sendError(req, res, started, tooLarge(maxPayloadBytes), { close: true }, json);
      res.once("finish", () => req.socket.destroySoon());
      return;
    }
    let chunks: Buffer[] | undefined = early === undefined && declared <= maxPayloadBytes ? [] : undefined;
    let size = 0;
    let overflow = declared > maxPayloadBytes;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxPayloadBytes && !overflow) {
        overflow = true;
        chunks = undefined;
      }
      if (chunks !== undefined) chunks.push(chunk);
      else if (overflow && size > maxPayloadBytes + DISCARD_LIMIT_BYTES) {
        sendError(req, res, started, tooLarge(maxPayloadBytes), { close: true, bytesIn: size }, json);
        req.socket.destroySoon();
      }
    });
    // The client went away mid-body; there is no one to answer.
    req.on("error", () => res.destroy());
    req.on("end", () => {
      if (overflow) return sendError(req, res, started, tooLarge(maxPayloadBytes), { bytesIn: size }, json);
      if (early !== undefined || chunks === undefined) return sendError(req, res, started, early, { bytesIn: size }, json);
      then(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size), size);
    });
  }

  function scoreBody(req: IncomingMessage, res: ServerResponse, started: number, body: Buffer, size: number, input: Format, output: Format): void {
    const count: RowCount = { rows: 0 };
    if (size <= oneSliceBytes) {
      let bytes: Uint8Array;
      try {
        bytes = scorer.scoreAll(body, input, output, count);
      } catch (e) {
        return sendError(req, res, started, e, { bytesIn: size, rows: count.rows });
      }
      return send(req, res, started, 200, CONTENT_TYPE_OUT[output], bytes, { bytesIn: size, rows: count.rows });
    }
    let parts: Generator<string, void, undefined>;
    try {
      parts = scorer.score(body, input, output, count);
    } catch (e) {
      return sendError(req, res, started, e, { bytesIn: size });
    }
    pump(req, res, started, parts, [], count, size, CONTENT_TYPE_OUT[output], false);
  }

  /** The Open Inference Protocol's routes (server/oip.ts). */
  function oip(req: IncomingMessage, res: ServerResponse, started: number, path: string, method: string | undefined): void {
    let route: OipRoute | undefined;
    try {
      route = matchOipRoute(path);
    } catch (e) {
      return discardThen(req, res, started, e as HttpError, true);
    }
    if (route === undefined)
      return discardThen(req, res, started, new HttpError(404, `no route ${method ?? ""} ${path}; Open Inference Protocol routes: ${ROUTE_LIST}`), true);
    const post = route.kind === "infer";
    if (post ? method !== "POST" : method !== "GET" && method !== "HEAD")
      return discardThen(req, res, started, methodNotAllowed(post ? "POST" : "GET, HEAD"), true);
    if ("name" in route) {
      if (route.name !== oipModel.name) {
        return discardThen(
          req,
          res,
          started,
          new HttpError(404, `unknown model ${JSON.stringify(route.name)}; this server serves ${JSON.stringify(oipModel.name)}`),
          true,
        );
      }
      if (route.version !== undefined && route.version !== oipModel.version) {
        const known = oipModel.version === undefined ? "it has no versions" : `its version is ${JSON.stringify(oipModel.version)}`;
        return discardThen(
          req,
          res,
          started,
          new HttpError(404, `model ${JSON.stringify(route.name)} has no version ${JSON.stringify(route.version)}; ${known}`),
          true,
        );
      }
    }
    switch (route.kind) {
      case "live":
        return send(req, res, started, 200, TEXT, "");
      case "ready":
      case "modelReady":
        // The port opens once the model is loaded, so only draining makes it false.
        return send(req, res, started, draining ? 400 : 200, TEXT, "");
      case "server":
        return send(req, res, started, 200, MEDIA_TYPE.json, serverMetadata);
      case "model":
        return send(req, res, started, 200, MEDIA_TYPE.json, oipModelMetadata);
      case "infer":
        return infer(req, res, started);
    }
  }

  function infer(req: IncomingMessage, res: ServerResponse, started: number): void {
    // Triton's binary tensor extension sends a JSON header followed by raw tensor bytes.
    const binary = requestHeader(req, "inference-header-content-length") !== undefined;
    const early = binary
      ? new HttpError(400, "binary tensor data (Inference-Header-Content-Length) is not supported; send the tensors' data as JSON")
      : undefined;
    receive(req, res, started, early, true, (body, size) => {
      const count: RowCount = { rows: 0 };
      let parts: Generator<string, void, undefined>;
      try {
        parts = inferenceResponse(scorer, parseInferenceRequest(body, scorer.schema), oipModel, count);
      } catch (e) {
        return sendError(req, res, started, e, { bytesIn: size }, true);
      }
      pump(req, res, started, parts, [], count, size, MEDIA_TYPE.json, true);
    });
  }

  /**
   * Runs the scoring generator until done, yielding to the event loop whenever a stretch of work
   * exceeds the budget, so /ping and small requests are served in between.
   */
  function pump(
    req: IncomingMessage,
    res: ServerResponse,
    started: number,
    parts: Generator<string, void, undefined>,
    out: string[],
    count: RowCount,
    bytesIn: number,
    type: string,
    json: boolean,
  ): void {
    const sliceStart = performance.now();
    try {
      for (;;) {
        const step = parts.next();
        if (step.done === true) break;
        out.push(step.value);
        if (performance.now() - sliceStart > yieldAfterMs) {
          if (res.destroyed) return;
          setImmediate(pump, req, res, started, parts, out, count, bytesIn, type, json);
          return;
        }
      }
    } catch (e) {
      return sendError(req, res, started, e, { bytesIn, rows: count.rows }, json);
    }
    send(req, res, started, 200, type, out.length === 1 ? out[0]! : out.join(""), { bytesIn, rows: count.rows });
  }

  function handle(req: IncomingMessage, res: ServerResponse): void {
    const started = performance.now();
    track(res);
    try {
      const url = req.url ?? "/";
      const q = url.indexOf("?");
      const path = q < 0 ? url : url.slice(0, q);
      const method = req.method;
      switch (path) {
        case "/invocations":
          if (method === "POST") return invocations(req, res, started);
          return discardThen(req, res, started, methodNotAllowed("POST"));
        case "/ping":
          if (method === "GET" || method === "HEAD") {
            if (draining) return send(req, res, started, 503, TEXT, "shutting down\n");
            return send(req, res, started, 200, TEXT, "");
          }
          return discardThen(req, res, started, methodNotAllowed("GET, HEAD"));
        case "/execution-parameters":
          if (method === "GET" || method === "HEAD") return send(req, res, started, 200, MEDIA_TYPE.json, executionParameters);
          return discardThen(req, res, started, methodNotAllowed("GET, HEAD"));
        default:
          if (path === "/v2" || path.startsWith("/v2/")) return oip(req, res, started, path, method);
          return discardThen(
            req,
            res,
            started,
            new HttpError(
              404,
              `no route ${method ?? ""} ${path}; routes: GET /ping, POST /invocations, GET /execution-parameters, and the Open Inference Protocol's under /v2`,
            ),
          );
      }
    } catch (e) {
      sendError(req, res, started, e);
    }
  }

  /** Reads and drops any body, then answers with `err` (keeps the connection usable). */
  function discardThen(req: IncomingMessage, res: ServerResponse, started: number, err: HttpError, json = false): void {
    if (req.complete) return sendError(req, res, started, err, {}, json);
    req.on("error", () => res.destroy());
    req.on("end", () => sendError(req, res, started, err, {}, json));
    req.resume();
  }

  function checkContinue(req: IncomingMessage, res: ServerResponse): void {
    if (contentLength(req) > maxPayloadBytes) {
      // The client waits for 100 Continue before sending the body; refusing now saves sending it.
      track(res);
      sendError(req, res, performance.now(), tooLarge(maxPayloadBytes), { close: true });
      return;
    }
    res.writeContinue();
    handle(req, res);
  }

  return {
    handle,
    checkContinue,
    drain() {
      draining = true;
    },
    get draining() {
      return draining;
    },
    get inFlight() {
      return inFlight;
    },
  };
}

interface RequestLog {
  bytesIn?: number;
  rows?: number;
  error?: unknown;
  close?: boolean;
  headers?: Readonly<Record<string, string>>;
}

/** Milliseconds since `started` with three decimals, as JSON number text (cheaper than a double's). */
function elapsed(started: number): string {
  const us = Math.round((performance.now() - started) * 1000);
  const frac = us % 1000;
  return `${(us - frac) / 1000}.${frac < 10 ? "00" : frac < 100 ? "0" : ""}${frac}`;
}

/**
 * A request header by its lower-case name, read from `rawHeaders`: `req.headers` builds an object
 * of every header on first use, which cost 6% of one-row throughput (measured on a bare server).
 * Repeated headers as Node's `headers` has them: the first value, or with `join` (Accept) all of
 * them joined by ", ".
 */
function requestHeader(req: IncomingMessage, name: string, join = false): string | undefined {
  const raw = req.rawHeaders;
  let value: string | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    const key = raw[i]!;
    if (key.length !== name.length || key.toLowerCase() !== name) continue;
    if (!join) return raw[i + 1];
    value = value === undefined ? raw[i + 1] : `${value}, ${raw[i + 1]}`;
  }
  return value;
}

function ignoreBody(): void {
  // The request already failed; `receive` answers with its error once the body is read.
}

function contentLength(req: IncomingMessage): number {
  const header = requestHeader(req, "content-length");
  if (header === undefined) return 0;
  const n = Number(header);
  return Number.isFinite(n) ? n : 0;
}

function tooLarge(limit: number): HttpError {
  const mb = Math.round((limit / (1024 * 1024)) * 100) / 100;
  return new HttpError(413, `request body exceeds ${mb} MB; send fewer rows per request (batch transform: lower MaxPayloadInMB)`);
}

function methodNotAllowed(allow: string): HttpError {
  return new HttpError(405, `method not allowed; use ${allow}`, { Allow: allow });
}
