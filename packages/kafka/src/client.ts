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
        base[LEVELS[level] ?? "info"]({ kafkajs: rest }, message);
      },
  };
  return new Kafka(config);
}
