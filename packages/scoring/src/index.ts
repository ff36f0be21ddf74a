// What other packages use.
export { CORROBORATING_BUILTINS, DEFAULT_THRESHOLDS, Thresholds, createScorer, isCorroborating } from "./scorer.js";
export type { RuleEngine, Scorer, ScorerOptions } from "./scorer.js";
export { MESSAGE_KINDS, messageKind, notificationSignals } from "./notification.js";
export type { MessageKind } from "./notification.js";
