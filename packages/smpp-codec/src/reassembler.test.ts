import { describe, expect, it } from "vitest";
import { extractPart } from "./parts.js";
import { Reassembler } from "./reassembler.js";
import { splitMessage, type OutgoingPart } from "./split.js";

const SRC = "8613900000002";
const DST = "10086999";
const long = "您好，您的账户积分即将清零，请点击链接兑换礼品，否则过期作废。退订回T。".repeat(5);

const toPart = (o: OutgoingPart, source = SRC) =>
  extractPart({
    source,
    destination: DST,
    esmClass: o.esm_class,
    dataCoding: o.data_coding,
    shortMessage: o.short_message,
    sarMsgRefNum: o.sar_msg_ref_num,
    sarTotalSegments: o.sar_total_segments,
    sarSegmentSeqnum: o.sar_segment_seqnum,
  });

function clock(start = 1_000) {
  let t = start;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

const opts = (c: { now: () => number }) => ({ timeoutMs: 30_000, maxPendingSets: 100, maxPendingBytes: 1 << 20, now: c.now });

describe("Reassembler", () => {
  it("keeps sets of different scopes (SMPP accounts) apart: one cannot complete or supersede another's", () => {
    const parts = splitMessage(long, { dataCoding: 8, concat: "udh8", reference: 77 });
    const r = new Reassembler<string>(opts(clock()));
    expect(r.push(toPart(parts[0]!), "a", "account-a").status).toBe("pending");
    for (const p of parts.slice(1)) expect(r.push(toPart(p), "b", "account-b").status).toBe("pending");
    expect(r.pendingSets).toBe(2);
    const done = r.push(toPart(parts[1]!), "a", "account-a");
    expect(done.emitted).toEqual([]);
    for (const p of parts.slice(2)) r.push(toPart(p), "a", "account-a");
    expect(r.pendingSets).toBe(1);
  });

  for (const concat of ["udh8", "udh16", "sar"] as const) {
    it(`joins ${concat} parts arriving out of order`, () => {
      const parts = splitMessage(long, { dataCoding: 8, concat, reference: 300 });
      expect(parts.length).toBeGreaterThan(2);
      const r = new Reassembler<number>(opts(clock()));
      const order = [...parts.keys()].reverse();
      const results = order.map((i) => r.push(toPart(parts[i]!), i));
      expect(results.slice(0, -1).every((x) => x.status === "pending" && x.emitted.length === 0)).toBe(true);
      const last = results.at(-1)!;
      expect(last.status).toBe("completed");
      expect(last.emitted).toHaveLength(1);
      const m = last.emitted[0]!;
      expect(m.text).toBe(long);
      expect(m.partial).toBe(false);
      expect(m.totalParts).toBe(parts.length);
      expect(m.concatStyle).toBe(concat);
      expect(m.metas).toEqual([...parts.keys()]);
      expect(r.pendingSets).toBe(0);
      expect(r.pendingBytes).toBe(0);
    });
  }

  it("passes a single PDU straight through", () => {
    const r = new Reassembler<string>(opts(clock()));
    const [p] = splitMessage("短信", { dataCoding: 8 });
    const res = r.push(toPart(p!), "m1");
    expect(res.status).toBe("single");
    expect(res.emitted[0]).toMatchObject({ text: "短信", partial: false, totalParts: 1, reason: "single" });
  });

  it("ignores duplicate parts", () => {
    const parts = splitMessage(long, { dataCoding: 8, concat: "udh8", reference: 7 });
    const r = new Reassembler<number>(opts(clock()));
    r.push(toPart(parts[0]!), 0);
    expect(r.push(toPart(parts[0]!), 99).status).toBe("duplicate");
    let out;
    for (let i = 1; i < parts.length; i++) out = r.push(toPart(parts[i]!), i);
    expect(out!.emitted[0]!.text).toBe(long);
    expect(out!.emitted[0]!.metas).not.toContain(99);
  });

  it("a part resent after its set was published is a duplicate, not a new partial set", () => {
    const c = clock();
    const parts = splitMessage(long, { dataCoding: 8, concat: "udh8", reference: 8 });
    const r = new Reassembler<number>(opts(c));
    parts.forEach((p, i) => r.push(toPart(p), i));
    expect(r.push(toPart(parts.at(-1)!), 99)).toEqual({ status: "duplicate", emitted: [] });
    expect(r.pendingSets).toBe(0);
    // After the timeout the reference is free again.
    c.advance(30_000);
    expect(r.push(toPart(parts[0]!), 0).status).toBe("pending");
  });

  it("a new message reusing a just-completed reference is never swallowed", () => {
    const r = new Reassembler<number>(opts(clock()));
    splitMessage(long, { dataCoding: 8, concat: "udh8", reference: 8 }).forEach((p, i) => r.push(toPart(p), i));
    const other = "另一条消息".repeat(40);
    const parts = splitMessage(other, { dataCoding: 8, concat: "udh8", reference: 8 });
    const results = parts.map((p, i) => r.push(toPart(p), i));
    expect(results.at(-1)!.emitted[0]!.text).toBe(other);
  });

  it("forgetCompleted frees a reference at once", () => {
    const parts = splitMessage(long, { dataCoding: 8, concat: "udh8", reference: 8 });
    const r = new Reassembler<number>(opts(clock()));
    parts.forEach((p, i) => r.push(toPart(p), i));
    r.forgetCompleted(SRC, DST, 8);
    expect(r.push(toPart(parts[0]!), 0).status).toBe("pending");
  });

  it("keeps sets from different senders with the same reference apart", () => {
    const parts = splitMessage(long, { dataCoding: 8, concat: "udh8", reference: 7 });
    const r = new Reassembler<string>(opts(clock()));
    r.push(toPart(parts[0]!, "A"), "a0");
    r.push(toPart(parts[0]!, "B"), "b0");
    expect(r.pendingSets).toBe(2);
  });

  it("publishes an incomplete set as partial after the timeout, never drops it", () => {
    const c = clock();
    const parts = splitMessage(long, { dataCoding: 8, concat: "udh16", reference: 4242 });
    expect(parts).toHaveLength(3);
    const r = new Reassembler<number>(opts(c));
    r.push(toPart(parts[0]!), 0);
    r.push(toPart(parts[2]!), 2);
    expect(r.nextExpiryAt()).toBe(31_000);
    c.advance(29_999);
    expect(r.expire()).toEqual([]);
    c.advance(1);
    const [m] = r.expire();
    expect(m).toMatchObject({ partial: true, reason: "timeout", receivedParts: 2, missingParts: [2] });
    expect(m!.text.startsWith(long.slice(0, 10))).toBe(true);
    expect(r.pendingSets).toBe(0);
    expect(r.nextExpiryAt()).toBeNull();
  });

  it("expires old sets on the next push as well", () => {
    const c = clock();
    const parts = splitMessage(long, { dataCoding: 8, concat: "udh8", reference: 1 });
    const r = new Reassembler<number>(opts(c));
    r.push(toPart(parts[0]!), 0);
    c.advance(60_000);
    const res = r.push(toPart(splitMessage("hi", { dataCoding: 0 })[0]!), 1);
    expect(res.emitted.map((m) => m.reason)).toEqual(["timeout", "single"]);
  });

  it("evicts the oldest set as partial when too many sets are pending", () => {
    const r = new Reassembler<string>({ ...opts(clock()), maxPendingSets: 2 });
    for (const ref of [1, 2]) r.push(toPart(splitMessage(long, { dataCoding: 8, reference: ref })[0]!), `r${ref}`);
    const res = r.push(toPart(splitMessage(long, { dataCoding: 8, reference: 3 })[0]!), "r3");
    expect(res.status).toBe("pending");
    expect(res.emitted).toHaveLength(1);
    expect(res.emitted[0]).toMatchObject({ reference: 1, partial: true, reason: "evicted", metas: ["r1"] });
    expect(r.pendingSets).toBe(2);
  });

  it("evicts when the byte bound is exceeded, including the set just pushed", () => {
    const parts = splitMessage(long, { dataCoding: 8, reference: 9 });
    const r = new Reassembler<number>({ ...opts(clock()), maxPendingBytes: 100 });
    const res = r.push(toPart(parts[0]!), 0);
    expect(res.status).toBe("evicted");
    expect(res.emitted[0]).toMatchObject({ partial: true, reason: "evicted" });
    expect(r.pendingBytes).toBe(0);
  });

  it("a reused reference with a different total supersedes the old set", () => {
    const r = new Reassembler<string>(opts(clock()));
    r.push(toPart(splitMessage(long, { dataCoding: 8, reference: 5 })[0]!), "old");
    const short = splitMessage("短".repeat(100), { dataCoding: 8, reference: 5 });
    const res = r.push(toPart(short[0]!), "new");
    expect(res.emitted[0]).toMatchObject({ reason: "superseded", partial: true, metas: ["old"] });
    expect(r.pendingSets).toBe(1);
  });

  it("joins a surrogate pair and a GSM escape split across parts", () => {
    // Hand-built parts: the emoji's high surrogate ends part 1, low surrogate starts part 2.
    const hi = Buffer.from([0xd8, 0x3d]);
    const lo = Buffer.from([0xde, 0x00]);
    const mk = (seq: number, body: Buffer, dc = 8) =>
      extractPart({ source: SRC, destination: DST, esmClass: 0x40, dataCoding: dc, shortMessage: Buffer.concat([Buffer.from([5, 0, 3, 77, 2, seq]), body]) });
    const r = new Reassembler<number>(opts(clock()));
    r.push(mk(1, Buffer.concat([Buffer.from([0x4e, 0x2d]), hi])), 1);
    expect(r.push(mk(2, lo), 2).emitted[0]!.text).toBe("中😀");
    r.push(mk(1, Buffer.from([0x41, 0x1b]), 0), 1);
    expect(r.push(mk(2, Buffer.from([0x65]), 0), 2).emitted[0]!.text).toBe("A€");
  });

  it("flush publishes everything pending", () => {
    const r = new Reassembler<number>(opts(clock()));
    r.push(toPart(splitMessage(long, { dataCoding: 8, reference: 1 })[0]!), 0);
    r.push(toPart(splitMessage(long, { dataCoding: 8, reference: 2 })[1]!), 1);
    expect(r.flush().map((m) => [m.reason, m.partial])).toEqual([
      ["flushed", true],
      ["flushed", true],
    ]);
  });

  it("rejects nonsensical bounds", () => {
    expect(() => new Reassembler({ timeoutMs: 0, maxPendingSets: 1, maxPendingBytes: 1 })).toThrow(RangeError);
  });
});
