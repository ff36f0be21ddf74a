import pino from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { topicNames, type EnforcementEvent, type OutboundReply, type RawMessage, type Report } from "@spam/contracts";
import type { OutgoingMessage } from "@spam/kafka";
import { KafkaModuleError } from "@spam/kafka";
import { PendingReports, type PendingReportData } from "@spam/report-parser";
import { loadReplyTemplates, defaultReplyTemplatesPath } from "@spam/replies";
import { encodeText, splitMessage, type SmppSession } from "@spam/smpp-codec";
import { buildAccount, type AccountSpec } from "./accounts.js";
import { hashPassword } from "./passwords.js";
import { SenderAllowList } from "./allowlist.js";
import { BlockList } from "./blocklist.js";
import { MessageRouter } from "./router.js";
import { MessageIntake } from "./intake.js";
import { GatewaySmppServer, type RefusalReason, type SmppServerOptions } from "./smpp-server.js";
import { bound, call, closed, connectClient, pduBytes, rawSocket, smpp, splitPdus, waitFor } from "./test-helpers.js";

const logger = pino({ level: "silent" });
const topics = topicNames("unit.");

interface Harness {
  server: GatewaySmppServer;
  port: number;
  published: OutgoingMessage[];
  blockList: BlockList;
  failWith: { error: Error | null };
  refusals: Array<[RefusalReason, string]>;
}

type TestAccount = Partial<AccountSpec> & { systemId: string; password: string };

const servers: GatewaySmppServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function start(
  opts: {
    accounts?: TestAccount[];
    idleTimeoutMs?: number;
    reassemblyTimeoutMs?: number;
    publishDelayMs?: number;
    server?: Partial<Pick<SmppServerOptions, "bindTimeoutMs" | "maxSessions" | "maxUnbound" | "bindBackoff">>;
  } = {},
): Promise<Harness> {
  const published: OutgoingMessage[] = [];
  const failWith = { error: null as Error | null };
  const blockList = new BlockList();
  const router = new MessageRouter({
    gatewayId: "gw-test",
    topics,
    shortCodes: ["10086999"],
    reporterHashKey: "unit-test-key-0123456789",
    pending: new PendingReports<PendingReportData>({ windowMs: 60_000, maxEntries: 1000 }),
    pendingWindowMs: 60_000,
    replies: loadReplyTemplates(defaultReplyTemplatesPath()),
    allowList: new SenderAllowList(["95588"]),
    blockList,
    blockPolicy: "reject",
    publish: async (messages) => {
      if (opts.publishDelayMs) await new Promise((r) => setTimeout(r, opts.publishDelayMs));
      if (failWith.error) throw failWith.error;
      published.push(...messages);
    },
    logger,
  });
  // Every capability and any source unless a test says otherwise; a cheap scrypt keeps binds fast here.
  const accounts = new Map(
    (opts.accounts ?? [{ systemId: "esme1", password: "secret" }]).map((a) => [
      a.systemId,
      buildAccount(
        { capabilities: ["report", "traffic", "reply"], sourceRanges: ["*"], ...a },
        { throughputPerSec: 10_000, window: 100, maxSessions: 8, hashCost: { logN: 10, r: 8, p: 1 } },
      ),
    ]),
  );
  const refusals: Array<[RefusalReason, string]> = [];
  const intake = new MessageIntake({
    router,
    logger,
    reassembly: { timeoutMs: opts.reassemblyTimeoutMs ?? 5_000, maxPendingSets: 100, maxPendingBytes: 1 << 20 },
  });
  const server = new GatewaySmppServer({
    host: "127.0.0.1",
    port: 0,
    gatewayId: "gw-test",
    accounts,
    intake,
    logger,
    idleTimeoutMs: opts.idleTimeoutMs ?? 60_000,
    isReportDestination: (d) => router.isReport(d),
    ...opts.server,
    onRefused: (reason, account) => refusals.push([reason, account]),
  });
  await server.listen();
  servers.push(server);
  return { server, port: server.address.port, published, blockList, failWith, refusals };
}

const traffic = (h: Harness) => h.published.filter((m) => m.topic === topics.trafficRaw).map((m) => m.value as RawMessage);
const reports = (h: Harness) => h.published.filter((m) => m.topic === topics.reports).map((m) => m.value as Report);
const replies = (h: Harness) => h.published.filter((m) => m.topic === topics.repliesOutbound).map((m) => m.value as OutboundReply);

const E = smpp.errors as Record<string, number>;

describe("binds", () => {
  it("accepts good credentials for each bind type and refuses bad ones with ESME_RBINDFAIL", async () => {
    const h = await start();
    for (const mode of ["bind_transmitter", "bind_receiver", "bind_transceiver"]) {
      const s = await bound(h.port, "esme1", "secret", mode);
      s.close();
    }
    for (const [id, pw] of [["esme1", "wrong"], ["nobody", "secret"], ["", ""]]) {
      const s = await connectClient(h.port);
      const c = closed(s);
      const resp = await call(s, "bind_transceiver", { system_id: id, password: pw });
      expect(resp.command_status).toBe(E["ESME_RBINDFAIL"]);
      await c;
    }
  });

  it("refuses a second bind and submit before bind or on a receiver", async () => {
    const h = await start();
    const s = await bound(h.port, "esme1", "secret");
    expect((await call(s, "bind_transceiver", { system_id: "esme1", password: "secret" })).command_status).toBe(E["ESME_RALYBND"]);
    const unbound = await connectClient(h.port);
    expect((await call(unbound, "submit_sm", { destination_addr: "1", short_message: Buffer.from("x") })).command_status).toBe(E["ESME_RINVBNDSTS"]);
    const rx = await bound(h.port, "esme1", "secret", "bind_receiver");
    expect((await call(rx, "submit_sm", { destination_addr: "1", short_message: Buffer.from("x") })).command_status).toBe(E["ESME_RINVBNDSTS"]);
    for (const x of [s, unbound, rx]) x.close();
    expect(h.published).toEqual([]);
  });

  it("answers enquire_link and unbind, then closes", async () => {
    const h = await start();
    const s = await bound(h.port, "esme1", "secret");
    expect((await call(s, "enquire_link")).command_status).toBe(0);
    const c = closed(s);
    expect((await call(s, "unbind")).command_id).toBe(0x80000006);
    await c;
  });

  it("closes idle sessions", async () => {
    const h = await start({ idleTimeoutMs: 200 });
    const s = await bound(h.port, "esme1", "secret");
    await closed(s);
    await waitFor(() => h.server.sessionCount === 0);
  });
});

describe("submit_sm decoding and reassembly", () => {
  const text = "【某银行】您的账户存在风险，请点击 http://x.example 验证，否则冻结😀";
  const cases: Array<[string, number, Buffer, string]> = [
    ["GSM 03.38 with extension table", 0, encodeText("Win {100€} now [ok]", 0), "Win {100€} now [ok]"],
    ["ASCII", 1, Buffer.from("pay $5 @ shop_1", "latin1"), "pay $5 @ shop_1"],
    ["Latin-1", 3, Buffer.from("café £5", "latin1"), "café £5"],
    ["UCS-2 with a surrogate pair", 8, encodeText(text, 8), text],
    ["GB18030", 15, encodeText("退订回T中奖😀", 15), "退订回T中奖😀"],
  ];
  for (const [what, dc, sm, expected] of cases) {
    it(`publishes ${what} as text after Kafka acked`, async () => {
      const h = await start();
      const s = await bound(h.port, "esme1", "secret");
      const resp = await call(s, "submit_sm", { source_addr: "8613912345678", destination_addr: "13800000000", data_coding: dc, short_message: sm });
      expect(resp.command_status).toBe(0);
      expect(traffic(h)).toHaveLength(1);
      expect(traffic(h)[0]).toMatchObject({ text: expected, dataCoding: dc, parts: 1, partial: false, account: "esme1", source: "8613912345678" });
      expect(resp["message_id"]).toBe(traffic(h)[0]!.id);
      s.close();
    });
  }

  it("message_payload instead of short_message", async () => {
    const h = await start();
    const s = await bound(h.port, "esme1", "secret");
    const long = "很长的一条消息".repeat(80);
    const resp = await call(s, "submit_sm", { source_addr: "1", destination_addr: "2", data_coding: 8, message_payload: encodeText(long, 8) });
    expect(resp.command_status).toBe(0);
    expect(traffic(h)[0]!.text).toBe(long);
    s.close();
  });

  for (const concat of ["udh8", "udh16", "sar"] as const) {
    it(`reassembles ${concat} multipart; the completing part is answered after the whole message is on Kafka`, async () => {
      const h = await start();
      const s = await bound(h.port, "esme1", "secret");
      const long = `${text}${"。请勿轻信".repeat(40)}`;
      const parts = splitMessage(long, { dataCoding: 8, concat, reference: 0x1a2 });
      expect(parts.length).toBeGreaterThan(2);
      const resps = await Promise.all(
        parts.map((p) => call(s, "submit_sm", { source_addr: "8613912345678", destination_addr: "13800000000", ...p })),
      );
      expect(resps.every((r) => r.command_status === 0)).toBe(true);
      expect(traffic(h)).toHaveLength(1);
      expect(resps.map((r) => r["message_id"])).toContain(traffic(h)[0]!.id);
      expect(traffic(h)[0]).toMatchObject({ text: long, parts: parts.length, partial: false });
      s.close();
    });
  }

  it("a sender with a window of 1 gets each part answered and the message whole", async () => {
    const h = await start();
    const s = await bound(h.port, "esme1", "secret");
    const long = "逐条发送的长短信".repeat(30);
    for (const p of splitMessage(long, { dataCoding: 8, concat: "udh16", reference: 515 })) {
      expect((await call(s, "submit_sm", { source_addr: "1", destination_addr: "2", ...p })).command_status).toBe(0);
    }
    expect(traffic(h)).toMatchObject([{ text: long, partial: false }]);
    s.close();
  });

  it("when Kafka fails on the completing part, the held parts wait for the retry instead of being lost", async () => {
    const h = await start();
    const s = await bound(h.port, "esme1", "secret");
    const long = "重试".repeat(100);
    const parts = splitMessage(long, { dataCoding: 8, concat: "udh8", reference: 3 });
    const send = (i: number) => call(s, "submit_sm", { source_addr: "1", destination_addr: "2", ...parts[i]! });
    for (let i = 0; i < parts.length - 1; i++) expect((await send(i)).command_status).toBe(0);
    h.failWith.error = new KafkaModuleError("send_failed", "down");
    expect((await send(parts.length - 1)).command_status).toBe(E["ESME_RSYSERR"]);
    h.failWith.error = null;
    expect((await send(parts.length - 1)).command_status).toBe(0);
    expect(traffic(h)).toMatchObject([{ text: long, partial: false, parts: parts.length }]);
    s.close();
  });

  it("a completing part resent after its message was published is answered OK and not published again", async () => {
    const h = await start({ reassemblyTimeoutMs: 300 });
    const s = await bound(h.port, "esme1", "secret");
    const parts = splitMessage("重发".repeat(100), { dataCoding: 8, concat: "udh8", reference: 4 });
    for (const p of parts) await call(s, "submit_sm", { source_addr: "1", destination_addr: "2", ...p });
    expect((await call(s, "submit_sm", { source_addr: "1", destination_addr: "2", ...parts.at(-1)! })).command_status).toBe(0);
    await new Promise((r) => setTimeout(r, 500));
    expect(traffic(h)).toHaveLength(1);
    s.close();
  });

  it("publishes an incomplete set as partial after the timeout", async () => {
    const h = await start({ reassemblyTimeoutMs: 300 });
    const s = await bound(h.port, "esme1", "secret");
    const parts = splitMessage("段".repeat(300), { dataCoding: 8, concat: "udh8", reference: 9 });
    const resp = await call(s, "submit_sm", { source_addr: "1", destination_addr: "2", ...parts[0]! });
    expect(resp.command_status).toBe(0);
    await waitFor(() => traffic(h).length === 1);
    expect(traffic(h)[0]).toMatchObject({ partial: true, parts: 1 });
    s.close();
  });

  it("refuses an unsupported data_coding and a malformed UDH with an error status", async () => {
    const h = await start();
    const s = await bound(h.port, "esme1", "secret");
    expect((await call(s, "submit_sm", { destination_addr: "2", data_coding: 4, short_message: Buffer.from([1, 2]) })).command_status).toBe(E["ESME_RINVDCS"]);
    expect(
      (await call(s, "submit_sm", { destination_addr: "2", data_coding: 8, esm_class: 0x40, short_message: Buffer.from([0x30, 0, 3]) })).command_status,
    ).toBe(E["ESME_RINVESMCLASS"]);
    expect(h.published).toEqual([]);
    s.close();
  });
});

describe("Kafka acknowledgement and throttling", () => {
  it("answers a temporary error when Kafka does not acknowledge, never success", async () => {
    const h = await start();
    h.failWith.error = new KafkaModuleError("send_failed", "broker down");
    const s = await bound(h.port, "esme1", "secret");
    const resp = await call(s, "submit_sm", { source_addr: "1", destination_addr: "2", data_coding: 8, short_message: encodeText("中", 8) });
    expect(resp.command_status).toBe(E["ESME_RSYSERR"]);
    h.failWith.error = new KafkaModuleError("queue_full", "full");
    const resp2 = await call(s, "submit_sm", { source_addr: "1", destination_addr: "2", data_coding: 8, short_message: encodeText("中", 8) });
    expect(resp2.command_status).toBe(E["ESME_RTHROTTLED"]);
    s.close();
  });

  it("answers ESME_RTHROTTLED over the account's throughput", async () => {
    const h = await start({ accounts: [{ systemId: "slow", password: "pw", throughputPerSec: 5, window: 100 }] });
    const s = await bound(h.port, "slow", "pw");
    const resps = await Promise.all(
      Array.from({ length: 20 }, () => call(s, "submit_sm", { source_addr: "1", destination_addr: "2", short_message: Buffer.from("hi") })),
    );
    const ok = resps.filter((r) => r.command_status === 0).length;
    const throttled = resps.filter((r) => r.command_status === E["ESME_RTHROTTLED"]).length;
    expect(ok).toBeGreaterThanOrEqual(5);
    expect(ok).toBeLessThan(10);
    expect(ok + throttled).toBe(20);
    expect(traffic(h)).toHaveLength(ok);
    s.close();
  });

  it("answers ESME_RTHROTTLED over the session window", async () => {
    const h = await start({ accounts: [{ systemId: "w", password: "pw", throughputPerSec: 10_000, window: 3 }], publishDelayMs: 200 });
    const s = await bound(h.port, "w", "pw");
    const resps = await Promise.all(
      Array.from({ length: 6 }, () => call(s, "submit_sm", { source_addr: "1", destination_addr: "2", short_message: Buffer.from("hi") })),
    );
    expect(resps.filter((r) => r.command_status === 0)).toHaveLength(3);
    expect(resps.filter((r) => r.command_status === E["ESME_RTHROTTLED"])).toHaveLength(3);
    s.close();
  });
});

describe("reports", () => {
  it("parses a report to the short code and publishes the report plus an acknowledgement", async () => {
    const h = await start();
    const s = await bound(h.port, "esme1", "secret");
    const resp = await call(s, "submit_sm", {
      source_addr: "13800000001",
      destination_addr: "10086999",
      data_coding: 8,
      short_message: encodeText("举报：＋８６ １３９１２３４５６７８＊您已中奖，点击领取", 8),
    });
    expect(resp.command_status).toBe(0);
    expect(traffic(h)).toEqual([]);
    const [r] = reports(h);
    expect(r).toMatchObject({ status: "parsed", reportedNumber: "13912345678", content: "您已中奖，点击领取", reporterMsisdn: "13800000001", allowListed: false });
    expect(r!.reporterHash).not.toContain("13800000001");
    const [ack] = replies(h);
    expect(ack).toMatchObject({ kind: "ack", to: "13800000001", from: "10086999", reportId: r!.id });
    expect(ack!.text).toContain(`您的举报已受理，编号${r!.id}`);
    s.close();
  });

  it("two-step: content first, then the number completes the same report", async () => {
    const h = await start();
    const s = await bound(h.port, "esme1", "secret");
    const send = (t: string) => call(s, "submit_sm", { source_addr: "13800000002", destination_addr: "10086999", data_coding: 8, short_message: encodeText(t, 8) });
    await send("您的快递丢失，请点击链接理赔");
    await send("139-1234-5678");
    const [first, second] = reports(h);
    expect(first).toMatchObject({ status: "pending_number", content: "您的快递丢失，请点击链接理赔", reportedNumber: null });
    expect(second).toMatchObject({ status: "completed_two_step", id: first!.id, reportedNumber: "13912345678", content: "您的快递丢失，请点击链接理赔" });
    expect(replies(h).map((r) => r.kind)).toEqual(["ask_number", "ack"]);
    // Both steps carry one report id: they share the reporter's key so they stay in order.
    const reportKeys = h.published.filter((m) => m.topic === topics.reports).map((m) => m.key);
    expect(reportKeys).toEqual([second!.reporterHash, second!.reporterHash]);
    s.close();
  });

  it("an unparseable report is stored with its error and the reporter gets format help; allow-listed numbers are marked", async () => {
    const h = await start();
    const s = await bound(h.port, "esme1", "secret");
    const send = (t: string) => call(s, "submit_sm", { source_addr: "13800000003", destination_addr: "10086999", data_coding: 8, short_message: encodeText(t, 8) });
    await send("13912345678");
    await send("95588*您的网银已过期");
    const [lone, bank] = reports(h);
    expect(lone).toMatchObject({ status: "unparseable", parseError: expect.stringContaining("number_without_pending") });
    expect(bank).toMatchObject({ status: "parsed", allowListed: true });
    expect(replies(h).map((r) => r.kind)).toEqual(["format_help", "ack"]);
    s.close();
  });
});

describe("block list", () => {
  it("rejects a blocked sender's message and records the enforcement", async () => {
    const h = await start();
    h.blockList.apply("sender:13912345678", {
      v: 1, kind: "sender", value: "13912345678", state: "active", reason: "test", evidence: { reportIds: [], verdictIds: [] },
      createdBy: "t", createdAt: 0, expiresAt: null, version: 1,
    });
    const s = await bound(h.port, "esme1", "secret");
    const resp = await call(s, "submit_sm", { source_addr: "+8613912345678", destination_addr: "13800000000", short_message: Buffer.from("spam") });
    expect(resp.command_status).toBe(E["ESME_RX_R_APPN"]);
    expect(traffic(h)).toEqual([]);
    const events = h.published.filter((m) => m.topic === topics.enforcement).map((m) => m.value as EnforcementEvent);
    expect(events).toMatchObject([{ kind: "sender", value: "13912345678", policy: "reject", source: "+8613912345678" }]);
    s.close();
  });
});

describe("account capabilities and source ranges", () => {
  const accounts: TestAccount[] = [
    { systemId: "mo", password: "mo-pw", capabilities: ["report", "traffic"], sourceRanges: ["13*", "15*"] },
    { systemId: "a2p", password: "a2p-pw", capabilities: ["traffic"], sourceRanges: ["1069*"] },
    { systemId: "rx", password: "rx-pw", capabilities: ["reply"], sourceRanges: ["13*"] },
  ];
  const submit = (s: SmppSession, source: string, destination: string, text = "x") =>
    call(s, "submit_sm", { source_addr: source, destination_addr: destination, data_coding: 8, short_message: encodeText(text, 8) });

  it("refuses a report from an account without `report` with ESME_RINVDSTADR, publishes nothing, counts it", async () => {
    const h = await start({ accounts });
    const s = await bound(h.port, "a2p", "a2p-pw", "bind_transmitter");
    expect((await submit(s, "1069000", "10086999", "13912345678*中奖了")).command_status).toBe(E["ESME_RINVDSTADR"]);
    expect(h.published).toEqual([]);
    expect(h.refusals).toEqual([["no_report_capability", "a2p"]]);
    s.close();
  });

  it("refuses traffic from an account without `traffic` with ESME_RINVDSTADR", async () => {
    const h = await start({ accounts });
    const s = await bound(h.port, "rx", "rx-pw", "bind_transceiver");
    expect((await submit(s, "13800000001", "13900000001")).command_status).toBe(E["ESME_RINVDSTADR"]);
    expect((await submit(s, "13800000001", "10086999", "13912345678*x")).command_status).toBe(E["ESME_RINVDSTADR"]);
    expect(h.published).toEqual([]);
    expect(h.refusals.map((r) => r[0])).toEqual(["no_traffic_capability", "no_report_capability"]);
    s.close();
  });

  it("refuses a source outside the account's ranges with ESME_RINVSRCADR, for reports and traffic", async () => {
    const h = await start({ accounts });
    const mo = await bound(h.port, "mo", "mo-pw", "bind_transmitter");
    const a2p = await bound(h.port, "a2p", "a2p-pw", "bind_transmitter");
    expect((await submit(mo, "17000000001", "10086999", "13912345678*x")).command_status).toBe(E["ESME_RINVSRCADR"]);
    expect((await submit(mo, "95588", "13900000001")).command_status).toBe(E["ESME_RINVSRCADR"]);
    expect((await submit(a2p, "13800000001", "13900000001")).command_status).toBe(E["ESME_RINVSRCADR"]);
    expect(h.published).toEqual([]);
    expect(h.refusals.map((r) => r.join("/"))).toEqual(["source_out_of_range/mo", "source_out_of_range/mo", "source_out_of_range/a2p"]);
    // In range, in any written form of the number: accepted.
    expect((await submit(mo, "+8613800000001", "10086999", "13912345678*中奖了")).command_status).toBe(0);
    expect((await submit(a2p, "1069012345", "13900000001")).command_status).toBe(0);
    expect(reports(h)).toMatchObject([{ reporterMsisdn: "+8613800000001", account: "mo" }]);
    expect(traffic(h)).toMatchObject([{ source: "1069012345", account: "a2p" }]);
    for (const x of [mo, a2p]) x.close();
  });

  it("offers only sessions of reply links, for recipients in their ranges, as reply receivers", async () => {
    const h = await start({ accounts });
    const sessions = [await bound(h.port, "mo", "mo-pw", "bind_transceiver"), await bound(h.port, "a2p", "a2p-pw", "bind_receiver")];
    expect(h.server.receivers("13800000001")).toEqual([]);
    sessions.push(await bound(h.port, "rx", "rx-pw", "bind_receiver"));
    expect(h.server.receivers("13800000001").map((r) => r.systemId)).toEqual(["rx"]);
    expect(h.server.receivers("17000000001")).toEqual([]);
    for (const x of sessions) x.close();
  });
});

describe("session hardening", () => {
  it("before bind answers every PDU but a bind with ESME_RINVBNDSTS and closes the socket at the bind timeout, enquire_link or not", async () => {
    const h = await start({ server: { bindTimeoutMs: 400 } });
    const s = await connectClient(h.port);
    const c = closed(s, 3_000);
    const t0 = Date.now();
    expect((await call(s, "enquire_link")).command_status).toBe(E["ESME_RINVBNDSTS"]);
    const keepAlive = setInterval(() => s.send(new smpp.PDU("enquire_link", {})), 120);
    await c.finally(() => clearInterval(keepAlive));
    expect(Date.now() - t0).toBeGreaterThanOrEqual(350);
    expect(Date.now() - t0).toBeLessThan(1_500);
    expect(h.refusals.map((r) => r[0])).toContain("bind_timeout");
  });

  it("a bound session is not closed at the bind timeout", async () => {
    const h = await start({ server: { bindTimeoutMs: 200 } });
    const s = await bound(h.port, "esme1", "secret");
    await new Promise((r) => setTimeout(r, 500));
    expect((await call(s, "enquire_link")).command_status).toBe(0);
    s.close();
  });

  it("closes an unbound socket after a few PDUs that are not a bind", async () => {
    const h = await start();
    const s = await connectClient(h.port);
    const c = closed(s);
    for (let i = 0; i < 8; i++) s.send(new smpp.PDU("unbind", {}));
    await c;
  });

  it("after repeated bad binds from one address refuses even the right password until the backoff passes", async () => {
    const h = await start({ server: { bindBackoff: { failuresBeforeBackoff: 2, baseMs: 600, maxMs: 5_000, maxAddresses: 100 } } });
    for (let i = 0; i < 2; i++) await expect(bound(h.port, "esme1", "wrong")).rejects.toThrow(String(E["ESME_RBINDFAIL"]));
    await expect(bound(h.port, "esme1", "secret")).rejects.toThrow(String(E["ESME_RBINDFAIL"]));
    expect(h.refusals.map((r) => r.join("/"))).toEqual(["bind_failed/esme1", "bind_failed/esme1", "bind_backoff/esme1"]);
    await new Promise((r) => setTimeout(r, 700));
    (await bound(h.port, "esme1", "secret")).close();
  });

  it("refuses binds over the password checks in flight instead of queueing scrypt work", async () => {
    // A costlier hash so that checks overlap.
    const h = await start({ accounts: [{ systemId: "esme1", password: hashPassword("secret", { logN: 15, r: 8, p: 1 }) }] });
    const statuses = await Promise.all(
      Array.from({ length: 8 }, () => bound(h.port, "esme1", "secret").then((s) => (s.close(), 0), (e: Error) => Number(/\d+$/.exec(e.message)?.[0]))),
    );
    expect(statuses.filter((x) => x === 0).length).toBeGreaterThanOrEqual(1);
    expect(statuses.filter((x) => x === E["ESME_RBINDFAIL"]).length).toBeGreaterThanOrEqual(1);
    expect(h.refusals.some(([reason]) => reason === "bind_busy")).toBe(true);
    // Once the checks are done, binds go through again.
    (await bound(h.port, "esme1", "secret")).close();
  });

  it("caps sockets across the gateway, unbound sockets, and sessions per account", async () => {
    const h = await start({
      accounts: [{ systemId: "one", password: "pw", maxSessions: 1 }],
      server: { maxSessions: 3, maxUnbound: 2 },
    });
    const first = await bound(h.port, "one", "pw");
    await expect(bound(h.port, "one", "pw")).rejects.toThrow(String(E["ESME_RBINDFAIL"]));
    await waitFor(() => h.server.sessionCount === 1);
    const idle = [await connectClient(h.port), await connectClient(h.port)];
    await waitFor(() => h.server.sessionCount === 3);
    const extra = await connectClient(h.port);
    await waitFor(() => extra.socket.destroyed, 5_000);
    expect(h.refusals.map((r) => r[0])).toEqual(["account_session_cap", "session_cap"]);
    first.close();
    await waitFor(() => h.server.sessionCount === 2);
    // Room for one more socket, but two are already waiting unbound.
    const third = await connectClient(h.port);
    await waitFor(() => third.socket.destroyed, 5_000);
    expect(h.refusals.at(-1)?.[0]).toBe("unbound_cap");
    for (const x of idle) x.close();
  });
});

describe("malformed PDUs", () => {
  it("answers an unknown command id with generic_nack and keeps the session", async () => {
    const h = await start();
    const r = await rawSocket(h.port);
    r.socket.write(new smpp.PDU("bind_transceiver", { sequence_number: 1, system_id: "esme1", password: "secret" }).toBuffer());
    await waitFor(() => splitPdus(r.received()).length >= 1);
    expect(splitPdus(r.received())[0]!.readUInt32BE(8)).toBe(0);
    r.socket.write(pduBytes(0x000000ff, 7, Buffer.alloc(0)));
    await waitFor(() => splitPdus(r.received()).length >= 2);
    const b = splitPdus(r.received())[1]!;
    expect(b.readUInt32BE(4)).toBe(0x80000000);
    expect(b.readUInt32BE(8)).toBe(E["ESME_RINVCMDID"]);
    expect(b.readUInt32BE(12)).toBe(7);
    r.socket.destroy();
  });

  it("answers requests that have no _resp of their own (alert_notification, outbind) with generic_nack", async () => {
    const h = await start();
    const s = await bound(h.port, "esme1", "secret");
    for (const [command, seq] of [["alert_notification", 0x0102], ["outbind", 0x000b]] as const) {
      const r = await rawSocket(h.port);
      r.socket.write(pduBytes(seq, 21, Buffer.from([0, 0, 0x31, 0, 0, 0, 0x32, 0])));
      await waitFor(() => r.received().length >= 16);
      expect(r.received().readUInt32BE(4), command).toBe(0x80000000);
      expect(r.received().readUInt32BE(12)).toBe(21);
      r.socket.destroy();
    }
    expect((await call(s, "enquire_link")).command_status).toBe(0);
    s.close();
  });

  it("closes the session on a command_length over the limit, a too-short length, or a truncated body; the server keeps serving", async () => {
    const h = await start();
    const bad = [
      pduBytes(0x00000015, 1, Buffer.alloc(0), 100_000), // oversized
      pduBytes(0x00000015, 2, Buffer.alloc(0), 8), // shorter than a header
      // submit_sm whose body ends inside a TLV value (sar_segment_seqnum without its octet)
      pduBytes(0x00000004, 3, Buffer.concat([submitBody(Buffer.from("AB")), Buffer.from([0x02, 0x0f, 0x00, 0x01])])),
    ];
    for (const pdu of bad) {
      const r = await rawSocket(h.port);
      await bound(h.port, "esme1", "secret").then((s) => s.close()); // a healthy neighbour session
      r.socket.write(pdu);
      await Promise.race([r.closed, new Promise((_, rej) => setTimeout(() => rej(new Error("not closed")), 5_000))]);
    }
    const s = await bound(h.port, "esme1", "secret");
    expect((await call(s, "enquire_link")).command_status).toBe(0);
    s.close();
  }, 30_000);

  it("answers a PDU whose TLV claims more octets than the body has, or refuses an oversized message, without crashing", async () => {
    const h = await start();
    const s = await bound(h.port, "esme1", "secret");
    // message_payload larger than the 16 KiB PDU limit: the session is closed, the server lives on.
    const c = closed(s);
    s.send(new smpp.PDU("submit_sm", { source_addr: "1", destination_addr: "2", data_coding: 8, message_payload: Buffer.alloc(20_000, 0x4e) }));
    await c;
    const r = await rawSocket(h.port);
    r.socket.write(pduBytes(0x00000004, 9, Buffer.concat([submitBody(Buffer.from("AB")), Buffer.from([0x04, 0x24, 0x00, 0x50, 0x41])])));
    await waitFor(() => r.received().length >= 16);
    expect(r.received().readUInt32BE(4)).toBe(0x80000004);
    expect(r.received().readUInt32BE(12)).toBe(9);
    r.socket.destroy();
    expect((await bound(h.port, "esme1", "secret")).socket.writable).toBe(true);
  });
});

/** submit_sm mandatory body with empty addresses and the given short_message. */
function submitBody(sm: Buffer): Buffer {
  // service_type, src ton/npi/addr, dst ton/npi/addr, esm_class, protocol_id, priority,
  // schedule, validity, registered_delivery, replace, data_coding, default_msg_id, sm_length, sm
  return Buffer.concat([
    Buffer.from([0, 0, 0, 0x31, 0, 0, 0, 0x32, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, sm.length]),
    sm,
  ]);
}
