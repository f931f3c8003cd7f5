import { createHash } from "node:crypto";
import type { Readable } from "node:stream";
import { CopyObjectCommand, GetObjectCommand, HeadObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { FILES } from "@ml-platform/contract";
import { MODEL_FILE, modelIdentity } from "@ml-platform/ml-core";
import { parseS3Uri, type S3Location } from "../aws/arn";
import { COPY_OBJECT_MAX_BYTES } from "../aws/limits";
import { CliError, describeError } from "../errors";
import { parseMetricsJson, type Metrics } from "./metrics";
import { readFromTarGz } from "./tar";

/** What `register` records about a model artifact, so the version means exactly these bytes. */
export interface ArtifactFacts {
  /** The S3 object version read (and the one `promote` copies); undefined in an unversioned bucket. */
  readonly versionId: string | undefined;
  /** Hex SHA-256 of the whole object (the gzipped tar). */
  readonly sha256: string;
  /** `model-sha256=<hex of model.json>`, what `ml-core serve` answers with (ml-core's `modelIdentity`). */
  readonly identity: string;
  /** metrics.json in the archive, if it has one. */
  readonly metrics: Metrics | undefined;
}

/**
 * Reads one version of a model artifact once: HeadObject pins the version, then that version is
 * streamed through a SHA-256 hash and the tar reader, which keeps model.json (for the identity) and
 * metrics.json. Hashing the stream rather than taking S3's `ChecksumSHA256`: the object is read
 * anyway, and SageMaker may have uploaded it in parts, whose checksum is not the object's hash.
 */
export async function readArtifact(s3: S3Client, uri: string): Promise<ArtifactFacts> {
  const { bucket, key } = parseS3Uri(uri);
  const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
  const versionId = objectVersion(head.VersionId);
  const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, ...(versionId ? { VersionId: versionId } : {}) }));
  if (!object.Body) throw new CliError(`${uri} is empty`);
  const hash = createHash("sha256");
  let files: Map<string, Buffer>;
  try {
    files = await readFromTarGz(object.Body as Readable, (name) => name === MODEL_FILE || name === FILES.metrics, { onChunk: (c) => hash.update(c) });
  } catch (err) {
    throw new CliError(`cannot read ${uri}: ${(err as Error).message}`, { cause: err });
  }
  const model = files.get(MODEL_FILE);
  if (!model) throw new CliError(`${uri} has no ${MODEL_FILE}: it is not a model ml-core trained`);
  const metricsBytes = files.get(FILES.metrics);
  let metrics: Metrics | undefined;
  if (metricsBytes) {
    try {
      metrics = parseMetricsJson(metricsBytes.toString("utf8"));
    } catch (err) {
      throw new CliError(`${FILES.metrics} in ${uri} is not valid: ${(err as Error).message}`);
    }
  }
  return { versionId, sha256: hash.digest("hex"), identity: modelIdentity(model), metrics };
}

export interface ArtifactCopy {
  readonly uri: string;
  readonly versionId: string | undefined;
  /** The key already held this artifact (an earlier run's copy), verified, not written again. */
  readonly reused: boolean;
}

/**
 * Copies exactly one version of an artifact (`CopySource` with `?versionId=`) to a write-once key
 * (`IfNoneMatch: "*"`, S3's conditional write: an existing object is never overwritten), re-encrypted
 * with the target's key, then checks the copy's SHA-256 against `sha256`. A copy left by an earlier
 * run is checked the same way and reused. A mismatch fails and deletes nothing.
 */
export async function copyArtifactVersion(
  s3: S3Client,
  from: { uri: string; versionId: string | undefined; sha256: string },
  to: S3Location & { kmsKeyArn: string },
): Promise<ArtifactCopy> {
  const source = parseS3Uri(from.uri);
  const head = await s3.send(new HeadObjectCommand({ Bucket: source.bucket, Key: source.key, ...(from.versionId ? { VersionId: from.versionId } : {}) }));
  if ((head.ContentLength ?? 0) > COPY_OBJECT_MAX_BYTES) {
    throw new CliError(`${from.uri} is ${head.ContentLength} bytes; a single S3 copy is limited to 5 GB`);
  }
  const uri = `s3://${to.bucket}/${to.key}`;
  let versionId: string | undefined;
  let reused = false;
  try {
    const out = await s3.send(
      new CopyObjectCommand({
        Bucket: to.bucket,
        Key: to.key,
        CopySource: `${source.bucket}/${source.key.split("/").map(encodeURIComponent).join("/")}${from.versionId ? `?versionId=${encodeURIComponent(from.versionId)}` : ""}`,
        IfNoneMatch: "*",
        // S3 computes a full-object SHA-256 of the copy, which HeadObject returns to verify it by.
        ChecksumAlgorithm: "SHA256",
        // Re-encrypted under the target stack's key: the target never needs the source's key.
        ServerSideEncryption: "aws:kms",
        SSEKMSKeyId: to.kmsKeyArn,
        MetadataDirective: "COPY",
      }),
    );
    versionId = objectVersion(out.VersionId);
  } catch (err) {
    if (!isPreconditionFailed(err)) throw err;
    reused = true;
  }
  const actual = await objectSha256(s3, { bucket: to.bucket, key: to.key });
  if (reused) versionId = actual.versionId;
  if (actual.sha256 !== from.sha256) {
    throw new CliError(`the copy ${uri}${reused ? " (written by an earlier run)" : ""} has SHA-256 ${actual.sha256}, but the registered artifact has ${from.sha256}`, {
      details: [`source: ${from.uri}${from.versionId ? ` version ${from.versionId}` : ""}`, "nothing was registered and nothing was deleted"],
      hint: "inspect both objects; the copy's key is write-once, so remove it deliberately (all its versions) before promoting again",
    });
  }
  return { uri, versionId, reused };
}

/**
 * The SHA-256 of an object's current version. S3's own `ChecksumSHA256` is used only when it is a
 * full-object checksum: an object uploaded in parts carries a composite one (a checksum of the
 * parts' checksums, `<base64>-<parts>`), which no hash of the bytes equals; then the object is
 * streamed through a hash.
 */
export async function objectSha256(s3: S3Client, loc: S3Location): Promise<{ sha256: string; versionId: string | undefined }> {
  const head = await s3.send(new HeadObjectCommand({ Bucket: loc.bucket, Key: loc.key, ChecksumMode: "ENABLED" }));
  const versionId = objectVersion(head.VersionId);
  const checksum = head.ChecksumSHA256;
  if (checksum && head.ChecksumType !== "COMPOSITE" && !checksum.includes("-")) {
    return { sha256: Buffer.from(checksum, "base64").toString("hex"), versionId };
  }
  const object = await s3.send(new GetObjectCommand({ Bucket: loc.bucket, Key: loc.key, ...(versionId ? { VersionId: versionId } : {}) }));
  const hash = createHash("sha256");
  try {
    for await (const chunk of object.Body as AsyncIterable<Uint8Array>) hash.update(chunk);
  } catch (err) {
    throw new CliError(`cannot read s3://${loc.bucket}/${loc.key} to check it: ${describeError(err)}`, { cause: err });
  }
  return { sha256: hash.digest("hex"), versionId };
}

/** S3 reports an unversioned bucket's object as version "null". */
function objectVersion(id: string | undefined): string | undefined {
  return id && id !== "null" ? id : undefined;
}

function isPreconditionFailed(err: unknown): boolean {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e?.name === "PreconditionFailed" || e?.$metadata?.httpStatusCode === 412;
}
