export { createScorerService } from "./main.js";
export type { ScorerService } from "./main.js";
export { loadScorerEnv, defaultModelPath } from "./env.js";
export type { ScorerEnv } from "./env.js";
export { ScoringWorker, verdictFor } from "./worker.js";
export type { MessageScorer, ScoringWorkerOptions } from "./worker.js";
