import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BlockListEntryV1, ReviewLabelV1, topicNames, type RawMessage } from "@spam/contracts";
import { BatchingProducer, createKafkaClient } from "@spam/kafka";
import { UserStore } from "./auth/users.js";
import { createPool } from "./db/pool.js";
import { parseEnv } from "./env.js";
import { createApiService, type ApiService } from "./main.js";
import { deciderCase, flaggedVerdict, reportAssessed } from "./testing/fixtures.js";
import { createTestDatabase } from "./testing/postgres.js";

/**
 * The review loop against the real broker: verdicts, raw traffic and the
 * decider's case events arrive on Kafka → the API opens cases → a reviewer claims
 * and decides over HTTP → labels and block-list changes appear on their topics
 * (the decider turns the label on its case into the block and the reporters' replies).
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

  it("flagged messages and decider cases arrive over Kafka; decisions publish labels and block-list changes", async () => {
    const sender = "17012345678";
    const verdict = flaggedVerdict({ source: sender, messageId: `kmsg-${Date.now()}` });
    const raw: RawMessage = {
      v: 1, id: verdict.messageId, receivedAt: verdict.receivedAt, gatewayId: "gw1", account: "acct", source: sender,
      destination: verdict.destination, text: "您的包裹被海关扣留，请点击 http://customs-pay.xyz 缴纳关税", dataCoding: 8, parts: 1, partial: false,
    };
    // What the decider (issue 5) publishes for a report it could not decide alone.
    const dCase = deciderCase({ subject: "17087654321" });
    const assessed = reportAssessed({ caseId: dCase.caseId, reportedNumber: "17087654321", matchedMessageId: verdict.messageId });
    await producer?.sendMany([
      { topic: topics.trafficRaw, key: sender, value: raw },
      { topic: topics.verdicts, key: sender, value: verdict },
      { topic: topics.decisions, key: dCase.subject, value: assessed },
      { topic: topics.decisions, key: dCase.subject, value: dCase },
      { topic: topics.verdicts, key: "x", value: { v: 99, junk: true } }, // invalid: dead-lettered, not a case
    ]);

    const login = await fetch(`${base}/api/auth/login`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ username: "rev", password: "kafka-test-password" }) });
    const { token } = (await login.json()) as { token: string };
    const auth = { authorization: `Bearer ${token}`, "content-type": "application/json" };
    const messageCaseId = `msg:${verdict.messageId}`;
    await until(async () => {
      const q = (await (await fetch(`${base}/api/queue`, { headers: auth })).json()) as { items: { id: string }[] };
      const ids = q.items.map((c) => c.id);
      return ids.includes(messageCaseId) && ids.includes(dCase.caseId);
    });
    const messageCase = await until(async () => {
      const c = (await (await fetch(`${base}/api/cases/${encodeURIComponent(messageCaseId)}`, { headers: auth })).json()) as { text: string; contributions: unknown[] };
      return c.text ? c : null; // the text comes from raw traffic, possibly after the verdict
    });
    expect(messageCase.contributions.length).toBe(2);
    expect(messageCase.text).toContain("customs-pay.xyz");
    const reportCase = await until(async () => {
      const c = (await (await fetch(`${base}/api/cases/${encodeURIComponent(dCase.caseId)}`, { headers: auth })).json()) as { reportList: { verification: string }[]; text: string };
      return c.text ? c : null; // the matched message's text, whichever of the two streams was read first
    });
    expect(reportCase.reportList.map((r) => r.verification)).toEqual(["verified"]);
    expect(reportCase.text).toContain("海关"); // the delivered message the decider matched

    for (const id of [messageCaseId, dCase.caseId]) {
      expect((await fetch(`${base}/api/cases/${encodeURIComponent(id)}/claim`, { method: "POST", headers: { authorization: auth.authorization } })).status).toBe(200);
      const decided = await fetch(`${base}/api/cases/${encodeURIComponent(id)}/decide`, { method: "POST", headers: auth, body: JSON.stringify({ label: "spam", category: "FR_Other", comment: "冒充海关" }) });
      expect(decided.status).toBe(200);
    }

    const labels = new Map<string, unknown>();
    const blocks = new Map<string, unknown>();
    const consumer = kafka!.consumer({ groupId: `${prefix}verify-${Date.now()}` });
    await consumer.connect();
    await consumer.subscribe({ topics: [topics.reviewLabels, topics.blocklist], fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ topic, message }) => {
        const value = JSON.parse(message.value?.toString() ?? "null");
        if (topic === topics.reviewLabels) labels.set(value.caseId, ReviewLabelV1.parse(value));
        if (topic === topics.blocklist) blocks.set(message.key?.toString() ?? "", BlockListEntryV1.parse(value));
      },
    });
    try {
      await until(async () => labels.has(messageCaseId) && labels.has(dCase.caseId) && blocks.has(`sender:${sender}`) && blocks.has("domain:customs-pay.xyz"), 45_000);
    } finally {
      await consumer.disconnect();
    }
    expect(labels.get(dCase.caseId)).toMatchObject({ label: "spam", category: "FR_Other", reviewer: "rev", comment: "冒充海关" });
    expect(blocks.get(`sender:${sender}`)).toMatchObject({ kind: "sender", value: sender, state: "active", createdBy: "reviewer:rev" });
    // The decider blocks its own case's sender and answers its reporters when it reads the label: not us.
    expect(blocks.has("sender:17087654321")).toBe(false);
    const { rows } = await pool.query("SELECT count(*)::int AS n FROM outbox WHERE sent_at IS NULL");
    expect(rows[0].n).toBe(0);
  }, 120_000);
});
