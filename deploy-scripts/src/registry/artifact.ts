import { createHash } from "node:crypto";
import type { Readable } from "node:stream";
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { FILES } from "@ml-platform/contract";
import { MODEL_FILE, XGBOOST_MODEL_FILE, modelIdentity } from "@ml-platform/ml-core";
import { parseS3Uri, type S3Location } from "../aws/arn";
import { PUT_OBJECT_MAX_BYTES } from "../aws/limits";
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
    files = await readFromTarGz(object.Body as Readable, (name) => name === MODEL_FILE || name === XGBOOST_MODEL_FILE || name === FILES.metrics, {
      onChunk: (c) => hash.update(c),
    });
  } catch (err) {
    throw new CliError(`cannot read ${uri}: ${(err as Error).message}`, { cause: err });
  }
  // ml-core serves SageMaker XGBoost's artifact as it is, and answers with that file's identity.
  const model = files.get(MODEL_FILE) ?? files.get(XGBOOST_MODEL_FILE);
  if (!model) throw new CliError(`${uri} has no ${MODEL_FILE} (nor ${XGBOOST_MODEL_FILE}): it is not a model ml-core can serve`);
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
 * Copies exactly one version of an artifact to a write-once key, re-encrypted with the target's key,
 * then checks the copy's SHA-256 against `sha256`. A copy left by an earlier run is checked the same
 * way and reused. A mismatch fails and deletes nothing.
 *
 * The bytes are streamed through (GetObject of that version, PutObject with `If-None-Match: *`), not
 * copied server-side: the artifact bucket's policy enforces conditional writes under `models/`, and
 * S3 refuses every CopyObject into such a prefix (403 without a conditional header, 501 Not
 * Implemented with one: S3 User Guide, "Enforce conditional writes on Amazon S3 buckets").
 */
export async function copyArtifactVersion(
  s3: S3Client,
  from: { uri: string; versionId: string | undefined; sha256: string },
  to: S3Location & { kmsKeyArn: string },
): Promise<ArtifactCopy> {
  const source = parseS3Uri(from.uri);
  const version = from.versionId ? { VersionId: from.versionId } : {};
  const head = await s3.send(new HeadObjectCommand({ Bucket: source.bucket, Key: source.key, ...version }));
  const size = head.ContentLength ?? 0;
  if (size > PUT_OBJECT_MAX_BYTES) {
    throw new CliError(`${from.uri} is ${size} bytes; a single S3 upload is limited to 5 GB`, {
      hint: "a multipart copy with a conditional CompleteMultipartUpload is not built yet; keep model artifacts under 5 GB",
    });
  }
  const uri = `s3://${to.bucket}/${to.key}`;
  let versionId: string | undefined;
  let reused = false;
  const object = await s3.send(new GetObjectCommand({ Bucket: source.bucket, Key: source.key, ...version }));
  try {
    const out = await s3.send(
      new PutObjectCommand({
        Bucket: to.bucket,
        Key: to.key,
        Body: object.Body as Readable,
        ContentLength: size,
        IfNoneMatch: "*",
        // S3 computes a full-object SHA-256 of the upload, which HeadObject returns to verify it by.
        ChecksumAlgorithm: "SHA256",
        // Re-encrypted under the target stack's key: the target never needs the source's key.
        ServerSideEncryption: "aws:kms",
        SSEKMSKeyId: to.kmsKeyArn,
      }),
    );
    versionId = objectVersion(out.VersionId);
  } catch (err) {
    (object.Body as Readable | undefined)?.destroy?.();
    if (!isPreconditionFailed(err)) throw err;
    reused = true;
  }
  const actual = await objectSha256(s3, { bucket: to.bucket, key: to.key });
  if (reused) versionId = actual.versionId;
  if (actual.sha256 !== from.sha256) {
    throw new CliError(
      `the copy ${uri}${reused ? " (written by an earlier run)" : ""} has SHA-256 ${actual.sha256}, but the registered artifact has ${from.sha256}`,
      {
        details: [`source: ${from.uri}${from.versionId ? ` version ${from.versionId}` : ""}`, "nothing was registered and nothing was deleted"],
        hint: "inspect both objects; the copy's key is write-once, so remove it deliberately (all its versions) before promoting again",
      },
    );
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

export function isPreconditionFailed(err: unknown): boolean {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e?.name === "PreconditionFailed" || e?.$metadata?.httpStatusCode === 412;
}
