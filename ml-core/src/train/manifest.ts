/**
 * Verifying a job's channel files against its dataset manifest before training on them.
 *
 * The manifest arrives as one more channel (`manifest`, holding `<id>.json`). Its format is
 * defined in the contract package (contract/src/manifest.ts); the image carries no dependency but
 * commander, so this reads only the fields it checks: each object's channel, SHA-256 and URI. The
 * channel files are named by their SHA-256 (the content-addressed keys the ManifestFile channels
 * list), so each file's expected hash is known from its name and checked against the manifest.
 */
import { createHash, type Hash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";

/** The channel that carries the dataset manifest. */
export const MANIFEST_CHANNEL = "manifest";

export class ManifestMismatchError extends Error {
  override readonly name = "ManifestMismatchError";
}

export interface VerifiedManifest {
  readonly id: string;
  /** Files checked, per channel. */
  readonly files: Readonly<Record<string, number>>;
  /** Each channel file's path → the URI of the object it is a copy of. */
  readonly sources: ReadonlyMap<string, string>;
}

interface Expected {
  readonly sha256: string;
  readonly uri: string;
}

/**
 * Checks that each data channel holds exactly the manifest's objects: one file per distinct
 * content, named by its SHA-256, whose bytes hash to that. Fails naming the first file that
 * differs, with the expected and the actual hash and the object it stands for.
 */
export function verifyAgainstManifest(
  manifestFiles: readonly string[],
  channels: Readonly<Record<string, readonly string[]>>,
  dataDir: string,
): VerifiedManifest {
  if (manifestFiles.length !== 1)
    throw new ManifestMismatchError(`the ${MANIFEST_CHANNEL} channel must hold one manifest file, it holds ${manifestFiles.length}`);
  const file = manifestFiles[0]!;
  const bytes = fs.readFileSync(file);
  const id = createHash("sha256").update(bytes).digest("hex");
  const expected = readExpected(bytes, file);
  const checked: Record<string, number> = {};
  const sources = new Map<string, string>();
  for (const channel of new Set([...Object.keys(expected), ...Object.keys(channels).filter((c) => c !== MANIFEST_CHANNEL)])) {
    const want = expected[channel] ?? new Map<string, Expected>();
    const seen = new Set<string>();
    for (const f of channels[channel] ?? []) {
      const name = path.relative(path.join(dataDir, channel), f).split(path.sep).join("/");
      const entry = want.get(name);
      if (!entry) throw new ManifestMismatchError(`${channel}/${name} is not in dataset manifest ${id}: the channel holds a file the manifest does not list`);
      const actual = fileSha256(f);
      if (actual !== entry.sha256)
        throw new ManifestMismatchError(
          `${channel}/${name} differs from dataset manifest ${id}: expected SHA-256 ${entry.sha256} (${entry.uri}), actual ${actual}`,
        );
      seen.add(name);
      sources.set(f, entry.uri);
    }
    const missing = [...want.keys()].filter((n) => !seen.has(n));
    if (missing.length > 0)
      throw new ManifestMismatchError(`${channel}/${missing[0]} (${want.get(missing[0]!)!.uri}) is in dataset manifest ${id} but not in the channel`);
    checked[channel] = seen.size;
  }
  return { id, files: checked, sources };
}

/**
 * A training error names the channel file (`train/<sha256>:3: ...`); people know the object it is
 * a copy of. Each file path in the message gets its source URI after it.
 */
export function withSources(message: string, sources: ReadonlyMap<string, string>): string {
  let out = message;
  for (const [file, uri] of sources) out = out.split(file).join(`${file} (${uri})`);
  return out;
}

function readExpected(bytes: Buffer, file: string): Record<string, Map<string, Expected>> {
  let doc: unknown;
  try {
    doc = JSON.parse(bytes.toString("utf8"));
  } catch (e) {
    throw new ManifestMismatchError(`${file} is not valid JSON: ${(e as Error).message}`);
  }
  const objects = (doc as { objects?: unknown })?.objects;
  if (!Array.isArray(objects)) throw new ManifestMismatchError(`${file} is not a dataset manifest: no "objects" array`);
  const out: Record<string, Map<string, Expected>> = {};
  objects.forEach((o: { channel?: unknown; sha256?: unknown; uri?: unknown }, i) => {
    if (typeof o?.channel !== "string" || typeof o.sha256 !== "string" || !/^[0-9a-f]{64}$/.test(o.sha256))
      throw new ManifestMismatchError(`${file}: objects[${i}] needs a channel and a hex sha256`);
    (out[o.channel] ??= new Map()).set(o.sha256, { sha256: o.sha256, uri: typeof o.uri === "string" ? o.uri : "?" });
  });
  return out;
}

/** Streams a file through SHA-256 (a channel file may be larger than a Buffer can hold). */
export function fileSha256(file: string): string {
  const hash = createHash("sha256");
  hashFileInto(hash, file);
  return hash.digest("hex");
}

/** Feeds a file's bytes to `hash`, a megabyte at a time. */
export function hashFileInto(hash: Hash, file: string): void {
  const buffer = Buffer.allocUnsafe(1 << 20);
  const fd = fs.openSync(file, "r");
  try {
    for (let n = fs.readSync(fd, buffer); n > 0; n = fs.readSync(fd, buffer)) hash.update(buffer.subarray(0, n));
  } finally {
    fs.closeSync(fd);
  }
}

// --- Writing a manifest (`ml-core snapshot`, the pipeline's Snapshot step). The format is the
// contract package's (contract/src/manifest.ts: DATASET_MANIFEST_FORMAT, canonicalJson,
// buildManifest); the image carries no zod, so the few lines that fix its bytes are here too, and a
// platform test (test/pipeline-snapshot.test.ts) holds both to the same bytes and the same id.

/** contract's DATASET_MANIFEST_FORMAT. */
export const DATASET_MANIFEST_FORMAT = "ml-platform/dataset-manifest@1";

/** One object of a manifest: contract's ManifestObject. */
export interface ManifestEntry {
  readonly channel: string;
  readonly uri: string;
  /** The S3 VersionId read; null where none is known (see `ml-core snapshot`). */
  readonly versionId: string | null;
  readonly size: number;
  readonly sha256: string;
  readonly rows: number;
  readonly schemaSha256: string;
}

/** JSON with object keys sorted by UTF-16 code unit at every level and no whitespace. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === "object" && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0)))
      : v,
  );
}

/**
 * A manifest's canonical bytes and id (their SHA-256): objects sorted by the channel's place in
 * `channels`, then URI, as contract's buildManifest sorts them.
 */
export function manifestBytes(source: string, objects: readonly ManifestEntry[], channels: readonly string[]): { id: string; bytes: string } {
  const order = (o: ManifestEntry) => `${channels.indexOf(o.channel)}\0${o.uri}`;
  const sorted = [...objects].sort((a, b) => (order(a) < order(b) ? -1 : order(a) > order(b) ? 1 : 0));
  const bytes = canonicalJson({ format: DATASET_MANIFEST_FORMAT, source, objects: sorted });
  return { id: createHash("sha256").update(bytes, "utf8").digest("hex"), bytes };
}

/** A channel's SageMaker ManifestFile: the prefix of the content-addressed copies, then each distinct hash. */
export function channelManifestFile(objectsPrefixUri: string, objects: readonly ManifestEntry[], channel: string): string {
  const hashes = [...new Set(objects.filter((o) => o.channel === channel).map((o) => o.sha256))];
  return JSON.stringify([{ prefix: objectsPrefixUri }, ...hashes]);
}
