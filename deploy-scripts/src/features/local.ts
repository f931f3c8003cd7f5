// The `npm start` step: the bundled raw events go into the local DuckDB store, and the training set
// comes out of it by the point-in-time join, ready for the training contract's channels.
import * as fs from "node:fs";
import * as path from "node:path";
import { DATASET_CHANNELS } from "@ml-platform/contract";
import type { Output } from "../output";
import { loadFeatureSet } from "./definition";
import { LocalFeatureStore, localStoreFile } from "./local-store";
import { trainingOnFeatureSet, trainingSetFiles } from "./training-set";

export interface LocalFeatureDataset {
  /** Directory with train.csv and validation.csv, built from the store. */
  readonly dataDir: string;
  readonly hyperparameters: Record<string, string>;
  readonly metadata: Record<string, string>;
}

/**
 * Rebuilds the local store from `recordsFile` (a fresh DuckDB file under `workDir`), then writes the
 * point-in-time training set for the definition's labels under `workDir/datasets/<feature set>/`.
 */
export async function localFeatureDataset(opts: {
  definition: string;
  recordsFile: string;
  workDir: string;
  repoRoot: string;
  out: Output;
}): Promise<LocalFeatureDataset> {
  const { set, labelsFile } = loadFeatureSet(opts.definition);
  const storeFile = localStoreFile(opts.workDir, set);
  fs.mkdirSync(path.dirname(storeFile), { recursive: true });
  fs.rmSync(storeFile, { force: true });
  opts.out.step(`Ingesting ${path.relative(opts.repoRoot, opts.recordsFile)} into the local feature store (${storeFile})`);
  const store = await LocalFeatureStore.open(storeFile);
  try {
    const written = await store.ingest(set, opts.recordsFile);
    opts.out.info(`${written} records of ${set.entity.name} written to "${set.name}"`);
    opts.out.step(`Building the training set: ${path.relative(opts.repoRoot, labelsFile)} joined point-in-time (ASOF) with "${set.name}"`);
    const { columns, rows } = await store.trainingSet(set, labelsFile);
    const files = trainingSetFiles(set, columns, rows);
    const dataDir = path.join(opts.workDir, "datasets", set.name);
    fs.mkdirSync(dataDir, { recursive: true });
    for (const channel of DATASET_CHANNELS) fs.writeFileSync(path.join(dataDir, `${channel}.csv`), files.channels[channel]);
    opts.out.info(`train ${files.rows.train} rows, validation ${files.rows.validation} rows (${dataDir})`);
    return { dataDir, ...trainingOnFeatureSet(set, path.relative(opts.repoRoot, opts.definition)) };
  } finally {
    store.close();
  }
}
