// `ml-deploy data snapshot`: a dataset prefix's objects, pinned. Each object under the training and
// validation channels is read once (its current version), hashed, and copied to its
// content-addressed key; the manifest naming them all, and the SageMaker ManifestFile of each
// channel, are written beside. Every write is a conditional create (If-None-Match: *): a key that
// exists already holds the same bytes (its name is their hash), so a repeated snapshot of unchanged
// data writes nothing and returns the same id.
import { createHash } from "node:crypto";
import type { Readable } from "node:stream";
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand, paginateListObjectsV2, type S3Client } from "@aws-sdk/client-s3";
import {
  DATASET_CHANNELS,
  DATASET_MANIFESTS_PREFIX,
  DATASET_PREFIX,
  buildManifest,
  channelManifestFile,
  channelManifestKey,
  datasetObjectKey,
  emptyChannels,
  manifestIdOf,
  manifestKey,
  parseManifest,
  type DatasetManifest,
  type ManifestObject,
} from "@ml-platform/contract";
import { parseS3Uri } from "../aws/arn";
import { PUT_OBJECT_MAX_BYTES } from "../aws/limits";
import { CliError, describeError } from "../errors";
import type { Context } from "../context";
import type { Output } from "../output";
import { readStackOutputs } from "../stacks/gateway";
import { digestStream } from "./digest";

export interface SnapshotTarget {
  readonly bucket: string;
  /** Key prefix of the dataset (its channels are folders under it), without a trailing slash. */
  readonly prefix: string;
  readonly kmsKeyArn: string;
}

export interface Snapshot {
  readonly id: string;
  readonly uri: string;
  readonly manifest: DatasetManifest;
  /** False when the manifest existed already (the same objects were snapshotted before). */
  readonly created: boolean;
  /** Content-addressed copies written now (the rest existed). */
  readonly copied: number;
}

export async function snapshotS3(s3: S3Client, t: SnapshotTarget, out: Output): Promise<Snapshot> {
  if (!t.prefix.startsWith(`${DATASET_PREFIX}/`) || t.prefix.startsWith(`${DATASET_MANIFESTS_PREFIX}`) || t.prefix.startsWith(`${datasetObjectKey("")}`))
    throw new CliError(`--prefix ${t.prefix}: a dataset lives under ${DATASET_PREFIX}/<name>/ (the one prefix training jobs may read), outside its snapshots`);
  const objects: ManifestObject[] = [];
  let copied = 0;
  for (const channel of DATASET_CHANNELS) {
    const prefix = `${t.prefix}/${channel}/`;
    for await (const page of paginateListObjectsV2({ client: s3 }, { Bucket: t.bucket, Prefix: prefix })) {
      for (const o of page.Contents ?? []) {
        if (!o.Key || o.Key.endsWith("/")) continue;
        const uri = `s3://${t.bucket}/${o.Key}`;
        out.info(`${channel}: ${uri}`);
        const read = await s3.send(new GetObjectCommand({ Bucket: t.bucket, Key: o.Key }));
        const versionId = read.VersionId && read.VersionId !== "null" ? read.VersionId : null;
        const facts = await digest(read.Body, uri);
        if (await storeContent(s3, t, { key: o.Key, versionId, ...facts })) copied++;
        objects.push({ channel, uri, versionId, ...facts });
      }
    }
  }
  const source = `s3://${t.bucket}/${t.prefix}/`;
  if (objects.length === 0)
    throw new CliError(`no objects under ${source}{${DATASET_CHANNELS.join(",")}}/`, { hint: "upload CSV files (with a header row) first" });
  const { manifest, id, bytes } = buildManifest(source, objects);
  const empty = emptyChannels(manifest);
  if (empty.length > 0)
    throw new CliError(`the dataset has no data for channel${empty.length > 1 ? "s" : ""} ${empty.join(", ")}`, {
      details: empty.map((c) => `${source}${c}/ is empty`),
    });
  const created = await putOnce(s3, t, manifestKey(id), bytes, "application/json");
  for (const channel of DATASET_CHANNELS)
    await putOnce(s3, t, channelManifestKey(id, channel), channelManifestFile(t.bucket, manifest, channel), "application/json");
  return { id, uri: `s3://${t.bucket}/${manifestKey(id)}`, manifest, created, copied };
}

async function digest(body: unknown, uri: string) {
  if (!body) throw new CliError(`${uri} returned no body`);
  try {
    return await digestStream(body as AsyncIterable<Uint8Array>);
  } catch (err) {
    throw new CliError(`cannot read ${uri}: ${describeError(err)}`, { cause: err });
  }
}

/**
 * Copies the version read to `datasets/sha256/<hex>`, streamed (GetObject of that version,
 * PutObject If-None-Match: *) with the expected SHA-256 sent along: S3 refuses an upload whose
 * bytes do not hash to it, so the key can only ever hold those bytes. True when written now.
 */
async function storeContent(s3: S3Client, t: SnapshotTarget, o: { key: string; versionId: string | null; size: number; sha256: string }): Promise<boolean> {
  if (o.size > PUT_OBJECT_MAX_BYTES)
    throw new CliError(`s3://${t.bucket}/${o.key} is ${o.size} bytes; a single S3 upload is limited to 5 GB`, {
      hint: "split the dataset into files under 5 GB (a multipart copy with a conditional complete is not built yet)",
    });
  const target = datasetObjectKey(o.sha256);
  try {
    await s3.send(new HeadObjectCommand({ Bucket: t.bucket, Key: target }));
    return false;
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
  const body = await s3.send(new GetObjectCommand({ Bucket: t.bucket, Key: o.key, ...(o.versionId ? { VersionId: o.versionId } : {}) }));
  return putOnce(s3, t, target, body.Body as Readable, "text/csv", { ContentLength: o.size, ChecksumSHA256: Buffer.from(o.sha256, "hex").toString("base64") });
}

/** A conditional create; false when the key exists already. */
async function putOnce(
  s3: S3Client,
  t: SnapshotTarget,
  key: string,
  body: string | Readable,
  contentType: string,
  extra: { ContentLength?: number; ChecksumSHA256?: string } = {},
): Promise<boolean> {
  try {
    await s3.send(
      new PutObjectCommand({
        Bucket: t.bucket,
        Key: key,
        Body: body,
        ContentType: contentType,
        IfNoneMatch: "*",
        ServerSideEncryption: "aws:kms",
        SSEKMSKeyId: t.kmsKeyArn,
        ...(extra.ChecksumSHA256 ? { ChecksumAlgorithm: "SHA256", ...extra } : extra),
      }),
    );
    return true;
  } catch (err) {
    if (typeof body !== "string") body.destroy?.();
    if (isPreconditionFailed(err)) return false;
    throw err;
  }
}

/** Reads and checks a stored manifest: its bytes must hash to its id. */
export async function readManifest(s3: S3Client, uri: string): Promise<{ manifest: DatasetManifest; id: string }> {
  const { bucket, key } = parseS3Uri(uri);
  const id = manifestIdOf(key);
  if (!id) throw new CliError(`${uri} is not a dataset manifest's location (${DATASET_MANIFESTS_PREFIX}/<id>.json)`);
  let text: string;
  try {
    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    const chunks: Buffer[] = [];
    for await (const chunk of got.Body as AsyncIterable<Uint8Array>) chunks.push(Buffer.from(chunk));
    text = Buffer.concat(chunks).toString("utf8");
  } catch (err) {
    if (isNotFound(err)) throw new CliError(`dataset manifest ${id} does not exist: ${uri}`, { hint: "`ml-deploy data snapshot` prints the ids it writes" });
    throw err;
  }
  try {
    return parseManifest(text, uri, id);
  } catch (err) {
    throw new CliError((err as Error).message);
  }
}

/**
 * The newest manifest in the bucket that snapshotted `source` (the stack's dataset URI). Manifests
 * are listed by LastModified, newest first, and read until one matches.
 */
export async function latestManifest(s3: S3Client, bucket: string, source: string): Promise<string> {
  const found: Array<{ key: string; at: number }> = [];
  for await (const page of paginateListObjectsV2({ client: s3 }, { Bucket: bucket, Prefix: `${DATASET_MANIFESTS_PREFIX}/` })) {
    for (const o of page.Contents ?? []) if (o.Key && manifestIdOf(o.Key)) found.push({ key: o.Key, at: o.LastModified?.getTime() ?? 0 });
  }
  for (const { key } of found.sort((a, b) => b.at - a.at)) {
    const { manifest, id } = await readManifest(s3, `s3://${bucket}/${key}`);
    if (manifest.source === source) return id;
  }
  throw new CliError(`no dataset manifest of ${source} in s3://${bucket}/${DATASET_MANIFESTS_PREFIX}/`, {
    hint: "snapshot the dataset first: ml-deploy data snapshot --stack <stack>",
  });
}

export function isNotFound(err: unknown): boolean {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e?.name === "NotFound" || e?.name === "NoSuchKey" || e?.name === "NoSuchVersion" || e?.$metadata?.httpStatusCode === 404;
}

function isPreconditionFailed(err: unknown): boolean {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e?.name === "PreconditionFailed" || e?.$metadata?.httpStatusCode === 412;
}

/** Hex SHA-256 of one object version, streamed (what `lineage --verify` compares with the manifest). */
export async function versionSha256(s3: S3Client, uri: string, versionId: string | null): Promise<string> {
  const { bucket, key } = parseS3Uri(uri);
  const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, ...(versionId ? { VersionId: versionId } : {}) }));
  const hash = createHash("sha256");
  for await (const chunk of got.Body as AsyncIterable<Uint8Array>) hash.update(chunk);
  return hash.digest("hex");
}

export interface SnapshotOptions {
  stack: string;
  /** A key prefix under the dataset bucket; default: the stack's `training.datasetPrefix`. */
  prefix?: string;
  json?: boolean;
}

export interface SnapshotResult {
  stack: string;
  manifestId: string;
  manifestUri: string;
  created: boolean;
  copied: number;
  objects: DatasetManifest["objects"];
}

/** `ml-deploy data snapshot`: the stack's dataset (or `--prefix`), pinned in a manifest in its dataset bucket. */
export async function snapshot(ctx: Context, opts: SnapshotOptions): Promise<SnapshotResult> {
  const outputs = await readStackOutputs(ctx.stacks, opts.stack);
  const { bucket, key } = parseS3Uri(outputs.datasetUri);
  const prefix = (opts.prefix ?? key).replace(/^\/+|\/+$/g, "");
  ctx.out.step(`Snapshotting s3://${bucket}/${prefix}/ (${DATASET_CHANNELS.join(", ")})`);
  const s = await snapshotS3(ctx.aws.s3(outputs.region), { bucket, prefix, kmsKeyArn: outputs.kmsKeyArn }, ctx.out);
  return { stack: opts.stack, manifestId: s.id, manifestUri: s.uri, created: s.created, copied: s.copied, objects: s.manifest.objects };
}
