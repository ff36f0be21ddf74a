import { randomUUID } from "node:crypto";
import type { Consumer, Kafka } from "kafkajs";
import type { Logger } from "pino";
import type { ZodType, ZodTypeDef } from "zod";
import { decodeRecord } from "./consumer.js";

export interface CompactedTopicFollowerOptions<T> {
  readonly kafka: Kafka;
  readonly logger: Logger;
  readonly topic: string;
  readonly schema: ZodType<T, ZodTypeDef, unknown>;
  /**
   * Prefix of the follower's consumer group. Every follower reads every partition, so each gets a
   * group of its own: the prefix plus a random suffix per process. The follower commits nothing,
   * and a fixed group shared with a killed predecessor would make the restarted process wait out
   * that member's session (kafkajs default 30 s) before it got any partition.
   */
  readonly groupId: string;
  /** `value` is null for a tombstone (the key was deleted). */
  readonly onRecord: (key: string, value: T | null) => void;
}

/**
 * Reads a compacted topic from the beginning and keeps following it, so an
 * in-memory view (the block list in a gateway) is complete at start and stays
 * current. `start()` resolves once the view has caught up with the
 * high-watermarks read at start. Invalid records are logged and skipped: the
 * writer dead-letters at its side, and a view must not stall on one bad record.
 */
export class CompactedTopicFollower<T> {
  private readonly consumer: Consumer;
  private readonly logger: Logger;

  constructor(private readonly options: CompactedTopicFollowerOptions<T>) {
    this.logger = options.logger.child({ component: "compacted-follower", topic: options.topic });
    this.consumer = options.kafka.consumer({ groupId: `${options.groupId}-${randomUUID()}`, maxWaitTimeInMs: 100, allowAutoTopicCreation: false });
  }

  async start(timeoutMs = 30_000): Promise<void> {
    const admin = this.options.kafka.admin();
    await admin.connect();
    const ends = new Map<number, bigint>();
    try {
      for (const p of await admin.fetchTopicOffsets(this.options.topic)) ends.set(p.partition, BigInt(p.high));
    } finally {
      await admin.disconnect();
    }
    const remaining = new Set([...ends].filter(([, high]) => high > 0n).map(([p]) => p));
    let caughtUp!: () => void;
    const done = new Promise<void>((resolve) => (caughtUp = resolve));
    if (remaining.size === 0) caughtUp();

    await this.consumer.connect();
    await this.consumer.subscribe({ topic: this.options.topic, fromBeginning: true });
    await this.consumer.run({
      autoCommit: false,
      eachMessage: async ({ partition, message }) => {
        const key = message.key?.toString("utf8");
        if (key !== undefined) {
          if (message.value === null) this.options.onRecord(key, null);
          else {
            const decoded = decodeRecord(this.options.schema, message.value);
            if (decoded.ok) this.options.onRecord(key, decoded.value);
            else this.logger.warn({ key, offset: message.offset, error: decoded.error }, "skipping invalid record");
          }
        }
        const end = ends.get(partition);
        if (end !== undefined && BigInt(message.offset) + 1n >= end && remaining.delete(partition) && remaining.size === 0) caughtUp();
      },
    });
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`compacted topic ${this.options.topic} not caught up within ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      await Promise.race([done, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  async stop(): Promise<void> {
    await this.consumer.disconnect();
  }
}
