#!/usr/bin/env node
/**
 * Kafka client micro-benchmark: produce N messages through @spam/kafka's BatchingProducer (acks=all) and
 * consume them back through its SchemaConsumer (JSON + contract check, commits in the background), on a
 * topic of its own. Prints msgs/s and CPU µs per message (this process: client, JSON, zod) for each phase.
 * `--old <checkout>` loads the @spam/kafka build of another checkout (e.g. `git worktree add /tmp/kafka-old
 * main`, bootstrapped) and alternates old/new runs in one process, so both sides share the broker's state
 * and the machine's load; the summary gives median and worst of each side.
 */
import { randomUUID } from "node:crypto";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { pathToFileURL } from "node:url";
import pino from "pino";
import { RawMessageV1, topicNames, type RawMessage } from "@spam/contracts";
import * as current from "@spam/kafka";
import { fmt, table } from "./lib/stats.js";

const { values: a } = parseArgs({
  options: {
    messages: { type: "string", default: "50000" },
    runs: { type: "string", default: "3" },
    partitions: { type: "string", default: "3" },
    old: { type: "string" },
    brokers: { type: "string", default: process.env.KAFKA_BROKERS ?? "127.0.0.1:19092" },
    help: { type: "boolean", default: false },
  },
  strict: true,
});

if (a.help) {
  process.stdout.write("usage: node benchmarks/dist/kafka.bench.js [--messages 50000] [--runs 3] [--partitions 3] [--old /path/to/checkout] [--brokers host:port]\n");
  process.exit(0);
}

/** What both sides' @spam/kafka offer and the benchmark uses. */
type KafkaModule = Pick<typeof current, "createKafkaClient" | "ensureTopics" | "BatchingProducer" | "SchemaConsumer">;

interface Figures {
  readonly side: string;
  readonly run: number;
  readonly produceRate: number;
  readonly produceCpuUs: number;
  readonly consumeRate: number;
  readonly consumeCpuUs: number;
}

const logger = pino({ level: "warn" });
const cpuUs = (): number => {
  const u = process.cpuUsage();
  return u.user + u.system;
};

function message(i: number, now: number): RawMessage {
  return {
    v: 1,
    id: randomUUID(),
    receivedAt: now + i,
    gatewayId: "gw-bench",
    account: "bench",
    source: `1${String(3_800_000_000 + (i % 20_000))}`,
    destination: `1${String(3_900_000_000 + ((i * 7919) % 1_000_000))}`,
    text: `Benchmark message ${i}: your parcel is waiting, confirm the delivery address at the link in this message.`,
    dataCoding: 8,
    parts: 1,
    partial: false,
  };
}

async function once(k: KafkaModule, side: string, run: number, total: number, partitions: number): Promise<Figures> {
  const prefix = `bench-${randomUUID().slice(0, 8)}.kafka.${side}.`;
  const topics = topicNames(prefix);
  const kafka = k.createKafkaClient({ brokers: a.brokers!.split(","), clientId: `kafka-bench-${side}`, logger });
  await k.ensureTopics({ kafka: kafka as never, names: topics, partitions, logger });
  const producer = new k.BatchingProducer({ kafka: kafka as never, logger, lingerMs: 5, maxBatchMessages: 2_000, maxQueuedMessages: 200_000 });
  await producer.connect();
  const now = Date.now();
  const messages = Array.from({ length: total }, (_, i) => message(i, now));
  global.gc?.();

  let cpu0 = cpuUs();
  let t0 = performance.now();
  for (let i = 0; i < total; i += 10_000) {
    const chunk: Promise<void>[] = [];
    for (let j = i; j < Math.min(total, i + 10_000); j++) chunk.push(producer.send({ topic: topics.trafficRaw, key: messages[j]!.source, value: messages[j]! }));
    await Promise.all(chunk);
  }
  const produceMs = performance.now() - t0;
  const produceCpu = cpuUs() - cpu0;
  global.gc?.();

  // Timed from the first batch handed over, so the group join is not counted.
  let seen = 0;
  let first = 0;
  let done!: () => void;
  const all = new Promise<void>((r) => (done = r));
  const consumer = new k.SchemaConsumer({
    kafka: kafka as never,
    logger,
    groupId: `${prefix}bench`,
    topics: [topics.trafficRaw],
    schema: RawMessageV1,
    deadLetter: { producer: producer as never, topic: topics.deadLetter, service: "bench" },
    commitInBackground: true,
    partitionsConsumedConcurrently: partitions,
    handleBatch: async (batch) => {
      if (seen === 0) {
        cpu0 = cpuUs();
        t0 = performance.now();
        first = batch.length;
      }
      seen += batch.length;
      if (seen >= total) done();
    },
  });
  await consumer.start();
  await all;
  const consumeMs = performance.now() - t0;
  const consumeCpu = cpuUs() - cpu0;
  await consumer.stop();
  await producer.disconnect();
  const admin = (kafka as unknown as { admin(): { connect(): Promise<void>; deleteTopics(o: { topics: string[] }): Promise<unknown>; disconnect(): Promise<void> } }).admin();
  await admin.connect();
  await admin.deleteTopics({ topics: Object.values(topics) }).catch(() => undefined);
  await admin.disconnect();
  const counted = total - first;
  return {
    side,
    run,
    produceRate: (total / produceMs) * 1_000,
    produceCpuUs: produceCpu / total,
    consumeRate: (counted / consumeMs) * 1_000,
    consumeCpuUs: consumeCpu / counted,
  };
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((x, y) => x - y);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

async function main(): Promise<void> {
  const total = Number(a.messages);
  const runs = Number(a.runs);
  const partitions = Number(a.partitions);
  const sides: Array<[string, KafkaModule]> = [["new", current]];
  if (a.old) {
    const entry = resolve(a.old, "packages/kafka/dist/index.js");
    sides.unshift(["old", (await import(pathToFileURL(entry).href)) as KafkaModule]);
  }
  process.stdout.write(`${total} messages a run, ${partitions} partitions, ${runs} run(s) per side${a.old ? `, old = ${a.old}` : ""}\n`);
  const results: Figures[] = [];
  for (let run = 1; run <= runs; run++) {
    // Alternate which side goes first, so neither always meets a broker fresh from the other's cleanup.
    const order = run % 2 === 1 ? sides : [...sides].reverse();
    for (const [side, k] of order) {
      const f = await once(k, side, run, total, partitions);
      results.push(f);
      process.stdout.write(`  run ${run} ${side}: produce ${fmt(f.produceRate)}/s ${fmt(f.produceCpuUs)} µs/msg; consume ${fmt(f.consumeRate)}/s ${fmt(f.consumeCpuUs)} µs/msg\n`);
    }
  }
  const rows = sides.flatMap(([side]) => {
    const mine = results.filter((r) => r.side === side);
    const col = (f: (r: Figures) => number, worst: "min" | "max") => {
      const xs = mine.map(f);
      return `${fmt(median(xs))} (worst ${fmt(worst === "min" ? Math.min(...xs) : Math.max(...xs))})`;
    };
    return [[side, col((r) => r.produceRate, "min"), col((r) => r.produceCpuUs, "max"), col((r) => r.consumeRate, "min"), col((r) => r.consumeCpuUs, "max")]];
  });
  process.stdout.write("\n" + table(["side", "produce msgs/s", "produce CPU µs/msg", "consume msgs/s", "consume CPU µs/msg"], rows) + "\n");
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
