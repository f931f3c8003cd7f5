// The local dataset store: the same snapshot as in S3, in files. `<store>/sha256/<hex>` holds each
// content once; `<store>/manifests/<id>.json` holds the manifest's canonical bytes. Files are
// created exclusively (flag "wx"), the local counterpart of If-None-Match: *.
import * as fs from "node:fs";
import * as path from "node:path";
import { pathToFileURL } from "node:url";
import { DATASET_CHANNELS, buildManifest, emptyChannels, parseManifest, type DatasetManifest, type ManifestObject } from "@ml-platform/contract";
import { CliError } from "../errors";
import { digestStream } from "./digest";

export interface LocalSnapshot {
  readonly id: string;
  readonly file: string;
  readonly manifest: DatasetManifest;
  readonly created: boolean;
}

/** Where a local store keeps contents and manifests. */
export const localStore = {
  object: (store: string, sha256: string) => path.join(store, "sha256", sha256),
  manifest: (store: string, id: string) => path.join(store, "manifests", `${id}.json`),
};

/** Snapshots `<dataDir>/<channel>.csv` for each channel into `store`. */
export async function snapshotLocal(dataDir: string, store: string): Promise<LocalSnapshot> {
  const objects: ManifestObject[] = [];
  for (const channel of DATASET_CHANNELS) {
    const file = path.resolve(dataDir, `${channel}.csv`);
    if (!fs.existsSync(file)) throw new CliError(`the ${channel} channel's data is missing: ${file}`);
    const facts = await digestStream(fs.createReadStream(file));
    const target = localStore.object(store, facts.sha256);
    fs.mkdirSync(path.dirname(target), { recursive: true });
    if (!fs.existsSync(target)) {
      // Written beside and renamed: the content-addressed name never holds a partial file.
      const tmp = `${target}.${process.pid}.tmp`;
      fs.copyFileSync(file, tmp);
      fs.renameSync(tmp, target);
    }
    objects.push({ channel, uri: pathToFileURL(file).href, versionId: null, ...facts });
  }
  const { manifest, id, bytes } = buildManifest(pathToFileURL(path.resolve(dataDir)).href + "/", objects);
  if (emptyChannels(manifest).length > 0) throw new CliError(`the dataset in ${dataDir} has an empty channel`);
  const file = localStore.manifest(store, id);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  let created = true;
  try {
    fs.writeFileSync(file, bytes, { flag: "wx" });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    created = false;
  }
  return { id, file, manifest, created };
}

export function readLocalManifest(store: string, id: string): { manifest: DatasetManifest; id: string; file: string } {
  const file = localStore.manifest(store, id);
  if (!fs.existsSync(file)) throw new CliError(`dataset manifest ${id} is not in the local store: ${file}`);
  try {
    return { ...parseManifest(fs.readFileSync(file, "utf8"), file, id), file };
  } catch (err) {
    throw new CliError((err as Error).message);
  }
}

/**
 * Lays out a training tree's channels from a manifest, as SageMaker's ManifestFile channels do:
 * `<dataDir>/<channel>/<sha256>` for each distinct content, and the manifest as the `manifest`
 * channel's one file.
 */
export function materializeChannels(store: string, id: string, dataDir: string, manifestChannel: string): void {
  const { manifest, file } = readLocalManifest(store, id);
  for (const o of manifest.objects) {
    const target = path.join(dataDir, o.channel, o.sha256);
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.copyFileSync(localStore.object(store, o.sha256), target);
  }
  fs.mkdirSync(path.join(dataDir, manifestChannel), { recursive: true });
  fs.copyFileSync(file, path.join(dataDir, manifestChannel, `${id}.json`));
}
