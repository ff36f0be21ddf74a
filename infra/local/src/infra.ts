import type { Logger } from "pino";
import { migrateDatabase, type MigrationResult } from "@spam/clickhouse";
import { topicNames } from "@spam/contracts";
import { createKafkaClient, ensureTopics } from "@spam/kafka";
import type { LocalConfig } from "./config.js";
import { startClickHouse, startKafka, stopServer, type ServerStatus } from "./servers.js";

export interface InfraHandle {
  readonly servers: readonly ServerStatus[];
  /** Stops only the servers this call started; a reused server is left running. */
  stopStarted(): Promise<void>;
}

export async function startInfra(config: LocalConfig, logger: Logger): Promise<InfraHandle> {
  const t0 = Date.now();
  const servers = await Promise.all([startKafka(config, logger), startClickHouse(config, logger)]);
  logger.info({ ms: Date.now() - t0, servers: servers.map((s) => `${s.name}:${s.state}`) }, "infrastructure ready");
  return {
    servers,
    async stopStarted() {
      await Promise.all(servers.filter((s) => s.state === "started").map((s) => stopServer(config, s.name)));
    },
  };
}

export async function stopInfra(config: LocalConfig): Promise<void> {
  await Promise.all([stopServer(config, "kafka"), stopServer(config, "clickhouse")]);
}

/** Creates the database and its restricted contact store, and applies pending migrations to both. */
export async function migrate(config: LocalConfig, logger: Logger, database = config.CLICKHOUSE_DATABASE): Promise<MigrationResult> {
  const result = await migrateDatabase({ url: config.adminClickhouseUrl, logger }, database, config.migrationsDir);
  logger.info({ database, applied: result.applied, alreadyApplied: result.skipped }, "migrations done");
  return result;
}

export async function createTopics(config: LocalConfig, logger: Logger, prefix = ""): Promise<string[]> {
  const kafka = createKafkaClient({ brokers: config.kafkaBrokers, clientId: "infra-topics", logger });
  return ensureTopics({ kafka, names: topicNames(prefix), partitions: config.KAFKA_PARTITIONS, logger });
}
