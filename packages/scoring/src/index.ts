export { CORROBORATING_BUILTINS, DEFAULT_THRESHOLDS, Thresholds, createScorer, isCorroborating, verdictId } from "./scorer.js";
export type { ClusterCampaignCounts, ClusterCampaignSource, RuleEngine, RuleHitLike, ScoreInput, Scorer, ScorerOptions } from "./scorer.js";
export { MESSAGE_KINDS, messageKind, notificationSignals } from "./notification.js";
export type { MessageKind, NotificationSignals } from "./notification.js";
export { checkSender, claimedSignature, senderKind } from "./sender.js";
export type { SenderKind, SpoofCheck } from "./sender.js";
