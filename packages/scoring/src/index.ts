export { DEFAULT_THRESHOLDS, Thresholds, createScorer, verdictId } from "./scorer.js";
export type { ClusterCampaignCounts, ClusterCampaignSource, RuleEngine, RuleHitLike, ScoreInput, Scorer, ScorerOptions } from "./scorer.js";
export { notificationSignals } from "./notification.js";
export type { NotificationSignals } from "./notification.js";
