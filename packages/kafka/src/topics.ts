import type { Kafka } from "kafkajs";
import type { Logger } from "pino";
import { TOPIC_SPECS, type TopicNames } from "@spam/contracts";

export interface EnsureTopicsOptions {
  readonly kafka: Kafka;
  readonly names: TopicNames;
  readonly partitions: number;
  readonly replicationFactor?: number;
  readonly logger: Logger;
}

/** Creates every contract topic that does not exist yet; safe to run on every start. */
export async function ensureTopics(options: EnsureTopicsOptions): Promise<string[]> {
  const admin = options.kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const missing = TOPIC_SPECS.filter((spec) => !existing.has(options.names[spec.key]));
    if (missing.length === 0) return [];
    await admin.createTopics({
      waitForLeaders: true,
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
    options.logger.info({ created }, "created Kafka topics");
    return created;
  } finally {
    await admin.disconnect();
  }
}
