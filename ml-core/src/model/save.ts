/** Writing a model directory: `model.json` (the model) and `metrics.json` (for the model registry). */
import * as fs from "node:fs";
import * as path from "node:path";
import { METRICS_FILE, MODEL_FILE, type ModelJson } from "./format";

/**
 * Writes `model.json` and `metrics.json` into `modelDir` (created if needed). Each file is written
 * to a temporary name and renamed, so a reader never sees half a model.
 */
export function saveModel(modelDir: string, model: ModelJson, metricsReport: object = { ...model.metrics }): void {
  fs.mkdirSync(modelDir, { recursive: true });
  writeFileAtomic(path.join(modelDir, MODEL_FILE), JSON.stringify(model));
  writeFileAtomic(path.join(modelDir, METRICS_FILE), JSON.stringify(metricsReport, null, 2) + "\n");
}

/**
 * Writes to a temporary name in the same directory, flushes it to disk and renames it over `file`:
 * a reader (or a job restarted after SIGKILL or a lost machine) sees the old file or the new one,
 * never a torn one.
 */
export function writeFileAtomic(file: string, text: string): void {
  const tmp = `${file}.${process.pid}.tmp`;
  const fd = fs.openSync(tmp, "w");
  try {
    fs.writeFileSync(fd, text);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
}
