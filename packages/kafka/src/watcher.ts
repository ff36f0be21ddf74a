import { EventEmitter } from "node:events";
import { Consumer, MessagesStreamFallbackModes, MessagesStreamModes, type Message, type MessagesStream } from "@platformatic/kafka";
import type { Logger } from "pino";
import { FETCH_MAX_WAIT_MS, type Kafka } from "./client.js";

export interface KafkaWatcherConfig {
  readonly groupId: string;
  readonly maxWaitTimeInMs?: number;
  readonly minBytes?: number;
  /** Accepted for callers written for other clients: this module's clients never create topics. */
  readonly allowAutoTopicCreation?: boolean;
}

/** A record as the watcher hands it over (offsets and timestamps as decimal strings). */
interface WatchedMessage {
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly offset: string;
  readonly timestamp: string;
  readonly headers: Readonly<Record<string, Buffer>>;
}

interface WatchedBatch {
  readonly topic: string;
  readonly partition: number;
  readonly messages: readonly WatchedMessage[];
  /** The offset of the batch's last record. */
  lastOffset(): string;
}

export interface WatcherRunOptions {
  /** Commit what was handed over every second (default); false: commit nothing. */
  readonly autoCommit?: boolean;
  /** Accepted for callers written for other clients: batches are always resolved whole. */
  readonly eachBatchAutoResolve?: boolean;
  readonly eachMessage?: (payload: { topic: string; partition: number; message: WatchedMessage }) => Promise<void>;
  readonly eachBatch?: (payload: { batch: WatchedBatch }) => Promise<void>;
}

type RawMessage = Message<Buffer, Buffer, Buffer, Buffer>;

function toWatched(m: RawMessage): WatchedMessage {
  const headers: Record<string, Buffer> = {};
  for (const [k, v] of m.headers) headers[k.toString("utf8")] = v;
  return { key: m.key ?? null, value: m.value ?? null, offset: String(m.offset), timestamp: String(m.timestamp), headers };
}

/**
 * A plain group consumer: subscribe, then hand every record (or every partition's share of a fetch) to
 * a callback; offsets are committed every second unless `autoCommit: false`. For tests, tools and
 * followers that parse records themselves and need no at-least-once; SchemaConsumer validates,
 * dead-letters and commits only after handling.
 */
export class KafkaWatcher {
  readonly events = { GROUP_JOIN: "group_join" } as const;
  private readonly consumer: Consumer<Buffer, Buffer, Buffer, Buffer>;
  private readonly emitter = new EventEmitter();
  private readonly logger: Logger;
  private readonly topics: string[] = [];
  private fromBeginning = false;
  private stream: MessagesStream<Buffer, Buffer, Buffer, Buffer> | null = null;
  private handling: Promise<void> = Promise.resolve();

  constructor(kafka: Kafka, private readonly config: KafkaWatcherConfig) {
    this.logger = kafka.logger.child({ component: "watcher", groupId: config.groupId });
    this.consumer = new Consumer({
      ...kafka.baseOptions(),
      groupId: config.groupId,
      maxWaitTime: config.maxWaitTimeInMs ?? FETCH_MAX_WAIT_MS,
      minBytes: config.minBytes ?? 1,
      sessionTimeout: 10_000,
      heartbeatInterval: 3_000,
    });
    this.consumer.on("consumer:group:join", () => this.emitter.emit(this.events.GROUP_JOIN));
  }

  on(event: "group_join", listener: () => void): () => void {
    this.emitter.on(event, listener);
    return () => this.emitter.off(event, listener);
  }

  async connect(): Promise<void> {}

  async subscribe(options: { readonly topic?: string; readonly topics?: readonly string[]; readonly fromBeginning?: boolean }): Promise<void> {
    if (options.topic) this.topics.push(options.topic);
    if (options.topics) this.topics.push(...options.topics);
    this.fromBeginning = options.fromBeginning ?? false;
  }

  async run(options: WatcherRunOptions): Promise<void> {
    const stream = await this.consumer.consume({
      topics: [...this.topics],
      mode: MessagesStreamModes.COMMITTED,
      fallbackMode: this.fromBeginning ? MessagesStreamFallbackModes.EARLIEST : MessagesStreamFallbackModes.LATEST,
      autocommit: options.autoCommit === false ? false : 1_000,
    });
    this.stream = stream;
    let pending = new Map<string, { topic: string; partition: number; messages: WatchedMessage[]; lastOffset(): string }>();
    let scheduled = false;
    const flush = async (): Promise<void> => {
      const batches = [...pending.values()];
      pending = new Map();
      scheduled = false;
      for (const batch of batches) {
        try {
          if (options.eachBatch) await options.eachBatch({ batch });
          if (options.eachMessage) {
            for (const message of batch.messages) await options.eachMessage({ topic: batch.topic, partition: batch.partition, message });
          }
        } catch (err) {
          this.logger.error({ err, topic: batch.topic, partition: batch.partition }, "watcher callback failed");
        }
      }
    };
    stream.on("data", (m: RawMessage) => {
      const key = `${m.topic}:${m.partition}`;
      let batch = pending.get(key);
      if (!batch) {
        const messages: WatchedMessage[] = [];
        batch = { topic: m.topic, partition: m.partition, messages, lastOffset: () => messages[messages.length - 1]?.offset ?? "-1" };
        pending.set(key, batch);
      }
      batch.messages.push(toWatched(m));
      if (!scheduled) {
        scheduled = true;
        // Everything one fetch brought arrives synchronously: hand it over as one batch per partition.
        setImmediate(() => {
          stream.pause();
          this.handling = this.handling.then(flush).finally(() => {
            if (!stream.destroyed) stream.resume();
          });
        });
      }
    });
    stream.on("error", (err) => this.logger.error({ err }, "watcher stream failed"));
  }

  async stop(): Promise<void> {
    const stream = this.stream;
    this.stream = null;
    if (stream) await stream.close().catch(() => undefined);
    await this.handling;
  }

  async disconnect(): Promise<void> {
    await this.stop();
    await this.consumer.close(true).catch(() => undefined);
  }
}
