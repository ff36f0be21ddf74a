import type { BaseOptions } from "@platformatic/kafka";

/**
 * How long the broker may hold a fetch that has fewer than its minimum bytes. A fetch asking for one
 * byte returns as soon as a record arrives, so this only paces an idle topic's fetches: each is a
 * request on both sides, and a consumer of a quiet topic would otherwise ask ten times a second.
 */
export const FETCH_MAX_WAIT_MS = 500;
import type { Logger } from "pino";
import { KafkaAdmin } from "./admin.js";
import { KafkaWatcher, type KafkaWatcherConfig } from "./watcher.js";
import { SimpleProducer } from "./simple-producer.js";

export interface KafkaClientOptions {
  readonly brokers: readonly string[];
  readonly clientId: string;
  readonly logger: Logger;
  /** Retries of a failed request (connection, metadata, "not the leader") before an operation fails. */
  readonly retries?: number;
  readonly connectionTimeoutMs?: number;
}

/**
 * The connection settings every client of a service shares (brokers, client id, retries), and the
 * factories of the clients built on them. Each client opens its own connections when first used.
 */
export class Kafka {
  readonly logger: Logger;

  constructor(readonly options: KafkaClientOptions) {
    this.logger = options.logger.child({ component: "kafka" });
  }

  /** Options of one @platformatic/kafka client. */
  baseOptions(): BaseOptions {
    const retries = this.options.retries ?? 8;
    return {
      clientId: this.options.clientId,
      bootstrapBrokers: [...this.options.brokers],
      connectTimeout: this.options.connectionTimeoutMs ?? 3_000,
      retries,
      // Exponential back-off up to 5 s: a broker restart or leader election takes seconds.
      retryDelay: (_client, _operation, attempt) => Math.min(5_000, 100 * 2 ** Math.max(0, attempt - 1)),
    };
  }

  admin(): KafkaAdmin {
    return new KafkaAdmin(this);
  }

  /** A plain consumer for tests and tools (no schema, no dead letters): services use SchemaConsumer. */
  consumer(config: KafkaWatcherConfig): KafkaWatcher {
    return new KafkaWatcher(this, config);
  }

  /** A plain producer for tests and tools: services use BatchingProducer. */
  producer(): SimpleProducer {
    return new SimpleProducer(this);
  }
}

/** The service's Kafka connection settings; clients log through its pino logger. */
export function createKafkaClient(options: KafkaClientOptions): Kafka {
  return new Kafka(options);
}
