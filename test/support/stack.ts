import pino from "pino";
import { createClickHouse, type ClickHouse } from "@spam/clickhouse";
import { topicNames, type TopicNames } from "@spam/contracts";
import { createTopics, loadLocalConfig, migrate } from "@spam/infra-local";

/**
 * A private namespace on the shared test servers: topics under a unique
 * prefix and a database of its own, migrated. Nothing a test does here can
 * touch another test or a running `npm start`.
 */
export interface TestStack {
  readonly prefix: string;
  readonly topics: TopicNames;
  readonly database: string;
  readonly ch: ClickHouse;
  readonly brokers: string;
  readonly clickhouseUrl: string;
  /** Env every service process of this stack gets. */
  readonly serviceEnv: Record<string, string>;
  dispose(): Promise<void>;
}

export async function createTestStack(name: string): Promise<TestStack> {
  const runId = process.env.TEST_RUN_ID ?? "local";
  const brokers = process.env.KAFKA_BROKERS;
  const clickhouseUrl = process.env.CLICKHOUSE_URL;
  if (!brokers || !clickhouseUrl) throw new Error("KAFKA_BROKERS and CLICKHOUSE_URL must be set (the vitest global setup does this)");
  const logger = pino({ level: "warn" });
  const config = loadLocalConfig();
  const prefix = `${runId}.${name}.`;
  const database = `${name}_${runId}`.replace(/[^A-Za-z0-9_]/g, "_");
  await migrate(config, logger, database);
  await createTopics(config, logger, prefix);
  const ch = createClickHouse({ url: clickhouseUrl, database, logger });
  return {
    prefix,
    topics: topicNames(prefix),
    database,
    ch,
    brokers,
    clickhouseUrl,
    serviceEnv: {
      KAFKA_BROKERS: brokers,
      CLICKHOUSE_URL: clickhouseUrl,
      CLICKHOUSE_DATABASE: database,
      TOPIC_PREFIX: prefix,
    },
    async dispose() {
      await ch.close();
    },
  };
}
