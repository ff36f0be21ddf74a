import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { CampaignTracker } from "@spam/campaigns";
import { sql, v } from "@spam/clickhouse";
import { blockListKey, type BlockListEntry } from "@spam/contracts";
import { BatchingProducer, createKafkaClient } from "@spam/kafka";
import { EsmeClient, SmppClientError } from "@spam/smpp-client";
import { SmscStub } from "@spam/smsc-stub";
import { createTestStack, eventually, freePort, startServiceProcess, type ServiceProcess, type TestStack } from "../support/index.js";

/**
 * Relay mode for real (issue 21): an SMPP client → the gateway in relay mode (a real process) →
 * the SMSC stub, with the real scorer deciding through Kafka and the sink writing the delivery
 * records to ClickHouse. The deadline here is generous (3 s): on two shared cores a cold scorer
 * can miss 50 ms, and these tests are about what the decision does, not how fast it comes
 * (benchmarks/src/relay.bench.ts measures that).
 */
const RX_R_APPN = 0x66;
const logger = pino({ level: "silent" });
const SPAM = "代开各类发票，增值税专用发票保真，联系V信 fp2026";
const CAMPAIGN = "尊敬的会员您好，本周六门店周年庆，到店出示本短信可领取精美礼品一份";
const BLOCKED_SENDER = "13700000077";
const LONG = "今晚七点在老地方吃饭，记得带伞，路上小心。".repeat(6);

const DeliveryRow = z.object({ message_id: z.string(), outcome: z.string(), reason: z.string(), source: z.string() });

function block(kind: BlockListEntry["kind"], value: string): BlockListEntry {
  return {
    v: 1, kind, value, state: "active", reason: "e2e", evidence: { reportIds: [], verdictIds: [] },
    createdBy: "e2e", createdAt: Date.now(), expiresAt: null, version: 1,
  };
}

describe("relay mode: SMPP client → gateway (relay) → SMSC stub", () => {
  let stack: TestStack;
  let stub: SmscStub;
  let services: ServiceProcess[] = [];
  let smppPort: number;
  let client: EsmeClient;
  let other: EsmeClient;

  beforeAll(async () => {
    stack = await createTestStack("e2e_relay");
    stub = new SmscStub({ logger, receiptDelayMs: 5 });
    await stub.listen();
    // Blocks exist before the gateway starts: it loads the list before it serves, so not one
    // message of the blocked sender or campaign can slip through while the list is loading.
    const campaignId = new CampaignTracker().observe({ text: CAMPAIGN, sender: "x", recipient: "y", at: Date.now() })!.campaignId;
    const kafka = createKafkaClient({ brokers: stack.brokers.split(","), clientId: "e2e-relay", logger });
    const producer = new BatchingProducer({ kafka, logger, lingerMs: 1 });
    await producer.connect();
    await producer.sendMany([
      { topic: stack.topics.blocklist, key: blockListKey("sender", BLOCKED_SENDER), value: block("sender", BLOCKED_SENDER) },
      { topic: stack.topics.blocklist, key: blockListKey("fingerprint", campaignId), value: block("fingerprint", campaignId) },
    ]);
    await producer.disconnect();

    smppPort = await freePort();
    const routes = [{ name: "main", destinations: ["13*"], smscs: [{ name: "stub", host: "127.0.0.1", port: stub.port, systemId: "relay", password: "relay-pw", window: 20 }] }];
    const gateway = startServiceProcess("gateway", {
      ...stack.serviceEnv,
      GATEWAY_ID: "gw-relay",
      SMPP_PORT: String(smppPort),
      // "other" is bound as a receiver too: receipts must never reach an account that did not send the message.
      SMPP_ACCOUNTS: "relay-in:in-pw:traffic:*,other:ot-pw:traffic+reply:*",
      REPLIES_ENABLED: "false",
      RELAY_ENABLED: "true",
      RELAY_ROUTES: JSON.stringify(routes),
      RELAY_DEADLINE_MS: "3000",
      METRICS_PORT: "0",
    });
    const scorer = startServiceProcess("scorer", { ...stack.serviceEnv, CONSUMER_GROUP: `${stack.prefix}scorer`, METRICS_PORT: "0" });
    const sink = startServiceProcess("sink", { ...stack.serviceEnv, CONSUMER_GROUP: `${stack.prefix}sink`, SINK_FETCH_MAX_WAIT_MS: "100", METRICS_PORT: "0" });
    services = [gateway, scorer, sink];
    await Promise.all(services.map((s) => s.waitForLog((e) => e.msg === "started", 90_000)));
    await gateway.waitForLog((e) => e.msg === "bound to downstream SMSC", 10_000);
    client = await EsmeClient.connect({ host: "127.0.0.1", port: smppPort, systemId: "relay-in", password: "in-pw" });
    other = await EsmeClient.connect({ host: "127.0.0.1", port: smppPort, systemId: "other", password: "ot-pw", bindAs: "receiver" });
  }, 120_000);

  afterAll(async () => {
    await client?.close();
    await other?.close();
    const codes = await Promise.all(services.map((s) => s.stop()));
    await stub?.close();
    await stack?.dispose();
    // Every service drains and exits 0 on SIGTERM.
    expect(codes).toEqual(services.map(() => 0));
  });

  it("forwards a legitimate message to the SMSC and returns its receipt with the client's own id", async () => {
    const { messageIds } = await client.submit("明天上午十点开会，请准时参加", { source: "13800000001", destination: "13900000001", registeredDelivery: 1 });
    const id = messageIds[0]!;
    const arrived = await stub.waitFor((r) => r.find((m) => m.source === "13800000001"));
    expect(arrived.text).toBe("明天上午十点开会，请准时参加");
    const receipt = await client.waitForDelivery((m) => m.receiptedMessageId === id, 10_000);
    expect(receipt.esmClass & 0x04).toBe(0x04);
    expect(receipt.text).toContain(`id:${id} `);
    expect(receipt.text).toContain("stat:DELIVRD");
    expect(receipt.text).not.toContain(arrived.messageId);
    // Security: the receipt went to the sender's account only.
    expect(other.inbox).toEqual([]);
  }, 30_000);

  it("stops spam (block verdict): the client gets ESME_RX_R_APPN and the SMSC never sees it", async () => {
    const err = await client.submit(SPAM, { source: "17000009999", destination: "13900000002" }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SmppClientError);
    expect((err as SmppClientError).commandStatus).toBe(RX_R_APPN);
    expect(stub.received.filter((m) => m.source === "17000009999")).toEqual([]);
  }, 30_000);

  it("never forwards a blocked sender's messages", async () => {
    for (const text of ["你好，晚上一起吃饭吗", "收到请回复"]) {
      const err = await client.submit(text, { source: BLOCKED_SENDER, destination: "13900000003" }).catch((e: unknown) => e);
      expect((err as SmppClientError).commandStatus).toBe(RX_R_APPN);
    }
    expect(stub.received.filter((m) => m.source === BLOCKED_SENDER)).toEqual([]);
  }, 30_000);

  it("never forwards a blocked campaign's messages (fingerprint block, matched on the verdict's campaign)", async () => {
    const err = await client.submit(CAMPAIGN, { source: "13800000055", destination: "13900000004" }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SmppClientError);
    expect((err as SmppClientError).commandStatus).toBe(RX_R_APPN);
    expect(stub.received.filter((m) => m.source === "13800000055")).toEqual([]);
  }, 30_000);

  it("forwards a multipart message whole, UDH intact, in order", async () => {
    const { messageIds } = await client.submit(LONG, { source: "13800000066", destination: "13900000005", concat: "udh8", reference: 42 });
    expect(messageIds.length).toBeGreaterThan(1);
    const parts = await stub.waitFor((r) => {
      const mine = r.filter((m) => m.source === "13800000066");
      return mine.length === messageIds.length ? mine : undefined;
    });
    expect(parts.map((p) => p.concat?.seq)).toEqual(messageIds.map((_, i) => i + 1));
    expect(new Set(parts.map((p) => p.concat?.reference))).toEqual(new Set([42]));
    expect(parts.every((p) => (p.esmClass & 0x40) !== 0)).toBe(true);
    expect(parts.map((p) => p.text).join("")).toBe(LONG);
  }, 30_000);

  it("stops a multipart spam message as a whole: no part reaches the SMSC", async () => {
    const err = await client.submit(`${SPAM}。${SPAM}。${SPAM}。${SPAM}`, { source: "17000008888", destination: "13900000006", concat: "udh8", reference: 7 }).catch((e: unknown) => e);
    expect((err as SmppClientError).commandStatus).toBe(RX_R_APPN);
    expect(stub.received.filter((m) => m.source === "17000008888")).toEqual([]);
  }, 30_000);

  it("refuses a destination no route serves with ESME_RINVDSTADR, publishing nothing", async () => {
    const err = await client.submit("你好", { source: "13800000077", destination: "99900000001" }).catch((e: unknown) => e);
    expect((err as SmppClientError).commandStatus).toBe(0x0b);
    expect(stub.received.filter((m) => m.source === "13800000077")).toEqual([]);
  }, 30_000);

  it("a message the SMSC deferred and the client resent is forwarded once and counted once in ClickHouse", async () => {
    stub.mode = "throttle";
    const err = await client.submit("周五的会议改到下午三点", { source: "13800000088", destination: "13900000008" }).catch((e: unknown) => e);
    expect((err as SmppClientError).commandStatus).toBe(0x58); // ESME_RTHROTTLED: resend later
    stub.mode = "accept";
    const { messageIds } = await client.submit("周五的会议改到下午三点", { source: "13800000088", destination: "13900000008" });
    expect(stub.received.filter((m) => m.source === "13800000088")).toHaveLength(1);
    const Row = z.object({ id: z.string() });
    const rows = await eventually(async () => {
      const found = await stack.ch.query(sql`SELECT id FROM traffic_raw WHERE source = ${v.string("13800000088")}`, Row);
      return found.length > 0 ? found : undefined;
    }, 20_000, 250);
    // Give a second copy, were there one, the time to arrive before counting.
    await new Promise((r) => setTimeout(r, 1_500));
    const again = await stack.ch.query(sql`SELECT id FROM traffic_raw WHERE source = ${v.string("13800000088")}`, Row);
    expect(again).toEqual(rows);
    expect(again.map((r) => r.id)).toEqual([messageIds[0]]);
  }, 30_000);

  it("writes every outcome to ClickHouse (delivery_records)", async () => {
    const rows = await eventually(async () => {
      const found = await stack.ch.query(sql`SELECT message_id, outcome, reason, source FROM delivery_records FINAL WHERE source IN (${v.string("13800000001")}, ${v.string("17000009999")}, ${v.string(BLOCKED_SENDER)}, ${v.string("13800000055")}, ${v.string("13800000077")})`, DeliveryRow);
      return found.length >= 6 ? found : undefined;
    }, 30_000, 250);
    const bySource = (s: string) => rows.filter((r) => r.source === s).map((r) => `${r.outcome}/${r.reason}`).sort();
    expect(bySource("13800000001")).toEqual(["forwarded/allow"]);
    expect(bySource("17000009999")).toEqual(["stopped/block"]);
    expect(bySource(BLOCKED_SENDER)).toEqual(["stopped/blocklist", "stopped/blocklist"]);
    expect(bySource("13800000055")).toEqual(["stopped/campaign_block"]);
    expect(bySource("13800000077")).toEqual(["no_route/no_route"]);
    // The unrouted message was never published: the raw traffic has the others, not it.
    const Raw = z.object({ source: z.string() });
    const raw = await eventually(async () => {
      const found = await stack.ch.query(sql`SELECT source FROM traffic_raw FINAL WHERE source IN (${v.string("13800000001")}, ${v.string("13800000077")})`, Raw);
      return found.length > 0 ? found : undefined;
    }, 20_000, 250);
    expect(raw.map((r) => r.source)).toEqual(["13800000001"]);
  }, 40_000);
});
