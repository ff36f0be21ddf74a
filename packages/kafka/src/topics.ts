import type { KafkaAdmin } from "./admin.js";
import type { Kafka } from "./client.js";
import type { Logger } from "pino";
import { TOPIC_SPECS, type TopicNames } from "@spam/contracts";
import { KafkaModuleError } from "./errors.js";

export interface EnsureTopicsOptions {
  readonly kafka: Kafka;
  readonly names: TopicNames;
  readonly partitions: number;
  readonly replicationFactor?: number;
  readonly logger: Logger;
}

const LEADER_WAIT_MS = 30_000;

async function waitForLeaders(admin: KafkaAdmin, topics: readonly string[]): Promise<void> {
  const deadline = Date.now() + LEADER_WAIT_MS;
  for (let delay = 50; ; delay = Math.min(delay * 2, 1_000)) {
    let lastError: unknown = null;
    try {
      const { topics: metadata } = await admin.fetchTopicMetadata({ topics: [...topics] });
      const ready = metadata.length === topics.length && metadata.every((t) => t.partitions.length > 0 && t.partitions.every((p) => p.leader >= 0));
      // The metadata can name a leader before that broker serves the partition: a consumer's first
      // offset lookup then fails with NOT_LEADER_OR_FOLLOWER and the client backs off. Ask
      // each leader for the offsets (ListOffsets) before calling the topics ready.
      if (ready) {
        for (const topic of topics) await admin.fetchTopicOffsets(topic);
        return;
      }
    } catch (err) {
      lastError = err; // unknown topic / no leader yet: the broker is still applying the creation
    }
    if (Date.now() > deadline) {
      throw new KafkaModuleError("topics_not_ready", `topics have no leader after ${LEADER_WAIT_MS} ms: ${topics.join(", ")}`, { cause: lastError });
    }
    await new Promise((r) => setTimeout(r, delay));
  }
}

/** Creates every contract topic that does not exist yet; safe to run on every start. */
export async function ensureTopics(options: EnsureTopicsOptions): Promise<string[]> {
  const admin = options.kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const missing = TOPIC_SPECS.filter((spec) => !existing.has(options.names[spec.key]));
    if (missing.length === 0) return [];
    // A KRaft broker may answer UNKNOWN_TOPIC_OR_PARTITION for a moment after creating a topic, so
    // wait for the leaders here.
    await admin.createTopics({
      topics: missing.map((spec) => ({
        topic: options.names[spec.key],
        numPartitions: spec.partitioned ? options.partitions : 1,
        replicationFactor: options.replicationFactor ?? 1,
        configEntries: spec.compacted
          ? [
              { name: "cleanup.policy", value: "compact" },
              { name: "min.cleanable.dirty.ratio", value: "0.1" },
            ]
          : [],
      })),
    });
    const created = missing.map((spec) => options.names[spec.key]);
    await waitForLeaders(admin, created);
    options.logger.info({ created }, "created Kafka topics");
    return created;
  } finally {
    await admin.disconnect();
  }
}

/**
 * The one spelling of a consumer group id: the topic prefix (test runs and tenants share a broker), the
 * service's group name and what the group reads for it, e.g. `consumerGroup("", "decider", "reports")`
 * is `decider.reports`. Groups of one process only (followers, readers) add a random suffix to `purpose`.
 */
export function consumerGroup(prefix: string, service: string, purpose?: string): string {
  if (service.length === 0) throw new RangeError("a consumer group needs a service name");
  return purpose ? `${prefix}${service}.${purpose}` : `${prefix}${service}`;
}
