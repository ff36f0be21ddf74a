#!/usr/bin/env node
/**
 * Scorer throughput as a Kafka consumer: fills a private traffic topic with N
 * messages, starts scorer workers on it and times how fast they score and
 * publish the backlog (the committed offsets reach the end). Prints messages/s
 * and the scorers' CPU per message, which is what the whole-pipeline run on a
 * shared 2-core machine is bounded by. `--cpu-prof DIR` profiles the workers.
 * `--old <checkout>` runs the scorer build of another checkout too (e.g. `git worktree add /tmp/kafka-old
 * main`, bootstrapped), alternating old and new runs (`--runs` each), and summarises both sides.
 */
import { randomUUID } from "node:crypto";
import { mkdirSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import type { RawMessage } from "@spam/contracts";
import { BatchingProducer, consumerGroup, createKafkaClient } from "@spam/kafka";
import { SCORER_NODE_OPTIONS } from "@spam/infra-local";
import { REPO_ROOT } from "@spam/repo-paths";
import { loadCorpus } from "./corpus.js";
import { PrivateStack, ServiceChild, sleep } from "./lib/stack.js";
import { fmt, machineLoad, procUsage, sampleProc, table, type ProcSample } from "./lib/stats.js";

const { values: a } = parseArgs({
  options: {
    messages: { type: "string", default: "100000" },
    scorers: { type: "string", default: "1" },
    senders: { type: "string", default: "20000" },
    "cpu-prof": { type: "string" },
    /** The scorer's NODE_OPTIONS (default: the heap cap npm start and the compose file use). */
    "node-options": { type: "string", default: SCORER_NODE_OPTIONS },
    "no-velocity-replay": { type: "boolean", default: false },
    old: { type: "string" },
    runs: { type: "string", default: "1" },
    help: { type: "boolean", default: false },
  },
  allowPositionals: true,
  strict: false,
});

if (a.help) {
  process.stdout.write(`usage: node benchmarks/dist/scorer-drain.bench.js [--messages 100000] [--scorers 1] [--senders 20000]
  [--cpu-prof DIR] [--node-options "${SCORER_NODE_OPTIONS}"] [--no-velocity-replay] [--old CHECKOUT --runs N] [--data FILE.tsv ...]
`);
  process.exit(0);
}

interface DrainFigures {
  readonly side: string;
  readonly rate: number;
  readonly cpuUs: number;
}

async function main(): Promise<void> {
  if (!a.old) {
    await drain(REPO_ROOT, "new");
    return;
  }
  const sides: Array<[string, string]> = [
    ["old", resolve(String(a.old))],
    ["new", REPO_ROOT],
  ];
  const results: DrainFigures[] = [];
  for (let run = 1; run <= Number(a.runs); run++) {
    for (const [side, root] of run % 2 === 1 ? sides : [...sides].reverse()) {
      process.stdout.write(`\n== run ${run}, ${side} (${root})\n`);
      results.push(await drain(root, side));
    }
  }
  const rows = sides.map(([side]) => {
    const mine = results.filter((r) => r.side === side);
    const rates = mine.map((r) => r.rate);
    const cpus = mine.map((r) => r.cpuUs);
    return [side, rates.map(fmt).join(", "), `${fmt(Math.min(...rates))}`, cpus.map(fmt).join(", "), `${fmt(Math.max(...cpus))}`];
  });
  process.stdout.write("\n" + table(["side", "messages/s (runs)", "worst", "scorer CPU µs/msg (runs)", "worst"], rows) + "\n");
}

async function drain(root: string, side: string): Promise<DrainFigures> {
  const total = Number(a.messages);
  const scorers = Number(a.scorers);
  const senders = Number(a.senders);
  const { texts, source } = loadCorpus(process.argv.slice(2));
  const stack = new PrivateStack({ name: "drain", gateways: 0, scorers: 0, sinks: 0 });
  await stack.start();
  const { logger } = stack;
  const kafka = createKafkaClient({ brokers: stack.brokers.split(","), clientId: "scorer-drain", logger });
  const producer = new BatchingProducer({ kafka, logger, lingerMs: 5, maxBatchMessages: 2_000, maxQueuedMessages: 200_000 });
  await producer.connect();
  const now = Date.now();

  const env: Record<string, string> = {
    ...stack.baseEnv(),
    CONSUMER_GROUP: `${stack.prefix}scorer`,
    METRICS_PORT: "0",
    ...(a["no-velocity-replay"] ? { VELOCITY_REPLAY: "0" } : {}),
  };
  const nodeArgs: string[] = [];
  if (typeof a["cpu-prof"] === "string") {
    const dir = resolve(REPO_ROOT, a["cpu-prof"]);
    mkdirSync(dir, { recursive: true });
    nodeArgs.push("--cpu-prof", `--cpu-prof-dir=${dir}`);
  }
  const workers = Array.from({ length: scorers }, (_, i) =>
    new ServiceChild("scorer", `scorer-${i + 1}`, { ...env, NODE_OPTIONS: String(a["node-options"]) }, stack.logDir, nodeArgs, 0, root),
  );
  const admin = kafka.admin();
  await admin.connect();
  const consumed = async (): Promise<number> => {
    // The traffic group: its id as the checkout being run spells it (the old one had no topic prefix).
    const groupId = side === "old" ? env.CONSUMER_GROUP! : consumerGroup(stack.prefix, env.CONSUMER_GROUP!);
    const [offsets] = await admin.fetchOffsets({ groupId, topics: [stack.topics.trafficRaw] });
    return (offsets?.partitions ?? []).reduce((sum, p) => sum + Math.max(0, Number(p.offset)), 0);
  };
  const loadBefore = machineLoad();
  for (const w of workers) w.start();
  await Promise.all(workers.map((w) => w.waitStarted()));
  const first = workers.map((w) => sampleProc(w.pid!)).filter((s): s is ProcSample => s !== null);
  // Filled while the workers wait on it, so their start-up is not timed; the producer shares the cores.
  process.stdout.write(`workers up; sending ${total} messages to ${stack.topics.trafficRaw} (texts: ${source})\n`);
  const startedAt = Date.now();
  const filling = (async () => {
    for (let i = 0; i < total; i += 10_000) {
      const chunk: Promise<void>[] = [];
      for (let j = i; j < Math.min(total, i + 10_000); j++) {
        const sender = `1${String(3_800_000_000 + (j % senders))}`;
        const message: RawMessage = {
          v: 1,
          id: randomUUID(),
          receivedAt: now + j,
          gatewayId: "gw-drain",
          account: "bench",
          source: sender,
          destination: `1${String(3_900_000_000 + ((j * 7919) % 1_000_000))}`,
          text: texts[j % texts.length]!,
          dataCoding: 8,
          parts: 1,
          partial: false,
        };
        chunk.push(producer.send({ topic: stack.topics.trafficRaw, key: sender, value: message }));
      }
      await Promise.all(chunk);
    }
    await producer.disconnect();
    process.stdout.write(`  all sent after ${fmt((Date.now() - startedAt) / 1_000)} s\n`);
  })();
  let done = 0;
  let lastPrint = 0;
  while (done < total) {
    await sleep(250);
    done = await consumed();
    if (Date.now() - lastPrint > 2_000) {
      lastPrint = Date.now();
      process.stdout.write(`  scored ${done}/${total} (${fmt((done / (Date.now() - startedAt)) * 1_000)}/s)\n`);
    }
    if (Date.now() - startedAt > 600_000) throw new Error(`backlog not drained in 10 minutes (${done}/${total})`);
  }
  const seconds = (Date.now() - startedAt) / 1_000;
  await filling;
  const last = workers.map((w) => sampleProc(w.pid!)).filter((s): s is ProcSample => s !== null);
  const usage = first.map((s, i) => procUsage(workers[i]!.instance, s, last[i]!));
  const cpuSeconds = usage.reduce((sum, u) => sum + u.cpuCores * seconds, 0);
  await Promise.all(workers.map((w) => w.kill("SIGTERM")));
  const replay = a["no-velocity-replay"] ? null : await timeRestart(env, admin, stack, nodeArgs, root);
  await admin.disconnect();
  await stack.stop();
  process.stdout.write(
    "\n" +
      table(
        ["figure", "value"],
        [
          ["messages", total],
          ["scorers", scorers],
          ["seconds", fmt(seconds)],
          ["messages/s", fmt(total / seconds)],
          ["scorer CPU µs per message", fmt((cpuSeconds / total) * 1e6)],
          ["messages per scorer CPU-second", fmt(total / cpuSeconds)],
          ...usage.map((u) => [`${u.name} cores / peak RSS MiB`, `${fmt(u.cpuCores)} / ${fmt(u.peakRssMb)}`] as [string, string]),
          ["load before → after", `${loadBefore.loadavg1} → ${machineLoad().loadavg1}`],
          ...(replay
            ? ([
                ["restart: senders from the snapshot / messages replayed / partitions", `${replay.snapshotSenders} / ${replay.messages} / ${replay.partitions}`],
                ["restart: start → every partition replayed (ms)", fmt(replay.wallMs)],
                ["restart: replay time per partition (ms)", replay.perPartitionMs.map(fmt).join(", ")],
              ] as Array<[string, string]>)
            : []),
        ],
      ) +
      "\n",
  );
  return { side, rate: total / seconds, cpuUs: (cpuSeconds / total) * 1e6 };
}

/**
 * A worker restarted on the drained topic restores each partition's windows before it scores the
 * partition's next message: from the snapshot the stopped workers wrote, or (VELOCITY_SNAPSHOTS=0)
 * by replaying the traffic of the longest velocity window (here: the whole backlog). One message
 * per partition triggers that; the worker's log has the figures.
 */
async function timeRestart(
  env: Record<string, string>,
  admin: ReturnType<ReturnType<typeof createKafkaClient>["admin"]>,
  stack: PrivateStack,
  nodeArgs: readonly string[],
  root: string,
): Promise<{ snapshotSenders: number; messages: number; partitions: number; wallMs: number; perPartitionMs: number[] }> {
  const topic = stack.topics.trafficRaw;
  const partitions = (await admin.fetchTopicOffsets(topic)).map((p) => p.partition);
  const worker = new ServiceChild("scorer", "scorer-restart", { ...env, NODE_OPTIONS: String(a["node-options"]) }, stack.logDir, nodeArgs, 0, root);
  const startedAt = Date.now();
  worker.start();
  await worker.waitStarted();
  process.stdout.write(`restarted a worker; one message per partition triggers the replay\n`);
  const kafka = createKafkaClient({ brokers: stack.brokers.split(","), clientId: "scorer-drain-restart", logger: stack.logger });
  const producer = new BatchingProducer({ kafka, logger: stack.logger });
  await producer.connect();
  const trigger = (partition: number): RawMessage => ({
    v: 1, id: randomUUID(), receivedAt: Date.now(), gatewayId: "gw-drain", account: "bench", source: `1370000000${partition}`,
    destination: "13900000000", text: "restart probe", dataCoding: 8, parts: 1, partial: false,
  });
  await producer.sendMany(partitions.map((partition) => ({ topic, partition, key: `1370000000${partition}`, value: trigger(partition) })));
  await producer.disconnect();
  const logFile = resolve(stack.logDir, "scorer-restart.log");
  type Replayed = { partition: number; snapshotSenders: number; messages: number; ms: number; time: number };
  let replayed: Replayed[] = [];
  const deadline = Date.now() + 180_000;
  while (replayed.length < partitions.length) {
    if (Date.now() > deadline) throw new Error(`only ${replayed.length} of ${partitions.length} partitions replayed in 3 minutes (see ${logFile})`);
    await sleep(250);
    replayed = readFileSync(logFile, "utf8")
      .split("\n")
      .filter((l) => l.includes("velocity windows replayed for partition"))
      .map((l) => JSON.parse(l) as Replayed);
  }
  await worker.kill("SIGTERM");
  return {
    snapshotSenders: replayed.reduce((n, r) => n + r.snapshotSenders, 0),
    messages: replayed.reduce((n, r) => n + r.messages, 0),
    partitions: replayed.length,
    wallMs: Math.max(...replayed.map((r) => r.time)) - startedAt,
    perPartitionMs: replayed.map((r) => r.ms),
  };
}

main().catch((error: unknown) => {
  process.stderr.write(`scorer-drain: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
