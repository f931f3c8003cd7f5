/**
 * An XGBoost model as ml-core's model file: what `ml-core import --from xgboost` writes and what
 * the loader builds, at start, from a model directory that holds SageMaker XGBoost's artifact.
 */
import { readXgboostModel } from "../import/xgboost";
import { featureImportance } from "./importance";
import { MODEL_FORMAT, MODEL_FORMAT_VERSION, type ModelJson } from "./format";

/**
 * The file SageMaker's built-in XGBoost writes into the model directory
 * (sagemaker-xgboost-container, constants/xgb_constants.py MODEL_NAME).
 */
export const XGBOOST_MODEL_FILE = "xgboost-model";

/** Converts an XGBoost model file's bytes (JSON or UBJSON) into an ml-core model; `source` names it in errors. */
export function modelFromXgboost(bytes: Uint8Array, source: string): ModelJson {
  const x = readXgboostModel(bytes, source);
  const nOut = x.baseline.length;
  const model: ModelJson = {
    format: MODEL_FORMAT,
    formatVersion: MODEL_FORMAT_VERSION,
    objective: x.objective,
    // XGBoost's CSV input has its label first and no header, as ml-core's headerless CSV.
    label: "label",
    classes: x.classes,
    features: x.featureNames.map((name) => ({ name, kind: "numeric" })),
    baseline: x.baseline,
    trees: x.trees,
    // Where the model came from, as strings like every recorded hyperparameter.
    hyperparameters: {
      imported_from: "xgboost",
      xgboost_version: x.source.xgboostVersion,
      xgboost_objective: x.source.objective,
      xgboost_base_score: String(x.source.baseScore),
      xgboost_format: x.source.format,
    },
    training: {
      dataHash: "unknown",
      trainRows: 0,
      validationRows: 0,
      rounds: Math.floor(x.trees.length / nOut),
      roundsRun: Math.floor(x.trees.length / nOut),
      stoppedEarly: false,
      mlCoreVersion: `none (trained by XGBoost ${x.source.xgboostVersion})`,
    },
    metrics: {},
  };
  return { ...model, featureImportance: featureImportance(model.features, model.trees) };
}
