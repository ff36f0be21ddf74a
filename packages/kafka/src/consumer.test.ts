import { EventEmitter } from "node:events";
import type { Kafka } from "kafkajs";
import pino from "pino";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { SchemaConsumer } from "./consumer.js";
import type { BatchingProducer } from "./producer.js";

const EVENTS = { CRASH: "consumer.crash", GROUP_JOIN: "consumer.group_join" } as const;

/** Just enough of a kafkajs consumer to drive a crash and a rebuild. */
function fakeKafka() {
  const consumers: EventEmitter[] = [];
  const kafka = {
    consumer: () => {
      const e = new EventEmitter();
      consumers.push(e);
      return Object.assign(e, {
        events: EVENTS,
        on: (event: string, listener: (payload: unknown) => void) => {
          e.addListener(event, listener);
          return () => e.removeListener(event, listener);
        },
        connect: async () => undefined,
        subscribe: async () => undefined,
        run: async () => undefined,
        stop: async () => undefined,
        disconnect: async () => undefined,
      });
    },
  } as unknown as Kafka;
  return { kafka, consumers };
}

describe("SchemaConsumer.raw", () => {
  it("keeps instrumentation listeners on the consumer rebuilt after a crash kafkajs does not restart", async () => {
    const { kafka, consumers } = fakeKafka();
    const consumer = new SchemaConsumer({
      kafka,
      logger: pino({ level: "silent" }),
      groupId: "g",
      topics: ["t"],
      schema: z.unknown(),
      deadLetter: { producer: {} as BatchingProducer, topic: "dlq", service: "test" },
      handleBatch: async () => undefined,
    });
    await consumer.start();
    const joins: unknown[] = [];
    const remove = consumer.raw.on(consumer.raw.events.GROUP_JOIN, (e) => joins.push(e.payload));
    consumers[0]!.emit(EVENTS.GROUP_JOIN, { payload: 1 });
    consumers[0]!.emit(EVENTS.CRASH, { payload: { error: new Error("retries exhausted"), restart: false } });
    await new Promise((r) => setTimeout(r, 1_500)); // the first rejoin waits 1 s
    expect(consumers).toHaveLength(2);
    consumers[1]!.emit(EVENTS.GROUP_JOIN, { payload: 2 });
    remove();
    consumers[1]!.emit(EVENTS.GROUP_JOIN, { payload: 3 });
    expect(joins).toEqual([1, 2]);
    await consumer.stop();
  });
});
