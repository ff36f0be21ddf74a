import type { Logger } from "pino";
import { z } from "zod";
import { createClickHouse, migrateDatabase, restrictedDatabase, sql, type MigrationResult } from "@spam/clickhouse";
import { topicNames } from "@spam/contracts";
import { createKafkaClient, ensureTopics } from "@spam/kafka";
import type { LocalConfig } from "./config.js";
import type { ServiceClickHouse } from "./services.js";
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
  const cluster = config.CLICKHOUSE_CLUSTER ? { cluster: config.CLICKHOUSE_CLUSTER } : undefined;
  const result = await migrateDatabase({ url: config.adminClickhouseUrl, logger }, database, config.migrationsDir, cluster);
  logger.info({ database, cluster: config.CLICKHOUSE_CLUSTER ?? null, applied: result.applied, alreadyApplied: result.skipped }, "migrations done");
  return result;
}

export async function createTopics(config: LocalConfig, logger: Logger, prefix = ""): Promise<string[]> {
  const kafka = createKafkaClient({ brokers: config.kafkaBrokers, clientId: "infra-topics", logger });
  return ensureTopics({ kafka, names: topicNames(prefix), partitions: config.KAFKA_PARTITIONS, logger });
}

/** Whether `url`'s user can read `database` (the users of our own users.xml exist only on a server we started with it). */
async function canRead(url: string, database: string, logger: Logger): Promise<boolean> {
  const ch = createClickHouse({ url, database, logger });
  try {
    await ch.query(sql`SELECT 1 AS ok`, z.object({ ok: z.coerce.number() }));
    return true;
  } catch {
    return false;
  } finally {
    await ch.close();
  }
}

/**
 * The ClickHouse users the services run as: the platform's user, and the restricted store's user for the
 * services that hold reporters' numbers. A server started elsewhere without those users gets its default
 * user, with a warning: then nothing separates the restricted store from the rest.
 */
export async function serviceClickHouse(config: LocalConfig, logger: Logger): Promise<ServiceClickHouse> {
  const db = config.CLICKHOUSE_DATABASE;
  if ((await canRead(config.appClickhouseUrl, db, logger)) && (await canRead(config.restrictedClickhouseUrl, restrictedDatabase(db), logger))) {
    return { url: config.appClickhouseUrl, restrictedUrl: config.restrictedClickhouseUrl };
  }
  logger.warn("this ClickHouse server has no users of infra/clickhouse/users.xml.tmpl: the services connect as its default user (restart it with `spam-infra stop` to separate the restricted store)");
  return { url: config.adminClickhouseUrl, restrictedUrl: null };
}
