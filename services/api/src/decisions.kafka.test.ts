import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BlockListEntryV1, OutboundReplyV1, ReviewLabelV1, topicNames, type RawMessage } from "@spam/contracts";
import { BatchingProducer, createKafkaClient } from "@spam/kafka";
import { UserStore } from "./auth/users.js";
import { createPool } from "./db/pool.js";
import { parseEnv } from "./env.js";
import { createApiService, type ApiService } from "./main.js";
import { flaggedVerdict, parsedReport } from "./testing/fixtures.js";
import { createTestDatabase } from "./testing/postgres.js";

/**
 * The whole review loop against the real broker: verdicts, raw traffic and a
 * report arrive on Kafka → the API opens cases → a reviewer claims and decides
 * over HTTP → the label, the block-list change and the reporter's outcome reply
 * appear on their topics.
 */
const brokers = (process.env.KAFKA_BROKERS ?? "").split(",").filter(Boolean);
const logger = pino({ level: process.env.LOG_LEVEL ?? "warn" });
const prefix = `${process.env.TEST_RUN_ID ?? `p${process.pid}`}.api.`;
const topics = topicNames(prefix);

let db: Awaited<ReturnType<typeof createTestDatabase>>;
let service: ApiService;
let base: string;
let pool: ReturnType<typeof createPool>;
const kafka = brokers.length ? createKafkaClient({ brokers, clientId: "api-test", logger }) : null;
const producer = kafka ? new BatchingProducer({ kafka, logger }) : null;

async function until<T>(fn: () => Promise<T | undefined | null | false>, ms = 30_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error("timed out waiting");
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe.skipIf(brokers.length === 0)("review decisions over the real Kafka broker", () => {
  beforeAll(async () => {
    db = await createTestDatabase("kafka");
    service = createApiService(
      parseEnv({ DATABASE_URL: db.url, API_PORT: "0", KAFKA_BROKERS: brokers.join(","), TOPIC_PREFIX: prefix, LOG_LEVEL: process.env.LOG_LEVEL ?? "warn" }),
      logger,
    );
    base = (await service.start()).url; // creates the prefixed topics
    pool = createPool(db.url, 2);
    await new UserStore(pool, 3_600_000).createUser({ username: "rev", role: "reviewer", password: "kafka-test-password" });
    await producer?.connect();
  }, 180_000);

  afterAll(async () => {
    await producer?.disconnect();
    await service?.stop();
    await pool?.end();
    await db?.drop();
  });

  it("a flagged message and a report become a case; deciding it publishes label, block and outcome reply", async () => {
    const sender = "17012345678";
    const verdict = flaggedVerdict({ source: sender, messageId: `kmsg-${Date.now()}` });
    const raw: RawMessage = {
      v: 1, id: verdict.messageId, receivedAt: verdict.receivedAt, gatewayId: "gw1", account: "acct", source: sender,
      destination: verdict.destination, text: "您的包裹被海关扣留，请点击 http://customs-pay.xyz 缴纳关税", dataCoding: 8, parts: 1, partial: false,
    };
    const report = parsedReport({ reportedNumber: sender, reporterMsisdn: "13700001234" });
    await producer?.sendMany([
      { topic: topics.trafficRaw, key: sender, value: raw },
      { topic: topics.verdicts, key: sender, value: verdict },
      { topic: topics.reports, key: sender, value: report },
      { topic: topics.verdicts, key: "x", value: { v: 99, junk: true } }, // invalid: dead-lettered, not a case
    ]);

    const login = await fetch(`${base}/api/auth/login`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ username: "rev", password: "kafka-test-password" }) });
    const { token } = (await login.json()) as { token: string };
    const auth = { authorization: `Bearer ${token}`, "content-type": "application/json" };
    const reportCaseId = await until(async () => {
      const q = (await (await fetch(`${base}/api/queue?source=report`, { headers: auth })).json()) as { items: { id: string }[] };
      return q.items.find((c) => c.id === `rpt:${report.id}`)?.id;
    });
    const messageCase = await until(async () => {
      const r = await fetch(`${base}/api/cases/${encodeURIComponent(`msg:${verdict.messageId}`)}`, { headers: auth });
      return r.ok ? ((await r.json()) as { text: string; contributions: unknown[] }) : null;
    });
    expect(messageCase.contributions.length).toBe(2);

    expect((await fetch(`${base}/api/cases/${encodeURIComponent(reportCaseId)}/claim`, { method: "POST", headers: { authorization: auth.authorization } })).status).toBe(200);
    const decided = await fetch(`${base}/api/cases/${encodeURIComponent(reportCaseId)}/decide`, {
      method: "POST",
      headers: auth,
      body: JSON.stringify({ label: "spam", category: "fraud", comment: "冒充海关" }),
    });
    expect(decided.status).toBe(200);

    const seen = { label: null as unknown, block: null as unknown, reply: null as unknown };
    const consumer = kafka!.consumer({ groupId: `${prefix}verify-${Date.now()}` });
    await consumer.connect();
    await consumer.subscribe({ topics: [topics.reviewLabels, topics.blocklist, topics.repliesOutbound], fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ topic, message }) => {
        const value = JSON.parse(message.value?.toString() ?? "null");
        if (topic === topics.reviewLabels && value.caseId === reportCaseId) seen.label = ReviewLabelV1.parse(value);
        if (topic === topics.blocklist && message.key?.toString() === `sender:${sender}`) seen.block = BlockListEntryV1.parse(value);
        if (topic === topics.repliesOutbound && value.reportId === report.id) seen.reply = OutboundReplyV1.parse(value);
      },
    });
    try {
      await until(async () => seen.label && seen.block && seen.reply, 45_000);
    } finally {
      await consumer.disconnect();
    }
    expect(seen.label).toMatchObject({ label: "spam", category: "fraud", reviewer: "rev", comment: "冒充海关" });
    expect(seen.block).toMatchObject({ kind: "sender", value: sender, state: "active", createdBy: "reviewer:rev" });
    expect(seen.reply).toMatchObject({ to: "13700001234", from: "10086999", kind: "outcome_blocked" });
    const { rows } = await pool.query("SELECT count(*)::int AS n FROM outbox WHERE sent_at IS NULL");
    expect(rows[0].n).toBe(0);
  }, 120_000);
});
