#!/usr/bin/env node
/**
 * SMPP load generator: binds several windowed sessions to the gateway, sends a
 * rate and mix of messages for a set time, matches verdicts on Kafka to the
 * submit_sm_resp message ids, and prints/writes sent, accepted, throttled,
 * verdicts, throughput, latency per stage and CPU/RSS per process.
 * `--spawn` starts a private pipeline (own topics and database) first.
 */
import { mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { setPriority } from "node:os";
import { PerformanceObserver } from "node:perf_hooks";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { loadLocalConfig } from "@spam/infra-local";
import { REPO_ROOT } from "@spam/repo-paths";
import { checkVerdicts, type VerdictCheck } from "./lib/check.js";
import { runLoad, type LoadResult } from "./lib/engine.js";
import { gcSince, gcSummary, scrape, stageQuantiles, type GcSummary } from "./lib/prom.js";
import { parseMix } from "./lib/smpp.js";
import { BENCH_ACCOUNT, PrivateStack } from "./lib/stack.js";
import { findServicePids, fmt, machineLoad, procUsage, readPidFile, sampleProc, table, type ProcSample, type ProcUsage } from "./lib/stats.js";

const { values: a } = parseArgs({
  options: {
    spawn: { type: "boolean", default: false },
    "gateway-only": { type: "boolean", default: false },
    /** Gateway and scorers only: the verdict path, without sink, decider and the ClickHouse check. */
    "hot-path": { type: "boolean", default: false },
    gateways: { type: "string", default: "1" },
    scorers: { type: "string", default: "1" },
    host: { type: "string", default: "127.0.0.1" },
    port: { type: "string", default: "2775" },
    "system-id": { type: "string", default: BENCH_ACCOUNT.systemId },
    password: { type: "string", default: BENCH_ACCOUNT.password },
    brokers: { type: "string" },
    "topic-prefix": { type: "string", default: "" },
    sessions: { type: "string", default: "4" },
    window: { type: "string", default: "64" },
    rate: { type: "string", default: "2000" },
    duration: { type: "string", default: "20" },
    drain: { type: "string", default: "30" },
    /** Leave the latencies of the first seconds out (counts and checks keep them). */
    warmup: { type: "string", default: "0" },
    mix: { type: "string", default: "traffic=0.8,spam=0.1,report=0.05,multipart=0.05" },
    label: { type: "string", default: "" },
    out: { type: "string" },
    "no-check": { type: "boolean", default: false },
    "cpu-prof": { type: "string" },
    /** Extra node flags for every spawned service, e.g. `--node-args=--trace-gc` (their output goes to the service logs). */
    "node-args": { type: "string", default: "" },
    /** CPU niceness per service, e.g. sink=10,decider=10 (see StackOptions.nice). */
    nice: { type: "string", default: "" },
    /** A setting for one spawned service, `service.NAME=value`; repeat it for more (e.g. --env sink.SINK_FETCH_MAX_WAIT_MS=250). */
    env: { type: "string", multiple: true, default: [] },
    /**
     * Niceness of this load generator (0–19), set after the services started. It stands in for
     * the SMSCs and ESMEs that run on other machines in production; at a higher niceness it takes
     * only the CPU the system under test leaves (the sent rate shows if that was not enough).
     */
    "loadgen-nice": { type: "string", default: "0" },
    help: { type: "boolean", default: false },
  },
});

if (a.help) {
  process.stdout.write(`usage: node benchmarks/dist/load.js [--spawn [--gateways N] [--scorers N]] [--gateway-only | --hot-path]
  [--host H --port P --system-id S --password W --brokers B --topic-prefix X]   (against a running gateway)
  [--sessions 4] [--window 64] [--rate 2000] [--duration 20] [--drain 30] [--warmup 0]
  [--mix traffic=0.8,spam=0.1,report=0.05,multipart=0.05] [--label name] [--out file.json] [--no-check] [--cpu-prof DIR] [--node-args "--trace-gc"] [--nice sink=10,decider=10,scorer=10] [--loadgen-nice 0..19]
  [--env service.NAME=value ...]
`);
  process.exit(0);
}

/** "sink=10,decider=10" → { sink: 10, decider: 10 } (0–19: only ever lower a service's priority). */
function parseNice(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const item of text.split(",").filter(Boolean)) {
    const [name, value] = item.split("=");
    const n = Number(value);
    if (!name || !Number.isInteger(n) || n < 0 || n > 19) throw new Error(`--nice: expected service=0..19, got "${item}"`);
    out[name] = n;
  }
  return out;
}

/** ["sink.A=1", "sink.B=2"] → { sink: { A: "1", B: "2" } }. */
function parseServiceEnv(items: readonly string[]): Record<string, Record<string, string>> {
  const out: Record<string, Record<string, string>> = {};
  for (const item of items) {
    const match = /^([a-z-]+)\.([A-Z][A-Z0-9_]*)=(.*)$/.exec(item);
    if (!match) throw new Error(`--env: expected service.NAME=value, got "${item}"`);
    const [, service = "", name = "", value = ""] = match;
    (out[service] ??= {})[name] = value;
  }
  return out;
}

/** Linux keeps a niceness per thread: lower every thread of this process (V8 and libuv threads too). */
function reniceSelf(nice: number): void {
  for (const tid of readdirSync("/proc/self/task")) setPriority(Number(tid), nice);
}

const int = (name: string, s: string | undefined) => {
  const n = Number(s);
  if (!Number.isFinite(n) || n < 0) throw new Error(`--${name} must be a number`);
  return n;
};

async function main(): Promise<void> {
  const gatewayOnly = a["gateway-only"] === true;
  const hotPath = a["hot-path"] === true;
  const config = loadLocalConfig();
  const mix = gatewayOnly ? parseMix("traffic=1") : parseMix(a.mix!);
  let stack: PrivateStack | null = null;
  let ports = [int("port", a.port)];
  let brokers = (a.brokers ?? config.kafkaBrokers.join(",")).split(",");
  let prefix = a["topic-prefix"] ?? "";
  if (a.spawn) {
    stack = new PrivateStack({
      name: gatewayOnly ? "bench-gw" : "bench",
      gateways: int("gateways", a.gateways),
      scorers: gatewayOnly ? 0 : int("scorers", a.scorers),
      sinks: gatewayOnly || hotPath ? 0 : 1,
      extra: gatewayOnly || hotPath ? [] : ["decider"],
      config,
      nice: parseNice(a.nice ?? ""),
      serviceEnv: parseServiceEnv(a.env ?? []),
      nodeArgs: [
        ...(a["cpu-prof"] ? ["--cpu-prof", `--cpu-prof-dir=${resolve(REPO_ROOT, a["cpu-prof"])}`] : []),
        ...(a["node-args"] ?? "").split(" ").filter(Boolean),
      ],
    });
    process.stdout.write(`starting private stack ${stack.prefix} (logs in ${stack.logDir})\n`);
    await stack.start();
    const cleanup = () => void stack?.stop().then(() => process.exit(130));
    process.once("SIGINT", cleanup);
    process.once("SIGTERM", cleanup);
    for (const skipped of stack.skipped) process.stdout.write(`note: optional service not running: ${skipped}\n`);
    ports = stack.smppPorts;
    brokers = config.kafkaBrokers;
    prefix = stack.prefix;
  }
  const hasScorer = stack ? stack.byName("scorer").length > 0 : true;
  if (stack && !gatewayOnly && !hasScorer) process.stdout.write("note: services/scorer is not built: no verdicts will be produced\n");

  // Processes to measure: infra from its pid files, services from the process list (or our children).
  const procs = new Map<string, number>();
  const kafkaPid = readPidFile(join(config.LOCAL_DIR, "run", "kafka.pid"));
  const chPid = readPidFile(join(config.LOCAL_DIR, "run", "clickhouse.pid"));
  if (kafkaPid) procs.set("kafka", kafkaPid);
  if (chPid) procs.set("clickhouse", chPid);
  if (stack) {
    for (const s of stack.services) if (s.pid) procs.set(s.instance, s.pid);
  } else {
    for (const [name, pids] of findServicePids()) pids.forEach((pid, i) => procs.set(pids.length > 1 ? `${name}-${i + 1}` : name, pid));
  }
  procs.set("loadgen", process.pid);
  const loadgenNice = int("loadgen-nice", a["loadgen-nice"]);
  if (loadgenNice > 19) throw new Error("--loadgen-nice must be 0..19");
  if (loadgenNice > 0) reniceSelf(loadgenNice);
  const before = new Map<string, ProcSample>();
  for (const [name, pid] of procs) {
    const s = sampleProc(pid);
    if (s) before.set(name, s);
  }
  const loadBefore = machineLoad();

  // GC pauses before the load (start-up, model loading) are left out of the figures.
  const gcBefore = new Map<string, GcSummary>();
  for (const [instance, port] of stack?.metricsPorts ?? []) {
    const text = await scrape(port);
    if (text) gcBefore.set(instance, gcSummary(text));
  }
  // The generator's own pauses: a long one makes it send a burst when it resumes.
  const ownGc = { count: 0, seconds: 0, atLeast10ms: 0 };
  const gcObserver = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      ownGc.count++;
      ownGc.seconds += e.duration / 1_000;
      if (e.duration >= 10) ownGc.atLeast10ms++;
    }
  });
  gcObserver.observe({ entryTypes: ["gc"] });
  const durationS = int("duration", a.duration);
  let usage: ProcUsage[] = [];
  const result = await runLoad({
    host: a.host!,
    ports,
    sessions: int("sessions", a.sessions),
    window: int("window", a.window),
    rate: int("rate", a.rate),
    durationS,
    mix,
    systemId: a["system-id"]!,
    password: a.password!,
    ...(gatewayOnly ? {} : { verdicts: { brokers, topic: `${prefix}sms.verdicts` } }),
    drainS: gatewayOnly ? 5 : int("drain", a.drain),
    warmupS: int("warmup", a.warmup),
    // The ids are needed afterwards only for the ClickHouse check.
    forgetMatched: gatewayOnly || hotPath || a["no-check"] === true || !stack,
    onSecond: (second, s) => {
      if (process.stdout.isTTY || second % 5 === 0) process.stdout.write(`${process.stdout.isTTY ? "\r" : ""}${second}s sent ${s.sent} accepted ${s.accepted} throttled ${s.throttled} verdicts ${s.verdicts} in-flight ${s.inFlight}${process.stdout.isTTY ? "   " : "\n"}`);
      // CPU is averaged over the sending phase only (not the drain).
      if (second === Math.floor(durationS) - 1 || second === Math.floor(durationS)) {
        usage = [...before].flatMap(([name, b]) => {
          const now = sampleProc(b.pid);
          return now ? [procUsage(name, b, now)] : [];
        });
      }
    },
  });
  process.stdout.write("\n");
  if (usage.length === 0) {
    usage = [...before].flatMap(([name, b]) => {
      const now = sampleProc(b.pid);
      return now ? [procUsage(name, b, now)] : [];
    });
  }
  const loadAfter = machineLoad();

  // Stage histograms the services export themselves (Prometheus buckets: upper bounds).
  const serviceStages: Record<string, unknown> = {};
  gcObserver.disconnect();
  const gcPauses: Record<string, GcSummary> = { loadgen: { all: ownGc } };
  if (stack) {
    for (const [instance, port] of stack.metricsPorts) {
      const text = await scrape(port);
      if (!text) continue;
      gcPauses[instance] = gcSince(gcBefore.get(instance) ?? {}, gcSummary(text));
      for (const stage of ["smpp_receive_to_kafka_ack", "kafka_to_scored", "scored_to_verdict_published", "verdict_to_visible_clickhouse"]) {
        const q = stageQuantiles(text, stage);
        if (q) serviceStages[`${instance}:${stage}`] = q;
      }
    }
  }

  let check: VerdictCheck | null = null;
  if (stack && !gatewayOnly && !hotPath && hasScorer && !a["no-check"]) {
    check = await checkVerdicts(config.clickhouseUrl, stack.database, [...result.accepted.keys()]);
  }
  const exitCodes = stack ? await stack.stop() : {};

  print(result, usage, serviceStages, gcPauses, check, { loadBefore, loadAfter, gatewayOnly });
  const outDir = resolve(REPO_ROOT, "benchmarks/results");
  mkdirSync(outDir, { recursive: true });
  const label = a.label || (gatewayOnly ? "gateway" : "pipeline");
  const file = a.out ?? join(outDir, `${label}-${new Date().toISOString().replace(/[:.]/g, "-")}.json`);
  const { accepted: _ids, ...rest } = result;
  writeFileSync(
    file,
    JSON.stringify(
      {
        label,
        command: process.argv.slice(1).join(" "),
        options: a,
        machine: { ...loadBefore, loadavg1After: loadAfter.loadavg1 },
        ...rest,
        processes: usage,
        serviceStages,
        gcPauses,
        clickhouseCheck: check,
        exitCodes,
      },
      null,
      2,
    ),
  );
  process.stdout.write(`\nresult written to ${file}\n`);
}

function print(
  r: LoadResult,
  usage: ProcUsage[],
  serviceStages: Record<string, unknown>,
  gcPauses: Record<string, GcSummary>,
  check: VerdictCheck | null,
  ctx: { loadBefore: { loadavg1: number; cores: number }; loadAfter: { loadavg1: number }; gatewayOnly: boolean },
): void {
  const c = r.counts;
  const out: string[] = [];
  out.push(`\nmachine: ${ctx.loadBefore.cores} cores, load average ${ctx.loadBefore.loadavg1} before / ${ctx.loadAfter.loadavg1} after; sending ${fmt(r.sendSeconds)} s`);
  out.push(
    table(
      ["count", "value"],
      [
        ["sent (messages)", c.sent],
        ["sent (submit_sm PDUs)", c.sentPdus],
        ["accepted", c.accepted],
        ["throttled", c.throttled],
        ["other errors", Object.entries(c.rejected).map(([k, v]) => `${k}:${v}`).join(" ") || "0"],
        ["no response", c.noResponse],
        ["behind (generator)", c.behind],
        ...(ctx.gatewayOnly
          ? []
          : ([
              ["verdicts (matched)", c.verdictsForAccepted],
              ["verdicts (duplicates)", c.duplicateVerdicts],
              ["reports accepted", c.reportsAccepted],
              ["report acks", c.reportAcks],
            ] as [string, number][])),
      ],
    ),
  );
  out.push("");
  out.push(table(["throughput", "per s"], Object.entries(r.throughputPerS).map(([k, v]) => [k, v])));
  out.push("");
  out.push(
    table(
      ["latency (ms)", "count", "p50", "p90", "p99", "max"],
      Object.entries(r.latencyMs)
        .filter(([, s]) => s.count > 0)
        .map(([k, s]) => [k, s.count, s.p50, s.p90, s.p99, s.max]),
    ),
  );
  const bursts = [...r.slowBySecond].sort((x, y) => y.over50ms - x.over50ms).slice(0, 5).filter((b) => b.over50ms > 0);
  if (bursts.length > 0) {
    const slowTotal = r.slowBySecond.reduce((n, b) => n + b.over50ms, 0);
    out.push(`receive_to_verdict > 50 ms: ${slowTotal} messages; worst seconds ` + bursts.map((b) => `${b.second}s:${b.over50ms} (max ${fmt(b.maxMs)} ms)`).join(", "));
  }
  const stages = Object.entries(serviceStages) as [string, { count: number; p50: number; p90: number; p99: number }][];
  if (stages.length > 0) {
    out.push("");
    out.push(table(["service stage (ms, bucket bound)", "count", "p50", "p90", "p99"], stages.map(([k, q]) => [k, q.count, q.p50, q.p90, q.p99])));
  }
  const gcRows = Object.entries(gcPauses).flatMap(([instance, kinds]) =>
    Object.entries(kinds).map(([kind, g]) => [`${instance} ${kind}`, g.count, fmt(g.seconds * 1_000), g.atLeast10ms] as (string | number)[]),
  );
  if (gcRows.length > 0) {
    // Pauses of 10 ms or more show up in the p99.
    out.push("");
    out.push(table(["GC pauses under load", "count", "total ms", ">= 10 ms"], gcRows));
  }
  out.push("");
  // CPU per accepted message (sending phase): what sizes a deployment. Only a budget when the
  // pipeline kept up; a backlog defers work past the sending phase and makes it look cheaper.
  const acceptedPerS = r.throughputPerS.accepted ?? 0;
  const perMessage = (cores: number) => (acceptedPerS > 0 ? fmt((cores * 1e6) / acceptedPerS) : "-");
  const totalCores = usage.reduce((sum, u) => sum + u.cpuCores, 0);
  out.push(
    table(
      ["process", "pid", "cpu (cores)", "µs cpu / accepted msg", "rss MB", "peak rss MB"],
      [
        ...usage.map((u) => [u.name, u.pid, u.cpuCores, perMessage(u.cpuCores), u.rssMb, u.peakRssMb] as (string | number)[]),
        ["all", "", fmt(totalCores), perMessage(totalCores), "", ""],
      ],
    ),
  );
  const verdictsPerS = r.throughputPerS.verdicts ?? acceptedPerS;
  if (acceptedPerS > 0 && totalCores > 0) {
    const keptUp = ctx.gatewayOnly || verdictsPerS >= 0.95 * acceptedPerS;
    out.push(
      `capacity at this cost: ≈ ${fmt((ctx.loadBefore.cores * acceptedPerS) / totalCores)} msg/s on ${ctx.loadBefore.cores} cores` +
        (keptUp ? "" : " (the pipeline fell behind: work was deferred, so this overstates it)"),
    );
  }
  if (check) {
    out.push("");
    out.push(
      table(
        ["clickhouse check", "value"],
        [
          ["accepted ids", check.expected],
          ["with a verdict row", check.withVerdict],
          ["missing", check.missing],
          ["duplicated (raw rows)", check.duplicatedRaw],
          ["duplicated (FINAL view)", check.duplicatedDedup],
        ],
      ),
    );
  }
  process.stdout.write(out.join("\n") + "\n");
}

main().catch((err: unknown) => {
  process.stderr.write(`load: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
