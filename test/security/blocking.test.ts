import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import {
  CaseStore,
  createPool,
  kafkaPublisher,
  migratePg,
  OutboxRelay,
  reportUpsert,
  UserStore,
} from "@spam/api-service";
import { createTestDatabase, parsedReport, type PgDatabase } from "@spam/api-service/testing";
import { sql } from "@spam/clickhouse";
import { BatchingProducer, createKafkaClient } from "@spam/kafka";
import { createTestStack, eventually, startServiceProcess, type ServiceProcess, type TestStack } from "../support/index.js";

/**
 * Issue 17, finding 10: a spam decision blocked every domain in the text, only four were
 * exempt, and the gateway matched parent domains, so a spam quoting `com.cn` blocked every
 * `*.com.cn` URL for 30 days. The probe: a reviewer's spam decision in the API's case store
 * (real PostgreSQL), its outbox relayed to the real broker, the block list as the sink stores
 * it in ClickHouse (a real process) — what the gateways follow.
 */
const SPAM =
  "【退款通知】您的订单异常，请登录 https://pay.evil-loan.com.cn/refund 办理；详见 http://com.cn 与 https://github.io " +
  "官方说明 https://x.github.io/help，客服 10086.cn，政策 https://www.beijing.gov.cn";

describe("spam decisions block registrable domains only (issue 17, finding 10)", () => {
  let stack: TestStack;
  let db: PgDatabase;
  let pool: ReturnType<typeof createPool>;
  let producer: BatchingProducer;
  let relay: OutboxRelay;
  let services: ServiceProcess[] = [];
  const logger = pino({ level: "silent" });

  beforeAll(async () => {
    stack = await createTestStack("sec_blocking");
    db = await createTestDatabase("sec_blocking");
    pool = createPool(db.url, 5);
    await migratePg(pool, logger);
    const kafka = createKafkaClient({ brokers: stack.brokers.split(","), clientId: "sec-blocking", logger });
    producer = new BatchingProducer({ kafka, logger, lingerMs: 2 });
    await producer.connect();
    relay = new OutboxRelay(pool, kafkaPublisher(producer, stack.prefix), logger);
    services = [startServiceProcess("sink", { ...stack.serviceEnv, CONSUMER_GROUP: `${stack.prefix}sink`, SINK_FETCH_MAX_WAIT_MS: "100", METRICS_PORT: "0" })];
    await Promise.all(services.map((s) => s.waitForLog((e) => e.msg === "started", 90_000)));
  }, 120_000);

  afterAll(async () => {
    const codes = await Promise.all(services.map((s) => s.stop().catch(() => null)));
    await producer?.disconnect();
    await pool?.end();
    await db?.drop();
    await stack?.dispose();
    expect(codes).toEqual(services.map(() => 0));
  });

  it("com.cn, github.io, 10086.cn and gov.cn sites are never blocked; evil-loan.com.cn is, and x.github.io only as itself", async () => {
    const store = new CaseStore(pool, { slaHours: 48, claimTtlMinutes: 15, effects: { blockTtlMs: 30 * 86_400_000, shortCode: "10086999" } });
    const reviewer = await new UserStore(pool, 3_600_000).createUser({ username: "sec-reviewer", role: "reviewer", password: "sec-reviewer-password-1" });
    const caseId = await store.addReport(reportUpsert(parsedReport({ reportedNumber: "13812345670", content: SPAM }))!);
    await store.claim(caseId, reviewer);
    await store.decide(caseId, reviewer, { label: "spam", category: "FR_Phishing(Other)", comment: "", wholeCampaign: false });
    await relay.drain();

    const Row = z.object({ key: z.string(), state: z.string() });
    const rows = await eventually(async () => {
      const found = await stack.ch.query(sql`SELECT key, state FROM blocklist_current ORDER BY key`, Row);
      return found.length >= 3 ? found : undefined;
    }, 30_000, 200);
    expect(rows).toEqual([
      { key: "domain:evil-loan.com.cn", state: "active" },
      { key: "domain:x.github.io", state: "active" },
      { key: "sender:13812345670", state: "active" },
    ]);
  }, 120_000);
});
