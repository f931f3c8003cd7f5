// The local lifecycle's dataset step: snapshot the bundled data into the local store, and lay out
// the training tree's channels from the manifest, as a SageMaker job's ManifestFile channels and
// manifest channel would be: ml-core then verifies every file before training.
import * as fs from "node:fs";
import * as path from "node:path";
import { pathToFileURL } from "node:url";
import { DATASET_CHANNELS } from "@ml-platform/contract";
import { MANIFEST_CHANNEL } from "@ml-platform/ml-core";
import { materializeChannels, snapshotLocal } from "../data/local";
import type { Output } from "../output";

/** Where the local store keeps contents and manifests, under the work directory. */
export const LOCAL_DATASETS_DIR = "datasets";

export async function trainFromSnapshot(workDir: string, dataDir: string, base: string, out: Output): Promise<{ id: string; uri: string }> {
  const snap = await snapshotLocal(dataDir, path.join(workDir, LOCAL_DATASETS_DIR));
  out.info(`dataset manifest ${snap.id}${snap.created ? "" : " (the same data was snapshotted before)"}`);
  const dataRoot = path.join(base, "input", "data");
  for (const channel of DATASET_CHANNELS) fs.rmSync(path.join(dataRoot, channel), { recursive: true, force: true });
  materializeChannels(path.join(workDir, LOCAL_DATASETS_DIR), snap.id, dataRoot, MANIFEST_CHANNEL);
  const configFile = path.join(base, "input", "config", "inputdataconfig.json");
  const config = JSON.parse(fs.readFileSync(configFile, "utf8")) as Record<string, unknown>;
  config[MANIFEST_CHANNEL] = { ContentType: "application/json", TrainingInputMode: "File", S3DistributionType: "FullyReplicated", RecordWrapperType: "None" };
  fs.writeFileSync(configFile, JSON.stringify(config));
  return { id: snap.id, uri: pathToFileURL(snap.file).href };
}
