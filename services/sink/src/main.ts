import type { Logger } from "pino";
import { createClickHouse } from "@spam/clickhouse";
import { topicNames, VerdictV1 } from "@spam/contracts";
import { BatchingProducer, createKafkaClient, SchemaConsumer } from "@spam/kafka";
import { createServiceLogger, loadEnvOrExit, runService, type ServiceHandle } from "@spam/service-runtime";
import { loadSinkEnv, type SinkEnv } from "./env.js";
import { verdictRow } from "./rows.js";

/** Composition root of the verdict sink. */
export function createSink(env: SinkEnv, logger: Logger): ServiceHandle {
  const topics = topicNames(env.TOPIC_PREFIX);
  const kafka = createKafkaClient({ brokers: env.KAFKA_BROKERS, clientId: "verdict-sink", logger });
  const ch = createClickHouse({ url: env.CLICKHOUSE_URL, database: env.CLICKHOUSE_DATABASE, logger });
  const deadLetters = new BatchingProducer({ kafka, logger });
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
      await ch.insert("verdicts", messages.map((m) => verdictRow(m.value)));
      logger.debug({ rows: messages.length }, "inserted verdicts");
    },
  });
  return {
    async start() {
      await deadLetters.connect();
      await consumer.start();
    },
    async stop() {
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
