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

/** One part of a udh8 multipart message, as the upstream sends it; resolves with the answer's status. */
function submitPart(s: SmppSession, destination: string, ref: number, seq: number, total: number, text: string): Promise<number> {
  const udh = Buffer.from([0x05, 0x00, 0x03, ref, total, seq]);
  return new Promise((resolve) =>
    (s["submit_sm"] as (o: object, cb: (pdu: SmppPdu) => void) => void)(
      { source_addr: "13800000002", destination_addr: destination, esm_class: 0x40, data_coding: 0, short_message: Buffer.concat([udh, Buffer.from(text, "latin1")]) },
      (resp) => resolve(resp.command_status),
    ),
  );
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
      // A part whose message never completes waits this long, then goes on as it is.
      REASSEMBLY_TIMEOUT_MS: "3000",
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

  it("a multipart message cut by a SIGKILL between its parts arrives whole, each part once; a part never completed arrives as it is", async () => {
    gateway ??= await startGateway();
    const WHOLE = "13911110001";
    const HALF = "13911110002";
    const before = await bind(port);
    expect(await submitPart(before, WHOLE, 0xa1, 1, 2, "part one before the kill; ")).toBe(0);
    expect(await submitPart(before, HALF, 0xb2, 1, 2, "a part whose message never completes")).toBe(0);
    await gateway.kill();
    gateway = await startGateway();
    const after = await bind(port);
    expect(await submitPart(after, WHOLE, 0xa1, 2, 2, "part two after the restart")).toBe(0);
    const whole = await stub.waitFor((r) => {
      const mine = r.filter((m) => m.destination === WHOLE);
      return mine.length >= 2 ? mine : undefined;
    }, 15_000);
    expect(whole.map((p) => [p.concat?.reference, p.concat?.seq, p.text])).toEqual([
      [0xa1, 1, "part one before the kill; "],
      [0xa1, 2, "part two after the restart"],
    ]);
    // The never-completed part goes on after the reassembly timeout (3 s here) counted from the restart.
    await stub.waitFor((r) => (r.some((m) => m.destination === HALF) ? true : undefined), 20_000);
    // Time for a second copy of anything to show, were there one.
    await new Promise((r) => setTimeout(r, 1_500));
    expect(stub.received.filter((m) => m.destination === WHOLE)).toHaveLength(2);
    expect(stub.received.filter((m) => m.destination === HALF).map((m) => m.text)).toEqual(["a part whose message never completes"]);
    after.close();
  }, 120_000);
});
