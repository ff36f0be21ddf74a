import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { RawMessage, Report, Verdict } from "@spam/contracts";
import type { ConsumedMessage } from "@spam/kafka";
import { loadRuleSet, type SenderVelocity } from "@spam/rules";
import type { BatchingProducer, OutgoingMessage, PartitionRange, PartitionRangeReader, PartitionRecord } from "@spam/kafka";
import { partitionForKey } from "@spam/kafka";
import { KafkaSnapshotStore, ModalRuleEngine, VelocityReplay, type PartitionSnapshot, type SnapshotStore } from "./velocity-replay.js";
import { embeddingsFor, scoreBatch, verdictFor, type MessageScorer, type VelocityHooks } from "./worker.js";

const logger = pino({ level: "silent" });

/** A traffic partition held in memory (records with broker timestamps), read back the way the Kafka reader delivers it. */
class MemoryTraffic implements PartitionRangeReader {
  constructor(private readonly count = 4) {}
  readonly partitions = new Map<number, Array<{ timestamp: number; value: Buffer | null }>>();
  readonly reads: Array<{ partition: number } & PartitionRange> = [];
  append(partition: number, timestamp: number, value: unknown): void {
    const list = this.partitions.get(partition) ?? [];
    list.push({ timestamp, value: value === null ? null : Buffer.from(typeof value === "string" ? value : JSON.stringify(value)) });
    this.partitions.set(partition, list);
  }
  async start(): Promise<void> {}
  async stop(): Promise<void> {}
  async partitionCount(): Promise<number> {
    return this.count;
  }
  async readPartition(partition: number, range: PartitionRange, onRecords: (records: readonly PartitionRecord[]) => void): Promise<void> {
    this.reads.push({ partition, ...range });
    const list = (this.partitions.get(partition) ?? []).map((r, i) => ({ ...r, offset: i }));
    const picked = list.filter((r) => r.timestamp >= range.fromTimestamp && r.offset >= Number(range.fromOffset ?? 0) && r.offset < Number(range.endOffset));
    const records = picked.map((r) => ({ offset: String(r.offset), value: r.value }));
    // In two fetches, as a consumer would deliver a longer partition.
    onRecords(records.slice(0, 1));
    onRecords(records.slice(1));
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

/** A traffic record as the gateway publishes it (the replay decodes it with the contract). */
function raw(offset: number, source: string, destination: string, at: number): RawMessage {
  return { v: 1, id: `m${offset}`, receivedAt: at, gatewayId: "gw", account: "acc", source, destination, text: "hi", dataCoding: 8, parts: 1, partial: false };
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

/** A rules directory with one velocity rule (60 s window), made afresh for each test of the calling block. */
function velocityRuleDir(id: string, metric: "messages" | "distinct_recipients", threshold: number): () => string {
  let dir = "";
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "scorer-velocity-"));
    await writeFile(
      join(dir, "v.yaml"),
      `rules:\n  - id: ${id}\n    kind: velocity\n    metric: ${metric}\n    threshold: ${threshold}\n    windowSeconds: 60\n` +
        `    score: 0.5\n    category: AD_Other\n    action: flag\n    owner: t\n    version: 1\n    description: ${id}\n`,
    );
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  return () => dir;
}

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
  it("picks the velocity mode per message (reports skip), resets it, and publishes the verdicts keyed by sender", () => {
    const modes: string[] = [];
    const hooks: VelocityHooks = { beforeBatch: async () => undefined, setMode: (m) => modes.push(m), afterBatch: () => undefined, onAssignment: () => undefined };
    const msgs = [traffic(1, "a"), { ...traffic(2, "b"), value: report } as ConsumedMessage<Report>, traffic(3, "a")];
    const { verdicts, outgoing } = scoreBatch(fakeScorer([]), msgs, "verdicts", hooks);
    expect(modes).toEqual(["record", "skip", "record", "record"]);
    expect(verdicts.map((v) => v.messageId)).toEqual(["m1", "r1", "m3"]);
    expect(outgoing).toEqual([
      { topic: "verdicts", key: "a", value: verdicts[0] },
      { topic: "verdicts", key: "13812345678", value: verdicts[1] },
      { topic: "verdicts", key: "a", value: verdicts[2] },
    ]);
  });

  it("without velocity hooks publishes verdicts only", () => {
    expect(scoreBatch(fakeScorer([]), [traffic(1, "a")], "v").outgoing).toHaveLength(1);
  });
});

describe("embeddingsFor (the model's second look)", () => {
  const withText = (offset: number, text: string): ConsumedMessage<RawMessage> => {
    const m = traffic(offset, "a");
    return { ...m, value: { ...m.value, text } };
  };
  const wanting = (seen: ScoreInput[]): MessageScorer => ({ ...fakeScorer(seen), wantsEmbedding: (text) => text.startsWith("maybe") });
  const embedder = (calls: string[][]) => ({
    embed: async (texts: readonly string[]) => {
      calls.push([...texts]);
      return texts.map((_, i) => Float32Array.of(i + 1));
    },
  });

  it("embeds only the wanted messages, in one call, and scoreBatch hands each its own embedding", async () => {
    const calls: string[][] = [];
    const seen: ScoreInput[] = [];
    const msgs = [withText(1, "maybe spam"), withText(2, "你好"), { ...traffic(3, "b"), value: { ...report, content: "maybe a report" } } as ConsumedMessage<Report>];
    const embeddings = await embeddingsFor(wanting(seen), msgs, embedder(calls));
    expect(calls).toEqual([["maybe spam", "maybe a report"]]);
    scoreBatch(wanting(seen), msgs, "v", undefined, embeddings);
    expect(seen.map((s) => (s.embedding ? Array.from(s.embedding) : null))).toEqual([[1], null, [2]]);
  });

  it("returns null (no wait) when nothing is wanted, no embedder is set, or the scorer has no second look", () => {
    const calls: string[][] = [];
    expect(embeddingsFor(wanting([]), [withText(1, "你好")], embedder(calls))).toBeNull();
    expect(embeddingsFor(wanting([]), [withText(1, "maybe")], undefined)).toBeNull();
    expect(embeddingsFor(fakeScorer([]), [withText(1, "maybe")], embedder(calls))).toBeNull();
    expect(calls).toEqual([]);
  });
});

describe("velocity replay", () => {
  const ruleDir = velocityRuleDir("fan", "distinct_recipients", 3);

  // Only velocity rules here: they read no text, so a minimal normalised form will do.
  const normalized = { text: "hi", compact: "hi", domains: [] } as unknown as Parameters<ModalRuleEngine["evaluate"]>[0]["normalized"];
  const fired = (engine: ModalRuleEngine, m: ConsumedMessage<RawMessage>): boolean =>
    engine
      .evaluate({ normalized, sender: m.value.source, recipient: m.value.destination, at: m.value.receivedAt })
      .some((h) => h.ruleId === "fan");

  it("a new owner replays the partition's traffic of the window up to its first offset, then counts on", async () => {
    const now = 1_000_000_000;
    const log = new MemoryTraffic();
    // Partition 3: offset 0 is older than window + margin; 1..3 go to three recipients; 4 is invalid;
    // offset 5 was scored by the old owner but not committed, so the new owner's first batch starts there.
    const at = (offset: number) => now - 5_000 + offset;
    log.append(3, now - 200_000, raw(0, "13800000001", "13900000009", now - 200_000));
    for (const i of [1, 2, 3]) log.append(3, at(i), raw(i, "+8613800000001", `1390000000${i}`, at(i)));
    log.append(3, at(4), "not json");
    log.append(3, at(5), raw(5, "13800000001", "13900000005", at(5)));
    log.append(5, at(1), raw(1, "13800000002", "13900000001", at(1)));

    const engine = new ModalRuleEngine(await loadRuleSet(ruleDir()));
    const replay = new VelocityReplay({ logger, engine, reader: log, now: () => now });
    await Promise.all([replay.beforeBatch(3, "5"), replay.beforeBatch(3, "5")]);
    await replay.beforeBatch(3, "6");
    expect(log.reads).toEqual([{ partition: 3, fromTimestamp: now - 60_000 - 60_000, endOffset: "5" }]); // one read, that partition only
    const senders = engine.inner.velocity.export().windows[0]!.senders;
    expect(senders.map(([s]) => s)).toEqual(["13800000001"]);
    expect(senders[0]![1]).toHaveLength(6); // three events: offsets 1..3, not the one outside the window
    // Offset 5 is scored here for the first time: the fourth distinct recipient.
    expect(fired(engine, traffic(5, "13800000001", "13900000005", at(5)))).toBe(true);
  });

  it("a partition that comes back is replayed again without counting its events twice", async () => {
    const now = 1_000_000_000;
    const log = new MemoryTraffic();
    const engine = new ModalRuleEngine(await loadRuleSet(ruleDir()));
    const replay = new VelocityReplay({ logger, engine, reader: log, now: () => now });
    // This worker scores offsets 0..1 of partition 2 itself, then loses the partition.
    await replay.beforeBatch(2, "0");
    for (const i of [0, 1]) {
      const m = traffic(i, "13800000001", `1390000000${i}`, now - 1_000 + i);
      log.append(2, now - 1_000 + i, raw(i, "13800000001", `1390000000${i}`, now - 1_000 + i));
      expect(fired(engine, m)).toBe(false);
    }
    replay.onAssignment([1]);
    // Another worker scores offset 2; the partition comes back with offset 3 next.
    log.append(2, now - 500, raw(2, "13800000001", "13900000002", now - 500));
    replay.onAssignment([1, 2]);
    await replay.beforeBatch(2, "3");
    expect(log.reads.map((r) => r.endOffset)).toEqual(["3"]);
    expect(engine.inner.velocity.exportSender("13800000001")![0]![1]).toHaveLength(6); // 0, 1, 2 once each
    expect(fired(engine, traffic(3, "13800000001", "13900000003", now - 400))).toBe(true);
  });

  it("a partition's first batch at offset 0 reads nothing (no traffic came before it)", async () => {
    const log = new MemoryTraffic();
    const replay = new VelocityReplay({ logger, engine: new ModalRuleEngine(await loadRuleSet(ruleDir())), reader: log });
    await replay.beforeBatch(0, "0");
    await replay.beforeBatch(0, "5");
    expect(log.reads).toEqual([]); // and the partition is owned from then on
  });

  it("a partition revoked while its replay runs is not owned afterwards: it is replayed again if it comes back", async () => {
    const log = new MemoryTraffic();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const slow: PartitionRangeReader = {
      start: async () => undefined,
      stop: async () => undefined,
      partitionCount: async () => 4,
      readPartition: async (...args) => {
        await gate;
        return log.readPartition(...args);
      },
    };
    const replay = new VelocityReplay({ logger, engine: new ModalRuleEngine(await loadRuleSet(ruleDir())), reader: slow });
    replay.onAssignment([1, 2]);
    const first = replay.beforeBatch(2, "5");
    replay.onAssignment([1]);
    release();
    await first;
    replay.onAssignment([1, 2]);
    await replay.beforeBatch(2, "7");
    expect(log.reads.map((r) => r.endOffset)).toEqual(["5", "7"]);
  });

  it("without velocity rules nothing is read", async () => {
    await writeFile(join(ruleDir(), "v.yaml"), "rules: []\n");
    const log = new MemoryTraffic();
    const replay = new VelocityReplay({ logger, engine: new ModalRuleEngine(await loadRuleSet(ruleDir())), reader: log });
    await replay.beforeBatch(0, "100");
    expect(log.reads).toEqual([]);
  });
});

describe("velocity snapshots", () => {
  const ruleDir = velocityRuleDir("rate", "messages", 4);

  class MemorySnapshots implements SnapshotStore {
    readonly written: PartitionSnapshot[] = [];
    async start(): Promise<void> {}
    async stop(): Promise<void> {}
    async read(partition: number): Promise<PartitionSnapshot | null> {
      return this.written.filter((s) => s.partition === partition).at(-1) ?? null;
    }
    async write(snapshots: readonly PartitionSnapshot[]): Promise<void> {
      this.written.push(...snapshots);
    }
  }

  const normalized = { text: "hi", compact: "hi", domains: [] } as unknown as Parameters<ModalRuleEngine["evaluate"]>[0]["normalized"];
  const count = (engine: ModalRuleEngine, sender: string, at: number): boolean =>
    engine.evaluate({ normalized, sender, recipient: "13900000000", at }).some((h) => h.ruleId === "rate");
  // Two senders on different partitions of 4.
  const senders = Array.from({ length: 40 }, (_, i) => `1380000${String(i).padStart(4, "0")}`);
  const mine = senders[0]!;
  const p = partitionForKey(mine, 4);
  const other = senders.find((s) => partitionForKey(s, 4) !== p)!;

  it("the next owner imports a stopping worker's snapshot and replays only what came after it", async () => {
    const now = 1_000_000_000;
    const log = new MemoryTraffic(4);
    const store = new MemorySnapshots();
    const a = new ModalRuleEngine(await loadRuleSet(ruleDir()));
    const replayA = new VelocityReplay({ logger, engine: a, reader: log, snapshots: store, now: () => now });
    await replayA.beforeBatch(p, "0");
    // Worker A scores offsets 0..2 of partition p (and holds a sender of another partition, e.g. one it lost).
    for (const i of [0, 1, 2]) {
      log.append(p, now - 1_000 + i, raw(i, mine, "13900000000", now - 1_000 + i));
      expect(count(a, mine, now - 1_000 + i)).toBe(false);
    }
    count(a, other, now - 900);
    replayA.afterBatch(p, "2");
    expect(await replayA.writeSnapshots()).toBe(1);
    expect(store.written).toHaveLength(1);
    expect(store.written[0]).toMatchObject({ partition: p, offset: "3", takenAt: now });
    expect(store.written[0]!.senders.map(([s]) => s)).toEqual([mine]); // only the partition's own senders
    // A scores offset 3 after writing the snapshot, then stops; B takes the partition at offset 4.
    log.append(p, now - 500, raw(3, mine, "13900000000", now - 500));
    const b = new ModalRuleEngine(await loadRuleSet(ruleDir()));
    const replayB = new VelocityReplay({ logger, engine: b, reader: log, snapshots: store, now: () => now });
    await replayB.beforeBatch(p, "4");
    expect(log.reads.at(-1)).toEqual({ partition: p, fromTimestamp: now - 120_000, fromOffset: "3", endOffset: "4" });
    expect(b.inner.velocity.exportSender(mine)![0]![1]).toHaveLength(8); // offsets 0..2 from the snapshot, 3 replayed
    expect(count(b, mine, now)).toBe(true); // the fifth message in a minute
  });

  it("a snapshot ahead of the first offset to score is ignored: the window is replayed instead", async () => {
    const now = 1_000_000_000;
    const log = new MemoryTraffic(4);
    const store = new MemorySnapshots();
    for (const i of [0, 1]) log.append(p, now - 1_000 + i, raw(i, mine, "13900000000", now - 1_000 + i));
    await store.write([{ partition: p, offset: "5", takenAt: now, senders: [[mine, [[60_000, [now - 1_000, 1, now - 999, 1, now - 998, 1, now - 997, 1, now - 996, 1]]]]] }]);
    const b = new ModalRuleEngine(await loadRuleSet(ruleDir()));
    const replay = new VelocityReplay({ logger, engine: b, reader: log, snapshots: store, now: () => now });
    await replay.beforeBatch(p, "2");
    expect(log.reads.at(-1)).toEqual({ partition: p, fromTimestamp: now - 120_000, endOffset: "2" });
    expect(b.inner.velocity.exportSender(mine)![0]![1]).toHaveLength(4); // the two replayed, not the snapshot's five
  });

  it("KafkaSnapshotStore writes chunks before the manifest and reads back the latest complete snapshot", async () => {
    const log = new MemoryTraffic(4);
    const batches: number[] = [];
    const producer = {
      async send(m: OutgoingMessage) {
        batches.push(1);
        log.append(m.partition!, 1, m.value);
      },
      async sendMany(messages: readonly OutgoingMessage[]) {
        batches.push(messages.length);
        for (const m of messages) log.append(m.partition!, 1, m.value);
      },
    } as unknown as BatchingProducer;
    const store = new KafkaSnapshotStore({ producer, reader: log, topic: "snapshots", logger, chunkBytes: 200 });
    const many = senders.map((s, i): [string, SenderVelocity] => [s, [[60_000, [1_000 + i, i]]]]);
    await store.write([{ partition: 2, offset: "7", takenAt: 5, senders: many.slice(0, 30) }]);
    const firstRecords = log.partitions.get(2)!.map((r) => JSON.parse(r.value!.toString()) as { kind: string });
    expect(firstRecords.length).toBeGreaterThan(3); // chunked
    expect(firstRecords.at(-1)!.kind).toBe("manifest");
    expect(firstRecords.slice(0, -1).every((r) => r.kind === "chunk")).toBe(true);
    // Each chunk its own send (the broker's size limit applies to a partition's batch), the manifests last.
    expect(batches).toEqual([...firstRecords.slice(0, -1).map(() => 1), 1]);
    expect(await store.read(2)).toEqual({ partition: 2, offset: "7", takenAt: 5, senders: many.slice(0, 30) });
    // A newer, smaller snapshot supersedes it; its old chunks are ignored.
    await store.write([{ partition: 2, offset: "9", takenAt: 6, senders: many.slice(30, 32) }]);
    expect(await store.read(2)).toEqual({ partition: 2, offset: "9", takenAt: 6, senders: many.slice(30, 32) });
    expect(await store.read(1)).toBeNull();
    // A manifest whose chunks are gone (one removed) gives no snapshot.
    const records = log.partitions.get(2)!;
    const kinds = records.map((r) => (JSON.parse(r.value!.toString()) as { kind: string }).kind);
    records.splice(kinds.lastIndexOf("chunk"), 1);
    expect(await store.read(2)).toBeNull();
  });
});
