import { randomUUID } from "node:crypto";
import { Consumer, MessagesStreamModes, type Message, type MessagesStream } from "@platformatic/kafka";
import type { Logger } from "pino";
import type { ZodType, ZodTypeDef } from "zod";
import { FETCH_MAX_WAIT_MS, type Kafka } from "./client.js";
import { KafkaModuleError } from "./errors.js";
import { decodeRecord } from "./records.js";

export interface CompactedTopicFollowerOptions<T> {
  readonly kafka: Kafka;
  readonly logger: Logger;
  readonly topic: string;
  readonly schema: ZodType<T, ZodTypeDef, unknown>;
  /**
   * Prefix of the follower's consumer group. Every follower reads every partition, so each gets a
   * group of its own: the prefix plus a random suffix per process. The follower commits nothing,
   * and a fixed group shared with a killed predecessor would make the restarted process wait out
   * that member's session before it got any partition.
   */
  readonly groupId: string;
  /** `value` is null for a tombstone (the key was deleted). */
  readonly onRecord: (key: string, value: T | null) => void;
}

type Raw = Message<Buffer, Buffer, Buffer, Buffer>;

/**
 * Reads a compacted topic from the beginning and keeps following it, so an
 * in-memory view (the block list in a gateway) is complete at start and stays
 * current. `start()` resolves once the view has caught up with the
 * high-watermarks read at start. Invalid records are logged and skipped: the
 * writer dead-letters at its side, and a view must not stall on one bad record.
 */
export class CompactedTopicFollower<T> {
  private readonly consumer: Consumer<Buffer, Buffer, Buffer, Buffer>;
  private stream: MessagesStream<Buffer, Buffer, Buffer, Buffer> | null = null;
  private readonly logger: Logger;

  constructor(private readonly options: CompactedTopicFollowerOptions<T>) {
    this.logger = options.logger.child({ component: "compacted-follower", topic: options.topic });
    this.consumer = new Consumer({
      ...options.kafka.baseOptions(),
      groupId: `${options.groupId}-${randomUUID()}`,
      maxWaitTime: FETCH_MAX_WAIT_MS,
      sessionTimeout: 10_000,
      heartbeatInterval: 3_000,
    });
    this.consumer.on("error", (err: Error) => this.logger.error({ err }, "compacted topic follower failed"));
  }

  async start(timeoutMs = 30_000): Promise<void> {
    const admin = this.options.kafka.admin();
    const ends = new Map<number, bigint>();
    try {
      for (const p of await admin.fetchTopicOffsets(this.options.topic)) ends.set(p.partition, BigInt(p.high));
    } catch (cause) {
      throw new KafkaModuleError("topics_not_ready", `cannot read the offsets of ${this.options.topic}: ${String(cause)}`, { cause });
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
    const remaining = new Set([...ends].filter(([, high]) => high > 0n).map(([p]) => p));
    let caughtUp!: () => void;
    const done = new Promise<void>((resolve) => (caughtUp = resolve));
    if (remaining.size === 0) caughtUp();

    let stream: MessagesStream<Buffer, Buffer, Buffer, Buffer>;
    try {
      stream = await this.consumer.consume({ topics: [this.options.topic], mode: MessagesStreamModes.EARLIEST, autocommit: false });
    } catch (cause) {
      throw new KafkaModuleError("topics_not_ready", `cannot follow ${this.options.topic}: ${String(cause)}`, { cause });
    }
    this.stream = stream;
    stream.on("error", (err) => this.logger.error({ err }, "compacted topic stream failed"));
    stream.on("data", (message: Raw) => {
      const key = message.key?.toString("utf8");
      if (key !== undefined) {
        if (message.value === undefined || message.value === null) this.options.onRecord(key, null);
        else {
          const decoded = decodeRecord(this.options.schema, message.value);
          if (decoded.ok) this.options.onRecord(key, decoded.value);
          else this.logger.warn({ key, offset: String(message.offset), error: decoded.error }, "skipping invalid record");
        }
      }
      const end = ends.get(message.partition);
      if (end !== undefined && message.offset + 1n >= end && remaining.delete(message.partition) && remaining.size === 0) caughtUp();
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
    const stream = this.stream;
    this.stream = null;
    if (stream) await stream.close().catch(() => undefined);
    await this.consumer.close(true).catch(() => undefined);
  }
}
