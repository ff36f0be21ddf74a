import { randomUUID } from "node:crypto";
import pino from "pino";
import { describe, expect, it } from "vitest";
import { createClickHouse, ensureDatabase, ident, runMigrations, sql } from "@spam/clickhouse";
import { topicNames, type Report } from "@spam/contracts";
import { BatchingProducer, createKafkaClient, ensureTopics } from "@spam/kafka";
import { freePort } from "@spam/infra-local";
import { loadDeciderEnv } from "./env.js";
import { createDecider } from "./main.js";
import { repoPath } from "@spam/repo-paths";

// Real broker and ClickHouse from the vitest global setup; the decider in-process with METRICS_PORT set.
const brokers = process.env.KAFKA_BROKERS;
const clickhouseUrl = process.env.CLICKHOUSE_URL;
const logger = pino({ level: "silent" });
const MIGRATIONS = repoPath("infra/clickhouse/migrations");

describe.skipIf(!brokers || !clickhouseUrl)("decider metrics", () => {
  it("serves /healthz, /readyz and /metrics, counting the reports it consumed", async () => {
    const id = randomUUID().slice(0, 8);
    const prefix = `${process.env.TEST_RUN_ID ?? "local"}.decider-metrics.${id}.`;
    const database = `decider_metrics_${(process.env.TEST_RUN_ID ?? "local").replace(/[^A-Za-z0-9_]/g, "_")}_${id}`;
    const topics = topicNames(prefix);
    const kafka = createKafkaClient({ brokers: brokers!.split(","), clientId: "decider-metrics-it", logger });
    await ensureTopics({ kafka, names: topics, partitions: 2, logger });
    await ensureDatabase({ url: clickhouseUrl!, logger }, database);
    const ch = createClickHouse({ url: clickhouseUrl!, database, logger });
    await runMigrations(ch, MIGRATIONS, logger);
    const producer = new BatchingProducer({ kafka, logger, lingerMs: 2 });
    await producer.connect();
    const port = await freePort();
    const env = loadDeciderEnv({ KAFKA_BROKERS: brokers, TOPIC_PREFIX: prefix, CLICKHOUSE_URL: clickhouseUrl, CLICKHOUSE_DATABASE: database, LOG_LEVEL: "silent", METRICS_PORT: String(port) });
    const decider = createDecider(env, logger);
    await decider.start();
    try {
      expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
      expect((await fetch(`http://127.0.0.1:${port}/readyz`)).status).toBe(200);
      const report: Report = {
        v: 1, id: `R-${id}`, messageId: `m-${id}`, receivedAt: Date.now(), gatewayId: "gw1", shortCode: "10086999",
        reporterMsisdn: "13800000001", reporterHash: `h-${id}`, reportedNumber: "13912340000", content: "恭喜中奖，点击领取",
        rawText: "13912340000*恭喜中奖，点击领取", status: "parsed", parseError: null, allowListed: false,
      };
      await producer.send({ topic: topics.reports, key: report.reporterHash, value: report });
      const line = `spam_messages_in_total{topic="${topics.reports}",service="decider"}`;
      let text = "";
      const deadline = Date.now() + 60_000;
      while (!text.split("\n").some((l) => l === `${line} 1`)) {
        if (Date.now() > deadline) throw new Error(`report not counted in /metrics:\n${text.slice(0, 1_500)}`);
        await new Promise((r) => setTimeout(r, 200));
        text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      }
      expect(text).toContain("spam_process_cpu_seconds_total");
    } finally {
      await decider.stop();
      await producer.disconnect();
      await ch.command(sql`DROP DATABASE IF EXISTS ${ident(database)}`).catch(() => undefined);
      await ch.close();
    }
  }, 120_000);
});
