// Dataset manifests: the exact bytes a model was trained on. `ml-deploy data snapshot` writes them,
// `ml-deploy train` hands one to the job, ml-core verifies the channel files against it,
// `register` and `lineage` point at it.
//
// Identity: a manifest's id is the hex SHA-256 of its canonical JSON (`canonicalJson`: object keys
// sorted by UTF-16 code unit at every level, arrays in order, no whitespace). The stored object is
// exactly those bytes, so anyone holding the file checks its id with `sha256sum`, no JSON library.
import { createHash } from "node:crypto";
import { z } from "zod";
import { DATASET_CHANNELS, DATASET_PREFIX, type DatasetChannel } from "./layout";

/** The format tag of this version of the manifest. A change of fields is a new tag. */
export const DATASET_MANIFEST_FORMAT = "ml-platform/dataset-manifest@1";

const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, "must be a hex SHA-256");

/** One object of a dataset, as it was when the snapshot read it. */
export const manifestObjectSchema = z.strictObject({
  channel: z.enum(DATASET_CHANNELS),
  /** Where it was read: `s3://<bucket>/<key>`, or a `file://` URL locally. */
  uri: z.string().min(1),
  /** The S3 VersionId read; null where there are no versions (an unversioned bucket, a local file). */
  versionId: z.string().min(1).nullable(),
  size: z.number().int().nonnegative(),
  /** SHA-256 of the object's bytes, computed by streaming them (an ETag is not a content hash for multipart uploads). */
  sha256: sha256Hex,
  /** CSV records after the header row (quoted line breaks do not end a record). */
  rows: z.number().int().nonnegative(),
  /** SHA-256 of the header row (its trailing CR removed): two files with one schema hash have the same columns in the same order. */
  schemaSha256: sha256Hex,
});

export const datasetManifestSchema = z.strictObject({
  format: z.literal(DATASET_MANIFEST_FORMAT),
  /** The dataset prefix that was snapshotted (`s3://<bucket>/<prefix>/`, or a directory's `file://` URL). */
  source: z.string().min(1),
  /** Sorted by channel, then URI: the same objects give the same manifest. */
  objects: z.array(manifestObjectSchema).min(1),
});

export type ManifestObject = z.infer<typeof manifestObjectSchema>;
export type DatasetManifest = z.infer<typeof datasetManifestSchema>;

/** JSON with object keys sorted at every level and no whitespace: the same value, the same bytes. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === "object" && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0)))
      : v,
  );
}

/** A manifest from its objects (in any order), with its id and the bytes to store. */
export function buildManifest(source: string, objects: readonly ManifestObject[]): { manifest: DatasetManifest; id: string; bytes: string } {
  const order = (o: ManifestObject) => `${DATASET_CHANNELS.indexOf(o.channel)}\0${o.uri}`;
  const manifest = datasetManifestSchema.parse({
    format: DATASET_MANIFEST_FORMAT,
    source,
    objects: [...objects].sort((a, b) => (order(a) < order(b) ? -1 : order(a) > order(b) ? 1 : 0)),
  });
  const bytes = canonicalJson(manifest);
  return { manifest, id: sha256(bytes), bytes };
}

/**
 * Reads stored manifest bytes: they must hash to `id` (when given) and be a valid manifest. Each
 * problem names `where` (the object or file read).
 */
export function parseManifest(bytes: string, where: string, id?: string): { manifest: DatasetManifest; id: string } {
  const actual = sha256(bytes);
  if (id !== undefined && actual !== id) throw new Error(`${where}: its SHA-256 is ${actual}, not the manifest id ${id}: it is not that manifest`);
  let doc: unknown;
  try {
    doc = JSON.parse(bytes);
  } catch (err) {
    throw new Error(`${where} is not JSON: ${(err as Error).message}`);
  }
  const parsed = datasetManifestSchema.safeParse(doc);
  if (!parsed.success)
    throw new Error(`${where} is not a dataset manifest: ${parsed.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`).join("; ")}`);
  if (canonicalJson(parsed.data) !== bytes) throw new Error(`${where} is not in canonical form (sorted keys, no whitespace): its id would not be its hash`);
  return { manifest: parsed.data, id: actual };
}

/** The channels a manifest has no object for. */
export function emptyChannels(manifest: DatasetManifest): DatasetChannel[] {
  return DATASET_CHANNELS.filter((c) => !manifest.objects.some((o) => o.channel === c));
}

export const MANIFEST_ID = /^[0-9a-f]{64}$/;

// --- Where snapshots live: under the dataset bucket's one readable prefix, so the training role
// reads them with the grant it has. Every key below is write-once (PutObject with If-None-Match).

/**
 * Content-addressed copies: `datasets/sha256/<hex>`. SageMaker's ManifestFile channels list keys
 * but not VersionIds, so a job cannot be pinned to an object version; a key named by the hash of
 * its bytes can only ever hold those bytes (it is created once, and ml-core checks each file's
 * hash against its name and the manifest before training).
 */
export const DATASET_OBJECTS_PREFIX = `${DATASET_PREFIX}/sha256`;
/** Manifests: `datasets/manifests/<id>.json`, and beside each the SageMaker ManifestFile of each channel. */
export const DATASET_MANIFESTS_PREFIX = `${DATASET_PREFIX}/manifests`;

export function datasetObjectKey(sha256Hex: string): string {
  return `${DATASET_OBJECTS_PREFIX}/${sha256Hex}`;
}

export function manifestKey(id: string): string {
  return `${DATASET_MANIFESTS_PREFIX}/${id}.json`;
}

/** The SageMaker ManifestFile (S3DataType "ManifestFile") of one channel of a manifest. */
export function channelManifestKey(id: string, channel: DatasetChannel): string {
  return `${DATASET_MANIFESTS_PREFIX}/${id}/${channel}.manifest`;
}

/** The id in a manifest key or URI, or undefined. */
export function manifestIdOf(keyOrUri: string): string | undefined {
  return new RegExp(`(?:^|/)${DATASET_MANIFESTS_PREFIX}/([0-9a-f]{64})\\.json$`).exec(keyOrUri)?.[1];
}

/**
 * A channel's ManifestFile: `[{"prefix": "s3://<bucket>/datasets/sha256/"}, "<hex>", ...]`. The
 * job's channel directory then holds one file per distinct content, named by its SHA-256: what
 * ml-core verifies. (Two objects with the same bytes in one channel become one file.)
 */
export function channelManifestFile(bucket: string, manifest: DatasetManifest, channel: DatasetChannel): string {
  const hashes = [...new Set(manifest.objects.filter((o) => o.channel === channel).map((o) => o.sha256))];
  return JSON.stringify([{ prefix: `s3://${bucket}/${DATASET_OBJECTS_PREFIX}/` }, ...hashes]);
}

function sha256(text: string): string {
  return createHash("sha256").update(text, "utf8").digest("hex");
}
