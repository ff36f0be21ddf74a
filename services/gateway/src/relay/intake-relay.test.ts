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

const raws = () => published.filter((p) => p.topic === topics.trafficRaw).map((p) => p.value as RawMessage);

beforeEach(async () => {
  stub = new SmscStub({ logger });
  await stub.listen();
  verdicts = new FakeVerdicts();
  published = [];
  const blockList = new BlockList();
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
  const router = new MessageRouter({
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
  intake = new MessageIntake({ router, relay, logger, reassembly: { timeoutMs: 60_000, maxPendingSets: 100, maxPendingBytes: 1_000_000 } });
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
