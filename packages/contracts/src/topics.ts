/**
 * Every Kafka topic the platform uses. Services never spell a topic name
 * themselves: they call `topicNames(prefix)` so a test run (or a second
 * tenant) can use its own prefixed set on the same broker.
 */
export const TOPIC_KEYS = [
  "trafficRaw",
  "reports",
  "verdicts",
  "blocklist",
  "repliesOutbound",
  "reviewLabels",
  "enforcement",
  "rulesControl",
  "deadLetter",
  "decisions",
  "campaignCounts",
  "velocitySnapshots",
  "delivery",
  "relayHeld",
] as const;

export type TopicKey = (typeof TOPIC_KEYS)[number];
export type TopicNames = Readonly<Record<TopicKey, string>>;

const BASE_NAMES: TopicNames = {
  trafficRaw: "sms.traffic.raw",
  reports: "sms.reports",
  verdicts: "sms.verdicts",
  blocklist: "sms.blocklist",
  repliesOutbound: "sms.replies.outbound",
  reviewLabels: "sms.review.labels",
  enforcement: "sms.enforcement",
  rulesControl: "sms.rules.control",
  deadLetter: "sms.deadletter",
  decisions: "sms.decisions",
  campaignCounts: "sms.campaigns.counts",
  velocitySnapshots: "sms.scorer.velocity.snapshots",
  delivery: "sms.delivery",
  relayHeld: "sms.relay.held",
};

export interface TopicSpec {
  readonly key: TopicKey;
  /** Compacted topics keep the latest value per key (block list, rule control). */
  readonly compacted: boolean;
  /** Topics keyed by sender carry per-sender state to one partition. */
  readonly partitioned: boolean;
}

export const TOPIC_SPECS: readonly TopicSpec[] = [
  { key: "trafficRaw", compacted: false, partitioned: true },
  { key: "reports", compacted: false, partitioned: true },
  { key: "verdicts", compacted: false, partitioned: true },
  { key: "blocklist", compacted: true, partitioned: false },
  { key: "repliesOutbound", compacted: false, partitioned: true },
  { key: "reviewLabels", compacted: false, partitioned: true },
  { key: "enforcement", compacted: false, partitioned: true },
  { key: "rulesControl", compacted: true, partitioned: false },
  { key: "deadLetter", compacted: false, partitioned: false },
  /** Decider output (report assessments, case versions, outcomes, audit), keyed by case subject. */
  { key: "decisions", compacted: false, partitioned: true },
  /** Cluster-wide campaign counts from ClickHouse (latest per campaign id), followed by every scorer worker. */
  { key: "campaignCounts", compacted: true, partitioned: false },
  /**
   * A stopping scorer's velocity windows per traffic partition (written to that partition's number),
   * so the next owner replays only what came after them.
   */
  { key: "velocitySnapshots", compacted: true, partitioned: true },
  /** The relay's outcome per message (forwarded, stopped, deferred), keyed by sender. */
  { key: "delivery", compacted: false, partitioned: true },
  /**
   * Relay mode's journal: each part of a multipart message answered OK while held, keyed by gateway and
   * reassembly key, tombstoned once its message is forwarded or stopped. A restarted gateway holds them again.
   */
  { key: "relayHeld", compacted: true, partitioned: false },
];

export function topicNames(prefix = ""): TopicNames {
  const out = {} as Record<TopicKey, string>;
  for (const key of TOPIC_KEYS) out[key] = `${prefix}${BASE_NAMES[key]}`;
  return out;
}
