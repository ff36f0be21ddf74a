import pino from "pino";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { topicNames, type RawMessage } from "@spam/contracts";
import type { OutgoingMessage } from "@spam/kafka";
import { PendingReports, type PendingReportData } from "@spam/report-parser";
import { defaultReplyTemplatesPath, loadReplyTemplates } from "@spam/replies";
import type { MessagePart } from "@spam/smpp-codec";
import { SmscStub } from "@spam/smsc-stub";
import { SenderAllowList } from "../allowlist.js";
import { BlockList } from "../blocklist.js";
import { MessageIntake, type Answer } from "../intake.js";
import { MessageRouter } from "../router.js";
import { waitFor } from "../test-helpers.js";
import { RelayJournal, type HeldPart } from "./journal.js";
import { Relay } from "./relay.js";
import { parseRoutes } from "./routes.js";
import type { RelayVerdict, VerdictSource } from "./verdicts.js";

/** The intake and the relay together, with Kafka replaced by a list: what is published, and how often. */
const logger = pino({ level: "silent" });
const topics = topicNames("ir.");

class FakeVerdicts implements VerdictSource {
  readonly waiting = new Map<string, (v: RelayVerdict) => void>();
  expect(id: string, cb: (v: RelayVerdict) => void): void {
    this.waiting.set(id, cb);
  }
  cancel(id: string): void {
    this.waiting.delete(id);
  }
  underAlarm(): boolean {
    return false;
  }
  give(id: string, action: RelayVerdict["action"]): void {
    const cb = this.waiting.get(id);
    this.waiting.delete(id);
    cb?.({ v: 1, messageId: id, kind: "traffic", source: "13800000001", action, campaignId: null });
  }
}

let stub: SmscStub;
let relay: Relay;
let intake: MessageIntake;
let verdicts: FakeVerdicts;
let published: OutgoingMessage[];
let journalWrites: Array<{ key: string | null; value: unknown }>;
/** The journal's Kafka: each write waits for `journalGate` (a test holds it shut to see what waits). */
let journalGate: Promise<void>;
let journal: RelayJournal;

/** A killed gateway's intake is simply dropped: its long reassembly timeout never fires within a test. */
function startIntake(timeoutMs = 60_000): void {
  intake = new MessageIntake({ router, relay, journal, logger, reassembly: { timeoutMs, maxPendingSets: 100, maxPendingBytes: 1_000_000 } });
}
let router: MessageRouter;
let blockList: BlockList;

const raws = () => published.filter((p) => p.topic === topics.trafficRaw).map((p) => p.value as RawMessage);

beforeEach(async () => {
  stub = new SmscStub({ logger });
  await stub.listen();
  verdicts = new FakeVerdicts();
  published = [];
  journalWrites = [];
  journalGate = Promise.resolve();
  blockList = new BlockList();
  const publish = async (m: readonly OutgoingMessage[]) => void published.push(...m);
  relay = new Relay({
    gatewayId: "gw-ir",
    topics,
    routes: parseRoutes(JSON.stringify([{ name: "main", smscs: [{ name: "stub", host: "127.0.0.1", port: stub.port, systemId: "relay", password: "pw" }] }]), "test"),
    verdicts,
    blockList,
    deadlineMs: 1_000,
    stopPolicy: "block",
    failPolicy: "open",
    maxHeld: 100,
    maxReceipts: 1_000,
    publish,
    sendReceipt: () => true,
    logger,
  });
  router = new MessageRouter({
    gatewayId: "gw-ir",
    topics,
    shortCodes: ["10086999"],
    reporterHashKey: "unit-test-key-0123456789",
    pending: new PendingReports<PendingReportData>({ windowMs: 60_000, maxEntries: 100 }),
    pendingWindowMs: 60_000,
    replies: loadReplyTemplates(defaultReplyTemplatesPath()),
    allowList: new SenderAllowList([]),
    blockList,
    blockPolicy: "reject",
    publish,
    logger,
  });
  journal = new RelayJournal({
    gatewayId: "gw-ir",
    topic: topics.relayHeld,
    publish: async (m) => {
      await journalGate;
      journalWrites.push(...m.map((x) => ({ key: x.key, value: x.value })));
    },
    logger,
  });
  startIntake();
  relay.start();
  await waitFor(() => relay.boundLinks === 1, 5_000);
});

afterEach(async () => {
  await intake.close();
  await relay.stop();
  await stub.close();
});

/** One submit_sm as the upstream sends it: the decoded part and the PDU fields that travel on. */
function submit(text: string, concat: { ref: number; total: number; seq: number } | null = null): Promise<Answer> {
  const body = Buffer.from(text, "latin1");
  const udh = concat ? Buffer.from([0x05, 0x00, 0x03, concat.ref, concat.total, concat.seq]) : Buffer.alloc(0);
  const part: MessagePart = {
    source: "13800000001",
    destination: "13900000001",
    dataCoding: 0,
    concat: concat ? { style: "udh8", reference: concat.ref, total: concat.total, seq: concat.seq } : null,
    userData: body,
  };
  const wire = { source_addr: "13800000001", destination_addr: "13900000001", data_coding: 0, esm_class: concat ? 0x40 : 0, short_message: Buffer.concat([udh, body]) };
  return new Promise((resolve) => intake.accept(part, "a2p", resolve, { wire, receipts: { account: "a2p", sessionId: 1 } }));
}

async function verdictFor(n: number, action: RelayVerdict["action"]): Promise<string> {
  await waitFor(() => raws().length >= n && verdicts.waiting.has(raws()[n - 1]!.id), 5_000);
  const id = raws()[n - 1]!.id;
  verdicts.give(id, action);
  return id;
}

describe("relay intake: a deferred message resent by the upstream", () => {
  it("is published and scored once, and forwarded with the id of its first attempt", async () => {
    stub.mode = "throttle";
    const first = submit("see you at eight");
    const id = await verdictFor(1, "allow");
    await expect(first).resolves.toEqual({ kind: "temporary", throttled: true });
    stub.mode = "accept";
    await expect(submit("see you at eight")).resolves.toEqual({ kind: "accepted", messageId: id });
    expect(raws()).toHaveLength(1);
    expect(stub.received.map((r) => r.text)).toEqual(["see you at eight"]);
  });

  it("waits for its first attempt's verdict when that came late, and is stopped by it: no new publish", async () => {
    stub.mode = "fail";
    // No verdict by the deadline: forwarded (fail open), and the SMSC is down.
    await expect(submit("win a prize")).resolves.toEqual({ kind: "temporary", throttled: false });
    await verdictFor(1, "block");
    stub.mode = "accept";
    await expect(submit("win a prize")).resolves.toEqual({ kind: "rejected" });
    expect(raws()).toHaveLength(1);
    expect(stub.received).toEqual([]);
  });

  it("is stopped like any other message when its sender was blocked since the first attempt", async () => {
    stub.mode = "throttle";
    const first = submit("see you soon");
    await verdictFor(1, "allow");
    await expect(first).resolves.toMatchObject({ kind: "temporary" });
    blockList.apply("sender:13800000001", {
      v: 1, kind: "sender", value: "13800000001", state: "active", reason: "t", evidence: { reportIds: [], verdictIds: [] },
      createdBy: "t", createdAt: Date.now(), expiresAt: null, version: 1,
    });
    stub.mode = "accept";
    await expect(submit("see you soon")).resolves.toEqual({ kind: "rejected" });
    expect(stub.received).toEqual([]);
    expect(raws()).toHaveLength(1);
    expect(published.some((p) => p.topic === topics.enforcement)).toBe(true);
  });

  it("only an exact resend matches: another text from the same sender is a message of its own", async () => {
    stub.mode = "throttle";
    const first = submit("meet at nine");
    await verdictFor(1, "allow");
    await expect(first).resolves.toMatchObject({ kind: "temporary" });
    stub.mode = "accept";
    const other = submit("meet at nine!");
    const otherId = await verdictFor(2, "allow");
    await expect(other).resolves.toEqual({ kind: "accepted", messageId: otherId });
    expect(raws()).toHaveLength(2);
  });

  it("a multipart message whose completing part was deferred is forwarded whole when that part is resent", async () => {
    stub.mode = "throttle";
    const p1 = await submit("first half, ", { ref: 9, total: 2, seq: 1 });
    expect(p1.kind).toBe("accepted");
    const p2 = submit("second half", { ref: 9, total: 2, seq: 2 });
    const id = await verdictFor(1, "allow");
    await expect(p2).resolves.toEqual({ kind: "temporary", throttled: true });
    stub.mode = "accept";
    await expect(submit("second half", { ref: 9, total: 2, seq: 2 })).resolves.toEqual({ kind: "accepted", messageId: id });
    expect(raws()).toHaveLength(1);
    expect(stub.received.map((r) => r.text)).toEqual(["first half, ", "second half"]);
  });
});

describe("relay intake: the journal of held parts (SIGKILL between two parts)", () => {
  const live = () => {
    const m = new Map<string, unknown>();
    for (const w of journalWrites) {
      if (w.value === null) m.delete(w.key!);
      else m.set(w.key!, w.value);
    }
    return m;
  };

  it("answers a held part OK only once its journal record is on Kafka, and tombstones it when the message is forwarded", async () => {
    let open!: () => void;
    journalGate = new Promise((r) => (open = r));
    let answered: Answer | null = null;
    void submit("first half, ", { ref: 21, total: 2, seq: 1 }).then((a) => (answered = a));
    await new Promise((r) => setTimeout(r, 50));
    expect(answered).toBeNull();
    open();
    await waitFor(() => answered !== null, 2_000);
    expect(answered).toMatchObject({ kind: "accepted" });
    expect(live().size).toBe(1);
    const p2 = submit("second half", { ref: 21, total: 2, seq: 2 });
    await verdictFor(1, "allow");
    await expect(p2).resolves.toMatchObject({ kind: "accepted" });
    await waitFor(() => live().size === 0, 2_000);
    expect(stub.received.map((r) => r.text)).toEqual(["first half, ", "second half"]);
  });

  it("answers a held part whose journal write failed with a temporary error; its resend is journaled and answered OK, and the message completes", async () => {
    let fail = true;
    journal = new RelayJournal({
      gatewayId: "gw-ir",
      topic: topics.relayHeld,
      publish: async (m) => {
        if (fail) throw new Error("broker down");
        journalWrites.push(...m.map((x) => ({ key: x.key, value: x.value })));
      },
      logger,
    });
    startIntake();
    await expect(submit("held part, ", { ref: 25, total: 2, seq: 1 })).resolves.toEqual({ kind: "temporary", throttled: false });
    expect(live().size).toBe(0);
    fail = false;
    const again = await submit("held part, ", { ref: 25, total: 2, seq: 1 });
    expect(again.kind).toBe("accepted");
    expect([...live().values()]).toMatchObject([{ ackedId: (again as { messageId: string }).messageId }]);
    const p2 = submit("completing part", { ref: 25, total: 2, seq: 2 });
    await verdictFor(1, "allow");
    await expect(p2).resolves.toMatchObject({ kind: "accepted" });
    expect(stub.received.map((r) => r.text)).toEqual(["held part, ", "completing part"]);
    await waitFor(() => live().size === 0, 2_000);
  });

  it("a restarted gateway holds the journaled part again: the completing part sent after the restart forwards the whole message, once", async () => {
    const p1 = await submit("before the kill, ", { ref: 22, total: 2, seq: 1 });
    expect(p1.kind).toBe("accepted");
    const records = [...live().values()];
    expect(records).toHaveLength(1);
    // The process dies here; a new intake reads back what the journal holds.
    const recovered = records.map((r) => decodeHeld(r));
    startIntake();
    intake.restore(recovered);
    const p2 = submit("after the restart", { ref: 22, total: 2, seq: 2 });
    await verdictFor(1, "allow");
    await expect(p2).resolves.toMatchObject({ kind: "accepted" });
    expect(stub.received.map((r) => r.text)).toEqual(["before the kill, ", "after the restart"]);
    expect(stub.received.map((r) => r.concat?.seq)).toEqual([1, 2]);
    // The part keeps the id the upstream was given before the kill (its receipt comes back with it).
    expect(recovered[0]!.ackedId).toBe((p1 as { messageId: string }).messageId);
    await waitFor(() => live().size === 0, 2_000);
    expect(raws()).toHaveLength(1);
  });

  it("a recovered part whose message never completes is forwarded as it is after the reassembly timeout, and stopped by a block verdict", async () => {
    await submit("only half, ", { ref: 23, total: 2, seq: 1 });
    await submit("only half of spam, ", { ref: 24, total: 2, seq: 1 });
    const recovered = [...live().values()].map((r) => decodeHeld(r));
    expect(recovered).toHaveLength(2);
    startIntake(300);
    intake.restore(recovered);
    await waitFor(() => raws().length === 2, 3_000);
    for (const r of raws()) verdicts.give(r.id, r.text.includes("spam") ? "block" : "allow");
    await waitFor(() => live().size === 0, 3_000);
    expect(raws().every((r) => r.partial)).toBe(true);
    expect(stub.received.map((r) => r.text)).toEqual(["only half, "]);
  });
});

/** What RelayJournal.recover hands back for a record (the same decoding, without Kafka). */
function decodeHeld(value: unknown): HeldPart {
  const v = JSON.parse(JSON.stringify(value)) as {
    account: string; receivedAt: number; ackedId: string; receipts: HeldPart["receipts"];
    part: { source: string; destination: string; dataCoding: number; concat: NonNullable<MessagePart["concat"]>; userData: { b64: string } };
    wire: Record<string, string | number | { b64: string }>;
  };
  const wire: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v.wire)) wire[k] = typeof x === "object" ? Buffer.from(x.b64, "base64") : x;
  return { account: v.account, receivedAt: v.receivedAt, ackedId: v.ackedId, receipts: v.receipts, wire, part: { ...v.part, userData: Buffer.from(v.part.userData.b64, "base64") } };
}
