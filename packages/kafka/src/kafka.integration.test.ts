import { randomUUID } from "node:crypto";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { DeadLetterV1, topicNames, type DeadLetter } from "@spam/contracts";
import { createKafkaClient } from "./client.js";
import { CompactedTopicFollower } from "./compacted.js";
import { PartitionReader, type PartitionRecord } from "./partition-reader.js";
import { partitionForKey } from "./partitioner.js";
import { RECORDED_PARTITIONS, PARTITION_COUNTS } from "./partition-table.fixture.js";
import { SchemaConsumer } from "./consumer.js";
import type { ConsumedMessage } from "./records.js";
import { BatchingProducer } from "./producer.js";
import { ensureTopics } from "./topics.js";

// Against the real broker started by the global setup.
const brokers = process.env.KAFKA_BROKERS?.split(",");
const logger = pino({ level: "silent" });
const Item = z.object({ v: z.literal(1), n: z.number().int() });
type Item = z.infer<typeof Item>;

function waitUntil(check: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const tick = () => {
      if (check()) resolve();
      else if (Date.now() > deadline) reject(new Error("timed out"));
      else setTimeout(tick, 50);
    };
    tick();
  });
}

describe.skipIf(!brokers)("Kafka module against the real broker", () => {
  const prefix = `${process.env.TEST_RUN_ID ?? "local"}.kafka.${randomUUID().slice(0, 8)}.`;
  const topics = topicNames(prefix);
  const kafka = createKafkaClient({ brokers: brokers!, clientId: "kafka-it", logger });
  const producer = new BatchingProducer({ kafka, logger, lingerMs: 5, maxBatchMessages: 100 });

  /** A consumer of `topic` in `groupId` that commits in the background (the handler and its shape are the test's). */
  const backgroundCommits = (groupId: string, topic: string) => ({
    kafka,
    logger,
    groupId,
    topics: [topic],
    schema: Item,
    deadLetter: { producer, topic: topics.deadLetter, service: "test" },
    commitInBackground: true,
  });

  beforeAll(async () => {
    const created = await ensureTopics({ kafka, names: topics, partitions: 2, logger });
    expect(created).toContain(topics.trafficRaw);
    // Idempotent: a second call creates nothing.
    expect(await ensureTopics({ kafka, names: topics, partitions: 2, logger })).toEqual([]);
    await producer.connect();
  });
  afterAll(async () => {
    await producer.disconnect();
  });

  it("partitionForKey names the partition the producer puts a keyed record on", async () => {
    const keys = Array.from({ length: 40 }, (_, i) => `1380000${String(i * 7919).padStart(4, "0")}`);
    const seen = new Map<string, number>();
    const consumer = kafka.consumer({ groupId: `${prefix}partitioner`, maxWaitTimeInMs: 50 });
    await consumer.connect();
    await consumer.subscribe({ topic: topics.velocitySnapshots, fromBeginning: true });
    await consumer.run({ eachMessage: async ({ partition, message }) => void seen.set(message.key!.toString(), partition) });
    await producer.sendMany(keys.map((key) => ({ topic: topics.velocitySnapshots, key, value: { v: 1, n: 0 } })));
    await waitUntil(() => seen.size === keys.length, 30_000);
    await consumer.disconnect();
    expect(new Set(seen.values()).size).toBe(2); // both partitions used: the check means something
    for (const key of keys) expect(partitionForKey(key, 2), key).toBe(seen.get(key));
  });

  it("the producer puts every key of the table in the partition the previous client's default partitioner put it, on topics of 3, 6, 12 and 16 partitions", async () => {
    const admin = kafka.admin();
    const counts = PARTITION_COUNTS.filter((n) => n > 1);
    const topicOf = (n: number) => `${prefix}partitions-${n}`;
    await admin.createTopics({ topics: counts.map((n) => ({ topic: topicOf(n), numPartitions: n })) });
    const landed = new Map<string, number>(); // "<partitions>/<key>" → partition read back
    const watcher = kafka.consumer({ groupId: `${prefix}partition-table`, maxWaitTimeInMs: 50 });
    try {
      await watcher.subscribe({ topics: counts.map(topicOf), fromBeginning: true });
      await watcher.run({ eachMessage: async ({ topic, partition, message }) => void landed.set(`${topic.slice(topic.lastIndexOf("-") + 1)}/${message.key!.toString("utf8")}`, partition) });
      await producer.sendMany(counts.flatMap((n) => RECORDED_PARTITIONS.map(([key]) => ({ topic: topicOf(n), key, value: { v: 1, n } }))));
      await waitUntil(() => landed.size === counts.length * RECORDED_PARTITIONS.length, 30_000);
    } finally {
      await watcher.disconnect();
      await admin.deleteTopics({ topics: counts.map(topicOf) }).catch(() => undefined);
      await admin.disconnect();
    }
    for (const [key, ...expected] of RECORDED_PARTITIONS) {
      const actual = PARTITION_COUNTS.map((n) => (n === 1 ? 0 : landed.get(`${n}/${key}`)));
      expect(actual, JSON.stringify(key)).toEqual(expected);
    }
  });

  it("acknowledges each send only once the batch is on the broker, and a consumer sees them all", async () => {
    await Promise.all(Array.from({ length: 250 }, (_, n) => producer.send({ topic: topics.trafficRaw, key: `k${n % 7}`, value: { v: 1, n } })));
    expect(producer.pending).toBe(0);

    const seen: number[] = [];
    const consumer = new SchemaConsumer<Item>({
      kafka,
      logger,
      groupId: `${prefix}g1`,
      topics: [topics.trafficRaw],
      schema: Item,
      deadLetter: { producer, topic: topics.deadLetter, service: "test" },
      handleBatch: async (messages) => {
        seen.push(...messages.map((m) => m.value.n));
      },
    });
    await consumer.start();
    await waitUntil(() => new Set(seen).size >= 250);
    await consumer.stop();
    // At-least-once: a rebalance while the group forms may redeliver, never lose.
    expect([...new Set(seen)].sort((a, b) => a - b)).toEqual(Array.from({ length: 250 }, (_, n) => n));
  });

  it("dead-letters invalid records with the error and keeps consuming valid ones", async () => {
    await producer.sendMany([
      { topic: topics.reports, key: "a", value: { v: 1, n: 1 } },
      { topic: topics.reports, key: "a", value: "not json {" },
      { topic: topics.reports, key: "a", value: { v: 2, n: "x" } },
      { topic: topics.reports, key: "a", value: { v: 1, n: 2 } },
    ]);
    const valid: number[] = [];
    const dead: DeadLetter[] = [];
    const consumer = new SchemaConsumer<Item>({
      kafka,
      logger,
      groupId: `${prefix}g2`,
      topics: [topics.reports],
      schema: Item,
      deadLetter: { producer, topic: topics.deadLetter, service: "test" },
      handleBatch: async (messages) => {
        valid.push(...messages.map((m) => m.value.n));
      },
    });
    const dlq = new SchemaConsumer<DeadLetter>({
      kafka,
      logger,
      groupId: `${prefix}dlq`,
      topics: [topics.deadLetter],
      schema: DeadLetterV1,
      deadLetter: { producer, topic: `${prefix}unused`, service: "test" },
      handleBatch: async (messages) => {
        dead.push(...messages.map((m) => m.value));
      },
    });
    await Promise.all([consumer.start(), dlq.start()]);
    await waitUntil(() => valid.length >= 2 && dead.length >= 2);
    await Promise.all([consumer.stop(), dlq.stop()]);
    expect(valid).toEqual([1, 2]);
    expect(dead.map((d) => d.sourceTopic)).toEqual([topics.reports, topics.reports]);
    expect(dead[0]!.error).toMatch(/invalid JSON/);
    expect(dead[1]!.error).toMatch(/schema validation failed: v: /);
    expect(Buffer.from(dead[0]!.valueBase64!, "base64").toString()).toBe("not json {");
  });

  it("redelivers a batch whose handler failed (at-least-once), and commits after success", async () => {
    await producer.sendMany([1, 2, 3].map((n) => ({ topic: topics.verdicts, key: "same", value: { v: 1, n } })));
    let attempts = 0;
    const delivered: ConsumedMessage<Item>[] = [];
    const groupId = `${prefix}g3`;
    const make = () =>
      new SchemaConsumer<Item>({
        kafka,
        logger,
        groupId,
        topics: [topics.verdicts],
        schema: Item,
        deadLetter: { producer, topic: topics.deadLetter, service: "test" },
        handleBatch: async (messages) => {
          attempts += 1;
          if (attempts === 1) throw new Error("simulated insert failure");
          delivered.push(...messages);
        },
      });
    const first = make();
    await first.start();
    await waitUntil(() => delivered.length >= 3, 40_000);
    await first.stop();
    expect(attempts).toBeGreaterThanOrEqual(2);
    expect(delivered.map((m) => m.value.n)).toEqual([1, 2, 3]);

    // A new member of the same group starts after the committed offset: nothing is replayed.
    const before = delivered.length;
    const second = make();
    await second.start();
    await producer.send({ topic: topics.verdicts, key: "same", value: { v: 1, n: 4 } });
    await waitUntil(() => delivered.length > before, 40_000);
    await second.stop();
    expect(delivered.slice(before).map((m) => m.value.n)).toEqual([4]);
  });

  it("a prefilter skips records before they are parsed, and the skipped ones are committed with their batch", async () => {
    const topic = topics.delivery;
    // Odd numbers pass the prefilter; the even ones are not even valid JSON, and are neither handled nor dead-lettered.
    await producer.sendMany(Array.from({ length: 20 }, (_, n) => ({ topic, key: "k", value: n % 2 === 1 ? { v: 1, n } : `not json ${n}` })));
    const groupId = `${prefix}g-prefilter`;
    const seen: number[] = [];
    let deadLettered = 0;
    const make = () =>
      new SchemaConsumer<Item>({
        kafka,
        logger,
        groupId,
        topics: [topic],
        schema: Item,
        prefilter: (value) => !value.toString("utf8").includes("not json"),
        deadLetter: { producer: { sendMany: async (m: readonly unknown[]) => void (deadLettered += m.length) } as unknown as BatchingProducer, topic: topics.deadLetter, service: "test" },
        handleBatch: async (messages) => void seen.push(...messages.map((m) => m.value.n)),
      });
    const first = make();
    await first.start();
    await waitUntil(() => seen.length >= 10, 40_000);
    await first.stop();
    expect(seen).toEqual([1, 3, 5, 7, 9, 11, 13, 15, 17, 19]);
    expect(deadLettered).toBe(0);
    // The next member starts after the last record, skipped or not.
    const second = make();
    await second.start();
    await producer.send({ topic, key: "k", value: { v: 1, n: 21 } });
    await waitUntil(() => seen.length >= 11, 40_000);
    await second.stop();
    expect(seen.slice(10)).toEqual([21]);
  });

  it("with background commits, a stopped member has committed every batch it handled: the next member replays nothing", async () => {
    const topic = topics.reviewLabels;
    await producer.sendMany(Array.from({ length: 400 }, (_, n) => ({ topic, key: `k${n % 7}`, value: { v: 1, n } })));
    const groupId = `${prefix}g-bg`;
    const seen: number[] = [];
    let batches = 0;
    let commits = 0;
    let committedMessages = 0;
    const make = () =>
      new SchemaConsumer<Item>({
        ...backgroundCommits(groupId, topic),
        commitIntervalMs: 200,
        fetchMaxBytesPerPartition: 2_048, // many small batches, so commits queue behind each other
        partitionsConsumedConcurrently: 2,
        onBatchCommitted: ({ count }) => {
          commits++;
          committedMessages += count;
        },
        handleBatch: async (messages) => {
          batches++;
          seen.push(...messages.map((m) => m.value.n));
        },
      });
    const first = make();
    await first.start();
    await waitUntil(() => new Set(seen).size >= 400, 40_000);
    await first.stop();
    // Batches handled within one interval share a commit, and every handled message is covered.
    expect(commits).toBeLessThan(batches);
    expect(committedMessages).toBe(seen.length);
    const before = seen.length;
    const second = make();
    await second.start();
    await producer.send({ topic, key: "k0", value: { v: 1, n: 400 } });
    await waitUntil(() => seen.length > before, 40_000);
    await second.stop();
    expect(seen.slice(before)).toEqual([400]);
  });

  it("with batches in flight, handlers start in offset order, a failed batch is handled again, and the commits cover all the rest", async () => {
    const topic = topics.decisions;
    await producer.sendMany(Array.from({ length: 600 }, (_, n) => ({ topic, key: `k${n % 5}`, value: { v: 1, n } })));
    const groupId = `${prefix}g-pipe`;
    const startOrder = new Map<number, number[]>(); // partition → offsets, in the order handlers started
    const handled = new Set<number>();
    let running = 0;
    let maxRunning = 0;
    let failed = false;
    const make = () =>
      new SchemaConsumer<Item>({
        ...backgroundCommits(groupId, topic),
        commitIntervalMs: 50,
        maxBatchesInFlight: 3,
        fetchMaxBytesPerPartition: 2_048, // many small batches
        handleBatch: async (messages, { partition }) => {
          const order = startOrder.get(partition) ?? [];
          startOrder.set(partition, order);
          order.push(...messages.map((m) => Number(m.offset)));
          maxRunning = Math.max(maxRunning, ++running);
          try {
            await new Promise((r) => setTimeout(r, 20)); // the broker round trip a scorer waits for
            if (!failed && messages.some((m) => m.value.n >= 300)) {
              failed = true;
              throw new Error("verdicts not acknowledged");
            }
            for (const m of messages) handled.add(m.value.n);
          } finally {
            running--;
          }
        },
      });
    const first = make();
    await first.start();
    await waitUntil(() => handled.size >= 600, 60_000);
    await first.stop();
    expect(maxRunning).toBeGreaterThan(1);
    // Offset order per partition, except one step back: the failed batch and those after it,
    // handled again from the failed batch's first offset.
    const stepsBack = [...startOrder.values()].map((order) => order.filter((n, i) => i > 0 && n < order[i - 1]!).length);
    expect(stepsBack.sort()).toEqual([0, 1]);
    // Everything handled was committed: the next member of the group starts after it.
    const second = make();
    const starts = () => [...startOrder.values()].flat().length;
    const replayed = starts() - 600;
    expect(replayed).toBeGreaterThan(0); // the failed batch at least
    expect(replayed).toBeLessThan(600);
    const startsBefore = starts();
    await second.start();
    await producer.send({ topic, key: "k0", value: { v: 1, n: 600 } });
    await waitUntil(() => handled.has(600), 40_000);
    await second.stop();
    expect(starts() - startsBefore).toBe(1);
  });

  /**
   * One partition of a topic of its own holding 200 items in ten record batches (a 1 KiB fetch
   * takes one or two at a time), and a member with three batches in flight whose handler holds
   * each batch until the test releases it (or, once `holding` is false, handles it at once).
   */
  async function heldBatches(name: string) {
    const own = topicNames(`${prefix}${name}.`);
    await ensureTopics({ kafka, names: own, partitions: 1, logger });
    const topic = own.reviewLabels;
    for (let b = 0; b < 10; b++) {
      await producer.sendMany(Array.from({ length: 20 }, (_, i) => ({ topic, key: "k", value: { v: 1, n: b * 20 + i } })));
    }
    const groupId = `${prefix}g-${name}`;
    const state = {
      holding: true,
      held: [] as Array<{ first: number; last: number; release: (fail: boolean) => void }>,
      handled: [] as number[],
    };
    const member = new SchemaConsumer<Item>({
      ...backgroundCommits(groupId, topic),
      commitIntervalMs: 50,
      maxBatchesInFlight: 3,
      fetchMaxBytesPerPartition: 1_024,
      handleBatch: async (messages) => {
        if (state.holding) {
          const fail = await new Promise<boolean>((release) =>
            state.held.push({ first: Number(messages[0]!.offset), last: Number(messages.at(-1)!.offset), release }),
          );
          if (fail) throw new Error("verdicts not acknowledged");
        }
        state.handled.push(...messages.map((m) => m.value.n));
      },
    });
    /** The offsets a new member of the group starts from, once it has read to the end. */
    const nextMemberReads = async () => {
      const read: number[] = [];
      const next = new SchemaConsumer<Item>({
        ...backgroundCommits(groupId, topic),
        handleBatch: async (messages) => {
          read.push(...messages.map((m) => Number(m.offset)));
        },
      });
      await next.start();
      await waitUntil(() => read.at(-1) === 199, 40_000);
      await next.stop();
      return read;
    };
    await member.start();
    await waitUntil(() => state.held.length >= 3, 40_000);
    const [b1, b2, b3] = state.held;
    expect(b1!.first).toBe(0);
    expect(b2!.first).toBe(b1!.last + 1);
    expect(b3!.first).toBe(b2!.last + 1);
    return { member, state, b1: b1!, b2: b2!, b3: b3!, nextMemberReads };
  }
  const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);
  const tick = () => new Promise((r) => setTimeout(r, 20));

  it("with batches in flight, stop() waits for the handlers and commits up to the batch that fails: the next member starts there", async () => {
    const { member, state, b1, b2, b3, nextMemberReads } = await heldBatches("stop");
    let stopped = false;
    const stopping = member.stop().then(() => {
      stopped = true;
    });
    await new Promise((r) => setTimeout(r, 300));
    expect(stopped).toBe(false); // still waiting for the three handlers
    b1.release(false);
    await tick();
    b2.release(true);
    await tick();
    b3.release(false); // succeeds after the failed one: not committed past it
    await stopping;
    expect(state.handled.sort((a, b) => a - b)).toEqual([...range(0, b1.last), ...range(b3.first, b3.last)]);
    expect(await nextMemberReads()).toEqual(range(b2.first, 199));
  });

  it("with batches in flight, a batch that fails after a later one failed is handled again, not skipped", async () => {
    const { member, state, b1, b2, b3 } = await heldBatches("earlier");
    state.holding = false; // what is fetched again is handled at once
    b2.release(true);
    await tick();
    b1.release(true); // the earlier batch fails second: the partition must go back to it, not to b2
    b3.release(false);
    await waitUntil(() => range(0, 199).every((n) => state.handled.includes(n)), 40_000);
    await member.stop();
    expect(state.handled.filter((n) => n <= b1.last).sort((a, b) => a - b)).toEqual(range(0, b1.last));
  });

  it("from now on means from the first start: a member that stops before its first commit loses nothing to the next", async () => {
    await producer.send({ topic: topics.repliesOutbound, key: "r", value: { v: 1, n: 0 } }); // history: never read
    const seen: number[] = [];
    const make = () =>
      new SchemaConsumer<Item>({
        kafka,
        logger,
        groupId: `${prefix}g-now`,
        topics: [topics.repliesOutbound],
        schema: Item,
        deadLetter: { producer, topic: topics.deadLetter, service: "test" },
        fromBeginning: false,
        handleBatch: async (messages) => {
          seen.push(...messages.map((m) => m.value.n));
        },
      });
    const first = make();
    await first.start();
    await first.stop(); // gone before it consumed or committed anything
    await producer.sendMany([1, 2, 3].map((n) => ({ topic: topics.repliesOutbound, key: "r", value: { v: 1, n } })));
    const second = make();
    await second.start();
    await waitUntil(() => seen.length >= 3, 40_000);
    await second.stop();
    expect([...new Set(seen)].sort()).toEqual([1, 2, 3]);
  });

  it("a handler failing on every batch (an outage behind it) is retried with growing pauses, not in a tight loop, nothing is committed, and hooks stay attached across the rejoins", async () => {
    await producer.sendMany([0, 1, 2].map((n) => ({ topic: topics.decisions, key: `k${n}`, value: { v: 1, n } })));
    let calls = 0;
    let committed = 0;
    const consumer = new SchemaConsumer<Item>({
      ...backgroundCommits(`${prefix}g-outage`, topics.decisions),
      onBatchCommitted: ({ count }) => void (committed += count),
      handleBatch: async () => {
        calls++;
        throw new Error("ClickHouse is down");
      },
    });
    let joins = 0;
    consumer.observe({ onAssignment: () => void joins++ });
    await consumer.start();
    await waitUntil(() => calls >= 1, 20_000);
    const first = calls;
    await new Promise((r) => setTimeout(r, 1_500));
    await consumer.stop();
    // Pauses of 0.1, 0.2, 0.4, 0.8 s… between attempts: a handful in 1.5 s (a tight loop made dozens).
    expect(calls - first).toBeGreaterThanOrEqual(1);
    expect(calls - first).toBeLessThanOrEqual(8);
    expect(committed).toBe(0);
    expect(joins).toBeGreaterThanOrEqual(2); // the first join and at least one after a failure
  });

  it("observe: a member hears its partitions when it joins and each commit with its size; the remover stops the hooks", async () => {
    await producer.sendMany(Array.from({ length: 30 }, (_, n) => ({ topic: topics.enforcement, key: `k${n}`, value: { v: 1, n } })));
    const assignments: Array<Readonly<Record<string, readonly number[]>>> = [];
    let committed = 0;
    const consumer = new SchemaConsumer<Item>({ ...backgroundCommits(`${prefix}g-observe`, topics.enforcement), handleBatch: async () => undefined });
    const remove = consumer.observe({ onAssignment: (a) => void assignments.push(a), onBatchCommitted: ({ count }) => void (committed += count) });
    const silenced = consumer.observe({ onBatchCommitted: () => expect.fail("a removed hook was called") });
    silenced();
    await consumer.start();
    await waitUntil(() => committed >= 30, 30_000);
    await consumer.stop();
    remove();
    expect(assignments[0]).toEqual({ [topics.enforcement]: [0, 1] });
    expect(committed).toBe(30);
  });

  it("PartitionReader reads one partition from a time (and an offset) up to an end offset, without joining a group", async () => {
    const topic = topics.reviewLabels;
    const before = Date.now() - 1;
    await producer.sendMany(Array.from({ length: 40 }, (_, n) => ({ topic, partition: 1, key: null, value: { v: 1, n } })));
    const reader = new PartitionReader({ kafka, logger, topic, groupId: `${prefix}reader` });
    await reader.start();
    try {
      expect(await reader.partitionCount()).toBe(2);
      let base = -1n; // the partition may hold other tests' records before ours
      const read = async (range: { fromTimestamp: number; fromOffset?: string; endOffset: string }) => {
        const records: PartitionRecord[] = [];
        await reader.readPartition(1, range, (r) => records.push(...r));
        if (base < 0n && records[0]) base = BigInt(records[0].offset);
        return records.map((r) => (JSON.parse(r.value!.toString()) as Item).n);
      };
      expect(await read({ fromTimestamp: before, endOffset: "100000" })).toEqual(Array.from({ length: 40 }, (_, n) => n));
      expect(await read({ fromTimestamp: before, fromOffset: String(base + 10n), endOffset: String(base + 15n) })).toEqual([10, 11, 12, 13, 14]);
      expect(await read({ fromTimestamp: Date.now() + 60_000, endOffset: "100000" })).toEqual([]); // nothing that recent
    } finally {
      await reader.stop();
    }
  });

  it("a renamed group starts where its former group left off: nothing replayed, nothing skipped", async () => {
    const topic = `${prefix}renamed`;
    const admin = kafka.admin();
    await admin.createTopics({ topics: [{ topic, numPartitions: 2 }] });
    await admin.disconnect();
    const seen: number[] = [];
    const make = (groupId: string, formerGroupId?: string) =>
      new SchemaConsumer<Item>({ ...backgroundCommits(groupId, topic), ...(formerGroupId ? { formerGroupId } : {}), handleBatch: async (m) => void seen.push(...m.map((x) => x.value.n)) });
    await producer.sendMany([1, 2, 3].map((n) => ({ topic, key: null, value: { v: 1, n } })));
    const before = make(`${prefix}svc-renamed-old`);
    await before.start();
    await waitUntil(() => seen.length >= 3);
    await before.stop();
    await producer.sendMany([4, 5].map((n) => ({ topic, key: null, value: { v: 1, n } })));
    seen.length = 0;
    const after = make(`${prefix}svc.renamed`, `${prefix}svc-renamed-old`);
    await after.start();
    await waitUntil(() => seen.length >= 2);
    await new Promise((r) => setTimeout(r, 500)); // anything replayed would come with them
    await after.stop();
    expect(seen.sort()).toEqual([4, 5]);
  });

  it("compacted followers given the same group id each read every partition: every key, tombstones applied", async () => {
    const keys = Array.from({ length: 20 }, (_, i) => `campaign-${i}`);
    await producer.sendMany(keys.map((key, n) => ({ topic: topics.campaignCounts, key, value: { v: 1, n } })));
    await producer.sendMany([{ topic: topics.campaignCounts, key: "campaign-3", value: null }]);
    expect(new Set(keys.map((k) => partitionForKey(k, 2))).size).toBe(2); // both partitions hold keys
    // Two processes of one service pass the same group id (e.g. the decider's instance id, which a
    // restarted process keeps): a shared group would split the partitions between them.
    const views = [new Map<string, number>(), new Map<string, number>()];
    const followers = views.map(
      (view) =>
        new CompactedTopicFollower({
          kafka,
          logger,
          topic: topics.campaignCounts,
          schema: Item,
          groupId: `${prefix}same-group`,
          onRecord: (key, value) => (value ? view.set(key, value.n) : view.delete(key)),
        }),
    );
    try {
      await Promise.all(followers.map((f) => f.start(30_000)));
      for (const view of views) {
        expect([...view.keys()].sort()).toEqual(keys.filter((k) => k !== "campaign-3").sort());
        expect(view.get("campaign-7")).toBe(7);
      }
    } finally {
      await Promise.all(followers.map((f) => f.stop()));
    }
  }, 60_000);

  it("fails fast with queue_full instead of buffering without bound", async () => {
    const tiny = new BatchingProducer({ kafka, logger, lingerMs: 1_000, maxQueuedMessages: 2 });
    await tiny.connect();
    const a = tiny.send({ topic: topics.enforcement, key: null, value: { v: 1, n: 1 } });
    const b = tiny.send({ topic: topics.enforcement, key: null, value: { v: 1, n: 2 } });
    await expect(tiny.send({ topic: topics.enforcement, key: null, value: { v: 1, n: 3 } })).rejects.toMatchObject({ code: "queue_full" });
    await tiny.disconnect(); // flushes a and b
    await expect(Promise.all([a, b])).resolves.toBeDefined();
  });
});
