import { Kafka, logLevel, type KafkaConfig, type LogEntry } from "kafkajs";
import type { Logger } from "pino";

export interface KafkaClientOptions {
  readonly brokers: readonly string[];
  readonly clientId: string;
  readonly logger: Logger;
  /** kafkajs retries for metadata/connection errors before an operation fails. */
  readonly retries?: number;
  readonly connectionTimeoutMs?: number;
}

const LEVELS: Record<number, "error" | "warn" | "info" | "debug"> = {
  [logLevel.ERROR]: "error",
  [logLevel.WARN]: "warn",
  [logLevel.INFO]: "info",
  [logLevel.DEBUG]: "debug",
};

/**
 * Broker answers that say "not yet" while a cluster starts or a group rebalances (leader elections,
 * coordinator moves): kafkajs retries them itself and logs each at ERROR. They resolve in seconds, and
 * one that does not surfaces as the failed operation's own error, so they are debug detail.
 */
const TRANSIENT = [
  "There is no leader for this topic-partition as we are in the middle of a leadership election",
  "This server is not the leader for that topic-partition",
  "The group coordinator is not available",
  "This is not the correct coordinator for this group",
  "The coordinator is loading and hence can't process requests for this group",
  "The group is rebalancing, so a rejoin is needed",
  "This server does not host this topic-partition",
];

/** The pino level for one kafkajs log entry (its `error` field is the broker error's message). */
export function kafkaLogLevel(level: number, log: { readonly error?: unknown }): "error" | "warn" | "info" | "debug" {
  const mapped = LEVELS[level] ?? "info";
  const error = log.error;
  if ((mapped === "error" || mapped === "warn") && typeof error === "string" && TRANSIENT.some((t) => error.startsWith(t))) return "debug";
  return mapped;
}

/** kafkajs with its logs routed to the service's pino logger (JSON, one stream). */
export function createKafkaClient(options: KafkaClientOptions): Kafka {
  // kafkajs prints a partitioner notice through console otherwise.
  process.env.KAFKAJS_NO_PARTITIONER_WARNING ??= "1";
  const base = options.logger.child({ component: "kafkajs" });
  const config: KafkaConfig = {
    brokers: [...options.brokers],
    clientId: options.clientId,
    connectionTimeout: options.connectionTimeoutMs ?? 3_000,
    retry: { retries: options.retries ?? 8, initialRetryTime: 100, maxRetryTime: 5_000 },
    logLevel: logLevel.WARN,
    logCreator:
      () =>
      ({ level, log }: LogEntry) => {
        const { message, ...rest } = log;
        base[kafkaLogLevel(level, log as { readonly error?: unknown })]({ kafkajs: rest }, message);
      },
  };
  return new Kafka(config);
}
