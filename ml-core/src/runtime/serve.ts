/**
 * `ml-core serve`: the SageMaker hosting contract around the inference app (server/app.ts).
 *
 * - Reads the model from `<SAGEMAKER_BASE_DIR or /opt/ml>/model`, then listens on
 *   SAGEMAKER_BIND_TO_PORT (default 8080) on all interfaces. The port opens only once the model is
 *   loaded, so a 200 from /ping always means "ready to score".
 * - SAGEMAKER_MODEL_SERVER_WORKERS processes (default: one per CPU) share the port through
 *   node:cluster; the primary only supervises.
 * - SIGTERM (instance replacement) drains: stop accepting, finish in-flight requests, exit 0 —
 *   within SageMaker's 30 s before SIGKILL.
 * - Batch transform (SAGEMAKER_BATCH=true) sets the payload limit from SAGEMAKER_MAX_PAYLOAD_IN_MB
 *   and the answers of GET /execution-parameters.
 * - The Open Inference Protocol's routes (/v2/...) serve the model as ML_CORE_MODEL_NAME or
 *   --model-name (default "model").
 *
 * This is the only file of the server that reads the environment.
 */
import cluster, { type Worker } from "node:cluster";
import * as os from "node:os";
import * as path from "node:path";
import { performance } from "node:perf_hooks";
import { Command, Option } from "commander";
import { loadServedModel, ModelFormatError, type ServedModel } from "../model/load";
import type { Predictor } from "../model/predictor";
import { createApp, type ExecutionParameters } from "../server/app";
import { createHttpServer } from "../server/http-server";
import {
  BATCH_DEFAULT_MAX_PAYLOAD_MB,
  BATCH_MAX_PAYLOAD_MB_LIMIT,
  BATCH_RESPONSE_TIMEOUT_MS,
  DEFAULT_DRAIN_TIMEOUT_MS,
  MAX_CONCURRENT_TRANSFORMS_LIMIT,
  REALTIME_MAX_PAYLOAD_BYTES,
  REALTIME_RESPONSE_TIMEOUT_MS,
} from "../server/limits";
import { createLogger, parseLogLevel, type LogLevel } from "../server/logger";
import { DEFAULT_MODEL_NAME, modelNameProblem } from "../server/oip";
import { requestFormat, type Format } from "../codec/media-types";

/** SageMaker's base directory and its override (sagemaker-training-toolkit's BASE_PATH_ENV). */
export const DEFAULT_BASE_DIR = "/opt/ml";
export const DEFAULT_PORT = 8080;
export const DEFAULT_HOST = "0.0.0.0";
const MAX_WORKERS = 256;
const MB = 1024 * 1024;

export interface ServeConfig {
  readonly modelDir: string;
  readonly host: string;
  readonly port: number;
  readonly workers: number;
  readonly batch: boolean;
  /** Largest request body in bytes; Infinity when batch transform sets MaxPayloadInMB to 0. */
  readonly maxPayloadBytes: number;
  readonly executionParameters: ExecutionParameters;
  readonly defaultAccept: Format | undefined;
  readonly logLevel: LogLevel;
  /** Longest time to receive a whole request. */
  readonly requestTimeoutMs: number;
  readonly drainTimeoutMs: number;
  /** The model's name in the Open Inference Protocol's routes. */
  readonly modelName: string;
}

/** Command-line overrides, for running outside a container. */
export interface ServeFlags {
  readonly modelDir?: string;
  readonly host?: string;
  readonly port?: string;
  readonly workers?: string;
  readonly modelName?: string;
}

/**
 * The serving configuration from the environment SageMaker sets and any flags (flags win).
 * Collects every problem and throws once, one line per bad setting.
 */
export function resolveServeConfig(env: NodeJS.ProcessEnv, flags: ServeFlags = {}, cpus = os.availableParallelism()): ServeConfig {
  const problems: string[] = [];
  const int = (name: string, text: string | undefined, min: number, max: number, fallback: number): number => {
    if (text === undefined || text.trim() === "") return fallback;
    const n = Number(text);
    if (!Number.isInteger(n) || n < min || n > max) {
      problems.push(`${name} (${JSON.stringify(text)}) must be an integer from ${min} to ${max}`);
      return fallback;
    }
    return n;
  };

  const baseDir = env.SAGEMAKER_BASE_DIR?.trim() || DEFAULT_BASE_DIR;
  const modelDir = flags.modelDir ?? path.join(baseDir, "model");
  const port = int(flags.port !== undefined ? "--port" : "SAGEMAKER_BIND_TO_PORT", flags.port ?? env.SAGEMAKER_BIND_TO_PORT, 0, 65535, DEFAULT_PORT);
  const workers = int(
    flags.workers !== undefined ? "--workers" : "SAGEMAKER_MODEL_SERVER_WORKERS",
    flags.workers ?? env.SAGEMAKER_MODEL_SERVER_WORKERS,
    1,
    MAX_WORKERS,
    Math.max(1, cpus),
  );

  let batch = false;
  const batchText = env.SAGEMAKER_BATCH?.trim().toLowerCase();
  if (batchText === "true") batch = true;
  else if (batchText !== undefined && batchText !== "" && batchText !== "false") {
    problems.push(`SAGEMAKER_BATCH (${JSON.stringify(env.SAGEMAKER_BATCH)}) must be "true" or "false"`);
  }

  const payloadMb = int("SAGEMAKER_MAX_PAYLOAD_IN_MB", env.SAGEMAKER_MAX_PAYLOAD_IN_MB, 0, BATCH_MAX_PAYLOAD_MB_LIMIT, BATCH_DEFAULT_MAX_PAYLOAD_MB);
  const payloadSet = env.SAGEMAKER_MAX_PAYLOAD_IN_MB !== undefined && env.SAGEMAKER_MAX_PAYLOAD_IN_MB.trim() !== "";
  // The container variable is spelled MULTI_RECORD, the API enum MultiRecord; accept both.
  const strategyText = env.SAGEMAKER_BATCH_STRATEGY?.trim();
  let strategy: ExecutionParameters["BatchStrategy"] = "MULTI_RECORD";
  if (strategyText !== undefined && strategyText !== "") {
    const key = strategyText.replace(/_/g, "").toLowerCase();
    if (key === "multirecord") strategy = "MULTI_RECORD";
    else if (key === "singlerecord") strategy = "SINGLE_RECORD";
    else problems.push(`SAGEMAKER_BATCH_STRATEGY (${JSON.stringify(strategyText)}) must be MULTI_RECORD or SINGLE_RECORD`);
  }
  // One transform per worker keeps every core busy without queueing inside a worker.
  const concurrent = int(
    "SAGEMAKER_MAX_CONCURRENT_TRANSFORMS",
    env.SAGEMAKER_MAX_CONCURRENT_TRANSFORMS,
    1,
    MAX_CONCURRENT_TRANSFORMS_LIMIT,
    Math.min(workers, MAX_CONCURRENT_TRANSFORMS_LIMIT),
  );

  const logLevel = parseLogLevel(env.LOG_LEVEL);
  if (logLevel === undefined) problems.push(`LOG_LEVEL (${JSON.stringify(env.LOG_LEVEL)}) must be one of debug, info, warn, error, silent`);

  // sagemaker-inference-toolkit's variables, honoured for users coming from its containers.
  let defaultAccept: Format | undefined;
  const acceptText = env.SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT?.trim();
  if (acceptText !== undefined && acceptText !== "") {
    try {
      defaultAccept = requestFormat(acceptText);
    } catch {
      problems.push(`SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT (${JSON.stringify(acceptText)}) must be text/csv, application/json or application/jsonlines`);
    }
  }
  const defaultTimeoutS = (batch ? BATCH_RESPONSE_TIMEOUT_MS : REALTIME_RESPONSE_TIMEOUT_MS) / 1000;
  const timeoutS = int("SAGEMAKER_MODEL_SERVER_TIMEOUT", env.SAGEMAKER_MODEL_SERVER_TIMEOUT, 1, 3600, defaultTimeoutS);

  const modelName = flags.modelName ?? (env.ML_CORE_MODEL_NAME?.trim() || DEFAULT_MODEL_NAME);
  const nameProblem = modelNameProblem(modelName);
  if (nameProblem !== undefined) problems.push(`${flags.modelName !== undefined ? "--model-name" : "ML_CORE_MODEL_NAME"} ${nameProblem}`);

  const host = flags.host ?? DEFAULT_HOST;
  if (host.trim() === "") problems.push(`--host ("") must be an address to listen on`);

  if (problems.length > 0) throw new ServeConfigError(problems);
  return {
    modelDir,
    host,
    port,
    workers,
    batch,
    maxPayloadBytes: payloadSet || batch ? (payloadMb === 0 ? Infinity : payloadMb * MB) : REALTIME_MAX_PAYLOAD_BYTES,
    executionParameters: { MaxConcurrentTransforms: concurrent, BatchStrategy: strategy, MaxPayloadInMB: payloadMb },
    defaultAccept,
    logLevel: logLevel ?? "info",
    requestTimeoutMs: timeoutS * 1000,
    drainTimeoutMs: DEFAULT_DRAIN_TIMEOUT_MS,
    modelName,
  };
}

export class ServeConfigError extends Error {
  override readonly name = "ServeConfigError";
  constructor(readonly problems: readonly string[]) {
    super(`invalid serving configuration:\n  ${problems.join("\n  ")}`);
  }
}

export interface ServeDeps {
  /** @default - the model directory's model.json through loadServedModel */
  readonly loadModel?: (modelDir: string) => ServedModel | Promise<ServedModel>;
}

/**
 * Runs the server until it is told to stop: the supervising primary when there is more than one
 * worker, the serving process otherwise (and in each worker). Never returns normally; the process
 * exits 0 after a clean drain, 1 on failure.
 */
export async function serve(config: ServeConfig, deps: ServeDeps = {}): Promise<void> {
  if (config.workers > 1 && cluster.isPrimary) return supervise(config);
  return runWorker(config, deps);
}

async function runWorker(config: ServeConfig, deps: ServeDeps): Promise<void> {
  const workerId = cluster.isWorker ? cluster.worker?.id : undefined;
  const logger = createLogger({ level: config.logLevel, base: workerId === undefined ? { pid: process.pid } : { pid: process.pid, worker: workerId } });
  const fail = (msg: string, err: unknown): never => {
    logger.error(msg, err === undefined ? undefined : { error: err });
    logger.flush();
    process.exit(1);
  };
  process.on("uncaughtException", (err) => fail("uncaught exception", err));
  process.on("unhandledRejection", (err) => fail("unhandled rejection", err));

  const loadStart = performance.now();
  let predictor: Predictor;
  let identity: string;
  try {
    ({ predictor, identity } = await (deps.loadModel ?? loadServedModel)(config.modelDir));
  } catch (e) {
    // A missing or invalid model is the operator's to fix, not a bug: the message says it all.
    return fail(`cannot load the model from ${config.modelDir}: ${(e as Error).message}`, e instanceof ModelFormatError ? undefined : e);
  }
  logger.info("model loaded", {
    modelDir: config.modelDir,
    objective: predictor.objective,
    features: predictor.features.length,
    classes: predictor.classes?.length ?? null,
    identity,
    ms: Math.round(performance.now() - loadStart),
  });

  const app = createApp({
    predictor,
    logger,
    maxPayloadBytes: config.maxPayloadBytes,
    executionParameters: config.executionParameters,
    defaultAccept: config.defaultAccept,
    modelIdentity: identity,
    oipModelName: config.modelName,
  });
  const server = createHttpServer(app, logger, { requestTimeoutMs: config.requestTimeoutMs });

  let stopping = false;
  const shutdown = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info("draining", { signal, inFlight: app.inFlight });
    app.drain();
    server.close(() => {
      logger.info("stopped", {});
      logger.flush();
      process.exit(0);
    });
    server.closeIdleConnections();
    setTimeout(() => {
      logger.warn("drain timed out; closing the remaining connections", { inFlight: app.inFlight, timeoutMs: config.drainTimeoutMs });
      server.closeAllConnections();
      logger.flush();
      process.exit(1);
    }, config.drainTimeoutMs).unref();
  };
  process.on("SIGTERM", () => shutdown("SIGTERM"));
  process.on("SIGINT", () => shutdown("SIGINT"));
  // A worker whose primary is gone has no one to supervise it.
  if (cluster.isWorker) process.on("disconnect", () => shutdown("disconnect"));

  server.on("error", (e) => fail(`cannot listen on ${config.host}:${config.port}: ${e.message}`, e));
  server.listen(config.port, config.host, () => {
    const address = server.address();
    const port = typeof address === "object" && address !== null ? address.port : config.port;
    logger.info("listening", {
      host: config.host,
      port,
      batch: config.batch,
      maxPayloadBytes: config.maxPayloadBytes === Infinity ? null : config.maxPayloadBytes,
    });
  });
}

/**
 * The primary of a multi-worker server: forks the workers, replaces one that dies, fails fast if
 * one cannot start (a bad model would otherwise restart forever), and on SIGTERM passes the signal
 * on and exits when every worker has drained.
 */
function supervise(config: ServeConfig): void {
  const logger = createLogger({ level: config.logLevel, base: { pid: process.pid, role: "primary" } });
  const started = new WeakSet<Worker>();
  const live = new Set<Worker>();
  const fork = (): void => {
    live.add(cluster.fork());
  };
  const restarts: number[] = [];
  let stopping = false;
  let failed = false;
  let ready = 0;

  cluster.on("listening", (worker, address) => {
    started.add(worker);
    ready++;
    if (ready === config.workers) logger.info("all workers listening", { workers: config.workers, port: address.port });
  });
  cluster.on("exit", (worker, code, signal) => {
    live.delete(worker);
    if (stopping) {
      if (code !== 0) failed = true;
      if (live.size === 0) {
        logger.info("stopped", { exitCode: failed ? 1 : 0 });
        logger.flush();
        process.exit(failed ? 1 : 0);
      }
      return;
    }
    if (!started.has(worker)) {
      logger.error("a worker failed to start; stopping", { worker: worker.id, code, signal });
      logger.flush();
      for (const w of live) w.process.kill("SIGKILL");
      process.exit(1);
    }
    ready--;
    const now = Date.now();
    restarts.push(now);
    while (restarts.length > 0 && restarts[0]! < now - 60_000) restarts.shift();
    if (restarts.length > 5) {
      logger.error("workers keep dying; stopping", { restartsInLastMinute: restarts.length });
      logger.flush();
      process.exit(1);
    }
    logger.error("worker died; starting a replacement", { worker: worker.id, code, signal });
    fork();
  });

  const shutdown = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info("draining", { signal, workers: live.size });
    if (live.size === 0) {
      logger.flush();
      process.exit(0);
    }
    for (const w of live) w.process.kill("SIGTERM");
    setTimeout(() => {
      logger.warn("workers did not drain in time; killing them", { timeoutMs: config.drainTimeoutMs });
      for (const w of live) w.process.kill("SIGKILL");
      logger.flush();
      process.exit(1);
    }, config.drainTimeoutMs + 2_000).unref();
  };
  process.on("SIGTERM", () => shutdown("SIGTERM"));
  process.on("SIGINT", () => shutdown("SIGINT"));

  logger.info("starting workers", { workers: config.workers, modelDir: config.modelDir });
  for (let i = 0; i < config.workers; i++) fork();
}

/** The `serve` command. */
export function serveCommand(deps: ServeDeps = {}): Command {
  return new Command("serve")
    .description(
      "Serve the model over HTTP as SageMaker hosting and batch transform expect (GET /ping, POST /invocations), and by the Open Inference Protocol (/v2/...)",
    )
    .option("--model-dir <dir>", "model directory (default: $SAGEMAKER_BASE_DIR/model, i.e. /opt/ml/model)")
    .option("--host <address>", "address to listen on", DEFAULT_HOST)
    .addOption(new Option("--port <port>", "port to listen on (default: $SAGEMAKER_BIND_TO_PORT or 8080; 0 picks a free one)"))
    .addOption(new Option("--workers <n>", "worker processes (default: $SAGEMAKER_MODEL_SERVER_WORKERS or one per CPU)"))
    .addOption(
      new Option("--model-name <name>", "the model's name in the Open Inference Protocol routes /v2/models/<name>/... (default: $ML_CORE_MODEL_NAME or model)"),
    )
    .action(async (opts: ServeFlags) => {
      await serve(resolveServeConfig(process.env, opts), deps);
    });
}
