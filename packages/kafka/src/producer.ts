import { Producer } from "@platformatic/kafka";
import type { Logger } from "pino";
import type { Kafka } from "./client.js";
import { KafkaModuleError } from "./errors.js";
import { toRecord } from "./simple-producer.js";

export interface OutgoingMessage {
  readonly topic: string;
  readonly key: string | null;
  /** Explicit partition (else the key's hash picks it). */
  readonly partition?: number;
  /** Objects are sent as JSON; `null` is a tombstone on compacted topics. */
  readonly value: unknown;
  readonly headers?: Readonly<Record<string, string>>;
}

export interface BatchingProducerOptions {
  readonly kafka: Kafka;
  readonly logger: Logger;
  /** How long the first queued message waits for company before the batch goes out. */
  readonly lingerMs?: number;
  /** A batch is sent at once when it reaches this many messages. */
  readonly maxBatchMessages?: number;
  /** Above this many queued-or-in-flight messages, `send` fails fast with `queue_full`. */
  readonly maxQueuedMessages?: number;
  /** -1 waits for all in-sync replicas (the default and the only safe choice for reports). */
  readonly acks?: -1 | 0 | 1;
}

interface Pending {
  readonly message: OutgoingMessage;
  readonly resolve: () => void;
  readonly reject: (error: Error) => void;
}

function encodeValue(value: unknown): Buffer | string | null {
  if (value === null) return null;
  if (Buffer.isBuffer(value) || typeof value === "string") return value;
  return JSON.stringify(value);
}

/**
 * The client sends each `send()` call as its own request and has no linger, so at
 * thousands of messages a second the broker round-trips dominate. This
 * producer queues messages for up to `lingerMs` (or `maxBatchMessages`) and
 * sends them in one request; each caller's promise settles when the broker
 * acknowledged its batch, so callers can reply "accepted" only after the ack.
 */
export class BatchingProducer {
  private readonly producer: Producer<Buffer, Buffer, Buffer, Buffer>;
  private readonly logger: Logger;
  private readonly lingerMs: number;
  private readonly maxBatchMessages: number;
  private readonly maxQueuedMessages: number;
  private readonly acks: -1 | 0 | 1;
  private queue: Pending[] = [];
  private timer: NodeJS.Timeout | null = null;
  private readonly inFlight = new Set<Promise<void>>();
  private inFlightMessages = 0;
  private state: "idle" | "connected" | "closed" = "idle";

  constructor(options: BatchingProducerOptions) {
    this.producer = new Producer({ ...options.kafka.baseOptions(), autocreateTopics: false });
    this.logger = options.logger.child({ component: "producer" });
    this.lingerMs = options.lingerMs ?? 2;
    this.maxBatchMessages = options.maxBatchMessages ?? 1_000;
    this.maxQueuedMessages = options.maxQueuedMessages ?? 50_000;
    this.acks = options.acks ?? -1;
  }

  /** Fails when no broker answers (connections are otherwise opened on first use). */
  async connect(): Promise<void> {
    try {
      await this.producer.metadata({ topics: [] });
    } catch (cause) {
      throw new KafkaModuleError("not_connected", `Kafka is not reachable: ${String(cause)}`, { cause });
    }
    this.state = "connected";
  }

  /** Messages queued or awaiting the broker's acknowledgement. */
  get pending(): number {
    return this.queue.length + this.inFlightMessages;
  }

  send(message: OutgoingMessage): Promise<void> {
    if (this.state !== "connected") {
      return Promise.reject(
        new KafkaModuleError(this.state === "closed" ? "closed" : "not_connected", "producer is not connected"),
      );
    }
    if (this.pending >= this.maxQueuedMessages) {
      return Promise.reject(new KafkaModuleError("queue_full", `producer queue is full (${this.maxQueuedMessages})`));
    }
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ message, resolve, reject });
      if (this.queue.length >= this.maxBatchMessages) this.dispatch();
      else this.timer ??= setTimeout(() => this.dispatch(), this.lingerMs);
    });
  }

  sendMany(messages: readonly OutgoingMessage[]): Promise<void> {
    return Promise.all(messages.map((m) => this.send(m))).then(() => undefined);
  }

  /** Sends whatever is queued and waits for every outstanding batch to settle. */
  async flush(): Promise<void> {
    this.dispatch();
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  async disconnect(): Promise<void> {
    if (this.state === "closed") return;
    await this.flush();
    this.state = "closed";
    await this.producer.close();
  }

  private dispatch(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, this.maxBatchMessages);
      const sending = this.sendBatch(batch);
      this.inFlight.add(sending);
      void sending.finally(() => this.inFlight.delete(sending));
    }
  }

  private async sendBatch(batch: Pending[]): Promise<void> {
    this.inFlightMessages += batch.length;
    const messages = batch.map(({ message: m }) => toRecord(m.topic, m.key, encodeValue(m.value), m.partition, m.headers));
    try {
      await this.producer.send({ messages, acks: this.acks });
      for (const p of batch) p.resolve();
    } catch (cause) {
      this.logger.error({ err: cause, messages: batch.length }, "Kafka batch send failed");
      const error = new KafkaModuleError("send_failed", `Kafka send failed: ${String(cause)}`, { cause });
      for (const p of batch) p.reject(error);
    } finally {
      this.inFlightMessages -= batch.length;
    }
  }
}
