import { randomUUID } from "node:crypto";
import pino from "pino";
import { afterAll, describe, expect, it } from "vitest";
import { topicNames, type RawMessage } from "@spam/contracts";
import { BatchingProducer, createKafkaClient, ensureTopics } from "@spam/kafka";
import { freePort } from "@spam/infra-local";
import { loadScorerEnv } from "./env.js";
import { createScorerService } from "./main.js";

// Real broker from the vitest global setup; the scorer in-process with METRICS_PORT set.
const brokers = process.env.KAFKA_BROKERS;
const logger = pino({ level: "silent" });

/** The value of one sample line of Prometheus text (0 when absent). */
function sample(text: string, line: string): number {
  const found = text.split("\n").find((l) => l.startsWith(`${line} `));
  return found ? Number(found.slice(line.length + 1)) : 0;
}

describe.skipIf(!brokers)("scorer metrics", () => {
  const kafka = createKafkaClient({ brokers: brokers!.split(","), clientId: "scorer-metrics-it", logger });
  const producer = new BatchingProducer({ kafka, logger, lingerMs: 2 });
  afterAll(() => producer.disconnect());

  it("serves /metrics with messages in/out and the kafka_to_scored and scored_to_verdict_published stages", async () => {
    const prefix = `${process.env.TEST_RUN_ID ?? "local"}.scorer-metrics.${randomUUID().slice(0, 8)}.`;
    const topics = topicNames(prefix);
    await ensureTopics({ kafka, names: topics, partitions: 2, logger });
    await producer.connect();
    const port = await freePort();
    const env = loadScorerEnv({ KAFKA_BROKERS: brokers, TOPIC_PREFIX: prefix, CONSUMER_GROUP: "scorer", RULES_WATCH: "0", LOG_LEVEL: "silent", METRICS_PORT: String(port) });
    const service = await createScorerService(env, logger);
    await service.start();
    try {
      const now = Date.now();
      const messages: RawMessage[] = [0, 1, 2].map((i) => ({
        v: 1, id: randomUUID(), receivedAt: now, gatewayId: "gw-test", account: "test", source: `1380000000${i}`,
        destination: "13900000000", text: "您的快递已到，请凭取件码 1234 领取", dataCoding: 8, parts: 1, partial: false,
      }));
      await producer.sendMany(messages.map((m) => ({ topic: topics.trafficRaw, key: m.source, value: m })));
      const url = `http://127.0.0.1:${port}/metrics`;
      let text = "";
      const deadline = Date.now() + 60_000;
      while (sample(text, `spam_messages_out_total{topic="${topics.verdicts}",service="scorer"}`) < 3) {
        if (Date.now() > deadline) throw new Error(`no verdicts counted in /metrics:\n${text.slice(0, 2_000)}`);
        await new Promise((r) => setTimeout(r, 200));
        text = await (await fetch(url)).text();
      }
      expect(sample(text, 'spam_stage_latency_seconds_count{service="scorer",stage="kafka_to_scored"}')).toBeGreaterThanOrEqual(3);
      expect(sample(text, 'spam_stage_latency_seconds_count{service="scorer",stage="scored_to_verdict_published"}')).toBeGreaterThanOrEqual(3);
      // Messages in are counted after the commit, which follows the verdicts' ack.
      const deadlineIn = Date.now() + 20_000;
      while (sample(text, `spam_messages_in_total{topic="${topics.trafficRaw}",service="scorer"}`) < 3 && Date.now() < deadlineIn) {
        await new Promise((r) => setTimeout(r, 200));
        text = await (await fetch(url)).text();
      }
      expect(sample(text, `spam_messages_in_total{topic="${topics.trafficRaw}",service="scorer"}`)).toBe(3);
      expect((await fetch(`http://127.0.0.1:${port}/readyz`)).status).toBe(200);
    } finally {
      await service.stop();
    }
  }, 120_000);
});
