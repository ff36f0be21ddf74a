import type { Logger } from "pino";
import { createClickHouse } from "@spam/clickhouse";
import { topicNames, VerdictV1 } from "@spam/contracts";
import { BatchingProducer, createKafkaClient, SchemaConsumer } from "@spam/kafka";
import { createServiceMetrics, instrumentConsumer, ObservabilityServer } from "@spam/observability";
import { createServiceLogger, loadEnvOrExit, runService, type ServiceHandle } from "@spam/service-runtime";
import { loadSinkEnv, type SinkEnv } from "./env.js";
import { verdictRow } from "./rows.js";

/** Composition root of the verdict sink. */
export function createSink(env: SinkEnv, logger: Logger): ServiceHandle {
  const topics = topicNames(env.TOPIC_PREFIX);
  const kafka = createKafkaClient({ brokers: env.KAFKA_BROKERS, clientId: "verdict-sink", logger });
  const ch = createClickHouse({ url: env.CLICKHOUSE_URL, database: env.CLICKHOUSE_DATABASE, logger });
  const deadLetters = new BatchingProducer({ kafka, logger });
  const metrics = createServiceMetrics({ service: "sink" });
  let consuming = false;
  const consumer = new SchemaConsumer({
    kafka,
    logger,
    groupId: env.CONSUMER_GROUP,
    topics: [topics.verdicts],
    schema: VerdictV1,
    deadLetter: { producer: deadLetters, topic: topics.deadLetter, service: "sink" },
    fetchMinBytes: env.SINK_FETCH_MIN_BYTES,
    fetchMaxWaitMs: env.SINK_FETCH_MAX_WAIT_MS,
    // Offsets are committed by the consumer only after this insert succeeded.
    handleBatch: async (messages) => {
      try {
        await ch.insert("verdicts", messages.map((m) => verdictRow(m.value)));
      } catch (error) {
        metrics.recordError("clickhouse_insert");
        throw error;
      }
      // The broker timestamp is when the verdict was published; the insert returning is when it is visible.
      const now = Date.now();
      for (const m of messages) metrics.observeStageSince("verdict_to_visible_clickhouse", m.timestamp, now);
      metrics.recordOut("clickhouse.verdicts", messages.length);
      logger.debug({ rows: messages.length }, "inserted verdicts");
    },
  });
  instrumentConsumer(consumer, metrics);
  const http = env.METRICS_PORT > 0 ? new ObservabilityServer({ metrics, logger, port: env.METRICS_PORT }) : null;
  http?.addReadinessCheck("kafka_consumer", () => consuming);
  return {
    async start() {
      await http?.listen();
      await deadLetters.connect();
      await consumer.start();
      consuming = true;
    },
    async stop() {
      consuming = false;
      await http?.close();
      await consumer.stop();
      await deadLetters.disconnect();
      await ch.close();
    },
  };
}

const isMain = import.meta.url === `file://${process.argv[1]}`;
if (isMain) {
  const env = loadEnvOrExit("sink", () => loadSinkEnv());
  const logger = createServiceLogger("sink", env.LOG_LEVEL);
  runService("sink", logger, () => createSink(env, logger));
}
