#!/usr/bin/env node
/**
 * Fault test under load, on a PRIVATE Kafka broker and ClickHouse server
 * (own ports and data dir) so the shared servers are never disturbed:
 * stop each service in turn with SIGTERM (it must drain and exit 0) and
 * restart it, then SIGKILL it and restart it, restart the broker, stop
 * ClickHouse for a while; then check that every message answered with
 * success over SMPP has exactly one verdict in ClickHouse, none has two in
 * the deduplicated view, and every accepted report got its acknowledgement.
 * Exit code 0 only when all hold. `--short` is the CI form.
 */
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import pino from "pino";
import { freePort, loadLocalConfig, startClickHouse, startKafka, stopServer } from "@spam/infra-local";
import { REPO_ROOT } from "@spam/repo-paths";
import { checkReportAssessments, checkVerdicts, missingVerdicts } from "./lib/check.js";
import { runLoad } from "./lib/engine.js";
import { parseMix } from "./lib/smpp.js";
import { BENCH_ACCOUNT, PrivateStack, sleep } from "./lib/stack.js";
import { machineLoad, table } from "./lib/stats.js";
import { usageOnHelp } from "./lib/usage.js";

usageOnHelp("usage: node benchmarks/dist/fault.js [--short] [--rate N] [--phase-seconds S] [--clickhouse-down-seconds S] [--drain 180] [--keep] [--out FILE]");
const { values: a } = parseArgs({
  options: {
    short: { type: "boolean", default: false },
    rate: { type: "string" },
    "phase-seconds": { type: "string" },
    "clickhouse-down-seconds": { type: "string" },
    drain: { type: "string", default: "180" },
    keep: { type: "boolean", default: false },
    out: { type: "string" },
  },
});

const short = a.short === true;
const rate = Number(a.rate ?? (short ? 200 : 1000));
const phaseS = Number(a["phase-seconds"] ?? (short ? 6 : 15));
const chDownS = Number(a["clickhouse-down-seconds"] ?? (short ? 8 : 30));
const log = (line: string) => process.stdout.write(`[fault ${new Date().toISOString().slice(11, 19)}] ${line}\n`);

interface FaultEvent {
  readonly fault: string;
  readonly at: string;
  readonly ms: number;
  readonly ok: boolean;
  readonly error?: string;
}

async function main(): Promise<number> {
  const logger = pino({ level: "warn" });
  const id = `fault-${Date.now().toString(36)}`;
  const localDir = resolve(REPO_ROOT, ".local", id);
  const config = loadLocalConfig({
    ...process.env,
    LOCAL_DIR: localDir,
    KAFKA_PORT: String(await freePort()),
    KAFKA_CONTROLLER_PORT: String(await freePort()),
    CLICKHOUSE_HTTP_PORT: String(await freePort()),
    CLICKHOUSE_TCP_PORT: String(await freePort()),
    KAFKA_HEAP: process.env.KAFKA_HEAP ?? "512m",
    KAFKA_PARTITIONS: "3",
  });
  log(`private Kafka on ${config.KAFKA_PORT}, ClickHouse on ${config.CLICKHOUSE_HTTP_PORT}, data under ${localDir}`);
  const events: FaultEvent[] = [];
  let stack: PrivateStack | null = null;
  try {
    await Promise.all([startKafka(config, logger), startClickHouse(config, logger)]);
    stack = new PrivateStack({ name: id, gateways: 1, scorers: 1, sinks: 1, extra: ["decider"], config, logDir: join(localDir, "logs"), keepArtifacts: true });
    await stack.start();
    const s = stack;
    for (const skipped of s.skipped) log(`optional service not running: ${skipped}`);
    log(`services up: ${s.services.map((x) => `${x.instance}(${x.pid})`).join(", ")}`);

    const run = async (fault: string, action: () => Promise<void>) => {
      const t0 = Date.now();
      log(`fault: ${fault}`);
      try {
        await action();
        events.push({ fault, at: new Date(t0).toISOString(), ms: Date.now() - t0, ok: true });
      } catch (error) {
        events.push({ fault, at: new Date(t0).toISOString(), ms: Date.now() - t0, ok: false, error: (error as Error).message });
        log(`  failed: ${(error as Error).message}`);
      }
    };
    const schedule = async () => {
      await sleep(phaseS * 1_000);
      for (const svc of s.services) {
        // A deploy first (drain, leave state such as the scorer's velocity snapshot), then a crash.
        await run(`SIGTERM ${svc.instance} (clean stop) and restart`, () => svc.restart("SIGTERM"));
        await sleep(phaseS * 1_000);
        await run(`SIGKILL ${svc.instance} and restart`, () => svc.restart("SIGKILL"));
        await sleep(phaseS * 1_000);
      }
      await run("restart the Kafka broker", async () => {
        await stopServer(config, "kafka");
        await startKafka(config, logger);
      });
      await sleep(phaseS * 1_000);
      await run(`stop ClickHouse for ${chDownS} s`, async () => {
        await stopServer(config, "clickhouse");
        await sleep(chDownS * 1_000);
        await startClickHouse(config, logger);
      });
      await sleep(phaseS * 1_000);
    };
    // The load runs until the schedule is done (restarts take as long as they take), then 5 s more.
    let scheduleFinishedAt = 0;
    const scheduleDone = schedule().finally(() => (scheduleFinishedAt = Date.now()));
    const result = await runLoad({
      host: "127.0.0.1",
      ports: s.smppPorts,
      sessions: 2,
      window: 50,
      rate,
      durationS: 3_600,
      shouldStop: () => scheduleFinishedAt > 0 && Date.now() - scheduleFinishedAt > 5_000,
      mix: parseMix("traffic=0.75,spam=0.1,report=0.1,multipart=0.05"),
      systemId: BENCH_ACCOUNT.systemId,
      password: BENCH_ACCOUNT.password,
      verdicts: { brokers: config.kafkaBrokers, topic: s.topics.verdicts },
      drainS: Number(a.drain),
      onSecond: (sec, snap) => {
        if (sec % 10 === 0) log(`${sec}s sent ${snap.sent} accepted ${snap.accepted} verdicts ${snap.verdicts} no-response ${snap.failed}`);
      },
    });
    await scheduleDone;
    // The sink may still be writing what it caught up on after ClickHouse came back.
    // Poll only the ids still missing (cheap), then count everything once (FINAL is slow).
    const ids = [...result.accepted.keys()];
    let missing = await missingVerdicts(config.clickhouseUrl, s.database, ids);
    for (let i = 0; i < 30 && missing.length > 0; i++) {
      await sleep(2_000);
      missing = await missingVerdicts(config.clickhouseUrl, s.database, missing);
    }
    const check = await checkVerdicts(config.clickhouseUrl, s.database, ids);
    // The decider answers each report later (assessment, case, outcome): its backlog must drain too.
    const reportsDeadline = Date.now() + Number(a.drain) * 1_000;
    let reports = await checkReportAssessments(config.clickhouseUrl, s.database);
    while (reports.unassessed > 0 && Date.now() < reportsDeadline) {
      log(`reports assessed by the decider: ${reports.decidable - reports.unassessed} of ${reports.decidable}`);
      await sleep(10_000);
      reports = await checkReportAssessments(config.clickhouseUrl, s.database);
    }
    const c = result.counts;
    const pass =
      check.missing === 0 && check.duplicatedDedup === 0 && check.conflicting === 0 && c.reportAcks >= c.reportsAccepted && reports.unassessed === 0 && events.every((e) => e.ok);
    const failureHints = [
      check.sampleMissing.length ? ` (missing e.g. ${check.sampleMissing.join(", ")})` : "",
      result.reportersWithoutAck.length ? ` (reporters without ack e.g. ${result.reportersWithoutAck.join(", ")})` : "",
      reports.sampleUnassessed.length ? ` (unassessed reports e.g. ${reports.sampleUnassessed.join(", ")})` : "",
    ];
    process.stdout.write(
      "\n" +
        table(["fault", "took ms", "ok"], events.map((e) => [e.fault, e.ms, e.ok ? "yes" : `NO: ${e.error ?? ""}`])) +
        "\n\n" +
        table(
          ["count", "value"],
          [
            ["messages sent", c.sent],
            ["accepted (success submit_sm_resp)", c.accepted],
            ["throttled / temporary error", `${c.throttled} / ${Object.entries(c.rejected).map(([k, v]) => `${k}:${v}`).join(" ") || 0}`],
            ["no response (session killed)", c.noResponse],
            ["accepted with a verdict in ClickHouse", check.withVerdict],
            ["accepted without a verdict (must be 0)", check.missing],
            ["with >1 distinct verdict (must be 0)", check.conflicting],
            ["with >1 row in FINAL view (must be 0)", check.duplicatedDedup],
            ["with >1 raw row (redelivery, merged by FINAL)", check.duplicatedRaw],
            ["verdicts seen on Kafka (dupes)", `${c.verdictsForAccepted} (${c.duplicateVerdicts})`],
            ["reports accepted", c.reportsAccepted],
            ["report acknowledgements (must equal)", c.reportAcks],
            ["reports with a number, in ClickHouse", reports.decidable],
            ["of those not assessed by the decider (must be 0)", reports.unassessed],
            ["session re-binds", c.binds],
          ],
        ) +
        `\n\n${pass ? "PASS" : "FAIL"}${failureHints.join("")}\n`,
    );
    const outDir = resolve(REPO_ROOT, "benchmarks/results");
    mkdirSync(outDir, { recursive: true });
    const file = a.out ?? join(outDir, `fault-${short ? "short" : "long"}-${new Date().toISOString().replace(/[:.]/g, "-")}.json`);
    const { accepted: _ids, perSecond, ...rest } = result;
    writeFileSync(file, JSON.stringify({ label: short ? "fault-short" : "fault-long", pass, rate, phaseS, chDownS, machine: machineLoad(), events, check, reports, ...rest, perSecond }, null, 2));
    log(`result written to ${file}`);
    return pass ? 0 : 1;
  } finally {
    await stack?.stop().catch(() => undefined);
    await stopServer(config, "kafka").catch(() => undefined);
    await stopServer(config, "clickhouse").catch(() => undefined);
    if (!a.keep) rmSync(localDir, { recursive: true, force: true });
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`fault: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(2);
  },
);
