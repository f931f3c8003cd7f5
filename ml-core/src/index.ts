// The package's public API. Training and scoring are plain functions over data; the runtime
// adapters (runtime/) are reached through the `ml-core` bin. The deploy tools import what both
// sides must agree on from here: hyperparameters, metric names and regexes, artifact file names,
// the model's identity.
export type { Objective, FeatureInfo, Predictor } from "./model/predictor";
export { loadPredictor, loadModel, loadServedModel, parseModel, ModelFormatError } from "./model/load";
export type { ServedModel } from "./model/load";
// The served model's identity: the header ml-core serve answers with and how its value is computed.
export { MODEL_IDENTITY_HEADER, CUSTOM_ATTRIBUTES_MAX_LENGTH, modelIdentity, modelSha256 } from "./model/identity";
export { saveModel } from "./model/save";
export { XGBOOST_MODEL_FILE } from "./model/xgboost";
export { featureImportance, describeModel } from "./model/importance";
export type { ModelDescription } from "./model/importance";
export { FlatPredictor, sigmoid } from "./model/flat-predictor";
export { ChainPredictor } from "./model/chain-predictor";
// The model format, with the artifact file names ml-core writes (MODEL_FILE "model.json",
// METRICS_FILE "metrics.json").
export * from "./model/format";
export { MODEL_FILE, METRICS_FILE } from "./model/format";
export { METRIC_NAMES, METRIC_CHANNELS, metricDefinitions, formatMetricLine, computeMetrics } from "./eval/metrics";
export { HYPERPARAMETERS, parseHyperparameters, HyperparameterError } from "./train/hyperparameters";
export type { HyperparameterSpec, ParsedHyperparameters } from "./train/hyperparameters";
export { runTrainingJob } from "./train/training-job";
export type { TrainingJobSpec, JobIO, JobOutcome } from "./train/training-job";
export { TrainingSession, resolveLabels, probabilities, binningSeed } from "./train/session";
export type { FitParams, FitInput, FitResult, Checkpoint } from "./train/session";
export { readTrainingTable, readTableWithSchema, DataError } from "./data/table";
export type { DataSchema, Table, LayoutOptions } from "./data/table";
export { readBinnedTrainingData, readBinnedTable } from "./train/binned-data";
export type { BinnedTable } from "./train/binned-data";
export { Random } from "./gbdt/random";
export * from "./profile/index";
export { MANIFEST_CHANNEL, verifyAgainstManifest, fileSha256, ManifestMismatchError } from "./train/manifest";
export { CsvDigest, digestStream, type ObjectFacts } from "./data/csv-digest";
