import type pg from "pg";
import type { Logger } from "pino";
import { topicNames, type TopicKey } from "@spam/contracts";
import type { BatchingProducer } from "@spam/kafka";

export interface PublishMessage {
  readonly topicKey: TopicKey;
  readonly key: string | null;
  readonly value: unknown;
}

/** Where the outbox relay sends messages; Kafka in production, a recorder in tests. */
export interface Publisher {
  publish(messages: readonly PublishMessage[]): Promise<void>;
}

export function kafkaPublisher(producer: BatchingProducer, topicPrefix: string): Publisher {
  const names = topicNames(topicPrefix);
  return {
    publish: (messages) => producer.sendMany(messages.map((m) => ({ topic: names[m.topicKey], key: m.key, value: m.value }))),
  };
}

/**
 * Publishes outbox rows written by decisions, oldest first, and deletes them
 * only after the broker acknowledged them (at-least-once; consumers dedupe by id
 * or by the block-list version): the payloads live on in Kafka and ClickHouse,
 * not here. Rows are locked with SKIP LOCKED so two API instances can relay side by side.
 */
export class OutboxRelay {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private stopped = false;

  constructor(
    private readonly pool: pg.Pool,
    private readonly publisher: Publisher,
    private readonly logger: Logger,
    private readonly intervalMs = 250,
    private readonly batchSize = 200,
  ) {}

  start(): void {
    this.stopped = false;
    this.schedule(0);
  }

  /** Runs a pass now (after a decision) instead of waiting for the next tick. */
  kick(): void {
    if (!this.stopped && !this.running) this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.running;
    // Drain what is left so a SIGTERM right after a decision still publishes it.
    await this.drain().catch((err: unknown) => this.logger.warn({ err }, "outbox drain on stop failed"));
  }

  /** Publishes until the outbox is empty; returns how many were sent. */
  async drain(): Promise<number> {
    let total = 0;
    for (;;) {
      const n = await this.pass();
      total += n;
      if (n < this.batchSize) return total;
    }
  }

  private schedule(ms: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      this.running = this.pass()
        .then((n) => (n === this.batchSize ? 0 : this.intervalMs))
        .catch((err: unknown) => {
          this.logger.warn({ err }, "outbox relay pass failed; retrying");
          return Math.min(this.intervalMs * 8, 5_000);
        })
        .then((next) => {
          this.running = null;
          if (!this.stopped) this.schedule(next);
        });
    }, ms);
  }

  private async pass(): Promise<number> {
    const client = await this.pool.connect();
    try {
      await client.query("BEGIN");
      const { rows } = await client.query<{ id: string; topic_key: TopicKey; msg_key: string | null; payload: unknown }>(
        "SELECT id, topic_key, msg_key, payload FROM outbox WHERE sent_at IS NULL ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED",
        [this.batchSize],
      );
      if (rows.length === 0) {
        await client.query("COMMIT");
        return 0;
      }
      try {
        await this.publisher.publish(rows.map((r) => ({ topicKey: r.topic_key, key: r.msg_key, value: r.payload })));
      } catch (err) {
        await client.query("UPDATE outbox SET attempts = attempts + 1, last_error = $2 WHERE id = ANY($1)", [
          rows.map((r) => r.id),
          String(err).slice(0, 1000),
        ]);
        await client.query("COMMIT");
        throw err;
      }
      await client.query("DELETE FROM outbox WHERE id = ANY($1)", [rows.map((r) => r.id)]);
      await client.query("COMMIT");
      return rows.length;
    } catch (e) {
      await client.query("ROLLBACK").catch(() => undefined);
      throw e;
    } finally {
      client.release();
    }
  }
}
