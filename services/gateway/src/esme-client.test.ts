import pino from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { topicNames, type OutboundReply, type Report } from "@spam/contracts";
import { KafkaModuleError, type OutgoingMessage } from "@spam/kafka";
import { PendingReports, type PendingReportData } from "@spam/report-parser";
import { defaultReplyTemplatesPath, loadReplyTemplates } from "@spam/replies";
import { decodePdu, encodeText, fieldsFromSmppPdu, splitMessage, type SmppPdu, type SmppServer, type SmppSession } from "@spam/smpp-codec";
import { SenderAllowList } from "./allowlist.js";
import { BlockList } from "./blocklist.js";
import { EsmeClient } from "./esme-client.js";
import { MessageIntake } from "./intake.js";
import { deliverReply } from "./replies.js";
import { MessageRouter } from "./router.js";
import { call, smpp, waitFor } from "./test-helpers.js";

const logger = pino({ level: "silent" });
const topics = topicNames("esme.");
const E = smpp.errors as Record<string, number>;

/** A stand-in upstream SMSC: accepts binds, records submit_sm, lets the test push deliver_sm. */
async function fakeSmsc() {
  const binds: Array<{ systemId: string; password: string }> = [];
  const submitted: string[] = [];
  let current: SmppSession | null = null;
  const server: SmppServer = smpp.createServer({}, (session) => {
    session.on("pdu", (pdu: SmppPdu) => {
      if (pdu.command === "bind_transceiver" || pdu.command === "bind_receiver") {
        binds.push({ systemId: String(pdu["system_id"]), password: String(pdu["password"]) });
        const ok = pdu["password"] === "upw";
        session.send(pdu.response(ok ? {} : { command_status: E["ESME_RBINDFAIL"] }));
        if (ok) current = session;
      } else if (pdu.command === "submit_sm") {
        submitted.push(decodePdu(fieldsFromSmppPdu(pdu)).text);
        session.send(pdu.response({ message_id: `up-${submitted.length}` }));
      } else if (pdu.command === "enquire_link" || pdu.command === "unbind") {
        session.send(pdu.response());
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const port = (server.address() as { port: number }).port;
  return {
    port,
    binds,
    submitted,
    session: () => current,
    deliver: (fields: Record<string, unknown>) => call(current!, "deliver_sm", fields),
    kick: () => current?.destroy(),
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup(password = "upw") {
  const smsc = await fakeSmsc();
  const published: OutgoingMessage[] = [];
  const fail = { error: null as Error | null };
  const router = new MessageRouter({
    gatewayId: "gw-esme",
    topics,
    shortCodes: ["10086999"],
    reporterHashKey: "esme-test-key-0123456789",
    pending: new PendingReports<PendingReportData>({ windowMs: 60_000, maxEntries: 100 }),
    pendingWindowMs: 60_000,
    replies: loadReplyTemplates(defaultReplyTemplatesPath()),
    allowList: new SenderAllowList([]),
    blockList: new BlockList(),
    blockPolicy: "reject",
    publish: async (m) => {
      if (fail.error) throw fail.error;
      published.push(...m);
    },
    logger,
  });
  const intake = new MessageIntake({ router, logger, reassembly: { timeoutMs: 5_000, maxPendingSets: 10, maxPendingBytes: 100_000 } });
  const client = new EsmeClient({
    host: "127.0.0.1",
    port: smsc.port,
    systemId: "gwup",
    password,
    bindMode: "transceiver",
    intake,
    logger,
    reconnectInitialMs: 50,
    reconnectMaxMs: 200,
  });
  client.start();
  cleanups.push(async () => {
    await client.stop();
    await intake.close();
    await smsc.close();
  });
  return { smsc, client, published, fail };
}

describe("EsmeClient (ESME role)", () => {
  it("binds upstream, takes an MO report from deliver_sm, answers after publishing, replies with submit_sm", async () => {
    const { smsc, client, published } = await setup();
    await waitFor(() => client.isBound);
    expect(smsc.binds).toEqual([{ systemId: "gwup", password: "upw" }]);
    const resp = await smsc.deliver({
      source_addr: "13800000009",
      destination_addr: "10086999",
      data_coding: 8,
      short_message: encodeText("13912345678*您的积分即将清零", 8),
    });
    expect(resp.command_status).toBe(0);
    const report = published.find((m) => m.topic === topics.reports)!.value as Report;
    expect(report).toMatchObject({ status: "parsed", reportedNumber: "13912345678", reporterMsisdn: "13800000009" });
    const ack = published.find((m) => m.topic === topics.repliesOutbound)!.value as OutboundReply;
    await deliverReply([client.receiver()!], ack, 5_000);
    expect(smsc.submitted).toEqual([ack.text]);
  });

  it("reassembles a multipart MO message", async () => {
    const { smsc, client, published } = await setup();
    await waitFor(() => client.isBound);
    const text = "上行长短信测试".repeat(25);
    for (const p of splitMessage(text, { dataCoding: 8, concat: "udh16", reference: 77 })) {
      expect((await smsc.deliver({ source_addr: "13800000008", destination_addr: "106900", ...p })).command_status).toBe(0);
    }
    expect(published.filter((m) => m.topic === topics.trafficRaw).map((m) => (m.value as { text: string }).text)).toEqual([text]);
  });

  it("answers ESME_RX_T_APPN when Kafka does not acknowledge, and ignores delivery receipts", async () => {
    const { smsc, client, published, fail } = await setup();
    await waitFor(() => client.isBound);
    fail.error = new KafkaModuleError("send_failed", "down");
    const resp = await smsc.deliver({ source_addr: "1", destination_addr: "2", short_message: Buffer.from("hi") });
    expect(resp.command_status).toBe(E["ESME_RX_T_APPN"]);
    fail.error = null;
    const receipt = await smsc.deliver({ source_addr: "1", destination_addr: "2", esm_class: 0x04, short_message: Buffer.from("id:1 stat:DELIVRD") });
    expect(receipt.command_status).toBe(0);
    expect(published).toEqual([]);
  });

  it("reconnects and binds again after the upstream drops the connection", async () => {
    const { smsc, client } = await setup();
    await waitFor(() => client.isBound);
    smsc.kick();
    await waitFor(() => client.binds === 2, 5_000);
    expect(client.isBound).toBe(true);
  });

  it("keeps retrying with backoff when the upstream refuses the bind", async () => {
    const { smsc, client } = await setup("bad");
    await waitFor(() => smsc.binds.length >= 2, 5_000);
    expect(client.isBound).toBe(false);
  });
});
