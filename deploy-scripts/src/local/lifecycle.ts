// The whole lifecycle on this machine, through the same code paths as the cloud: ml-core trains
// through the SageMaker container contract on an /opt/ml-shaped tree, the version is registered
// with the CreateModelPackage request `register` sends (into a file registry), ml-core serves it
// over HTTP as an endpoint's container would, and the cloud smoke test's client checks it.
import { spawn, type ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as net from "node:net";
import * as path from "node:path";
import { pathToFileURL } from "node:url";
import { DATASET_CHANNELS, FILES, VALIDATION_CHANNEL } from "@ml-platform/contract";
import { STATISTICS_FILE, loadServedModel, type DriftReport } from "@ml-platform/ml-core";
import type { StackSettings } from "../config/settings";
import { CliError } from "../errors";
import type { Output } from "../output";
import { metricGateFailures, parseMetricsJson, type Metrics } from "../registry/metrics";
import { META, type ModelVersion } from "../registry/model-version";
import { modelPackageInput } from "../registry/register";
import { runSmoke, type SmokeResult } from "../smoke/run";
import { sampleFromCsv } from "../smoke/sample";
import { httpTransport } from "../smoke/transports";
import { resolveHyperparameters } from "../training/hyperparameters";
import { hyperparameterSources } from "../training/job";
import { localFeatureDataset } from "../features/local";
import { contentDigest, LocalModelRegistry } from "./registry";
import { evaluateInContract, importedSample, placeImportedModel } from "./imported";
import { runMlCore } from "./ml-core-process";
import { capturingTransport, localDrift } from "../drift/local";
import { formatDriftTable } from "../drift/format";
import { trainFromSnapshot } from "./dataset";
import { lineageMetadata } from "../registry/lineage-metadata";

/** How long `ml-core serve` may take to answer /ping (SageMaker allows a container far longer). */
const STARTUP_TIMEOUT_MS = 30_000;
/** SageMaker sends SIGTERM and kills after 30 s; the server must be gone well before. */
const SHUTDOWN_TIMEOUT_MS = 30_000;

export interface LifecycleOptions {
  /** Where runs, models and the registry live (`.local/` in the repository). */
  readonly workDir: string;
  /** Directory with `train.csv` and `validation.csv` (header row, label column). */
  readonly dataDir: string;
  /** The stack whose training settings and promotion gates apply (its config, as in the cloud). */
  readonly stack: string;
  readonly settings: StackSettings;
  /** Rows the smoke test sends. */
  readonly smokeRows: number;
  /** `ml-core`'s launcher (bin/ml-core.js). */
  readonly mlCoreBin: string;
  readonly gitCommit: string;
  readonly out: Output;
  /** Train on the point-in-time training set of this feature set's local store instead of `dataDir`. */
  readonly features?: { readonly definition: string; readonly recordsFile: string; readonly repoRoot: string };
  /**
   * An XGBoost model trained elsewhere (JSON or UBJSON): imported, evaluated, registered and served
   * instead of training. `dataDir` then holds the data it was trained and is evaluated on, in
   * XGBoost's layout (label first).
   */
  readonly modelFile?: string;
  /** Run identifier (the training "job" name); a timestamp by default. */
  readonly runId?: string;
}

export interface LifecycleResult {
  readonly runId: string;
  readonly trainingDir: string;
  readonly modelDir: string;
  readonly metrics: Metrics;
  /** The dataset manifest the model was trained on (ml-core verified its files). */
  readonly manifestId: string;
  /** Promotion gates of the stack the model misses (empty: it would be deployable there). */
  readonly gateFailures: string[];
  readonly version: ModelVersion;
  readonly registryDir: string;
  readonly endpoint: string;
  readonly smoke: SmokeResult;
  /** The smoke requests, captured as an endpoint's data capture, against the training baseline (absent for an imported model). */
  readonly drift?: DriftReport;
  readonly secondsByStep: Record<string, number>;
}

export async function runLocalLifecycle(opts: LifecycleOptions): Promise<LifecycleResult> {
  const { out, settings } = opts;
  const training = settings.training;
  if (!training) throw new CliError(`stack "${opts.stack}" has no mlPlatform:training settings to train with`);
  // The same check as before a cloud job: a bad key is named with its stack, not by a failed run.
  const resolved = resolveHyperparameters(opts.stack, hyperparameterSources(opts.stack, training)).values;
  const features = opts.features && (await localFeatureDataset({ ...opts.features, workDir: opts.workDir, out }));
  const hyperparameters = { ...resolved, ...features?.hyperparameters };
  const dataDir = features?.dataDir ?? opts.dataDir;
  const label = hyperparameters.label;
  const runId = opts.runId ?? `${settings.modelName}-local-${timestamp(new Date())}`;
  const base = path.join(opts.workDir, "runs", runId, "opt", "ml");
  const timings: Record<string, number> = {};
  const timed = async <T>(step: string, fn: () => Promise<T>): Promise<T> => {
    const start = performance.now();
    try {
      return await fn();
    } finally {
      timings[step] = Math.round((performance.now() - start) / 100) / 10;
    }
  };

  const modelDir = path.join(base, "model");
  const modelFile = opts.modelFile;
  const { datasetHash, dataset } = modelFile
    ? await timed("import", async () => {
        out.step(`Importing ${modelFile} as SageMaker's XGBoost container leaves it (${modelDir})`);
        const hash = prepareTrainingTree(base, dataDir, hyperparameters);
        const dataset = await trainFromSnapshot(opts.workDir, dataDir, base, out);
        placeImportedModel(modelFile, modelDir);
        out.step("Evaluating it on the validation channel with ml-core evaluate");
        await evaluateInContract(opts.mlCoreBin, modelDir, path.join(base, "input", "data", VALIDATION_CHANNEL), out);
        return { datasetHash: hash, dataset };
      })
    : await timed("train", async () => {
        out.step(`Training ${runId} through the SageMaker training contract (${base})`);
        const hash = prepareTrainingTree(base, dataDir, hyperparameters);
        const dataset = await trainFromSnapshot(opts.workDir, dataDir, base, out);
        await trainInContainerContract(opts.mlCoreBin, base, out);
        return { datasetHash: hash, dataset };
      });

  out.step("Evaluating on the validation channel");
  const metrics = parseMetricsJson(fs.readFileSync(path.join(modelDir, FILES.metrics), "utf8"));
  // What ml-core serve will answer with, as register records it from model.tar.gz in the cloud.
  const identity = loadServedModel(modelDir).identity;
  for (const [name, value] of Object.entries(metrics).filter(([k]) => k.startsWith(`${VALIDATION_CHANNEL}:`))) out.info(`${name} = ${value.toFixed(4)}`);
  const gateFailures = metricGateFailures(metrics, settings.promotion, opts.stack);
  if (gateFailures.length === 0) out.info(`meets ${opts.stack}'s promotion gates`);
  for (const failure of gateFailures) out.warn(failure);

  out.step("Registering the version in the local model registry");
  const registryDir = path.join(opts.workDir, "registry");
  const registry = new LocalModelRegistry(registryDir);
  const approved = gateFailures.length === 0 && !settings.promotion.requireApproval;
  // No container image is built here: the "image" is the ml-core code that ran, by digest.
  const image = `local/ml-core@${contentDigest(path.join(path.dirname(opts.mlCoreBin), "..", "dist"))}`;
  // An imported model was not trained with the stack's hyperparameters: it records none.
  const hpStrings = modelFile ? {} : Object.fromEntries(Object.entries(hyperparameters).map(([k, v]) => [k, String(v)]));
  const version = await timed("register", async () =>
    registry.register(
      modelPackageInput({
        group: `${settings.modelName}-local`,
        description: modelFile
          ? `${settings.modelName} imported locally from ${path.basename(modelFile)} by ${runId}`
          : `${settings.modelName} trained locally by ${runId}`,
        image,
        modelDataUrl: fileUrl(modelDir),
        metrics,
        metricsReportUri: fileUrl(path.join(modelDir, FILES.metrics)),
        approval: approved ? "Approved" : "PendingManualApproval",
        gitCommit: opts.gitCommit,
        generatedBy: "ml-deploy local",
        metadata: {
          trainingJobName: runId,
          datasetUri: fileUrl(dataDir),
          datasetHash,
          stack: "local",
          [META.modelIdentity]: identity,
          ...lineageMetadata({ manifestId: dataset.id, manifestUri: dataset.uri, image, hyperparameters: hpStrings, trainingJobArn: runId }),
          ...features?.metadata,
        },
        idempotencyKey: `local/${runId}`,
      }),
    ),
  );
  out.info(`${version.arn} (${version.approval}), trained on dataset manifest ${dataset.id}`);

  out.step("Serving it with ml-core serve, as an endpoint's container");
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  const server = await timed("serve", () => startServer(opts.mlCoreBin, base, port, out));
  let smoke: SmokeResult;
  const captureDir = path.join(opts.workDir, "runs", runId, "data-capture");
  try {
    out.info(`listening on ${endpoint}`);
    out.step(`Smoke-testing ${endpoint} with the cloud smoke test's client`);
    const validation = fs.readFileSync(path.join(dataDir, `${VALIDATION_CHANNEL}.csv`), "utf8");
    const sample = modelFile ? importedSample(validation, opts.smokeRows) : sampleFromCsv(validation, { label, maxRows: opts.smokeRows });
    // The registered identity must be what answers: the same check as a promotion's smoke test.
    smoke = await timed("smoke", () =>
      runSmoke(capturingTransport(httpTransport(endpoint), captureDir, runId), sample, {
        maxLatencyMs: settings.promotion.smokeMaxLatencyMs,
        expectedIdentity: version.metadata[META.modelIdentity],
      }),
    );
    for (const r of smoke.requests) out.info(`${r.name}: ${r.latencyMs} ms${r.problems.length ? ` - ${r.problems.join("; ")}` : ""}`);
  } finally {
    out.step("Stopping the server (SIGTERM, as SageMaker does)");
    await stopServer(server);
  }
  if (!smoke.passed) throw new CliError("the local smoke test failed", { details: [...smoke.problems] });
  // A model trained elsewhere comes without ml-core's baseline of its training data.
  const drift = fs.existsSync(path.join(modelDir, STATISTICS_FILE)) ? await localDrift(modelDir, captureDir) : undefined;
  if (drift) {
    out.step(`Drift of the captured requests (${captureDir}) against the training baseline`);
    for (const line of formatDriftTable(drift)) out.info(line);
  } else out.info(`no drift table: ${modelDir} has no training baseline (${STATISTICS_FILE}), which only ml-core train writes`);

  return {
    runId,
    trainingDir: base,
    modelDir,
    metrics,
    manifestId: dataset.id,
    gateFailures,
    version,
    registryDir,
    endpoint,
    smoke,
    drift,
    secondsByStep: timings,
  };
}

/**
 * Lays out /opt/ml as SageMaker does before `docker run IMAGE train`: hyperparameters (every value
 * a string), the channel descriptions, the resource config, and each channel's files. Returns the
 * dataset's digest.
 */
export function prepareTrainingTree(base: string, dataDir: string, hyperparameters: Record<string, string | number | boolean>): string {
  const config = path.join(base, "input", "config");
  fs.mkdirSync(config, { recursive: true });
  fs.mkdirSync(path.join(base, "output"), { recursive: true });
  fs.writeFileSync(
    path.join(config, "hyperparameters.json"),
    JSON.stringify(Object.fromEntries(Object.entries(hyperparameters).map(([k, v]) => [k, String(v)]))),
  );
  const channel = { ContentType: "text/csv", TrainingInputMode: "File", S3DistributionType: "FullyReplicated", RecordWrapperType: "None" };
  fs.writeFileSync(path.join(config, "inputdataconfig.json"), JSON.stringify(Object.fromEntries(DATASET_CHANNELS.map((c) => [c, channel]))));
  fs.writeFileSync(path.join(config, "resourceconfig.json"), JSON.stringify({ current_host: "algo-1", hosts: ["algo-1"], network_interface_name: "eth0" }));
  const hash = createHash("sha256");
  for (const name of DATASET_CHANNELS) {
    const source = path.join(dataDir, `${name}.csv`);
    if (!fs.existsSync(source)) throw new CliError(`the ${name} channel's data is missing: ${source}`);
    const target = path.join(base, "input", "data", name);
    fs.mkdirSync(target, { recursive: true });
    fs.copyFileSync(source, path.join(target, `${name}.csv`));
    hash.update(name).update(fs.readFileSync(source));
  }
  return `sha256:${hash.digest("hex")}`;
}

/** `docker run IMAGE train`, minus Docker: the same entrypoint, with the base directory moved. */
async function trainInContainerContract(mlCoreBin: string, base: string, out: Output): Promise<void> {
  const { code } = await runMlCore(mlCoreBin, ["train"], out, {
    SAGEMAKER_BASE_DIR: base,
    TRAINING_JOB_NAME: path.basename(path.dirname(path.dirname(base))),
  });
  if (code === 0) return;
  const failureFile = path.join(base, "output", "failure");
  const reason = fs.existsSync(failureFile) ? fs.readFileSync(failureFile, "utf8").trim() : `ml-core train exited with code ${code}`;
  throw new CliError(`training failed: ${reason}`);
}

interface RunningServer {
  readonly child: ChildProcess;
  readonly exited: Promise<number | null>;
}

async function startServer(mlCoreBin: string, base: string, port: number, out: Output): Promise<RunningServer> {
  const child = spawn(process.execPath, [mlCoreBin, "serve"], {
    env: { ...process.env, SAGEMAKER_BASE_DIR: base, SAGEMAKER_BIND_TO_PORT: String(port), SAGEMAKER_MODEL_SERVER_WORKERS: "1", LOG_LEVEL: "warn" },
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  const deadline = Date.now() + STARTUP_TIMEOUT_MS;
  for (;;) {
    if (child.exitCode !== null)
      throw new CliError(`ml-core serve exited with code ${child.exitCode} before answering /ping`, { details: stderr.split("\n").filter(Boolean) });
    try {
      const res = await fetch(`http://127.0.0.1:${port}/ping`, { signal: AbortSignal.timeout(2000) });
      if (res.status === 200) return { child, exited };
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new CliError(`ml-core serve did not answer /ping within ${STARTUP_TIMEOUT_MS / 1000} s`);
    }
    out.info("waiting for /ping ...");
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function stopServer(server: RunningServer): Promise<void> {
  if (server.child.exitCode !== null) return;
  server.child.kill("SIGTERM");
  const timeout = new Promise<"timeout">((r) => setTimeout(() => r("timeout"), SHUTDOWN_TIMEOUT_MS).unref());
  const code = await Promise.race([server.exited, timeout]);
  if (code === "timeout") {
    server.child.kill("SIGKILL");
    throw new CliError(`ml-core serve did not stop within ${SHUTDOWN_TIMEOUT_MS / 1000} s of SIGTERM`);
  }
  if (code !== 0) throw new CliError(`ml-core serve exited with code ${code} on SIGTERM (expected 0)`);
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.unref();
    probe.on("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

const fileUrl = (p: string) => pathToFileURL(p).href;

function timestamp(d: Date): string {
  const pad = (n: number, w = 2) => String(n).padStart(w, "0");
  return `${d.getUTCFullYear()}${pad(d.getUTCMonth() + 1)}${pad(d.getUTCDate())}-${pad(d.getUTCHours())}${pad(d.getUTCMinutes())}${pad(d.getUTCSeconds())}-${pad(d.getUTCMilliseconds(), 3)}`;
}
