import { promises as fs } from "node:fs";
import { VALIDATION_CHANNEL, isKubernetesStack, kubernetesServingNames, type PlatformSettings } from "@ml-platform/contract";
import { GetObjectCommand, ListObjectsV2Command } from "@aws-sdk/client-s3";
import { DescribeEndpointCommand } from "@aws-sdk/client-sagemaker";
import { joinS3, parseS3Uri } from "../aws/arn";
import type { StackSettings } from "../config/settings";
import type { Context } from "../context";
import { CliError } from "../errors";
import { MissingPrerequisite } from "../prerequisites";
import { META, describeVersion, type ModelVersion } from "../registry/model-version";
import { readStackOutputs, type StackOutputs } from "../stacks/gateway";
import { runSmoke, type SmokeResult } from "./run";
import { sampleFromCsv, type SampleRows } from "./sample";
import { oipTransport } from "./oip";
import { sageMakerTransport } from "./transports";

/** Rows a smoke test sends by default: enough to catch a row-count or ordering bug, small enough to be instant. */
export const DEFAULT_SMOKE_ROWS = 5;
/** Bytes read from the start of a validation file for the sample rows (a ranged GET, not the whole file). */
export const SAMPLE_READ_BYTES = 256 * 1024;

export interface SampleSource {
  /** A local CSV file with a header row; the label column, if present, is dropped. */
  readonly file?: string;
  readonly rows: number;
}

/**
 * The rows to send: from `--samples FILE`, or else the first rows of the stack's validation
 * channel (the data the model was validated on, so every feature is present and typed as in
 * training). The label column is the `label` hyperparameter.
 */
export async function loadSamples(ctx: Context, source: SampleSource, outputs: StackOutputs, settings: StackSettings): Promise<SampleRows> {
  const label = settings.training?.hyperparameters.label;
  const labelName = label === undefined ? undefined : String(label);
  if (source.file) {
    const text = await fs.readFile(source.file, "utf8").catch((err: Error) => {
      throw new CliError(`cannot read --samples ${source.file}: ${err.message}`);
    });
    return fromCsv(text, source.file, { maxRows: source.rows, label: labelName });
  }
  const s3 = ctx.aws.s3(outputs.region);
  const { bucket, key } = parseS3Uri(joinS3(outputs.datasetUri, VALIDATION_CHANNEL) + "/");
  const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: key, MaxKeys: 100 }));
  const first = (listed.Contents ?? []).find((o) => o.Key && !o.Key.endsWith("/") && (o.Size ?? 0) > 0);
  if (!first?.Key) {
    throw new CliError(`no sample rows: s3://${bucket}/${key} is empty`, { hint: "pass --samples <csv file with a header row>" });
  }
  const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: first.Key, Range: `bytes=0-${SAMPLE_READ_BYTES - 1}` }));
  const text = await bodyText(object.Body);
  return fromCsv(text, `s3://${bucket}/${first.Key}`, { maxRows: source.rows, label: labelName, partial: (first.Size ?? 0) > SAMPLE_READ_BYTES });
}

function fromCsv(text: string, where: string, opts: { maxRows: number; label?: string; partial?: boolean }): SampleRows {
  try {
    const header = text.slice(0, text.search(/\r?\n/) >>> 0);
    // A samples file may already be features only: drop the label only where there is one.
    const label =
      opts.label !== undefined &&
      header
        .split(",")
        .map((c) => c.trim().replace(/^"|"$/g, ""))
        .includes(opts.label)
        ? opts.label
        : undefined;
    return sampleFromCsv(text, { ...opts, label });
  } catch (err) {
    throw new CliError(`cannot take sample rows from ${where}: ${(err as Error).message}`);
  }
}

/**
 * The identity a version's model answers with, recorded by `register` (and carried by promotion);
 * undefined, with a warning, for a version registered before identities were recorded.
 */
export function expectedIdentity(ctx: Pick<Context, "out">, version: ModelVersion): string | undefined {
  const identity = version.metadata[META.modelIdentity];
  if (!identity)
    ctx.out.warn(
      `version ${version.version} of ${version.group} has no ${META.modelIdentity} metadata (registered before it was recorded): the smoke test cannot check which model answers`,
    );
  return identity;
}

export interface EndpointState {
  readonly name: string | undefined;
  readonly status: string;
  readonly failureReason?: string;
}

export async function endpointState(ctx: Context, outputs: StackOutputs): Promise<EndpointState> {
  if (!outputs.endpointName) return { name: undefined, status: "None" };
  const out = await ctx.aws.sagemaker(outputs.region).send(new DescribeEndpointCommand({ EndpointName: outputs.endpointName }));
  return { name: outputs.endpointName, status: out.EndpointStatus ?? "Unknown", failureReason: out.FailureReason };
}

export interface StackSmoke {
  readonly stack: string;
  readonly endpoint: EndpointState;
  readonly smoke?: SmokeResult;
  /** Empty when the endpoint is in service and every check passed. */
  readonly problems: readonly string[];
}

/** Where ml-core serves in a pod (the Service's port too); SAGEMAKER_BIND_TO_PORT's default. */
export const KUBERNETES_SERVING_PORT = 8080;
/** The pods set no ML_CORE_MODEL_NAME, so ml-core's OIP routes use its default model name. */
export const OIP_MODEL_NAME = "model";

/**
 * A stack's smoke test. SageMaker: the endpoint must be InService, then InvokeEndpoint. Kubernetes:
 * the Service through `kubectl port-forward` (the kubeconfig context of `serving.cluster.context`),
 * over the Open Inference Protocol; only ready pods are behind a Service, so the answers come from
 * the rollout's pods. Never throws on a failed check.
 */
export async function smokeStack(
  ctx: Context,
  stack: string,
  outputs: StackOutputs,
  sample: SampleRows,
  maxLatencyMs: number,
  expectedIdentity: string | undefined,
  settings: Pick<StackSettings, "serving" | "modelName">,
): Promise<StackSmoke> {
  if (settings.serving.target === "kubernetes")
    return smokeKubernetes(ctx, stack, settings as unknown as PlatformSettings, sample, maxLatencyMs, expectedIdentity);
  const endpoint = await endpointState(ctx, outputs);
  if (!endpoint.name) return { stack, endpoint, problems: [`stack "${stack}" has no endpoint (it pins no model)`] };
  if (endpoint.status !== "InService") {
    return {
      stack,
      endpoint,
      problems: [
        `endpoint ${endpoint.name} of stack "${stack}" is ${endpoint.status}, not InService${endpoint.failureReason ? `: ${endpoint.failureReason}` : ""}`,
      ],
    };
  }
  ctx.out.step(`Smoke-testing endpoint ${endpoint.name} of stack "${stack}" with ${sample.rows.length} rows`);
  const smoke = await runSmoke(sageMakerTransport(ctx.aws.runtime(outputs.region), endpoint.name), sample, { maxLatencyMs, expectedIdentity });
  return { stack, endpoint, smoke, problems: smoke.problems.map((p) => `smoke test of stack "${stack}": ${p}`) };
}

async function smokeKubernetes(
  ctx: Context,
  stack: string,
  settings: PlatformSettings,
  sample: SampleRows,
  maxLatencyMs: number,
  expectedIdentity: string | undefined,
): Promise<StackSmoke> {
  if (!isKubernetesStack(settings)) throw new Error("not a Kubernetes stack");
  const { namespace, name } = kubernetesServingNames(settings);
  const service = `svc/${name} in namespace ${namespace}`;
  const endpoint: EndpointState = { name: service, status: "Service" };
  ctx.out.step(`Smoke-testing ${service} of stack "${stack}" over the Open Inference Protocol with ${sample.rows.length} rows (kubectl port-forward)`);
  let forward;
  try {
    forward = await ctx.portForward({ namespace, service: name, port: KUBERNETES_SERVING_PORT, context: settings.serving.cluster.context });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") throw new MissingPrerequisite("kubectl", stack);
    return { stack, endpoint, problems: [`cannot reach ${service} of stack "${stack}": ${(err as Error).message}`] };
  }
  try {
    const smoke = await runSmoke(oipTransport(forward.url, OIP_MODEL_NAME, sample, { target: service }), sample, { maxLatencyMs, expectedIdentity });
    return { stack, endpoint, smoke, problems: smoke.problems.map((p) => `smoke test of stack "${stack}": ${p}`) };
  } finally {
    await forward.close();
  }
}

/** An S3 body as text: the SDK's stream mixin where present, else any async-iterable stream. */
async function bodyText(body: unknown): Promise<string> {
  if (body === undefined || body === null) return "";
  const mixin = body as { transformToString?: (encoding?: string) => Promise<string> };
  if (typeof mixin.transformToString === "function") return mixin.transformToString("utf8");
  const chunks: Buffer[] = [];
  for await (const chunk of body as AsyncIterable<Buffer | string>) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks).toString("utf8");
}

export interface SmokeOptions {
  stack: string;
  samples?: string;
  rows: number;
  maxLatencyMs?: number;
  json?: boolean;
}

/** The stack's smoke test on its own (`ml-deploy smoke`): a failed check is an error. */
export async function smoke(ctx: Context, opts: SmokeOptions): Promise<StackSmoke> {
  const { settings } = await ctx.stackFiles.read(opts.stack);
  const outputs = await readStackOutputs(ctx.stacks, opts.stack);
  const sample = await loadSamples(ctx, { file: opts.samples, rows: opts.rows }, outputs, settings);
  const pinned = settings.model?.packageArn;
  const identity = pinned ? expectedIdentity(ctx, await describeVersion(ctx.aws.sagemaker(outputs.region), pinned)) : undefined;
  const result = await smokeStack(ctx, opts.stack, outputs, sample, opts.maxLatencyMs ?? settings.promotion.smokeMaxLatencyMs, identity, settings);
  if (result.problems.length > 0) throw new CliError(`smoke test of stack "${opts.stack}" failed`, { details: result.problems });
  return result;
}
