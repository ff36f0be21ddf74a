import { randomUUID } from "node:crypto";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { blockListKey, topicNames, type BlockListEntry } from "@spam/contracts";
import { createKafkaClient } from "@spam/kafka";
import { decodePdu, encodeText, fieldsFromSmppPdu, splitMessage, type SmppPdu, type SmppSession } from "@spam/smpp-codec";
import { loadGatewayEnv } from "./env.js";
import { createGateway, type Gateway } from "./main.js";
import { bound, call, smpp, waitFor } from "./test-helpers.js";

// PDU-level tests with the smpp client against the real broker from the global setup.
const brokers = process.env.KAFKA_BROKERS;
const logger = pino({ level: "silent" });
const E = smpp.errors as Record<string, number>;

describe.skipIf(!brokers)("gateway against the real Kafka broker", () => {
  const prefix = `${process.env.TEST_RUN_ID ?? "local"}.gw.${randomUUID().slice(0, 8)}.`;
  const topics = topicNames(prefix);
  const kafka = createKafkaClient({ brokers: (brokers ?? "127.0.0.1:1").split(","), clientId: "gateway-it", logger });
  const seen = new Map<string, Array<Record<string, unknown>>>();
  const consumer = kafka.consumer({ groupId: `${prefix}observer`, maxWaitTimeInMs: 100 });
  const producer = kafka.producer();
  let gateway: Gateway;
  let port: number;
  let client: SmppSession;
  const delivered: string[] = [];

  const on = (topic: string) => seen.get(topic) ?? [];

  beforeAll(async () => {
    const env = loadGatewayEnv({
      KAFKA_BROKERS: brokers,
      TOPIC_PREFIX: prefix,
      SMPP_PORT: "0",
      SMPP_ACCOUNTS: "esme1:secret:report+traffic+reply:*,esme2:pw2:traffic:*",
      GATEWAY_ID: "gw-it",
      REPORTER_HASH_KEY: "integration-test-key-0123",
      LOG_LEVEL: "silent",
    });
    gateway = createGateway(env, logger);
    await gateway.start();
    port = gateway.smpp.address.port;
    await consumer.connect();
    for (const t of [topics.trafficRaw, topics.reports, topics.enforcement, topics.repliesOutbound]) {
      await consumer.subscribe({ topic: t, fromBeginning: true });
    }
    await consumer.run({
      eachMessage: async ({ topic, message }) => {
        const list = seen.get(topic) ?? [];
        list.push(JSON.parse(message.value!.toString("utf8")) as Record<string, unknown>);
        seen.set(topic, list);
      },
    });
    await producer.connect();
    client = await bound(port, "esme1", "secret", "bind_transceiver");
    // The reporter's replies come back to the bound transceiver as deliver_sm.
    client.on("deliver_sm", (pdu: SmppPdu) => {
      delivered.push(decodePdu(fieldsFromSmppPdu(pdu)).text);
      client.send(pdu.response());
    });
  }, 120_000);

  afterAll(async () => {
    client?.close();
    await gateway?.stop();
    await consumer.disconnect();
    await producer.disconnect();
  });

  it("refuses bad credentials with ESME_RBINDFAIL", async () => {
    await expect(bound(port, "esme1", "nope")).rejects.toThrow(String(E["ESME_RBINDFAIL"]));
  });

  it("publishes every encoding to the raw traffic topic once Kafka acked", async () => {
    const cases: Array<[number, Buffer, string]> = [
      [0, encodeText("Win {100€}", 0), "Win {100€}"],
      [1, Buffer.from("pay $5 @ shop", "latin1"), "pay $5 @ shop"],
      [3, Buffer.from("café", "latin1"), "café"],
      [8, encodeText("中奖通知😀", 8), "中奖通知😀"],
      [15, encodeText("退订回T", 15), "退订回T"],
    ];
    const src = "8613700000001";
    for (const [dc, sm] of cases) {
      const resp = await call(client, "submit_sm", { source_addr: src, destination_addr: "13800000000", data_coding: dc, short_message: sm });
      expect(resp.command_status).toBe(0);
    }
    await waitFor(() => on(topics.trafficRaw).filter((m) => m["source"] === src).length === cases.length);
    const texts = on(topics.trafficRaw).filter((m) => m["source"] === src).map((m) => m["text"]);
    expect(texts.sort()).toEqual(cases.map((c) => c[2]).sort());
    expect(on(topics.trafficRaw)[0]).toMatchObject({ gatewayId: "gw-it", account: "esme1" });
  });

  it("reassembles UDH 8/16-bit and SAR multipart messages before publishing", async () => {
    const text = "【测试】".concat("您的积分即将清零，请尽快兑换礼品，退订回T。".repeat(8));
    for (const [i, concat] of (["udh8", "udh16", "sar"] as const).entries()) {
      const src = `861370000010${i}`;
      const parts = splitMessage(text, { dataCoding: 8, concat, reference: 40 + i });
      const resps = await Promise.all(parts.map((p) => call(client, "submit_sm", { source_addr: src, destination_addr: "13800000000", ...p })));
      expect(resps.map((r) => r.command_status)).toEqual(parts.map(() => 0));
      await waitFor(() => on(topics.trafficRaw).some((m) => m["source"] === src));
      expect(on(topics.trafficRaw).filter((m) => m["source"] === src)).toMatchObject([{ text, parts: parts.length, partial: false }]);
    }
  });

  it("a report gets a report record and an acknowledgement SMS through the bound transceiver", async () => {
    const resp = await call(client, "submit_sm", {
      source_addr: "13800000001",
      destination_addr: "10086999",
      data_coding: 8,
      short_message: encodeText("举报：１３９１２３４５６７８＊您已中奖，点击领取", 8),
    });
    expect(resp.command_status).toBe(0);
    await waitFor(() => on(topics.reports).some((r) => r["reporterMsisdn"] === "13800000001"));
    const report = on(topics.reports).find((r) => r["reporterMsisdn"] === "13800000001")!;
    expect(report).toMatchObject({ status: "parsed", reportedNumber: "13912345678", content: "您已中奖，点击领取" });
    await waitFor(() => delivered.some((t) => t.includes(`您的举报已受理，编号${String(report["id"])}`)));
  });

  it("two-step report in GB18030 multipart and SAR: asks for the number, then completes", async () => {
    const content = "尊敬的客户您好，您的信用卡额度已提升至五万元，请点击链接激活，逾期作废。".repeat(2);
    const parts = splitMessage(content, { dataCoding: 15, concat: "sar", reference: 7 });
    expect(parts.length).toBeGreaterThan(1);
    for (const p of parts) {
      expect((await call(client, "submit_sm", { source_addr: "13800000002", destination_addr: "10086999", ...p })).command_status).toBe(0);
    }
    await waitFor(() => delivered.some((t) => t.includes("回复被举报的号码")));
    await call(client, "submit_sm", { source_addr: "13800000002", destination_addr: "10086999", data_coding: 0, short_message: encodeText("+86 139 1234 5678", 0) });
    await waitFor(() => on(topics.reports).filter((r) => r["reporterMsisdn"] === "13800000002").length === 2);
    const [first, second] = on(topics.reports).filter((r) => r["reporterMsisdn"] === "13800000002");
    expect(first).toMatchObject({ status: "pending_number", content });
    expect(second).toMatchObject({ status: "completed_two_step", id: first!["id"], reportedNumber: "13912345678", content });
  });

  it("stops a blocked sender at the gateway and records the enforcement", async () => {
    const entry: BlockListEntry = {
      v: 1,
      kind: "sender",
      value: "13600000009",
      state: "active",
      reason: "integration test",
      evidence: { reportIds: [], verdictIds: [] },
      createdBy: "test",
      createdAt: Date.now(),
      expiresAt: null,
      version: 1,
    };
    await producer.send({ topic: topics.blocklist, messages: [{ key: blockListKey("sender", entry.value), value: JSON.stringify(entry) }] });
    await waitFor(() => gateway.blockList.match("13600000009", "") !== null);
    const resp = await call(client, "submit_sm", { source_addr: "13600000009", destination_addr: "13800000000", short_message: Buffer.from("spam") });
    expect(resp.command_status).toBe(E["ESME_RX_R_APPN"]);
    await waitFor(() => on(topics.enforcement).some((e) => e["source"] === "13600000009"));
    expect(on(topics.trafficRaw).some((m) => m["source"] === "13600000009")).toBe(false);
  });
});
