import { randomUUID } from "node:crypto";
import type { ChildProcess } from "node:child_process";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { topicNames } from "@spam/contracts";
import { createKafkaClient } from "@spam/kafka";
import { decodePdu, encodeText, fieldsFromSmppPdu, loadSmpp, type SmppPdu, type SmppSession } from "@spam/smpp-codec";
import { eventually, freePort, startServiceProcess, type ServiceProcess } from "../support/index.js";

/**
 * Issue 17, findings 3 (gateway side), 4 and 11, as probes against a real
 * gateway process and the real broker. The client is the plain `smpp`
 * package, speaking to the gateway as any ESME on the network would.
 */
const smpp = loadSmpp({ rawMessages: true });
const E = smpp.errors;
const brokers = process.env.KAFKA_BROKERS;
const SHORT_CODE = "10086999";

const ACCOUNTS = {
  mo: { systemId: "mo-link", password: "mo-pw-1" },
  a2p: { systemId: "a2p", password: "a2p-pw-1" },
  replies: { systemId: "replies", password: "rpl-pw-1" },
  capped: { systemId: "capped", password: "cap-pw-1" },
};
const ACCOUNTS_ENV = [
  `${ACCOUNTS.mo.systemId}:${ACCOUNTS.mo.password}:report+traffic:13*|15*|17*`,
  `${ACCOUNTS.a2p.systemId}:${ACCOUNTS.a2p.password}:traffic:1069*`,
  `${ACCOUNTS.replies.systemId}:${ACCOUNTS.replies.password}:reply:*`,
  `${ACCOUNTS.capped.systemId}:${ACCOUNTS.capped.password}:traffic:1069*:2`,
].join(",");

function connect(port: number): Promise<SmppSession> {
  return new Promise((resolve, reject) => {
    const s = smpp.connect({ host: "127.0.0.1", port, auto_enquire_link_period: 0 }, () => resolve(s));
    s.once("error", reject);
  });
}

function call(session: SmppSession, command: string, fields: Record<string, unknown> = {}): Promise<SmppPdu> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${command}: no response`)), 10_000);
    const ok = (session[command] as (o: Record<string, unknown>, cb: (pdu: SmppPdu) => void) => boolean).call(session, fields, (pdu) => {
      clearTimeout(timer);
      resolve(pdu);
    });
    if (!ok) {
      clearTimeout(timer);
      reject(new Error(`${command}: socket not writable`));
    }
  });
}

/** Resolves with the session bound, or rejects with the bind_resp status. */
async function bind(port: number, account: { systemId: string; password: string }, mode = "bind_transceiver"): Promise<SmppSession> {
  const s = await connect(port);
  s.on("error", () => undefined);
  const resp = await call(s, mode, { system_id: account.systemId, password: account.password });
  if (resp.command_status !== 0) {
    s.destroy();
    throw Object.assign(new Error(`bind failed: ${resp.command_status}`), { status: resp.command_status });
  }
  return s;
}

const bindStatus = (p: Promise<SmppSession>) =>
  p.then(
    (s) => {
      s.close();
      return 0;
    },
    (e: { status?: number }) => e.status ?? -1,
  );

const submit = (s: SmppSession, source: string, destination: string, text: string) =>
  call(s, "submit_sm", { source_addr: source, destination_addr: destination, data_coding: 8, short_message: encodeText(text, 8) });

/** Collects the deliver_sm a session receives (answering each), as decoded texts with their recipient. */
function inbox(s: SmppSession): Array<{ to: string; text: string }> {
  const got: Array<{ to: string; text: string }> = [];
  s.on("deliver_sm", (pdu: SmppPdu) => {
    got.push({ to: String(pdu["destination_addr"] ?? ""), text: decodePdu(fieldsFromSmppPdu(pdu)).text });
    s.send(pdu.response());
  });
  s.on("enquire_link", (pdu: SmppPdu) => s.send(pdu.response()));
  return got;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function startGateway(name: string, env: Record<string, string>): Promise<{ gateway: ServiceProcess; port: number; metricsPort: number; prefix: string }> {
  const prefix = `${process.env.TEST_RUN_ID ?? "local"}.sec_${name}.${randomUUID().slice(0, 8)}.`;
  const port = await freePort();
  const metricsPort = await freePort();
  const gateway = startServiceProcess("gateway", {
    KAFKA_BROKERS: brokers!,
    TOPIC_PREFIX: prefix,
    GATEWAY_ID: `gw-sec-${name}`,
    SMPP_PORT: String(port),
    SMPP_ACCOUNTS: ACCOUNTS_ENV,
    REPORTER_HASH_KEY: "security-test-key-0123456789abcdef",
    METRICS_PORT: String(metricsPort),
    ...env,
  });
  await gateway.waitForLog((e) => e.msg === "started", 90_000);
  return { gateway, port, metricsPort, prefix };
}

const exited = (child: ChildProcess) =>
  child.exitCode !== null ? Promise.resolve(child.exitCode) : new Promise<number | null>((r) => child.once("exit", (code) => r(code)));

describe.skipIf(!brokers)("SMPP trust boundaries against a real gateway process", () => {
  describe("accounts with capabilities and source ranges (findings 3 and 4)", () => {
    let g: Awaited<ReturnType<typeof startGateway>>;
    const kafka = createKafkaClient({ brokers: (brokers ?? "127.0.0.1:1").split(","), clientId: "sec-smpp", logger: pino({ level: "silent" }) });
    const consumer = kafka.consumer({ groupId: `sec-smpp-${randomUUID()}`, maxWaitTimeInMs: 100 });
    const seen = new Map<string, Array<Record<string, unknown>>>();
    const on = (topic: string) => seen.get(topic) ?? [];
    const sessions: SmppSession[] = [];

    beforeAll(async () => {
      g = await startGateway("caps", {});
      const topics = topicNames(g.prefix);
      await consumer.connect();
      for (const t of [topics.trafficRaw, topics.reports]) await consumer.subscribe({ topic: t, fromBeginning: true });
      await consumer.run({
        eachMessage: async ({ topic, message }) => {
          const list = seen.get(topic) ?? [];
          list.push(JSON.parse(message.value!.toString("utf8")) as Record<string, unknown>);
          seen.set(topic, list);
        },
      });
    }, 120_000);

    afterAll(async () => {
      for (const s of sessions) s.destroy();
      await consumer.disconnect();
      expect(await g?.gateway.stop()).toBe(0);
    });

    const metric = async (reason: string, account: string): Promise<number> => {
      const text = await (await fetch(`http://127.0.0.1:${g.metricsPort}/metrics`)).text();
      const line = text.split("\n").find((l) => l.startsWith("spam_smpp_refused_total{") && l.includes(`reason="${reason}"`) && l.includes(`account="${account}"`));
      return line ? Number(line.split(" ").at(-1)) : 0;
    };

    it("(a) a traffic-only account's report to 10086999 is refused with ESME_RINVDSTADR and never reaches the reports topic", async () => {
      const a2p = await bind(g.port, ACCOUNTS.a2p, "bind_transmitter");
      sessions.push(a2p);
      const forged = `V*forged-${randomUUID().slice(0, 8)} 您的账户异常，请点击 http://phish.example 验证`;
      expect((await submit(a2p, "1069001", SHORT_CODE, forged)).command_status).toBe(E["ESME_RINVDSTADR"]);
      // A report the MO link may send lands: once it is on the topic, the refused one would be too.
      const mo = await bind(g.port, ACCOUNTS.mo, "bind_transmitter");
      sessions.push(mo);
      const control = `13912345678*control-${randomUUID().slice(0, 8)}`;
      expect((await submit(mo, "13800000001", SHORT_CODE, control)).command_status).toBe(0);
      await eventually(async () => (on(topicNames(g.prefix).reports).some((r) => r["rawText"] === control) ? true : undefined), 20_000);
      expect(on(topicNames(g.prefix).reports).some((r) => r["rawText"] === forged)).toBe(false);
      expect(on(topicNames(g.prefix).reports).find((r) => r["rawText"] === control)).toMatchObject({ account: ACCOUNTS.mo.systemId });
      expect(await metric("no_report_capability", ACCOUNTS.a2p.systemId)).toBe(1);
    });

    it("(b) a source outside the account's ranges is refused with ESME_RINVSRCADR and never reaches the traffic topic", async () => {
      const a2p = await bind(g.port, ACCOUNTS.a2p, "bind_transmitter");
      const mo = await bind(g.port, ACCOUNTS.mo, "bind_transmitter");
      sessions.push(a2p, mo);
      const spoofed = `spoofed-${randomUUID().slice(0, 8)}`;
      // An A2P link posing as a subscriber, and the MO link posing as a bank's short code.
      expect((await submit(a2p, "13800000009", "13900000009", spoofed)).command_status).toBe(E["ESME_RINVSRCADR"]);
      expect((await submit(mo, "95588", "13900000009", spoofed)).command_status).toBe(E["ESME_RINVSRCADR"]);
      const control = `control-${randomUUID().slice(0, 8)}`;
      expect((await submit(a2p, "1069002", "13900000009", control)).command_status).toBe(0);
      await eventually(async () => (on(topicNames(g.prefix).trafficRaw).some((m) => m["text"] === control) ? true : undefined), 20_000);
      expect(on(topicNames(g.prefix).trafficRaw).some((m) => m["text"] === spoofed)).toBe(false);
      expect(await metric("source_out_of_range", ACCOUNTS.a2p.systemId)).toBe(1);
      expect(await metric("source_out_of_range", ACCOUNTS.mo.systemId)).toBe(1);
    });

    it("(c) with a reply link and a traffic account both bound as receivers, reporters' acknowledgements reach only the reply link", async () => {
      const replyRx = await bind(g.port, ACCOUNTS.replies, "bind_receiver");
      const trafficRx = await bind(g.port, ACCOUNTS.a2p, "bind_receiver");
      const mo = await bind(g.port, ACCOUNTS.mo, "bind_transmitter");
      sessions.push(replyRx, trafficRx, mo);
      const toReply = inbox(replyRx);
      const toTraffic = inbox(trafficRx);
      // Several reporters: the old round-robin would hand some of them to the traffic account.
      const reporters = ["13800000021", "13800000022", "13800000023", "13800000024"];
      for (const r of reporters) expect((await submit(mo, r, SHORT_CODE, `13912345678*您已中奖 ${r}`)).command_status).toBe(0);
      await eventually(async () => (reporters.every((r) => toReply.some((m) => m.to === r)) ? true : undefined), 30_000);
      await sleep(500);
      expect(toTraffic).toEqual([]);
    });
  });

  describe("session hardening (finding 11)", () => {
    let g: Awaited<ReturnType<typeof startGateway>>;

    beforeAll(async () => {
      g = await startGateway("sessions", {
        SMPP_BIND_TIMEOUT_MS: "1500",
        SMPP_MAX_SESSIONS: "4",
        SMPP_MAX_UNBOUND: "3",
        SMPP_BIND_FAILURES_BEFORE_BACKOFF: "3",
        SMPP_BIND_BACKOFF_MS: "2000",
        REPLIES_ENABLED: "false",
      });
    }, 120_000);

    afterAll(async () => {
      expect(await g?.gateway.stop()).toBe(0);
    });

    it("(d) enquire_link before bind gets ESME_RINVBNDSTS, and the unbound socket is closed at the bind timeout however often it pings", async () => {
      const s = await connect(g.port);
      s.on("error", () => undefined);
      const t0 = Date.now();
      const closedAt = new Promise<number>((r) => s.once("close", () => r(Date.now())));
      expect((await call(s, "enquire_link")).command_status).toBe(E["ESME_RINVBNDSTS"]);
      const ping = setInterval(() => {
        if (s.socket.writable) s.send(new smpp.PDU("enquire_link", {}));
      }, 300);
      const at = await Promise.race([closedAt, sleep(6_000).then(() => -1)]).finally(() => clearInterval(ping));
      expect(at).toBeGreaterThan(0);
      expect(at - t0).toBeGreaterThanOrEqual(1_300);
      expect(at - t0).toBeLessThan(4_000);
    });

    it("(f) the per-account and the gateway-wide session caps hold", async () => {
      const bound = [await bind(g.port, ACCOUNTS.capped), await bind(g.port, ACCOUNTS.capped)];
      expect(await bindStatus(bind(g.port, ACCOUNTS.capped))).toBe(E["ESME_RBINDFAIL"]);
      await sleep(300);
      const idle = [await connect(g.port), await connect(g.port)];
      for (const s of idle) s.on("error", () => undefined);
      await sleep(200);
      // Four sockets open: the fifth is closed before it can bind.
      const fifth = await connect(g.port);
      fifth.on("error", () => undefined);
      await eventually(async () => (fifth.socket.destroyed ? true : undefined), 5_000, 50);
      for (const s of [...bound, ...idle]) s.destroy();
    });

    it("(e) after repeated bad binds from one address even the right password is refused until the backoff passes", async () => {
      await sleep(500); // the previous test's sockets are gone
      for (let i = 0; i < 3; i++) expect(await bindStatus(bind(g.port, { ...ACCOUNTS.a2p, password: `wrong-${i}` }))).toBe(E["ESME_RBINDFAIL"]);
      const t0 = Date.now();
      expect(await bindStatus(bind(g.port, ACCOUNTS.a2p))).toBe(E["ESME_RBINDFAIL"]);
      await sleep(Math.max(0, 2_300 - (Date.now() - t0)));
      expect(await bindStatus(bind(g.port, ACCOUNTS.a2p))).toBe(0);
    });
  });

  it("(g) a 9-character password in the configuration stops the gateway at start, naming the account and not the password", async () => {
    const port = await freePort();
    const gateway = startServiceProcess("gateway", {
      KAFKA_BROKERS: brokers!,
      TOPIC_PREFIX: `${process.env.TEST_RUN_ID ?? "local"}.sec_badpw.`,
      SMPP_PORT: String(port),
      SMPP_ACCOUNTS: `${ACCOUNTS.a2p.systemId}:${ACCOUNTS.a2p.password}:traffic:1069*,too-long:pw9chars!:traffic:1069*`,
      METRICS_PORT: "0",
    });
    const code = await Promise.race([exited(gateway.child), sleep(30_000).then(() => "still running" as const)]);
    await gateway.kill();
    expect(code).toBe(1);
    const output = gateway.lines.join("\n");
    expect(output).toContain('"too-long"');
    expect(output).toMatch(/password must be 1–8/);
    expect(output).not.toContain("pw9chars!");
  });
});
