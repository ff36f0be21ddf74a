import { EventEmitter } from "node:events";
import type { Kafka } from "kafkajs";
import pino from "pino";
import { describe, expect, it } from "vitest";
import { PartitionReader, type PartitionRecord } from "./partition-reader.js";

const EVENTS = { FETCH: "consumer.fetch", GROUP_JOIN: "consumer.group_join" } as const;

/**
 * A kafkajs consumer whose run() returns before the group is joined (what kafkajs does when the
 * first join fails on a broker that just started): pause/seek/resume throw until GROUP_JOIN.
 */
function lateJoiningKafka(records: Array<{ offset: string; value: string }>, byTimestamp = "0") {
  const events = new EventEmitter();
  let inGroup = false;
  let eachBatch: ((p: { batch: { partition: number; messages: unknown[] } }) => Promise<void>) | null = null;
  const calls: string[] = [];
  const guard = (name: string) => {
    calls.push(name);
    if (!inGroup) throw new Error("Consumer group was not initialized, consumer#run must be called first");
  };
  const consumer = {
    events: EVENTS,
    on: (event: string, listener: (...args: unknown[]) => void) => {
      events.on(event, listener);
      return () => events.off(event, listener);
    },
    connect: async () => undefined,
    disconnect: async () => undefined,
    subscribe: async () => undefined,
    run: async (options: { eachBatch: typeof eachBatch }) => {
      eachBatch = options.eachBatch;
    },
    pause: () => guard("pause"),
    resume: () => guard("resume"),
    seek: () => guard("seek"),
  };
  const kafka = {
    consumer: () => consumer,
    admin: () => ({
      connect: async () => undefined,
      disconnect: async () => undefined,
      fetchTopicOffsets: async () => [{ partition: 2, low: "0", high: String(records.length) }],
      fetchTopicOffsetsByTimestamp: async () => [{ partition: 2, offset: byTimestamp }],
    }),
  } as unknown as Kafka;
  const join = async () => {
    inGroup = true;
    events.emit(EVENTS.GROUP_JOIN, {});
  };
  const deliver = async () => {
    await eachBatch!({ batch: { partition: 2, messages: records.map((r) => ({ offset: r.offset, value: Buffer.from(r.value) })) } });
  };
  return { kafka, join, deliver, calls };
}

describe("PartitionReader", () => {
  it("starts even when kafkajs returns from run() before joining, and reads once the group is joined", async () => {
    const fake = lateJoiningKafka([
      { offset: "0", value: "a" },
      { offset: "1", value: "b" },
      { offset: "2", value: "c" },
    ]);
    const reader = new PartitionReader({ kafka: fake.kafka, logger: pino({ level: "silent" }), topic: "t", groupId: "g", timeoutMs: 5_000 });
    const started = reader.start();
    await new Promise((r) => setTimeout(r, 20));
    await fake.join();
    await started; // no "consumer group was not initialized" from pausing too early

    const seen: PartitionRecord[] = [];
    const reading = reader.readPartition(2, { fromTimestamp: 0, endOffset: "2" }, (records) => seen.push(...records));
    await new Promise((r) => setTimeout(r, 20));
    await fake.deliver();
    await reading;
    expect(seen.map((r) => r.value?.toString())).toEqual(["a", "b"]); // up to the end offset, exclusive
    expect(fake.calls).toEqual(expect.arrayContaining(["pause", "seek", "resume"]));
    await reader.stop();
  });

  it("a read asked for while the reader is out of its group starts when it joins", async () => {
    const fake = lateJoiningKafka([{ offset: "0", value: "a" }]);
    const reader = new PartitionReader({ kafka: fake.kafka, logger: pino({ level: "silent" }), topic: "t", groupId: "g", timeoutMs: 200 });
    await reader.start(); // never joined: start gives up waiting after the timeout
    const seen: PartitionRecord[] = [];
    const reading = reader.readPartition(2, { fromTimestamp: 0, endOffset: "1" }, (records) => seen.push(...records));
    await new Promise((r) => setTimeout(r, 20));
    const seeksBefore = fake.calls.filter((c) => c === "seek").length;
    await fake.join();
    expect(fake.calls.filter((c) => c === "seek").length).toBe(seeksBefore + 1);
    await fake.deliver();
    await reading;
    expect(seen.map((r) => r.value?.toString())).toEqual(["a"]);
    await reader.stop();
  });

  it("reads nothing when no record is as recent as the range's start (the broker answers -1)", async () => {
    const fake = lateJoiningKafka([{ offset: "0", value: "a" }], "-1");
    const reader = new PartitionReader({ kafka: fake.kafka, logger: pino({ level: "silent" }), topic: "t", groupId: "g", timeoutMs: 5_000 });
    const started = reader.start();
    await new Promise((r) => setTimeout(r, 20));
    await fake.join();
    await started;
    const seeks = fake.calls.filter((c) => c === "seek").length;
    await reader.readPartition(2, { fromTimestamp: Date.now(), endOffset: "1" }, () => undefined);
    expect(fake.calls.filter((c) => c === "seek").length).toBe(seeks);
    await reader.stop();
  });
});
