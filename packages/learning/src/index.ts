export { runBacktest, candidateRules, CandidateRulesError } from "./backtest.js";
export type { BacktestResult } from "./backtest.js";
export { exportDataset, toTsv } from "./dataset.js";
export { ModelRegistry, RegistryError } from "./registry.js";
export type { ModelCard, RegistryState } from "./registry.js";
export { modelControlFor, publishModelControl } from "./control.js";
export { shadowReport } from "./shadow.js";
export type { ShadowReport } from "./shadow.js";
