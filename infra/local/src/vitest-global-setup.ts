import { randomBytes } from "node:crypto";
import pino from "pino";
import { loadLocalConfig } from "./config.js";
import { removeRunArtifacts } from "./cleanup.js";
import { startInfra, type InfraHandle } from "./infra.js";

/**
 * Starts the real Kafka broker and ClickHouse server for the test run (or
 * reuses running ones) and hands their addresses to the tests through env.
 * TEST_RUN_ID namespaces topics and databases, so tests never collide with a
 * running `npm start` or with each other. SKIP_INFRA=1 runs pure unit tests only.
 */
let handle: InfraHandle | null = null;

/** @public vitest calls it (vitest.config.ts globalSetup). */
export async function setup(): Promise<void> {
  process.env.TEST_RUN_ID ??= `t${Date.now().toString(36)}${randomBytes(2).toString("hex")}`;
  if (process.env.SKIP_INFRA === "1") return;
  const config = loadLocalConfig();
  const logger = pino({ level: process.env.LOG_LEVEL ?? "warn" }, pino.destination(2));
  handle = await startInfra(config, logger);
  process.env.KAFKA_BROKERS = config.kafkaBrokers.join(",");
  process.env.CLICKHOUSE_URL = config.clickhouseUrl;
}

/** @public vitest calls it after the run. */
export async function teardown(): Promise<void> {
  if (!handle) return;
  const stopping = process.env.KEEP_INFRA !== "1" && handle.servers.every((s) => s.state === "started");
  if (!stopping && process.env.KEEP_TEST_ARTIFACTS !== "1") {
    // The servers stay up (KEEP_INFRA or reused): leave them as this run found them.
    const runId = process.env.TEST_RUN_ID!;
    const logger = pino({ level: process.env.LOG_LEVEL ?? "warn" }, pino.destination(2));
    await removeRunArtifacts(loadLocalConfig(), logger, { topicPrefix: `${runId}.`, databaseMarker: runId }).catch((err: unknown) =>
      logger.warn({ err }, "could not remove this run's topics and databases"),
    );
  }
  if (process.env.KEEP_INFRA !== "1") await handle.stopStarted();
}
