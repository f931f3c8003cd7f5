/**
 * Drift of an endpoint's captured requests against the training baseline of the version it serves:
 * the baseline (statistics.json) comes out of that version's model.tar.gz, the requests out of the
 * endpoint's data capture, and ml-core's DriftMonitor decodes and compares them.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import type { Readable } from "node:stream";
import { GetObjectCommand, paginateListObjectsV2, type S3Client } from "@aws-sdk/client-s3";
import { DescribeEndpointCommand } from "@aws-sdk/client-sagemaker";
import { DEFAULT_MIN_ROWS, DriftMonitor, parseStatistics, STATISTICS_FILE, type BaselineStatistics, type DriftReport } from "@ml-platform/ml-core";
import { parseS3Uri } from "../aws/arn";
import type { Context } from "../context";
import { CliError } from "../errors";
import { describeVersion } from "../registry/model-version";
import { readFromTarGz } from "../registry/tar";
import { readStackOutputs } from "../stacks/gateway";
import { hourPath, parseCaptureLine, parseSince } from "./capture";

/** Where captured requests are read from: S3 objects, or files of a local run. */
export interface CaptureStore {
  /** Human name of the whole capture (an s3:// prefix or a directory). */
  readonly location: string;
  /** The objects that may hold requests served at or after `since`, oldest first, by name. */
  list(since: Date): AsyncIterable<string>;
  read(name: string): Promise<string>;
}

export interface CaptureSummary {
  readonly objects: number;
  readonly requests: number;
}

/**
 * Counts every captured request served at or after `since` into a DriftMonitor. A line that is not
 * a capture record, or a request body that does not decode, fails naming the object and line.
 */
export async function measureDrift(
  baseline: BaselineStatistics,
  store: CaptureStore,
  since: Date,
  minRows = DEFAULT_MIN_ROWS,
): Promise<{ report: DriftReport; capture: CaptureSummary }> {
  const monitor = new DriftMonitor(baseline);
  let objects = 0;
  let requests = 0;
  for await (const name of store.list(since)) {
    objects++;
    const lines = (await store.read(name)).split("\n");
    lines.forEach((line, i) => {
      if (line.trim() === "") return;
      try {
        const request = parseCaptureLine(line);
        if (request === undefined || (request.time !== undefined && request.time < since)) return;
        monitor.addRequest(request.body, request.contentType);
        requests++;
      } catch (err) {
        throw new CliError(`${name} line ${i + 1}: ${(err as Error).message}`, {
          hint: "captured lines are SageMaker data capture records (captureData.endpointInput with observedContentType, mode, data, encoding)",
        });
      }
    });
  }
  return { report: monitor.report(minRows), capture: { objects, requests } };
}

/** The captured objects of one endpoint variant under a data capture destination, from the hour of `since`. */
export function s3CaptureStore(s3: S3Client, destination: string, endpoint: string, variant: string): CaptureStore {
  const { bucket, key } = parseS3Uri(destination);
  const prefix = `${key.replace(/\/*$/, "/").replace(/^\/$/, "")}${endpoint}/${variant}/`;
  return {
    location: `s3://${bucket}/${prefix}`,
    async *list(since) {
      // Keys are <prefix>yyyy/mm/dd/hh/…: listing after "<prefix>yyyy/mm/dd/hh" starts at that hour.
      for await (const page of paginateListObjectsV2({ client: s3 }, { Bucket: bucket, Prefix: prefix, StartAfter: prefix + hourPath(since) })) {
        for (const o of page.Contents ?? []) if (o.Key && o.Key.endsWith(".jsonl")) yield `s3://${bucket}/${o.Key}`;
      }
    },
    async read(name) {
      const loc = parseS3Uri(name);
      const object = await s3.send(new GetObjectCommand({ Bucket: loc.bucket, Key: loc.key }));
      const chunks: Buffer[] = [];
      for await (const chunk of (object.Body ?? []) as AsyncIterable<Uint8Array>) chunks.push(Buffer.from(chunk));
      return Buffer.concat(chunks).toString("utf8");
    },
  };
}

/** The .jsonl files under a local capture directory (`<endpoint>/<variant>/yyyy/mm/dd/hh/`), in key order. */
export function fileCaptureStore(dir: string): CaptureStore {
  return {
    location: dir,
    async *list() {
      if (!fs.existsSync(dir)) return;
      const files = (fs.readdirSync(dir, { recursive: true }) as string[]).filter((f) => f.endsWith(".jsonl")).sort();
      for (const f of files) yield path.join(dir, f);
    },
    read: (name) => fs.promises.readFile(name, "utf8"),
  };
}

/** statistics.json out of a model artifact (model.tar.gz) in S3. */
export async function baselineFromArtifact(s3: S3Client, uri: string): Promise<BaselineStatistics> {
  const { bucket, key } = parseS3Uri(uri);
  const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  if (!object.Body) throw new CliError(`${uri} is empty`);
  let files: Map<string, Buffer>;
  try {
    files = await readFromTarGz(object.Body as Readable, (name) => name === STATISTICS_FILE);
  } catch (err) {
    throw new CliError(`cannot read ${uri}: ${(err as Error).message}`, { cause: err });
  }
  const stats = files.get(STATISTICS_FILE);
  if (!stats)
    throw new CliError(`${uri} has no ${STATISTICS_FILE}: the model was trained before ml-core wrote training baselines`, {
      hint: "train and promote a new version; its artifact carries the baseline",
    });
  return parseBaseline(stats.toString("utf8"), `${STATISTICS_FILE} in ${uri}`);
}

export function parseBaseline(text: string, where: string): BaselineStatistics {
  try {
    return parseStatistics(text, where);
  } catch (err) {
    throw new CliError((err as Error).message);
  }
}

export interface DriftOptions {
  stack: string;
  since: string;
  minRows: number;
  json?: boolean;
}

export interface DriftResult {
  readonly stack: string;
  readonly endpoint: string;
  readonly variant: string;
  readonly capture: CaptureSummary & { readonly location: string; readonly since: string };
  /** The model artifact whose baseline the requests are compared with. */
  readonly artifact: string;
  readonly report: DriftReport;
}

/** `ml-deploy drift`: the stack's endpoint's captured requests against its served version's baseline. */
export async function drift(ctx: Context, opts: DriftOptions): Promise<DriftResult> {
  const { settings } = await ctx.stackFiles.read(opts.stack);
  if (settings.serving.target !== "sagemaker") throw new CliError(`stack "${opts.stack}" serves on Kubernetes: only SageMaker endpoints capture requests`);
  let since: Date;
  try {
    since = parseSince(opts.since, ctx.now());
  } catch (err) {
    throw new CliError((err as Error).message);
  }
  const outputs = await readStackOutputs(ctx.stacks, opts.stack);
  if (!outputs.endpointName) throw new CliError(`stack "${opts.stack}" has no endpoint (it pins no model)`);
  const sm = ctx.aws.sagemaker(outputs.region);
  const endpoint = await sm.send(new DescribeEndpointCommand({ EndpointName: outputs.endpointName }));
  const capture = endpoint.DataCaptureConfig;
  if (!capture?.EnableCapture || !capture.DestinationS3Uri)
    throw new CliError(`endpoint ${outputs.endpointName} of stack "${opts.stack}" does not capture requests`, {
      hint: `set mlPlatform:dataCapture.enabled: true in stacks/Pulumi.${opts.stack}.yaml and run pulumi up`,
    });
  const variant = endpoint.ProductionVariants?.[0]?.VariantName;
  if (!variant) throw new CliError(`endpoint ${outputs.endpointName} has no production variant`);

  const pinned = settings.model;
  const artifact = pinned?.packageArn
    ? (await describeVersion(sm, pinned.packageArn)).modelDataUrl
    : pinned && "artifactUri" in pinned
      ? pinned.artifactUri
      : undefined;
  if (!artifact) throw new CliError(`stack "${opts.stack}" pins no model version (mlPlatform:model)`);
  const s3 = ctx.aws.s3(outputs.region);
  ctx.out.step(`Reading the training baseline of ${artifact}`);
  const baseline = await baselineFromArtifact(s3, artifact);
  const store = s3CaptureStore(s3, capture.DestinationS3Uri, outputs.endpointName, variant);
  ctx.out.step(`Reading requests captured since ${since.toISOString()} under ${store.location}`);
  const measured = await measureDrift(baseline, store, since, opts.minRows);
  return {
    stack: opts.stack,
    endpoint: outputs.endpointName,
    variant,
    capture: { ...measured.capture, location: store.location, since: since.toISOString() },
    artifact,
    report: measured.report,
  };
}
