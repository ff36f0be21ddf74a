export { DEFAULT_THRESHOLDS, Thresholds, createScorer, verdictId } from "./scorer.js";
export type { ClusterCampaignCounts, ClusterCampaignSource, RuleEngine, RuleHitLike, ScoreInput, Scorer, ScorerOptions } from "./scorer.js";
export { MESSAGE_KINDS, messageKind, notificationSignals } from "./notification.js";
export type { MessageKind, NotificationSignals } from "./notification.js";
