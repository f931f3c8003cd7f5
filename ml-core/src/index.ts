// The package's public API. Training and scoring are plain functions over data; the runtime
// adapters (runtime/) are reached through the `ml-core` bin.
export type { Objective, FeatureInfo, Predictor } from "./model/predictor";
export { loadPredictor, loadModel, parseModel, ModelFormatError } from "./model/load";
export { saveModel } from "./model/save";
export { FlatPredictor, sigmoid } from "./model/flat-predictor";
export * from "./model/format";
export { METRIC_NAMES, METRIC_CHANNELS, metricDefinitions, formatMetricLine, computeMetrics } from "./eval/metrics";
export { HYPERPARAMETERS, parseHyperparameters, HyperparameterError } from "./train/hyperparameters";
export { runTrainingJob } from "./train/training-job";
export type { TrainingJobSpec, JobIO, JobOutcome } from "./train/training-job";
export { TrainingSession, resolveLabels, probabilities, binningSeed } from "./train/session";
export type { FitParams, FitInput, FitResult, Checkpoint } from "./train/session";
export { readTrainingTable, readTableWithSchema, DataError } from "./data/table";
export type { DataSchema, Table, LayoutOptions } from "./data/table";
export { readBinnedTrainingData, readBinnedTable } from "./train/binned-data";
export type { BinnedTable } from "./train/binned-data";
export { Random } from "./gbdt/random";
