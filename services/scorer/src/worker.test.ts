import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { VelocityChangelogV1, type RawMessage, type Report, type Verdict } from "@spam/contracts";
import { encodeValue, type ConsumedMessage, type OutgoingMessage } from "@spam/kafka";
import { loadRuleSet } from "@spam/rules";
import { ModalRuleEngine, VelocityPartitions, changelogRecords, type ChangelogEntry, type ChangelogReader } from "./velocity-changelog.js";
import { scoreBatch, verdictFor, type MessageScorer, type VelocityHooks } from "./worker.js";

const logger = pino({ level: "silent" });

/** A changelog held in memory per partition, read back the way the Kafka reader delivers it. */
class MemoryChangelog implements ChangelogReader {
  readonly partitions = new Map<number, ChangelogEntry[]>();
  readonly reads: number[] = [];
  append(records: readonly OutgoingMessage[]): void {
    for (const r of records) {
      const list = this.partitions.get(r.partition!) ?? [];
      const value = encodeValue(r.value);
      list.push({ key: r.key!, value: value === null ? null : Buffer.from(value), offset: String(list.length) });
      this.partitions.set(r.partition!, list);
    }
  }
  async start(): Promise<void> {}
  async stop(): Promise<void> {}
  async readPartition(partition: number, onRecords: (records: readonly ChangelogEntry[]) => void): Promise<void> {
    this.reads.push(partition);
    const list = this.partitions.get(partition) ?? [];
    // In two fetches, as a consumer would deliver a longer partition.
    onRecords(list.slice(0, 1));
    onRecords(list.slice(1));
  }
}
type ScoreInput = Parameters<MessageScorer["score"]>[0];

function fakeScorer(seen: ScoreInput[]): MessageScorer {
  return {
    score(input) {
      seen.push(input);
      return { messageId: input.id, source: input.source } as unknown as Verdict;
    },
  };
}

function traffic(offset: number, source: string, destination = "13900000000", at = 1_000_000 + offset): ConsumedMessage<RawMessage> {
  const value = { v: 1, id: `m${offset}`, source, destination, text: "hi", receivedAt: at } as unknown as RawMessage;
  return { topic: "t", partition: 0, offset: String(offset), key: source, value, timestamp: at, headers: {} };
}

const report: Report = {
  reporterHash: "h",
  messageId: "r1",
  reportedNumber: "13812345678",
  shortCode: "12321",
  content: "代开发票",
  rawText: "13812345678*代开发票",
  receivedAt: 5,
} as unknown as Report;

describe("verdictFor", () => {
  it("scores a report on the quoted content as sent by the reported number to the short code", () => {
    const seen: ScoreInput[] = [];
    verdictFor(fakeScorer(seen), report);
    expect(seen[0]).toEqual({ id: "r1", text: "代开发票", source: "13812345678", destination: "12321", receivedAt: 5, kind: "report" });
    verdictFor(fakeScorer(seen), { ...report, content: null, reportedNumber: null } as unknown as Report);
    expect(seen[1]).toMatchObject({ text: "13812345678*代开发票", source: "" });
  });
});

describe("scoreBatch", () => {
  it("picks the velocity mode per message (reports skip), resets it, and appends changelog records after verdicts", () => {
    const modes: string[] = [];
    const hooks: VelocityHooks = {
      beforeBatch: async () => undefined,
      modeFor: (_p, _s, offset) => (offset === "1" ? "observe" : "record"),
      setMode: (m) => modes.push(m),
      recordsFor: (partition, msgs) => [{ topic: "cl", key: `${partition}`, value: msgs.map((m) => m.offset) }],
      onAssignment: () => undefined,
    };
    const msgs = [traffic(1, "a"), { ...traffic(2, "b"), value: report } as ConsumedMessage<Report>, traffic(3, "a")];
    const { verdicts, outgoing } = scoreBatch(fakeScorer([]), msgs, 4, "verdicts", hooks);
    expect(modes).toEqual(["observe", "skip", "record", "record"]);
    expect(verdicts.map((v) => v.messageId)).toEqual(["m1", "r1", "m3"]);
    expect(outgoing).toEqual([
      { topic: "verdicts", key: "a", value: verdicts[0] },
      { topic: "verdicts", key: "13812345678", value: verdicts[1] },
      { topic: "verdicts", key: "a", value: verdicts[2] },
      { topic: "cl", key: "4", value: ["1", "3"] },
    ]);
  });

  it("without velocity hooks publishes verdicts only", () => {
    expect(scoreBatch(fakeScorer([]), [traffic(1, "a")], 0, "v").outgoing).toHaveLength(1);
  });
});

describe("velocity changelog", () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "scorer-velocity-"));
    await writeFile(
      join(dir, "v.yaml"),
      "rules:\n  - id: fan\n    kind: velocity\n    metric: distinct_recipients\n    threshold: 3\n    windowSeconds: 60\n" +
        "    score: 0.5\n    category: AD_Other\n    action: flag\n    owner: t\n    version: 1\n    description: fan-out\n",
    );
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  // Only velocity rules here: they read no text, so a minimal normalised form will do.
  const normalized = { text: "hi", compact: "hi", domains: [] } as unknown as Parameters<ModalRuleEngine["evaluate"]>[0]["normalized"];
  const fired = (engine: ModalRuleEngine, m: ConsumedMessage<RawMessage>): boolean =>
    engine
      .evaluate({ normalized, sender: m.value.source, recipient: m.value.destination, at: m.value.receivedAt })
      .some((h) => h.ruleId === "fan");

  it("builds one record per sender with its last offset and expiry; the value passes the contract", async () => {
    const rs = await loadRuleSet(dir);
    const engine = new ModalRuleEngine(rs);
    const msgs = [traffic(10, "+8613800000001", "1"), traffic(11, "13800000002", "2"), traffic(12, "13800000001", "3")];
    for (const m of msgs) fired(engine, m);
    const records = changelogRecords(rs.velocity, "cl", 7, msgs.map((m) => ({ offset: m.offset, source: m.value.source })));
    // In the order of each sender's last message: 01 sent again at offset 12.
    expect(records.map((r) => r.key)).toEqual(["13800000002", "13800000001"]);
    const v = VelocityChangelogV1.parse(records[1]!.value);
    expect(v).toMatchObject({ sender: "13800000001", partition: 7, offset: "12", expiresAt: 1_000_012 + 60_000 });
    expect(v.windows[0]![1]).toHaveLength(4); // two events
  });

  it("a new owner restores the partition's senders, reads without re-counting redelivered messages, then counts", async () => {
    // Worker A scores offsets 0..2 of partition 3 (three recipients) and writes its changelog.
    const a = new ModalRuleEngine(await loadRuleSet(dir));
    const batch = [0, 1, 2].map((i) => traffic(i, "13800000001", `1390000000${i}`));
    for (const m of batch) expect(fired(a, m)).toBe(false);
    const changelog = new MemoryChangelog();
    const written = changelogRecords(a.inner.velocity, "cl", 3, batch.map((m) => ({ offset: m.offset, source: m.value.source })));
    expect(written.map((r) => r.partition)).toEqual([3]); // the traffic partition's number
    changelog.append(written);
    // Another partition's sender, and a sender of partition 3 that was tombstoned later.
    changelog.append([{ topic: "cl", partition: 5, key: "13899999999", value: { v: 1, sender: "13899999999", partition: 5, offset: "1", expiresAt: 2_000_000, windows: [[60_000, [1_000_000, 1]]] } }]);
    changelog.append([
      { topic: "cl", partition: 3, key: "13877777777", value: { v: 1, sender: "13877777777", partition: 3, offset: "0", expiresAt: 2_000_000, windows: [[60_000, [1_000_000, 1]]] } },
      { topic: "cl", partition: 3, key: "13877777777", value: null },
    ]);
    // Worker B takes partition 3 (A could not commit offset 2, so it is redelivered).
    const b = new ModalRuleEngine(await loadRuleSet(dir));
    const parts = new VelocityPartitions({ logger, changelogTopic: "cl", engine: b, reader: changelog, now: () => 1_000_010 });
    await parts.beforeBatch(3);
    await parts.beforeBatch(3);
    expect(changelog.reads).toEqual([3]); // one read of that partition only
    expect(b.inner.velocity.trackedSenders()).toBe(1);
    expect(parts.trackedSenders).toBe(1);
    const redelivered = traffic(2, "13800000001", "13900000002");
    expect(parts.modeFor(3, "13800000001", "2")).toBe("observe");
    parts.setMode("observe");
    expect(fired(b, redelivered)).toBe(false); // still three recipients, not four
    parts.setMode(parts.modeFor(3, "13800000001", "3"));
    expect(fired(b, traffic(3, "13800000001", "13900000003"))).toBe(true); // the fourth distinct recipient
    parts.setMode("record");

    // Partition 3 moves away: its senders are released.
    parts.onAssignment([1, 2]);
    expect(b.inner.velocity.trackedSenders()).toBe(0);
    expect(parts.trackedSenders).toBe(0);
  });

  it("tombstones owned senders whose events all left their windows, on their partition", async () => {
    let now = 1_000_010;
    const engine = new ModalRuleEngine(await loadRuleSet(dir));
    const parts = new VelocityPartitions({ logger, changelogTopic: "cl", engine, reader: new MemoryChangelog(), now: () => now });
    await parts.beforeBatch(4);
    const m = traffic(0, "13800000001");
    fired(engine, m);
    const first = parts.recordsFor(4, [{ offset: m.offset, source: m.value.source }]);
    expect(first).toHaveLength(1);
    const expiresAt = (first[0]!.value as { expiresAt: number }).expiresAt;
    now = expiresAt - 1;
    parts.prune();
    expect(parts.recordsFor(4, [])).toEqual([]);
    now = expiresAt;
    parts.prune();
    expect(parts.recordsFor(4, [])).toEqual([{ topic: "cl", partition: 4, key: "13800000001", value: null }]);
    expect(parts.trackedSenders).toBe(0);
  });

  it("tombstones in renewal order: a sender renewed since is kept, an older expired one goes", async () => {
    let now = 1_000_010;
    const engine = new ModalRuleEngine(await loadRuleSet(dir));
    const parts = new VelocityPartitions({ logger, changelogTopic: "cl", engine, reader: new MemoryChangelog(), now: () => now });
    await parts.beforeBatch(4);
    const a = traffic(0, "13800000001", "13900000000", 1_000_000);
    const b = traffic(1, "13800000002", "13900000000", 1_000_001);
    fired(engine, a);
    fired(engine, b);
    const [recA, recB] = parts.recordsFor(4, [
      { offset: a.offset, source: a.value.source },
      { offset: b.offset, source: b.value.source },
    ]);
    const aExpires = (recA!.value as { expiresAt: number }).expiresAt;
    // a sends again later: its entry is renewed and now expires after b's.
    const a2 = traffic(2, "13800000001", "13900000000", 1_000_500);
    fired(engine, a2);
    parts.recordsFor(4, [{ offset: a2.offset, source: a2.value.source }]);
    now = (recB!.value as { expiresAt: number }).expiresAt;
    expect(now).toBeGreaterThan(aExpires);
    parts.prune();
    expect(parts.recordsFor(4, [])).toEqual([{ topic: "cl", partition: 4, key: "13800000002", value: null }]);
    expect(parts.trackedSenders).toBe(1);
  });

  it("tracks at most maxTrackedSenders per partition: the least recently renewed is tombstoned with the batch", async () => {
    const engine = new ModalRuleEngine(await loadRuleSet(dir));
    const parts = new VelocityPartitions({ logger, changelogTopic: "cl", engine, reader: new MemoryChangelog(), now: () => 1_000_010, maxTrackedSenders: 2 });
    await parts.beforeBatch(4);
    const batch = [traffic(0, "13800000001"), traffic(1, "13800000002"), traffic(2, "13800000001"), traffic(3, "13800000003")];
    for (const m of batch) fired(engine, m);
    const out = parts.recordsFor(4, batch.map((m) => ({ offset: m.offset, source: m.value.source })));
    // 01 was renewed by offset 2, so 02 is the oldest when 03 arrives.
    expect(out.filter((r) => r.value === null)).toEqual([{ topic: "cl", partition: 4, key: "13800000002", value: null }]);
    expect(parts.trackedSenders).toBe(2);
  });
});
