import { readdirSync, readFileSync } from "node:fs";
import { getPriority, setPriority } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { DeliveryRecordV1, VerdictV1, type DeliveryRecord } from "@spam/contracts";
import { createKafkaClient, decodeRecord } from "@spam/kafka";
import { preciseNow, SmscStub } from "@spam/smsc-stub";
import { freePort } from "@spam/infra-local";
import { BENCH_ACCOUNT, PrivateStack, ServiceChild, serviceBuilt, sleep } from "./lib/stack.js";
import { LoadSession, MessagePlanner, parseMix } from "./lib/smpp.js";
import { LatencyHistogram, machineLoad, readPidFile, sampleProc, table, type ProcSample } from "./lib/stats.js";
import { usageOnHelp } from "./lib/usage.js";

/**
 * Relay mode (issue 21): a private gateway in relay mode and a scorer (real processes, shared
 * Kafka), the SMSC stub and the SMPP client in this process. For each rate it prints the added
 * latency receipt → forwarded submit_sm at the stub (client send to stub arrival, one clock),
 * the fail-open share, the messages the scorer labelled block that still reached the stub, the
 * receipt → verdict time as the gateway saw it, and CPU per relayed message of every process.
 *
 */
const USAGE = `usage: node benchmarks/dist/relay.bench.js [--rates 1000,2000] [--seconds 30] [--warmup 5]
  [--deadline 50] [--mix traffic=0.85,spam=0.15] [--window 2000] [--scorer-nice 0] [--fallback none|local|none,local]
  [--storage-nice N]   (also run the storage tier, sink, decider and ClickHouse, at niceness N, 0–19)`;
interface Args {
  rates: number[];
  seconds: number;
  warmup: number;
  deadline: number;
  mix: string;
  window: number;
  scorerNice: number;
  /** Niceness of the storage tier (sink, decider, ClickHouse) when it runs beside the relay; null: not run. */
  storageNice: number | null;
  /** One gateway per value, measured in turn at each rate (an interleaved A/B in one run). */
  fallbacks: Array<"none" | "local">;
}

function parseArgs(argv: readonly string[]): Args {
  usageOnHelp(USAGE, argv);
  const a: Args = { rates: [1000, 2000], seconds: 30, warmup: 5, deadline: 50, mix: "traffic=0.85,spam=0.15", window: 2000, scorerNice: 0, storageNice: null, fallbacks: ["none"] };
  for (let i = 0; i < argv.length; i++) {
    const v = argv[i + 1];
    const num = (name: string) => {
      const n = Number(v);
      if (!Number.isFinite(n) || n < 0) throw new Error(`--${name} must be a number`);
      i++;
      return n;
    };
    switch (argv[i]) {
      case "--rates":
        a.rates = (v ?? "").split(",").map(Number);
        if (a.rates.some((r) => !Number.isFinite(r) || r <= 0)) throw new Error("--rates: comma-separated positive numbers");
        i++;
        break;
      case "--seconds":
        a.seconds = num("seconds");
        break;
      case "--warmup":
        a.warmup = num("warmup");
        break;
      case "--deadline":
        a.deadline = num("deadline");
        break;
      case "--window":
        a.window = num("window");
        break;
      case "--scorer-nice":
        a.scorerNice = num("scorer-nice");
        break;
      case "--storage-nice":
        a.storageNice = num("storage-nice");
        if (a.storageNice > 19) throw new Error("--storage-nice: 0–19");
        break;
      case "--fallback": {
        const list = (v ?? "").split(",");
        if (list.length === 0 || list.some((f) => f !== "none" && f !== "local")) throw new Error("--fallback: none, local or both (none,local)");
        a.fallbacks = list as Array<"none" | "local">;
        i++;
        break;
      }
      case "--mix":
        a.mix = v ?? "";
        i++;
        break;
      default:
        throw new Error(`unknown argument ${argv[i]} (--help lists them)`);
    }
  }
  return a;
}

/** Sets every thread of `pid` to `nice`; returns each thread's niceness before. */
function renice(pid: number, nice: number): Map<number, number> {
  const before = new Map<number, number>();
  for (const t of readdirSync(`/proc/${pid}/task`)) {
    const tid = Number(t);
    try {
      before.set(tid, getPriority(tid));
    } catch {
      continue; // the thread ended
    }
    trySetPriority(tid, nice);
  }
  return before;
}

function trySetPriority(tid: number, nice: number): void {
  try {
    setPriority(tid, nice);
  } catch {
    // the thread ended
  }
}

/** The Kafka broker's pid (shared: its CPU includes every other run on it). */
function brokerPid(): number | null {
  for (const e of readdirSync("/proc")) {
    if (!/^\d+$/.test(e)) continue;
    try {
      if (readFileSync(`/proc/${e}/cmdline`, "utf8").includes("kafka.Kafka")) return Number(e);
    } catch {
      // gone
    }
  }
  return null;
}

interface Phase {
  rate: number;
  /** Destination (unique per message) → client send time. */
  sent: Map<string, number>;
  latency: LatencyHistogram;
  submitted: number;
  answered: Record<string, number>;
  arrivals: number;
  ids: Set<string>;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  for (const svc of ["gateway", "scorer"]) if (!serviceBuilt(svc)) throw new Error(`services/${svc} is not built (tsc --build)`);
  const logger = pino({ level: "warn" });
  let phase: Phase | null = null;
  const stub = new SmscStub({
    logger,
    maxRecorded: 0,
    receiptDelayMs: 5,
    onSubmit: (s) => {
      if (!phase) return;
      const t0 = phase.sent.get(s.destination);
      if (t0 === undefined) return;
      phase.sent.delete(s.destination);
      phase.arrivals++;
      phase.latency.recordMs(s.at - t0);
    },
  });
  await stub.listen();
  const routes = [{ name: "bench", smscs: [{ name: "stub", host: "127.0.0.1", port: stub.port, systemId: "relay", password: "relay-pw", window: args.window, throughputPerSec: 1_000_000 }] }];
  const stack = new PrivateStack({
    name: "relay-bench",
    gateways: 1,
    scorers: 1,
    sinks: args.storageNice === null ? 0 : 1,
    ...(args.storageNice === null ? {} : { extra: ["decider"] }),
    nice: { scorer: args.scorerNice, ...(args.storageNice === null ? {} : { sink: args.storageNice, decider: args.storageNice }) },
    gatewayEnv: {
      REPLIES_ENABLED: "false",
      RELAY_ENABLED: "true",
      RELAY_ROUTES: JSON.stringify(routes),
      RELAY_DEADLINE_MS: String(args.deadline),
      RELAY_MAX_HELD: "20000",
      RELAY_FALLBACK: args.fallbacks[0]!,
    },
  });
  process.stdout.write(`relay benchmark: fallback ${args.fallbacks.join(" against ")}, deadline ${args.deadline} ms, rates ${args.rates.join(", ")} msg/s, ${args.seconds} s each (+${args.warmup} s warm-up), mix ${args.mix}\n`);
  await stack.start();
  // ClickHouse is the infrastructure's process: each of its threads (niceness is per thread on Linux) is reniced
  // for the run and given its priority back afterwards.
  const clickhouse = args.storageNice === null ? null : readPidFile(join(stack.config.LOCAL_DIR, "run", "clickhouse.pid"));
  const clickhouseNice = clickhouse === null ? new Map<number, number>() : renice(clickhouse, args.storageNice!);
  const results: Array<Record<string, string | number>> = [];
  const cpuRows: Array<Array<string | number>> = [];
  const windows: Array<{ label: string; from: number; to: number }> = [];
  const sessions: LoadSession[] = [];
  try {
    // The other fallbacks' gateways: same env, own port, id and fallback, the same scorer behind them.
    const first = stack.byName("gateway")[0]!;
    const gateways: Array<{ fallback: string; child: ServiceChild; port: number }> = [{ fallback: args.fallbacks[0]!, child: first, port: stack.smppPorts[0]! }];
    for (const [i, fallback] of args.fallbacks.slice(1).entries()) {
      const port = await freePort();
      const child = new ServiceChild("gateway", `gateway-${fallback}-${i + 2}`, { ...first.env, GATEWAY_ID: `gw-bench-${fallback}-${i + 2}`, SMPP_PORT: String(port), METRICS_PORT: String(await freePort()), RELAY_FALLBACK: fallback }, stack.logDir);
      child.start();
      await child.waitStarted();
      stack.services.push(child);
      gateways.push({ fallback, child, port });
    }
    await sleep(2_000); // a gateway binds downstream after it starts
    for (const g of gateways) sessions.push(await LoadSession.bind({ host: "127.0.0.1", port: g.port, systemId: BENCH_ACCOUNT.systemId, password: BENCH_ACCOUNT.password }, args.window));
    const planner = new MessagePlanner(parseMix(args.mix), "10086999", 7);
    let counter = 0;
    const scorer = stack.byName("scorer")[0]!;
    const broker = brokerPid();
    for (const rate of args.rates) for (const [gi, g] of gateways.entries()) {
      const gateway = g.child;
      const session: LoadSession = sessions[gi]!;
      const label = `${rate}/s ${g.fallback}`;
      for (const measured of [false, true]) {
        const seconds = measured ? args.seconds : args.warmup;
        if (seconds === 0) continue;
        const p: Phase = { rate, sent: new Map(), latency: new LatencyHistogram(), submitted: 0, answered: {}, arrivals: 0, ids: new Set() };
        phase = p;
        const pids: Array<[string, number | null]> = [["gateway", gateway.pid], ["scorer", scorer.pid], ["bench (client+stub)", process.pid], ["kafka broker (shared)", broker]];
        if (args.storageNice !== null) {
          pids.push(["sink", stack.byName("sink")[0]?.pid ?? null], ["decider", stack.byName("decider")[0]?.pid ?? null], ["clickhouse (shared)", clickhouse]);
        }
        const before = new Map<string, ProcSample | null>(pids.map(([n, pid]) => [n, pid === null ? null : sampleProc(pid)]));
        const t0 = Date.now();
        const end = t0 + seconds * 1_000;
        // Open loop: by any moment, `rate` × elapsed messages are due, whatever the answers take and
        // however late this loop's timer fires (bounded by the window).
        let planned = 0;
        while (Date.now() < end) {
          const target = Math.floor(((Date.now() - t0) * rate) / 1_000);
          while (planned < target) {
            planned++;
            if (session.free <= 0) {
              p.answered["client window full (not sent)"] = (p.answered["client window full (not sent)"] ?? 0) + 1;
              continue;
            }
            const m = planner.next();
            const destination = `139${String(counter++ % 1e8).padStart(8, "0")}`;
            const fields = { ...m.parts[0]!, source_addr: m.source, destination_addr: destination };
            p.submitted++;
            p.sent.set(destination, preciseNow());
            session.submit(fields, (status, id) => {
              const k = status === null ? "no answer" : status === 0 ? "OK" : `0x${status.toString(16)}`;
              p.answered[k] = (p.answered[k] ?? 0) + 1;
              if (status === 0 && id) p.ids.add(id);
            });
          }
          await sleep(5);
        }
        // Let the last messages pass the deadline and the stub.
        await sleep(args.deadline + 500);
        const secondsRun = (Date.now() - t0) / 1_000;
        if (!measured) continue;
        windows.push({ label, from: t0, to: end });
        for (const [n] of pids) {
          const a = before.get(n);
          const pid = pids.find(([x]) => x === n)![1];
          const b = pid === null ? null : sampleProc(pid);
          if (!a || !b) continue;
          const cpuSec = (b.cpuTicks - a.cpuTicks) / 100;
          cpuRows.push([label, n, Number((cpuSec / secondsRun).toFixed(2)), p.arrivals > 0 ? Number(((cpuSec * 1e6) / p.arrivals).toFixed(0)) : 0]);
        }
        const s = p.latency.summaryMs();
        results.push({ label, submitted: p.submitted, arrived: p.arrivals, p50: s.p50, p90: s.p90, p99: s.p99, max: s.max, answers: JSON.stringify(p.answered) });
      }
    }
    phase = null;
  } finally {
    for (const session of sessions) await session.close();
    for (const [tid, nice] of clickhouseNice) trySetPriority(tid, nice);
  }
  // Outcomes as the gateway recorded them, and the scorer's block verdicts, from Kafka.
  const { records, blocks } = await readOutcomes(stack.brokers, stack.topics.delivery, stack.topics.verdicts);
  await stack.stop();
  await stub.close();

  process.stdout.write(`\nadded latency, client submit_sm → forwarded submit_sm at the stub (ms); machine ${JSON.stringify(machineLoad())}\n`);
  process.stdout.write(table(["rate", "submitted", "arrived", "p50", "p90", "p99", "max", "answers"], results.map((r) => [String(r.label), r.submitted!, r.arrived!, r.p50!, r.p90!, r.p99!, r.max!, String(r.answers)])) + "\n");
  const outcomeRows: Array<Array<string | number>> = [];
  for (const w of windows) {
    const mine = records.filter((r) => r.receivedAt >= w.from && r.receivedAt < w.to);
    const byReason = new Map<string, number>();
    const forwarded = new Map<string, DeliveryRecord>();
    const decision = new LatencyHistogram();
    for (const r of mine) {
      byReason.set(`${r.outcome}/${r.reason}`, (byReason.get(`${r.outcome}/${r.reason}`) ?? 0) + 1);
      if (r.outcome === "forwarded") forwarded.set(r.messageId, r);
      if (r.outcome !== "late_verdict" && r.reason !== "deadline_open" && r.reason !== "deadline_closed") decision.recordMs(r.decisionMs);
    }
    const decided = [...byReason].filter(([k]) => !k.startsWith("late_verdict")).reduce((a, [, n]) => a + n, 0);
    const failOpen = byReason.get("forwarded/deadline_open") ?? 0;
    let blockVerdicts = 0;
    let blockedArrived = 0;
    let blockedArrivedFailOpen = 0;
    for (const r of mine) {
      if (r.outcome === "late_verdict" ? r.verdictAction !== "block" : !(r.outcome === "stopped" && r.reason === "block")) continue;
      blockVerdicts++;
    }
    for (const id of blocks) {
      const f = forwarded.get(id);
      if (!f) continue;
      blockedArrived++;
      if (f.reason === "deadline_open") blockedArrivedFailOpen++;
    }
    const d = decision.summaryMs();
    outcomeRows.push([
      w.label, decided, `${((100 * failOpen) / Math.max(1, decided)).toFixed(2)} %`, d.p50, d.p99, blockVerdicts, blockedArrived, blockedArrivedFailOpen, blockedArrived - blockedArrivedFailOpen,
      [...byReason].sort().map(([k, n]) => `${k}=${n}`).join(" "),
    ]);
  }
  process.stdout.write(`\noutcomes of the messages received in each measured window, from the gateway's delivery records:\n`);
  process.stdout.write(table(["rate", "decided", "fail-open", "verdict p50 ms", "verdict p99 ms", "block verdicts", "blocked arrived", "of which fail-open", "otherwise", "outcome/reason"], outcomeRows) + "\n");
  process.stdout.write(`(verdict p50/p99: receipt → verdict in hand at the gateway, for messages decided on their verdict; ${blocks.size} block verdicts in the whole run)\n`);
  process.stdout.write(`\nCPU per relayed message (µs of CPU per message that reached the stub):\n`);
  process.stdout.write(table(["rate", "process", "cores", "µs/msg"], cpuRows) + "\n");
}

async function readOutcomes(brokers: string, deliveryTopic: string, verdictsTopic: string): Promise<{ records: DeliveryRecord[]; blocks: Set<string> }> {
  const logger = pino({ level: "warn" });
  const kafka = createKafkaClient({ brokers: brokers.split(","), clientId: "relay-bench-reader", logger });
  const admin = kafka.admin();
  await admin.connect();
  const ends = new Map<string, number>();
  for (const topic of [deliveryTopic, verdictsTopic]) {
    for (const p of await admin.fetchTopicOffsets(topic)) if (Number(p.high) > 0) ends.set(`${topic}:${p.partition}`, Number(p.high));
  }
  await admin.disconnect();
  const records: DeliveryRecord[] = [];
  const blocks = new Set<string>();
  if (ends.size === 0) return { records, blocks };
  const consumer = kafka.consumer({ groupId: `relay-bench-reader-${Date.now()}`, maxWaitTimeInMs: 100 });
  await consumer.connect();
  await consumer.subscribe({ topics: [deliveryTopic, verdictsTopic], fromBeginning: true });
  const remaining = new Set(ends.keys());
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, 60_000);
    void consumer.run({
      eachBatch: async ({ batch }) => {
        for (const m of batch.messages) {
          if (batch.topic === deliveryTopic) {
            const d = decodeRecord(DeliveryRecordV1, m.value);
            if (d.ok) records.push(d.value);
          } else {
            const v = decodeRecord(VerdictV1, m.value);
            if (v.ok && v.value.action === "block") blocks.add(v.value.messageId);
          }
        }
        const key = `${batch.topic}:${batch.partition}`;
        const end = ends.get(key);
        if (end !== undefined && Number(batch.lastOffset()) + 1 >= end) remaining.delete(key);
        if (remaining.size === 0) {
          clearTimeout(timer);
          resolve();
        }
      },
    });
  });
  await consumer.disconnect();
  return { records, blocks };
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
