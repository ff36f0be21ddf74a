import { z } from "zod";

/**
 * Message contracts on Kafka. Every message carries `v` so a consumer can
 * reject (dead-letter) a version it does not understand instead of misreading it.
 * Timestamps are epoch milliseconds (numbers): cheap to compare, exact in JSON.
 */

const epochMs = z.number().int().nonnegative();
const id = z.string().min(1).max(128);
/** MSISDN or alphanumeric sender id as received on the wire. */
const address = z.string().max(64);

export const RawMessageV1 = z.object({
  v: z.literal(1),
  id,
  receivedAt: epochMs,
  gatewayId: z.string().min(1).max(64),
  account: z.string().max(64),
  source: address,
  destination: address,
  text: z.string().max(20_000),
  dataCoding: z.number().int().min(0).max(255),
  parts: z.number().int().min(1).max(255),
  /** A concatenated message whose parts did not all arrive before the timeout. */
  partial: z.boolean(),
});
export type RawMessage = z.infer<typeof RawMessageV1>;

const REPORT_STATUSES = ["parsed", "pending_number", "completed_two_step", "unparseable"] as const;
export type ReportStatus = (typeof REPORT_STATUSES)[number];

export const ReportV1 = z.object({
  v: z.literal(1),
  id,
  /** Id of the SMS (to the report short code) that carried this report. */
  messageId: id,
  receivedAt: epochMs,
  gatewayId: z.string().min(1).max(64),
  shortCode: address,
  /** Needed to answer the reporter; stored only in the restricted contact store. */
  reporterMsisdn: address,
  /** Keyed hash of the reporter: the only form analytics and logs may hold. */
  reporterHash: z.string().min(1).max(128),
  reportedNumber: address.nullable(),
  content: z.string().max(20_000).nullable(),
  rawText: z.string().max(20_000),
  status: z.enum(REPORT_STATUSES),
  parseError: z.string().max(500).nullable(),
  /** The reported number is a known service/notification sender: never auto-block. */
  allowListed: z.boolean(),
  /** SMPP account (system_id) the report came through; only accounts with the `report` capability may send one. */
  account: z.string().max(64).optional(),
});
export type Report = z.infer<typeof ReportV1>;

/** "commercial": a brand promotion (registered signature, unsubscribe line); its action is the operator's policy, and it is never spam evidence. */
export const VERDICT_LABELS = ["ham", "suspect", "spam", "commercial"] as const;
export type VerdictLabel = (typeof VERDICT_LABELS)[number];
export const VERDICT_ACTIONS = ["allow", "flag", "block"] as const;
export type VerdictAction = (typeof VERDICT_ACTIONS)[number];

export const ContributionV1 = z.object({
  source: z.enum(["rule", "model"]),
  id: z.string().max(128),
  score: z.number(),
  category: z.string().max(64).nullable(),
  detail: z.string().max(500).nullable(),
});
export type Contribution = z.infer<typeof ContributionV1>;

export const VerdictV1 = z.object({
  v: z.literal(1),
  /** Derived from the message id: the same message always yields the same verdict id. */
  id,
  messageId: id,
  kind: z.enum(["traffic", "report"]),
  receivedAt: epochMs,
  scoredAt: epochMs,
  source: address,
  destination: address,
  score: z.number().min(0).max(1),
  label: z.enum(VERDICT_LABELS),
  category: z.string().max(64).nullable(),
  action: z.enum(VERDICT_ACTIONS),
  contributions: z.array(ContributionV1).max(200),
  campaignId: z.string().max(64).nullable(),
  rulesetVersion: z.string().max(64),
  modelVersion: z.string().max(64),
  /** Microseconds spent per scoring stage, for the latency budget. */
  timingsUs: z.record(z.string(), z.number().nonnegative()),
  /**
   * What a candidate model or rule set running in shadow would have decided (absent: no shadow). Never
   * acted on. Added to v1 as optional: a consumer that ignores it reads the verdict as before.
   */
  shadow: z
    .object({
      modelVersion: z.string().max(64),
      /** The shadow's rule set when it is a candidate of its own (absent: the live rules). */
      rulesetVersion: z.string().max(64).optional(),
      score: z.number().min(0).max(1),
      label: z.enum(VERDICT_LABELS),
      action: z.enum(VERDICT_ACTIONS),
    })
    .optional(),
});
export type Verdict = z.infer<typeof VerdictV1>;

const BLOCK_KINDS = ["sender", "domain", "fingerprint"] as const;
export type BlockKind = (typeof BLOCK_KINDS)[number];
export const BLOCK_STATES = ["active", "expired", "lifted"] as const;

export const BlockListEntryV1 = z.object({
  v: z.literal(1),
  kind: z.enum(BLOCK_KINDS),
  value: z.string().min(1).max(256),
  state: z.enum(BLOCK_STATES),
  reason: z.string().max(500),
  evidence: z.object({
    reportIds: z.array(id).max(1000),
    verdictIds: z.array(id).max(1000),
  }),
  createdBy: z.string().max(128),
  createdAt: epochMs,
  expiresAt: epochMs.nullable(),
  /** Monotonic per key: consumers keep the highest version they have seen. */
  version: z.number().int().nonnegative(),
});
export type BlockListEntry = z.infer<typeof BlockListEntryV1>;

/** Key on the compacted block-list topic: one live record per kind and value. */
export function blockListKey(kind: BlockKind, value: string): string {
  return `${kind}:${value}`;
}

/** `outcome_blocked_unverified`: the sender was blocked, but this reporter's own report was not verified. */
export const REPLY_KINDS = ["ack", "ask_number", "format_help", "outcome_blocked", "outcome_not_confirmed", "outcome_blocked_unverified"] as const;
export type ReplyKind = (typeof REPLY_KINDS)[number];

export const OutboundReplyV1 = z.object({
  v: z.literal(1),
  id,
  reportId: id.nullable(),
  to: address,
  from: address,
  kind: z.enum(REPLY_KINDS),
  text: z.string().min(1).max(2_000),
  createdAt: epochMs,
});
export type OutboundReply = z.infer<typeof OutboundReplyV1>;

export const ReviewLabelV1 = z.object({
  v: z.literal(1),
  id,
  caseId: id,
  /**
   * The decider's id of this case when the decider has one (it opened the subject's case from reports, which
   * then joined the review case): the decider settles its own case by it. Optional: added within v1.
   */
  deciderCaseId: id.optional(),
  messageId: id.nullable(),
  label: z.enum(["spam", "ham", "escalate"]),
  category: z.string().max(64).nullable(),
  reviewer: z.string().max(128),
  decidedAt: epochMs,
  comment: z.string().max(2_000),
});
export type ReviewLabel = z.infer<typeof ReviewLabelV1>;

export const EnforcementEventV1 = z.object({
  v: z.literal(1),
  id,
  messageId: id,
  at: epochMs,
  gatewayId: z.string().max(64),
  kind: z.enum(BLOCK_KINDS),
  value: z.string().max(256),
  policy: z.enum(["reject", "drop"]),
  source: address,
  destination: address,
});
export type EnforcementEvent = z.infer<typeof EnforcementEventV1>;

/** What the relay did with one message (gateway relay mode, services/gateway/README.md). */
export const DELIVERY_OUTCOMES = ["forwarded", "stopped", "deferred", "no_route", "late_verdict"] as const;
export type DeliveryOutcome = (typeof DELIVERY_OUTCOMES)[number];
/**
 * Why: the verdict's action (allow, flag, block), a block-list or campaign block, the deadline
 * (fail open, closed for a sender under an alarm, or the gateway's own scoring blocked it:
 * local_block), the downstream (throttled, unavailable).
 */
export const DELIVERY_REASONS = [
  "allow",
  "flag",
  "block",
  "blocklist",
  "campaign_block",
  "deadline_open",
  "deadline_closed",
  "local_block",
  "throttled",
  "unavailable",
  "no_route",
] as const;
export type DeliveryReason = (typeof DELIVERY_REASONS)[number];

export const DeliveryRecordV1 = z.object({
  v: z.literal(1),
  /** Derived from the message id and the outcome: a redelivered record carries the same id. */
  id,
  messageId: id,
  receivedAt: epochMs,
  at: epochMs,
  gatewayId: z.string().max(64),
  account: z.string().max(64),
  route: z.string().max(64).nullable(),
  smsc: z.string().max(64).nullable(),
  source: address,
  destination: address,
  parts: z.number().int().min(1).max(255),
  outcome: z.enum(DELIVERY_OUTCOMES),
  reason: z.enum(DELIVERY_REASONS),
  /** The scorer's action when a verdict was in hand (for late_verdict: the verdict that came after the deadline). */
  verdictAction: z.enum(VERDICT_ACTIONS).nullable(),
  /** Receipt → decision, milliseconds. */
  decisionMs: z.number().int().nonnegative(),
  /** Ids the downstream SMSC gave the parts (forwarded only). */
  downstreamIds: z.array(z.string().max(65)).max(255),
});
export type DeliveryRecord = z.infer<typeof DeliveryRecordV1>;

export const RulesControlV1 = z.object({
  v: z.literal(1),
  command: z.literal("reload"),
  requestedAt: epochMs,
  requestedBy: z.string().max(128),
});
export type RulesControl = z.infer<typeof RulesControlV1>;

/** A registered model version: its content hash (the model file's modelVersion). */
const modelId = z.string().regex(/^[a-f0-9]{8,64}$/);

/**
 * On the rules control topic beside the reload command: scorers load these versions from the model
 * registry, `live` to decide and `shadow` (null: none) to score beside it without acting.
 */
export const ModelControlV1 = z.object({
  v: z.literal(1),
  command: z.literal("models"),
  live: modelId,
  shadow: modelId.nullable(),
  requestedAt: epochMs,
  requestedBy: z.string().max(128),
});
export type ModelControl = z.infer<typeof ModelControlV1>;

/** Everything the control topic carries; a scorer that knows only RulesControlV1 dead-letters the rest. */
export const ControlCommandV1 = z.discriminatedUnion("command", [RulesControlV1, ModelControlV1]);
export type ControlCommand = z.infer<typeof ControlCommandV1>;

/**
 * A scoring worker's velocity windows for one traffic partition, written when it stops (compacted
 * topic, records on the traffic partition's number): a manifest (key = partition) names the chunks
 * (key = partition/index) of one snapshot. `offset`: the windows hold exactly the partition's
 * traffic before it. A new owner whose first offset is at or after it imports the chunks and
 * replays only what came since.
 */
const velocitySnapshotRecord = z.object({
  v: z.literal(1),
  partition: z.number().int().nonnegative(),
  snapshotId: z.string().min(1).max(64),
});

const VelocitySnapshotManifestV1 = velocitySnapshotRecord.extend({
  kind: z.literal("manifest"),
  offset: z.string().regex(/^\d{1,20}$/),
  chunks: z.number().int().nonnegative().max(100_000),
  takenAt: epochMs,
});
export type VelocitySnapshotManifest = z.infer<typeof VelocitySnapshotManifestV1>;

const VelocitySnapshotChunkV1 = velocitySnapshotRecord.extend({
  kind: z.literal("chunk"),
  index: z.number().int().nonnegative(),
  /** Per sender: per window length, flattened (timestamp, 53-bit recipient hash) pairs, oldest first. */
  senders: z.array(
    z.tuple([
      z.string().max(64),
      z.array(z.tuple([z.number().int().positive(), z.array(z.number()).max(200_000).refine((a) => a.length % 2 === 0, "pairs")])).max(64),
    ]),
  ),
});
export type VelocitySnapshotChunk = z.infer<typeof VelocitySnapshotChunkV1>;

export const VelocitySnapshotRecordV1 = z.discriminatedUnion("kind", [VelocitySnapshotManifestV1, VelocitySnapshotChunkV1]);

/**
 * Exact counts of one campaign across every scoring worker, computed in ClickHouse by the decider's
 * campaign-counts job (compacted topic, key = campaign id; a tombstone = the campaign is no longer active).
 * Counts cover the verdicts received since `since` (start of the hour the job's window began in).
 */
export const CampaignCountsV1 = z.object({
  v: z.literal(1),
  campaignId: z.string().min(1).max(64),
  /** Traffic messages and distinct recipients, as of `sizedAt`. */
  messages: z.number().int().nonnegative(),
  recipients: z.number().int().nonnegative(),
  /** Distinct senders and reports (report verdicts of this campaign), as of `computedAt`. */
  senders: z.number().int().nonnegative(),
  reports: z.number().int().nonnegative(),
  firstSeen: epochMs,
  lastSeen: epochMs,
  since: epochMs,
  computedAt: epochMs,
  /** Messages and recipients (sets as large as the campaign) are recounted less often than the others. */
  sizedAt: epochMs,
});
export type CampaignCounts = z.infer<typeof CampaignCountsV1>;

export const DeadLetterV1 = z.object({
  v: z.literal(1),
  sourceTopic: z.string(),
  partition: z.number().int(),
  offset: z.string(),
  key: z.string().nullable(),
  /** The original bytes, base64: the payload may not be valid UTF-8 or JSON. */
  valueBase64: z.string().nullable(),
  error: z.string().max(4_000),
  service: z.string().max(64),
  failedAt: epochMs,
});
export type DeadLetter = z.infer<typeof DeadLetterV1>;

/**
 * Decider output on the `decisions` topic (keyed by reported number / case
 * subject). Every event has a deterministic `id`, so a redelivery collapses in
 * ClickHouse. One topic, a union on `type`, so the sink and the review API read
 * one ordered stream per case.
 */
export const REPORT_VERIFICATIONS = ["verified", "unverified", "fabricated", "not_checkable"] as const;
export type ReportVerification = (typeof REPORT_VERIFICATIONS)[number];

const ReportAssessedV1 = z.object({
  v: z.literal(1),
  type: z.literal("report_assessed"),
  id,
  reportId: id,
  reportedNumber: address.nullable(),
  reporterHash: z.string().min(1).max(128),
  reportReceivedAt: epochMs,
  assessedAt: epochMs,
  verification: z.enum(REPORT_VERIFICATIONS),
  /** The delivered message that matched the reported content. */
  matchedMessageId: id.nullable(),
  similarity: z.number().min(0).max(1).nullable(),
  caseId: id.nullable(),
  reporterReputation: z.number().min(0).max(1),
  /** Number of this reporter's earlier reports decided by review. */
  reporterHistory: z.number().int().nonnegative(),
  allowListed: z.boolean(),
  campaignId: z.string().max(64).nullable(),
  verdictLabel: z.enum(VERDICT_LABELS).nullable(),
});
export type ReportAssessed = z.infer<typeof ReportAssessedV1>;

const CASE_STATES = ["open", "decided"] as const;
const CASE_DECISIONS = ["pending", "blocked", "not_spam", "escalated"] as const;
export type CaseDecision = (typeof CASE_DECISIONS)[number];

export const CaseEvidenceV1 = z.object({
  reportIds: z.array(id).max(1000),
  verdictIds: z.array(id).max(1000),
  reportCount: z.number().int().nonnegative(),
  verifiedCount: z.number().int().nonnegative(),
  fabricatedCount: z.number().int().nonnegative(),
  distinctVerifiedReporters: z.number().int().nonnegative(),
  /** Sum of the reputations of distinct verified reporters. */
  weightedReporters: z.number().nonnegative(),
  /** Share of verified reports whose delivered message the classifier labelled spam. */
  classifierAgreement: z.number().min(0).max(1),
  maxScore: z.number().min(0).max(1),
  brigadingSuspected: z.boolean(),
  windowHours: z.number().positive(),
});
export type CaseEvidence = z.infer<typeof CaseEvidenceV1>;

const CaseEventV1 = z.object({
  v: z.literal(1),
  type: z.literal("case"),
  id,
  caseId: id,
  /** Monotonic per case: the latest version is the case's state. */
  version: z.number().int().nonnegative(),
  subjectKind: z.enum(["sender", "campaign"]),
  subject: z.string().min(1).max(256),
  state: z.enum(CASE_STATES),
  decision: z.enum(CASE_DECISIONS),
  /** "policy:<rule>" or "reviewer:<name>"; null while pending. */
  decidedBy: z.string().max(128).nullable(),
  reason: z.string().max(500),
  /** Policy rule that fired (auto-block or review), or "" for a reviewer decision. */
  rule: z.string().max(64),
  evidence: CaseEvidenceV1,
  allowListed: z.boolean(),
  openedAt: epochMs,
  updatedAt: epochMs,
  decidedAt: epochMs.nullable(),
  slaDueAt: epochMs,
  slaBreached: z.boolean(),
});
export type CaseEvent = z.infer<typeof CaseEventV1>;

const ReportOutcomeV1 = z.object({
  v: z.literal(1),
  type: z.literal("report_outcome"),
  id,
  reportId: id,
  caseId: id,
  outcome: z.enum(["blocked", "not_confirmed"]),
  decidedBy: z.string().max(128),
  reporterHash: z.string().min(1).max(128),
  reportReceivedAt: epochMs,
  decidedAt: epochMs,
});
export type ReportOutcome = z.infer<typeof ReportOutcomeV1>;

const AuditEventV1 = z.object({
  v: z.literal(1),
  type: z.literal("audit"),
  id,
  at: epochMs,
  actor: z.string().max(128),
  action: z.string().max(64),
  subjectKind: z.string().max(64),
  subject: z.string().max(256),
  reason: z.string().max(2_000),
  detail: z.string().max(4_000),
});

export const DecisionEventV1 = z.discriminatedUnion("type", [ReportAssessedV1, CaseEventV1, ReportOutcomeV1, AuditEventV1]);
export type DecisionEvent = z.infer<typeof DecisionEventV1>;
