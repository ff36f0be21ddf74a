export { DEFAULT_FEATURE_OPTIONS, FeatureExtractor, idfTable, isLatinScript, weighTerms } from "./features.js";
export type { FeatureOptions, SparseVector } from "./features.js";
export { CATEGORY_GROUPS, FINE_CATEGORIES, categoryGroup, parseLabelledTsv, prepareSegmentedText } from "./data.js";
export type { CategoryGroup, LabelledRow, MalformedLine, ParsedTsv } from "./data.js";
export { binaryMetrics, categoryMetrics } from "./metrics.js";
export type { BinaryMetrics, CategoryMetrics } from "./metrics.js";
export { DEFAULT_TRAIN_OPTIONS, buildDataset, fitPlatt, plattProbability, trainBinary } from "./train.js";
export type { Dataset, LinearModel, Platt, Solver, TrainOptions } from "./train.js";
export { DEFAULT_PIPELINE_OPTIONS, assignFolds, crossValidate, trainModel } from "./pipeline.js";
export type { CrossValidationResult, Example, PipelineOptions, ProgressFn } from "./pipeline.js";
export {
  MODEL_FORMAT,
  MODEL_FORMAT_VERSION,
  ModelFileV1,
  ModelLoadError,
  SpamClassifier,
  loadModel,
  graftLatinSide,
  loadModelFromString,
  serializeModel,
} from "./model.js";
export type { CategoryModel, ModelFile, Prediction, TrainedModel } from "./model.js";
export { embeddingDataset, embeddingScore, fitLatinStack, fitStacker, inBand, stackedProbability } from "./stack.js";
export type { LatinStack, LatinStackOptions, StackerWeights } from "./stack.js";
