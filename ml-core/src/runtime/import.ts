/**
 * `ml-core import --from xgboost`: converts a model XGBoost saved (JSON or UBJSON) into an ml-core
 * model directory (model.json, metrics.json), offline. The serving image does the same at start
 * for a directory holding SageMaker XGBoost's `xgboost-model`, so this is for inspecting,
 * evaluating or shipping the converted file.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { Command, Option } from "commander";
import { checkedXgboostModel, ModelFormatError } from "../model/load";
import { saveModel } from "../model/save";
import { MODEL_FILE } from "../model/format";

export interface ImportSummary {
  readonly from: "xgboost";
  readonly model: string;
  readonly modelFile: string;
  readonly objective: string;
  readonly features: number;
  readonly trees: number;
  readonly xgboostVersion: string;
}

/** Converts `modelFile` and writes `<modelDir>/model.json`; returns what was written. */
export function importXgboost(modelFile: string, modelDir: string): ImportSummary {
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(modelFile);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new ModelFormatError(`cannot read --model ${modelFile}: ${code === "ENOENT" ? "no such file" : String(e)}`);
  }
  const model = checkedXgboostModel(bytes, modelFile);
  saveModel(modelDir, model);
  return {
    from: "xgboost",
    model: modelFile,
    modelFile: path.join(modelDir, MODEL_FILE),
    objective: model.objective,
    features: model.features.length,
    trees: model.trees.length,
    xgboostVersion: model.hyperparameters.xgboost_version ?? "unknown",
  };
}

export function importCommand(): Command {
  return new Command("import")
    .description("Convert a model saved by another library (XGBoost JSON or UBJSON) into an ml-core model directory")
    .addOption(new Option("--from <library>", "the library that saved the model").choices(["xgboost"]).makeOptionMandatory())
    .requiredOption("--model <file>", "the saved model (XGBoost: Booster.save_model to .json or .ubj, or SageMaker's xgboost-model)")
    .requiredOption("--model-dir <dir>", "where to write model.json and metrics.json")
    .option("--json", "print the summary as JSON")
    .action((opts: { model: string; modelDir: string; json?: boolean }) => {
      const s = importXgboost(opts.model, opts.modelDir);
      process.stdout.write(
        opts.json === true
          ? JSON.stringify(s, null, 2) + "\n"
          : `imported ${s.model} (XGBoost ${s.xgboostVersion}, ${s.objective}, ${s.features} features, ${s.trees} trees) into ${s.modelFile}\n`,
      );
    });
}
