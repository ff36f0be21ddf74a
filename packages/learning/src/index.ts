export { runBacktest, backtestTrafficQuery, reviewedMessagesQuery, candidateRules, CandidateRulesError } from "./backtest.js";
export type { BacktestOptions, BacktestResult, BacktestSample, RuleFigures } from "./backtest.js";
export { exportDataset, toTsv, trainingText, datasetLabelsQuery, datasetTrafficTextQuery, datasetReportTextQuery, datasetCampaignQuery } from "./dataset.js";
export type { DatasetExport, DatasetOptions, DatasetRow } from "./dataset.js";
export { ModelRegistry, ModelCardV1, RegistryStateV1, RegistryError } from "./registry.js";
export type { ModelCard, RegisteredModel, RegistryChange, RegistryErrorCode, RegistryState } from "./registry.js";
export { modelControlFor, publishModelControl } from "./control.js";
export { shadowReport, shadowSummaryQuery, shadowReviewedQuery, shadowDisagreementsQuery } from "./shadow.js";
export type { ShadowDisagreement, ShadowModelFigures, ShadowReport } from "./shadow.js";
