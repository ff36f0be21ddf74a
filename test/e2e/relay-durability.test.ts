import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadSmpp, type SmppPdu, type SmppSession } from "@spam/smpp-codec";
import { SmscStub } from "@spam/smsc-stub";
import { createTestStack, freePort, startServiceProcess, type ServiceProcess, type TestStack } from "../support/index.js";

/**
 * Relay mode across a SIGKILL of the gateway (issue 21): an upstream that resends whatever it did
 * not get an OK for (the SMPP contract) loses nothing, and the SMSC sees a message twice only when
 * the kill fell between the SMSC's answer and ours: at most the messages in flight at the kill.
 * No scorer runs: every message is forwarded at the deadline (fail open), which is what matters here.
 */
const smpp = loadSmpp({ rawMessages: true });
const logger = pino({ level: "silent" });
const N = 400;
const WINDOW = 20;

function bind(port: number): Promise<SmppSession> {
  return new Promise((resolve, reject) => {
    const s = smpp.connect({ host: "127.0.0.1", port }, () => {
      (s["bind_transceiver"] as (o: object, cb: (pdu: SmppPdu) => void) => void)({ system_id: "dur-in", password: "in-pw" }, (pdu) =>
        pdu.command_status === 0 ? resolve(s) : reject(new Error(`bind failed 0x${pdu.command_status.toString(16)}`)),
      );
    });
    s.on("error", reject);
  });
}

/**
 * Sends every message not yet answered OK, WINDOW at a time, until all are or the session drops.
 * `onAnswered` fires per OK; a message whose answer never came counts as not sent.
 */
async function sendAll(port: number, pending: Set<number>, onOk: () => void, shouldStop: () => boolean): Promise<{ inFlightAtEnd: number }> {
  const s = await bind(port);
  let closed = false;
  let inFlight = 0;
  s.on("close", () => (closed = true));
  s.on("error", () => (closed = true));
  const queue = [...pending];
  await new Promise<void>((resolve) => {
    const pump = () => {
      if (closed || shouldStop()) return resolve();
      while (inFlight < WINDOW && queue.length > 0) {
        const i = queue.shift()!;
        inFlight++;
        (s["submit_sm"] as (o: object, cb: (pdu: SmppPdu) => void) => void)(
          { source_addr: "13800000001", destination_addr: `139${String(i).padStart(8, "0")}`, data_coding: 0, short_message: Buffer.from(`durable message ${i}`) },
          (resp) => {
            inFlight--;
            if (resp.command_status === 0) {
              pending.delete(i);
              onOk();
            } else queue.push(i); // temporary: resend
            setImmediate(pump);
          },
        );
      }
      if (queue.length === 0 && inFlight === 0) return resolve();
    };
    s.on("close", () => resolve());
    pump();
  });
  const left = inFlight;
  if (!closed) s.close();
  return { inFlightAtEnd: left };
}

describe("relay mode: SIGKILL of the gateway mid-stream", () => {
  let stack: TestStack;
  let stub: SmscStub;
  let gateway: ServiceProcess | null = null;
  let port: number;
  let env: Record<string, string>;

  beforeAll(async () => {
    stack = await createTestStack("e2e_relay_kill");
    stub = new SmscStub({ logger });
    await stub.listen();
    port = await freePort();
    env = {
      ...stack.serviceEnv,
      GATEWAY_ID: "gw-kill",
      SMPP_PORT: String(port),
      SMPP_ACCOUNTS: "dur-in:in-pw:traffic:*",
      REPLIES_ENABLED: "false",
      RELAY_ENABLED: "true",
      RELAY_ROUTES: JSON.stringify([{ name: "main", smscs: [{ name: "stub", host: "127.0.0.1", port: stub.port, systemId: "relay", password: "relay-pw", window: 50 }] }]),
      METRICS_PORT: "0",
    };
  }, 60_000);

  afterAll(async () => {
    const code = await gateway?.stop();
    await stub?.close();
    await stack?.dispose();
    expect(code).toBe(0);
  });

  async function startGateway(): Promise<ServiceProcess> {
    const g = startServiceProcess("gateway", env);
    await g.waitForLog((e) => e.msg === "started", 60_000);
    await g.waitForLog((e) => e.msg === "bound to downstream SMSC", 10_000);
    return g;
  }

  it("loses no message answered OK and forwards twice at most what was in flight at the kill", async () => {
    gateway = await startGateway();
    const pending = new Set(Array.from({ length: N }, (_, i) => i));
    let ok = 0;
    let killed = false;
    // First run: SIGKILL once a third is answered, while the window is full.
    const first = sendAll(port, pending, () => {
      ok++;
      if (ok === Math.floor(N / 3) && !killed) {
        killed = true;
        void gateway!.kill();
      }
    }, () => false);
    const { inFlightAtEnd } = await first;
    expect(killed).toBe(true);
    const okBeforeKill = N - pending.size;
    expect(okBeforeKill).toBeLessThan(N);
    // Every message answered OK before the kill is at the SMSC already.
    const arrived = new Set(stub.received.map((r) => r.destination));
    for (let i = 0; i < N; i++) if (!pending.has(i)) expect(arrived.has(`139${String(i).padStart(8, "0")}`)).toBe(true);

    gateway = await startGateway();
    for (let attempt = 0; attempt < 5 && pending.size > 0; attempt++) await sendAll(port, pending, () => undefined, () => false);
    expect(pending.size).toBe(0);

    const counts = new Map<string, number>();
    for (const r of stub.received) counts.set(r.destination, (counts.get(r.destination) ?? 0) + 1);
    expect(counts.size).toBe(N); // nothing lost
    const twice = [...counts.values()].filter((c) => c > 1).length;
    process.stdout.write(`relay SIGKILL: ${N} messages, ${okBeforeKill} answered OK before the kill, ${inFlightAtEnd} in flight at it, ${twice} forwarded twice\n`);
    expect(twice).toBeLessThanOrEqual(inFlightAtEnd);
    expect([...counts.values()].every((c) => c <= 2)).toBe(true);
  }, 120_000);
});
