// What other packages use; everything else stays internal (the category taxonomy lives in @spam/contracts).
export { DEFAULT_FEATURE_OPTIONS } from "./features.js";
export type { SparseVector } from "./features.js";
export { hasCjk, isLatinScript } from "./script.js";
export { parseLabelledTsv } from "./data.js";
export { binaryMetrics, categoryMetrics } from "./metrics.js";
export type { BinaryMetrics } from "./metrics.js";
export type { Solver } from "./train.js";
export { DEFAULT_PIPELINE_OPTIONS, assignFolds, crossValidate, trainModel } from "./pipeline.js";
export type { Example, PipelineOptions, ProgressFn } from "./pipeline.js";
export { ModelFileV1, graftLatinSide, loadModel, loadModelFromString, serializeModel } from "./model.js";
export type { SpamClassifier } from "./model.js";
