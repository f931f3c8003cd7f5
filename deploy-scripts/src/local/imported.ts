// `ml-deploy local --model-file F`: the serving half of the built-in XGBoost path on this machine.
// A model trained elsewhere (XGBoost's saved model, JSON or UBJSON) is placed where SageMaker's
// XGBoost container leaves it (`xgboost-model` in the model directory), evaluated by `ml-core
// evaluate` on the validation channel, then registered, served and smoke-tested like a trained one.
import * as fs from "node:fs";
import * as path from "node:path";
import { XGBOOST_MODEL_FILE } from "@ml-platform/ml-core";
import { CliError } from "../errors";
import type { Output } from "../output";
import { sampleFromCsv, type SampleRows } from "../smoke/sample";
import { runMlCore } from "./ml-core-process";

/** The label's name in XGBoost's CSV layout (label first, no header), as ml-core names it. */
export const IMPORTED_LABEL = "label";

/** Copies the model file into `modelDir` under the name the XGBoost container gives it. */
export function placeImportedModel(modelFile: string, modelDir: string): void {
  if (!fs.existsSync(modelFile) || !fs.statSync(modelFile).isFile()) throw new CliError(`--model-file ${modelFile}: no such file`);
  fs.mkdirSync(modelDir, { recursive: true });
  fs.copyFileSync(modelFile, path.join(modelDir, XGBOOST_MODEL_FILE));
}

/** `ml-core evaluate` on the validation channel, writing metrics.json into the model directory as training would. */
export async function evaluateInContract(mlCoreBin: string, modelDir: string, validationDir: string, out: Output): Promise<void> {
  const { code, stderr } = await runMlCore(mlCoreBin, ["evaluate", "--model-dir", modelDir, "--data", validationDir, "--output", modelDir], out);
  if (code !== 0) throw new CliError(`the imported model could not be evaluated: ${stderr.trim() || `exit ${code}`}`);
}

/**
 * Smoke rows from a validation file in XGBoost's layout: headerless with the label first (given
 * feature names f0, f1, … as ml-core names a headerless model's features), or with a header
 * naming the label `label`.
 */
export function importedSample(text: string, maxRows: number): SampleRows {
  const first = text.slice(0, text.indexOf("\n") >>> 0).split(",");
  if (first.includes(IMPORTED_LABEL)) return sampleFromCsv(text, { label: IMPORTED_LABEL, maxRows });
  const header = [IMPORTED_LABEL, ...first.slice(1).map((_, i) => `f${i}`)].join(",");
  return sampleFromCsv(`${header}\n${text}`, { label: IMPORTED_LABEL, maxRows });
}
