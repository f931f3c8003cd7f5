// The package's public API. Training and scoring are plain functions over data; the runtime
// adapters (runtime/) are reached through the `ml-core` bin.
export type { Objective, FeatureInfo, Predictor } from "./model/predictor";
export { loadPredictor, loadModel, parseModel, ModelFormatError } from "./model/load";
export { saveModel } from "./model/save";
export { FlatPredictor, sigmoid } from "./model/flat-predictor";
export * from "./model/format";
