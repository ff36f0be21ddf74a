import pino from "pino";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { topicNames, type DeliveryRecord, type EnforcementEvent } from "@spam/contracts";
import type { OutgoingMessage } from "@spam/kafka";
import { SmscStub } from "@spam/smsc-stub";
import { BlockList } from "../blocklist.js";
import { waitFor } from "../test-helpers.js";
import { Relay, type FailPolicy, type ReceiptTarget } from "./relay.js";
import type { LocalDecider, LocalVerdict } from "./local-decider.js";
import { parseRoutes } from "./routes.js";
import type { RelayVerdict, VerdictSource } from "./verdicts.js";

const logger = pino({ level: "silent" });
const topics = topicNames("t.");

/** Verdicts by hand: the test says which arrive and when. */
class FakeVerdicts implements VerdictSource {
  readonly waiting = new Map<string, (v: RelayVerdict) => void>();
  alarmed = new Set<string>();
  expect(id: string, cb: (v: RelayVerdict) => void): void {
    this.waiting.set(id, cb);
  }
  cancel(id: string): void {
    this.waiting.delete(id);
  }
  underAlarm(source: string): boolean {
    return this.alarmed.has(source);
  }
  give(id: string, action: RelayVerdict["action"], campaignId: string | null = null): void {
    const cb = this.waiting.get(id);
    this.waiting.delete(id);
    cb?.({ v: 1, messageId: id, kind: "traffic", source: "13800000001", action, campaignId });
  }
}

let stub: SmscStub;
let relay: Relay;
let verdicts: FakeVerdicts;
let published: OutgoingMessage[];
let receipts: Array<{ target: ReceiptTarget; upstreamId: string }>;
let blockList: BlockList;
let seq = 0;

async function startRelay(opts: { failPolicy?: FailPolicy; deadlineMs?: number; window?: number; local?: LocalDecider; bindMode?: "transmitter"; receiver?: boolean } = {}): Promise<void> {
  relay = new Relay({
    gatewayId: "gw-t",
    topics,
    routes: parseRoutes(
      JSON.stringify([
        { name: "main", destinations: ["13*"], smscs: [{ name: "stub", host: "127.0.0.1", port: stub.port, systemId: "relay", password: "pw", window: opts.window ?? 50, bindMode: opts.bindMode ?? "transceiver", receiver: opts.receiver ?? false }] },
      ]),
      "test",
    ),
    verdicts,
    blockList,
    deadlineMs: opts.deadlineMs ?? 50,
    stopPolicy: "block",
    failPolicy: opts.failPolicy ?? "open",
    local: opts.local ?? null,
    maxHeld: 100,
    maxReceipts: 1_000,
    publish: async (m) => void published.push(...m),
    sendReceipt: (target, upstreamId) => {
      receipts.push({ target, upstreamId });
      return true;
    },
    logger,
  });
  relay.start();
  await waitFor(() => relay.boundLinks === 1, 5_000);
}

function message(text: string, destination = "13900000001", registered = 0) {
  const id = `m-${++seq}`;
  return {
    id,
    account: "a2p",
    source: "13800000001",
    destination,
    receivedAt: Date.now(),
    text,
    wire: [{ source_addr: "13800000001", destination_addr: destination, data_coding: 0, short_message: Buffer.from(text, "latin1"), registered_delivery: registered }],
    upstreamIds: [id],
    receipts: { account: "a2p", sessionId: 7 },
  };
}

const records = () => published.filter((p) => p.topic === topics.delivery).map((p) => p.value as DeliveryRecord);

beforeEach(async () => {
  stub = new SmscStub({ logger, receiptDelayMs: 1 });
  await stub.listen();
  verdicts = new FakeVerdicts();
  published = [];
  receipts = [];
  blockList = new BlockList();
});

afterEach(async () => {
  await relay?.stop();
  await stub.close();
});

describe("relay: happy cases", () => {
  it("forwards an allowed message once its verdict arrives and answers with the upstream id", async () => {
    await startRelay({ deadlineMs: 5_000 });
    const m = message("see you at seven");
    const wait = relay.expect(m.id);
    const answer = relay.decide(m, wait);
    setTimeout(() => verdicts.give(m.id, "allow"), 5);
    await expect(answer).resolves.toEqual({ kind: "accepted", messageId: m.id });
    expect(stub.received.map((r) => r.text)).toEqual(["see you at seven"]);
    expect(records()).toMatchObject([{ messageId: m.id, outcome: "forwarded", reason: "allow", verdictAction: "allow", route: "main", smsc: "stub", downstreamIds: [stub.received[0]!.messageId] }]);
  });

  it("forwards a flagged message (only blocks stop)", async () => {
    await startRelay({ deadlineMs: 5_000 });
    const m = message("maybe an offer");
    const answer = relay.decide(m, relay.expect(m.id));
    verdicts.give(m.id, "flag");
    await expect(answer).resolves.toMatchObject({ kind: "accepted" });
    expect(records()[0]).toMatchObject({ outcome: "forwarded", reason: "flag" });
  });

  it("passes the downstream receipt back with the upstream id, to the account that sent it", async () => {
    await startRelay({ deadlineMs: 5_000 });
    const m = message("with a receipt", "13900000002", 1);
    const answer = relay.decide(m, relay.expect(m.id));
    verdicts.give(m.id, "allow");
    await answer;
    await waitFor(() => receipts.length === 1, 5_000);
    expect(receipts[0]).toEqual({ target: { account: "a2p", sessionId: 7 }, upstreamId: m.id });
  });

  it("passes receipts back through a transmitter bind when a receiver bind stands beside it", async () => {
    await startRelay({ deadlineMs: 5_000, bindMode: "transmitter", receiver: true });
    // Both binds are up: the transmitter is the link, the receiver only takes receipts.
    await waitFor(() => relay.receiverBinds === 1, 5_000);
    expect(relay.boundLinks).toBe(1);
    const m = message("receipt through a receiver", "13900000003", 1);
    const answer = relay.decide(m, relay.expect(m.id));
    verdicts.give(m.id, "allow");
    await expect(answer).resolves.toMatchObject({ kind: "accepted" });
    await waitFor(() => receipts.length === 1, 5_000);
    expect(receipts[0]).toEqual({ target: { account: "a2p", sessionId: 7 }, upstreamId: m.id });
  });

  it("fails open at the deadline, counts it, and records the verdict that comes later", async () => {
    await startRelay({ deadlineMs: 30 });
    const m = message("slow scorer");
    const t0 = Date.now();
    const answer = await relay.decide(m, relay.expect(m.id));
    expect(Date.now() - t0).toBeGreaterThanOrEqual(25);
    expect(answer).toMatchObject({ kind: "accepted" });
    expect(stub.received).toHaveLength(1);
    verdicts.give(m.id, "block");
    expect(records().map((r) => [r.outcome, r.reason])).toEqual([
      ["forwarded", "deadline_open"],
      ["late_verdict", "block"],
    ]);
  });
});

describe("relay: stopping", () => {
  it("stops a message whose verdict is block: nothing reaches the SMSC, the upstream gets a rejection", async () => {
    await startRelay({ deadlineMs: 5_000 });
    const m = message("win a prize now");
    const answer = relay.decide(m, relay.expect(m.id));
    verdicts.give(m.id, "block");
    await expect(answer).resolves.toEqual({ kind: "rejected" });
    expect(stub.received).toHaveLength(0);
    expect(records()).toMatchObject([{ outcome: "stopped", reason: "block", verdictAction: "block", downstreamIds: [] }]);
  });

  it("stops a message of a blocked campaign (fingerprint on the block list) and publishes the enforcement", async () => {
    await startRelay({ deadlineMs: 5_000 });
    blockList.apply("fingerprint:c0000000100000002", {
      v: 1, kind: "fingerprint", value: "c0000000100000002", state: "active", reason: "campaign", evidence: { reportIds: [], verdictIds: [] },
      createdBy: "t", createdAt: Date.now(), expiresAt: null, version: 1,
    });
    const m = message("campaign text");
    const answer = relay.decide(m, relay.expect(m.id));
    verdicts.give(m.id, "flag", "c0000000100000002");
    await expect(answer).resolves.toEqual({ kind: "rejected" });
    expect(stub.received).toHaveLength(0);
    expect(records()[0]).toMatchObject({ outcome: "stopped", reason: "campaign_block" });
    await waitFor(() => published.some((p) => p.topic === topics.enforcement));
    expect(published.find((p) => p.topic === topics.enforcement)!.value as EnforcementEvent).toMatchObject({ kind: "fingerprint", value: "c0000000100000002", messageId: m.id });
  });

  it("fails closed at the deadline for a sender under an alarm when the policy says so", async () => {
    await startRelay({ deadlineMs: 20, failPolicy: "closed_under_alarm" });
    verdicts.alarmed.add("13800000001");
    const m = message("no verdict in time");
    await expect(relay.decide(m, relay.expect(m.id))).resolves.toEqual({ kind: "rejected" });
    expect(stub.received).toHaveLength(0);
    expect(records()[0]).toMatchObject({ outcome: "stopped", reason: "deadline_closed" });
  });
});

describe("relay: the gateway's own scoring at the deadline (RELAY_FALLBACK=local)", () => {
  const local = (v: LocalVerdict): LocalDecider => ({ decide: () => v });

  it("stops what the local scoring blocks when the scorer is late, and records the scorer's verdict beside it", async () => {
    await startRelay({ deadlineMs: 20, local: local({ action: "block", campaignId: null }) });
    const m = message("no verdict in time, text blocks");
    await expect(relay.decide(m, relay.expect(m.id))).resolves.toEqual({ kind: "rejected" });
    expect(stub.received).toHaveLength(0);
    verdicts.give(m.id, "allow");
    expect(records().map((r) => [r.outcome, r.reason, r.verdictAction])).toEqual([
      ["stopped", "local_block", "block"],
      ["late_verdict", "allow", "allow"],
    ]);
  });

  it("stops a blocked campaign the local scoring recognises", async () => {
    await startRelay({ deadlineMs: 20, local: local({ action: "allow", campaignId: "c00000001000000aa" }) });
    blockList.apply("fingerprint:c00000001000000aa", {
      v: 1, kind: "fingerprint", value: "c00000001000000aa", state: "active", reason: "campaign", evidence: { reportIds: [], verdictIds: [] },
      createdBy: "t", createdAt: Date.now(), expiresAt: null, version: 1,
    });
    const m = message("campaign, scorer late");
    await expect(relay.decide(m, relay.expect(m.id))).resolves.toEqual({ kind: "rejected" });
    expect(records()[0]).toMatchObject({ outcome: "stopped", reason: "campaign_block" });
  });

  it("still fails open when the local scoring allows", async () => {
    await startRelay({ deadlineMs: 20, local: local({ action: "flag", campaignId: null }) });
    const m = message("scorer late, text fine");
    await expect(relay.decide(m, relay.expect(m.id))).resolves.toMatchObject({ kind: "accepted" });
    expect(records()[0]).toMatchObject({ outcome: "forwarded", reason: "deadline_open" });
  });
});

describe("relay: errors and back-pressure", () => {
  it("answers ESME_RINVDSTADR for a destination no route serves, and forwards nothing", async () => {
    await startRelay();
    const m = message("nowhere", "99900000001");
    await expect(relay.decide(m, relay.expect(m.id))).resolves.toEqual({ kind: "rejected", status: 0x0b });
    expect(records()[0]).toMatchObject({ outcome: "no_route", reason: "no_route" });
  });

  it("refuses an unrouted message before anything is published (refuseUnrouted), and lets a routed one through", async () => {
    await startRelay();
    expect(relay.refuseUnrouted({ account: "a2p", source: "13800000001", destination: "99900000001", receivedAt: Date.now() })).toEqual({ kind: "rejected", status: 0x0b });
    expect(relay.refuseUnrouted({ account: "a2p", source: "13800000001", destination: "13900000001", receivedAt: Date.now() })).toBeNull();
    expect(records()).toMatchObject([{ outcome: "no_route", reason: "no_route", destination: "99900000001" }]);
  });

  it("turns a throttling SMSC into a throttled (temporary) answer upstream", async () => {
    await startRelay({ deadlineMs: 5_000 });
    stub.mode = "throttle";
    const m = message("busy");
    const answer = relay.decide(m, relay.expect(m.id));
    verdicts.give(m.id, "allow");
    await expect(answer).resolves.toEqual({ kind: "temporary", throttled: true });
    expect(records()[0]).toMatchObject({ outcome: "deferred", reason: "throttled" });
  });

  it("turns an SMSC outage into a temporary (not throttled) answer", async () => {
    await startRelay({ deadlineMs: 5_000 });
    stub.mode = "fail";
    const m = message("down");
    const answer = relay.decide(m, relay.expect(m.id));
    verdicts.give(m.id, "allow");
    await expect(answer).resolves.toEqual({ kind: "temporary", throttled: false });
    expect(records()[0]).toMatchObject({ outcome: "deferred", reason: "unavailable" });
  });

  it("answers throttled when the downstream window cannot take the whole message", async () => {
    await startRelay({ deadlineMs: 5_000, window: 1 });
    const m = message("two parts");
    const two = { ...m, wire: [m.wire[0]!, m.wire[0]!], upstreamIds: [m.id, `${m.id}-2`] };
    const answer = relay.decide(two, relay.expect(m.id));
    verdicts.give(m.id, "allow");
    await expect(answer).resolves.toEqual({ kind: "temporary", throttled: true });
    expect(stub.received).toHaveLength(0);
  });

  it("reports itself full at maxHeld so the intake refuses before publishing", async () => {
    await startRelay({ deadlineMs: 5_000 });
    const held = Array.from({ length: 100 }, (_, i) => relay.expect(`h-${i}`));
    expect(relay.full).toBe(true);
    for (let i = 0; i < held.length; i++) relay.abandon(`h-${i}`);
    expect(relay.full).toBe(false);
  });
});
