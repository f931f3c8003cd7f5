// The package's public API. Training and scoring are plain functions over data; the runtime
// adapters (runtime/) are reached through the `ml-core` bin.
export type { Objective, FeatureInfo, Predictor } from "./model/predictor";
export { loadPredictor, loadModel, parseModel, ModelFormatError } from "./model/load";
export { saveModel } from "./model/save";
export { FlatPredictor, sigmoid } from "./model/flat-predictor";
export * from "./model/format";
export { METRIC_NAMES, METRIC_CHANNELS, metricDefinitions, formatMetricLine, computeMetrics } from "./eval/metrics";
export { HYPERPARAMETERS, parseHyperparameters, HyperparameterError } from "./runtime/hyperparameters";
export { runTrainingJob } from "./runtime/training-job";
export type { TrainingJobSpec, JobIO, JobOutcome } from "./runtime/training-job";
export { TrainingSession, resolveLabels, probabilities, binningSeed } from "./model/fit";
export type { FitParams, FitInput, FitResult, Checkpoint } from "./model/fit";
export { readTrainingTable, readTableWithSchema, readBinnedTrainingData, readBinnedTable, DataError } from "./data/table";
export type { DataSchema, Table, BinnedTable, LayoutOptions } from "./data/table";
export { Random } from "./gbdt/random";
