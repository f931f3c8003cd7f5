/**
 * `ml-core snapshot`: the training pipeline's first step (a SageMaker Processing job, network
 * isolated). SageMaker has downloaded each channel's objects under `<input>/<channel>/`, keeping
 * their key paths below the channel prefix; this pins them as a dataset manifest in the format of
 * `ml-deploy data snapshot` (contract/src/manifest.ts) and lays out what the step's
 * ProcessingOutputs upload:
 *
 *   <output>/objects/<sha256>                      → s3://<bucket>/datasets/sha256/
 *   <output>/manifests/<id>.json                   → s3://<bucket>/datasets/manifests/
 *   <output>/manifests/<id>/<channel>.manifest     (the SageMaker ManifestFile of each channel)
 *   <output>/record/snapshot.json                  → the step's property file: the id and the URIs
 *                                                    the training and evaluate steps read
 *
 * VersionIds: the job sees files, not S3 responses, and cannot call S3 (isolated), so each object's
 * `versionId` is null (unknown). The content-addressed copy pins the bytes instead: its key is the
 * SHA-256 of what was read, and training verifies every file against it.
 *
 * With `--manifest=<id>` (the pipeline's DatasetManifest parameter, when a start gives one) nothing
 * is snapshotted: the record points at that manifest, so the rest of the pipeline is the same.
 */
import { Command } from "commander";
import * as fs from "node:fs";
import * as path from "node:path";
import { CsvDigest, type ObjectFacts } from "../data/csv-digest";
import { channelManifestFile, manifestBytes, type ManifestEntry } from "../train/manifest";
import { TRAIN_CHANNEL, VALIDATION_CHANNEL } from "./contract";

/** The channels a manifest records, in its order (contract's DATASET_CHANNELS). */
export const SNAPSHOT_CHANNELS = [TRAIN_CHANNEL, VALIDATION_CHANNEL] as const;
/** The property file the pipeline's JsonGet reads, under `<output>/record/`. */
export const SNAPSHOT_RECORD_FILE = "snapshot.json";
/** Subdirectories of `--output`, one per ProcessingOutput. */
export const SNAPSHOT_OUTPUTS = { objects: "objects", manifests: "manifests", record: "record" } as const;

export interface SnapshotOptions {
  /** Where SageMaker put the channels: `<input>/<channel>/...`. */
  readonly input: string;
  readonly output: string;
  /** The dataset prefix the inputs were downloaded from, `s3://<bucket>/<prefix>/`: each object's URI is this + channel + its path. */
  readonly source: string;
  /** Where the content-addressed copies are uploaded (`s3://<bucket>/datasets/sha256/`). */
  readonly objects: string;
  /** Where the manifests are uploaded (`s3://<bucket>/datasets/manifests/`). */
  readonly manifests: string;
  /** A manifest id given to the pipeline: use it, snapshot nothing. Empty: snapshot. */
  readonly manifest?: string;
}

/** The property file: what the training and evaluate steps read with Std:JsonGet. */
export interface SnapshotRecord {
  readonly manifestId: string;
  /** True when the manifest was written by this run; false when it was given. */
  readonly snapshotted: boolean;
  /** The manifest object (the training job's `manifest` channel). */
  readonly manifest: string;
  /** Each channel's SageMaker ManifestFile. */
  readonly channels: Readonly<Record<(typeof SNAPSHOT_CHANNELS)[number], string>>;
  readonly objects: number;
}

const MANIFEST_ID = /^[0-9a-f]{64}$/;

export function snapshot(o: SnapshotOptions): SnapshotRecord {
  for (const [flag, uri] of [
    ["--source", o.source],
    ["--objects", o.objects],
    ["--manifests", o.manifests],
  ] as const)
    if (!/^s3:\/\/[^/]+\/.+\/$/.test(uri)) throw new Error(`${flag} ${uri}: must be an S3 prefix, s3://<bucket>/<prefix>/`);
  const given = o.manifest?.trim() ?? "";
  if (given !== "") {
    if (!MANIFEST_ID.test(given)) throw new Error(`--manifest ${given}: a dataset manifest id is 64 lowercase hex digits (ml-deploy data snapshot prints it)`);
    return writeRecord(o, given, false, 0);
  }

  const entries: ManifestEntry[] = [];
  const objectsDir = path.join(o.output, SNAPSHOT_OUTPUTS.objects);
  fs.mkdirSync(objectsDir, { recursive: true });
  for (const channel of SNAPSHOT_CHANNELS) {
    const dir = path.join(o.input, channel);
    const files = fs.existsSync(dir) ? filesUnder(dir) : [];
    if (files.length === 0) throw new Error(`the ${channel} channel is empty: no objects under ${o.source}${channel}/ (downloaded to ${dir})`);
    for (const file of files) {
      const rel = path.relative(dir, file).split(path.sep).join("/");
      const facts = digestFile(file);
      storeContent(file, path.join(objectsDir, facts.sha256));
      entries.push({ channel, uri: `${o.source}${channel}/${rel}`, versionId: null, ...facts });
    }
  }
  const { id, bytes } = manifestBytes(o.source, entries, SNAPSHOT_CHANNELS);
  const manifestsDir = path.join(o.output, SNAPSHOT_OUTPUTS.manifests);
  fs.mkdirSync(path.join(manifestsDir, id), { recursive: true });
  fs.writeFileSync(path.join(manifestsDir, `${id}.json`), bytes);
  for (const channel of SNAPSHOT_CHANNELS)
    fs.writeFileSync(path.join(manifestsDir, id, `${channel}.manifest`), channelManifestFile(o.objects, entries, channel));
  return writeRecord(o, id, true, entries.length);
}

function writeRecord(o: SnapshotOptions, id: string, snapshotted: boolean, objects: number): SnapshotRecord {
  const record: SnapshotRecord = {
    manifestId: id,
    snapshotted,
    manifest: `${o.manifests}${id}.json`,
    channels: { train: `${o.manifests}${id}/${TRAIN_CHANNEL}.manifest`, validation: `${o.manifests}${id}/${VALIDATION_CHANNEL}.manifest` },
    objects,
  };
  const dir = path.join(o.output, SNAPSHOT_OUTPUTS.record);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, SNAPSHOT_RECORD_FILE), JSON.stringify(record, null, 2) + "\n");
  return record;
}

/** Every file below `dir`, sorted (an S3 listing's objects, dot-files included). */
function filesUnder(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const e of fs.readdirSync(d, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      const full = path.join(d, e.name);
      if (e.isDirectory()) walk(full);
      else if (e.isFile()) out.push(full);
    }
  };
  walk(dir);
  return out;
}

function digestFile(file: string): ObjectFacts {
  const d = new CsvDigest();
  const buffer = Buffer.allocUnsafe(1 << 20);
  const fd = fs.openSync(file, "r");
  try {
    for (let n = fs.readSync(fd, buffer); n > 0; n = fs.readSync(fd, buffer)) d.update(buffer.subarray(0, n));
    return d.digest();
  } catch (e) {
    throw new Error(`${file}: ${(e as Error).message}`);
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * The content-addressed copy: a hard link where input and output share a volume (they do in a
 * Processing job: both live on its ML storage volume), so the data is not held twice; else a copy.
 */
function storeContent(file: string, target: string): void {
  if (fs.existsSync(target)) return;
  try {
    fs.linkSync(file, target);
  } catch {
    fs.copyFileSync(file, target);
  }
}

export function snapshotCommand(): Command {
  return new Command("snapshot")
    .description("pin the downloaded channels as a dataset manifest with content-addressed copies (the training pipeline's Snapshot step)")
    .requiredOption("--input <dir>", "where the channels were downloaded: <dir>/<channel>/...")
    .requiredOption("--output <dir>", "where to lay out objects/, manifests/ and record/ for upload")
    .requiredOption("--source <s3-prefix>", "the dataset prefix the channels were downloaded from, s3://<bucket>/<prefix>/")
    .requiredOption("--objects <s3-prefix>", "where objects/ is uploaded (s3://<bucket>/datasets/sha256/)")
    .requiredOption("--manifests <s3-prefix>", "where manifests/ is uploaded (s3://<bucket>/datasets/manifests/)")
    .option("--manifest <id>", "a dataset manifest id to use instead of snapshotting (empty: snapshot)", "")
    .option("--json", "print the record as JSON")
    .action((opts: SnapshotOptions & { json?: boolean }) => {
      const record = snapshot(opts);
      process.stdout.write(
        opts.json
          ? JSON.stringify(record) + "\n"
          : `${record.snapshotted ? `snapshotted ${record.objects} objects as` : "using the given"} dataset manifest ${record.manifestId}\n`,
      );
    });
}
