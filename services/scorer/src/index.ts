export { createScorerService } from "./main.js";
export type { ScorerService } from "./main.js";
export { loadScorerEnv, defaultModelPath } from "./env.js";
export type { ScorerEnv } from "./env.js";
export { ScoringWorker, scoreBatch, verdictFor } from "./worker.js";
export type { MessageScorer, ScoringWorkerOptions, VelocityHooks } from "./worker.js";
export { KafkaChangelogReader, ModalRuleEngine, VelocityPartitions, changelogRecords } from "./velocity-changelog.js";
export type { ChangelogEntry, ChangelogReader } from "./velocity-changelog.js";
export type { VelocityMode, VelocityPartitionsOptions } from "./velocity-changelog.js";
