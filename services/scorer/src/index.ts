export { createScorerService } from "./main.js";
export type { ScorerService } from "./main.js";
export { loadScorerEnv, defaultModelPath } from "./env.js";
export type { ScorerEnv } from "./env.js";
export { ScoringWorker, scoreBatch, verdictFor } from "./worker.js";
export type { MessageScorer, ScoringWorkerOptions, VelocityHooks } from "./worker.js";
export { KafkaSnapshotStore, ModalRuleEngine, VelocityReplay } from "./velocity-replay.js";
export type { KafkaSnapshotStoreOptions, PartitionSnapshot, SnapshotStore, VelocityMode, VelocityReplayOptions } from "./velocity-replay.js";
export { ModelSwitch } from "./models.js";
