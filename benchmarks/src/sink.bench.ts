/**
 * Sink figures against the real broker and ClickHouse: insert rate, rows per
 * insert, inserts per second, and time from a verdict's broker ack to being
 * queryable in ClickHouse (idle and under load).
 *
 *   node infra/local/dist/cli.js start
 *   .tools/node_modules/.bin/pnpm exec tsc --build services/sink benchmarks
 *   node benchmarks/dist/sink.bench.js [--rows 200000] [--load-rate 5000]
 */
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import pino from "pino";
import { z } from "zod";
import { createClickHouse, migrateDatabase, ident, join, sql, v } from "@spam/clickhouse";
import { topicNames, type Verdict } from "@spam/contracts";
import { loadLocalConfig } from "@spam/infra-local";
import { BatchingProducer, createKafkaClient, ensureTopics } from "@spam/kafka";
import { repoPath } from "@spam/repo-paths";
import { usageOnHelp } from "./lib/usage.js";

usageOnHelp("usage: node benchmarks/dist/sink.bench.js [--rows 200000] [--load-rate 5000] [--seconds 20]   (against `node infra/local/dist/cli.js start`)");
const args = process.argv.slice(2);
const arg = (name: string, fallback: number) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] ? Number(args[i + 1]) : fallback;
};
const ROWS = arg("rows", 200_000);
const LOAD_RATE = arg("load-rate", 5_000);
const PHASE_S = arg("seconds", 20);

const config = loadLocalConfig();
const brokers = process.env.KAFKA_BROKERS?.split(",") ?? config.kafkaBrokers;
const clickhouseUrl = process.env.CLICKHOUSE_URL ?? config.clickhouseUrl;
const logger = pino({ level: "warn" }, pino.destination(2));
const run = `bench_sink_${Date.now().toString(36)}`;
const prefix = `${run}.`;
const topics = topicNames(prefix);
const MIGRATIONS = repoPath("infra/clickhouse/migrations");
const SINK = repoPath("services/sink/dist/main.js");
const out = (line: string) => process.stdout.write(`${line}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function verdict(n: number, tag: string): Verdict {
  const now = Date.now();
  return {
    v: 1,
    id: `vd-${tag}-${n}`,
    messageId: `${tag}-${n}`,
    kind: "traffic",
    receivedAt: now,
    scoredAt: now,
    source: `+86139${String(n % 5000).padStart(8, "0")}`,
    destination: `+86138${String(n).padStart(8, "0")}`,
    score: (n % 100) / 100,
    label: n % 4 === 0 ? "spam" : "ham",
    category: n % 4 === 0 ? "fraud" : null,
    action: n % 4 === 0 ? "block" : "allow",
    contributions: [{ source: "rule", id: "fraud.prize", score: 0.4, category: "fraud", detail: "中奖" }],
    campaignId: n % 10 === 0 ? `c${n % 13}` : null,
    rulesetVersion: "bench",
    modelVersion: "bench",
    timingsUs: { rules: 10, model: 40 },
  };
}

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

interface Flush {
  at: number;
  rows: number;
}

async function main(): Promise<void> {
  const kafka = createKafkaClient({ brokers, clientId: "bench-sink", logger });
  await ensureTopics({ kafka, names: topics, partitions: config.KAFKA_PARTITIONS, logger });
  await migrateDatabase({ url: clickhouseUrl, logger }, run, MIGRATIONS);
  const ch = createClickHouse({ url: clickhouseUrl, database: run, logger });
  const producer = new BatchingProducer({ kafka, logger, lingerMs: 5, maxBatchMessages: 5_000, maxQueuedMessages: 500_000 });
  await producer.connect();
  const Count = z.object({ n: z.coerce.number() });
  const count = async () => (await ch.query(sql`SELECT count() AS n FROM verdicts_dedup`, Count))[0]?.n ?? 0;

  // 1. Backlog: ROWS verdicts on the topic before the sink starts.
  out(`sink benchmark: ${ROWS} verdicts backlog, then ${PHASE_S} s idle probes, then ${PHASE_S} s at ${LOAD_RATE}/s with probes (partitions ${config.KAFKA_PARTITIONS})`);
  for (let i = 0; i < ROWS; i += 5_000) {
    await producer.sendMany(Array.from({ length: Math.min(5_000, ROWS - i) }, (_, k) => ({ topic: topics.verdicts, key: `k${i + k}`, value: verdict(i + k, "bl") })));
  }

  // The sink runs as its own process, as in production; its debug log reports every insert.
  const flushes: Flush[] = [];
  const child = spawn(process.execPath, [SINK], {
    env: {
      ...process.env,
      KAFKA_BROKERS: brokers.join(","),
      CLICKHOUSE_URL: clickhouseUrl,
      CLICKHOUSE_DATABASE: run,
      TOPIC_PREFIX: prefix,
      SINK_TOPICS: "verdicts",
      LOG_LEVEL: "debug",
    },
    stdio: ["ignore", "pipe", "inherit"],
  });
  createInterface({ input: child.stdout! }).on("line", (line) => {
    if (!line.includes('"msg":"inserted"')) return;
    const rec = JSON.parse(line) as { rows: number; table: string; time: number };
    // Attributed to phases by the sink's own timestamp: a busy pipe may deliver lines late.
    if (rec.table === "verdicts") flushes.push({ at: rec.time, rows: rec.rows });
  });
  const t0 = Date.now();
  while ((await count()) < ROWS) await sleep(100);
  const backlogS = (Date.now() - t0) / 1000;
  await sleep(500);
  const backlogFlushes = flushes.filter((f) => f.at <= t0 + backlogS * 1000);
  const rowsPerInsert = backlogFlushes.map((f) => f.rows).sort((a, b) => a - b);
  out(`backlog: ${ROWS} rows visible in ${backlogS.toFixed(1)} s (incl. consumer join) → ${Math.round(ROWS / backlogS)} rows/s; ` +
    `${backlogFlushes.length} inserts, rows/insert median ${pct(rowsPerInsert, 50)} max ${rowsPerInsert.at(-1)}`);

  // 2/3. Time to visibility: probe verdicts; a poller looks for them every 20 ms.
  async function probePhase(label: string, rate: number): Promise<void> {
    const pending = new Map<string, number>();
    const latencies: number[] = [];
    let stop = false;
    const poller = (async () => {
      while (!stop || pending.size > 0) {
        if (pending.size > 0) {
          const ids = [...pending.keys()];
          const rows = await ch.query(sql`SELECT id FROM verdicts WHERE id IN (${join(ids.map((id) => v.string(id)), ", ")})`, z.object({ id: z.string() }));
          const now = Date.now();
          for (const r of rows) {
            const sent = pending.get(r.id);
            if (sent !== undefined) {
              latencies.push(now - sent);
              pending.delete(r.id);
            }
          }
        }
        await sleep(20);
      }
    })();
    const loadStart = Date.now();
    let loadSent = 0;
    const load = (async () => {
      if (rate <= 0) return;
      while (!stop) {
        const due = Math.floor(((Date.now() - loadStart) / 1000) * rate) - loadSent;
        if (due > 0) {
          const batch = Array.from({ length: due }, (_, k) => loadSent + k);
          loadSent += due;
          await producer.sendMany(batch.map((n) => ({ topic: topics.verdicts, key: `l${n}`, value: verdict(n, `load-${label}`) })));
        }
        await sleep(10);
      }
    })();
    const phaseStart = Date.now();
    const end = Date.now() + PHASE_S * 1000;
    let n = 0;
    while (Date.now() < end) {
      const id = `probe-${label}-${n}`;
      const vd = { ...verdict(n++, `probe-${label}`), id };
      await producer.send({ topic: topics.verdicts, key: id, value: vd });
      pending.set(id, Date.now()); // from the broker's ack: the verdict is published
      await sleep(100);
    }
    stop = true;
    await load;
    const deadline = Date.now() + 30_000;
    while (pending.size > 0 && Date.now() < deadline) await sleep(50);
    stop = true;
    await poller;
    await sleep(500);
    const phaseFlushes = flushes.filter((f) => f.at >= phaseStart && f.at <= end);
    const sorted = latencies.sort((a, b) => a - b);
    const rows = phaseFlushes.reduce((s, f) => s + f.rows, 0);
    out(
      `${label}: ${sorted.length} probes, publish→visible p50 ${pct(sorted, 50)} ms, p99 ${pct(sorted, 99)} ms, max ${sorted.at(-1)} ms; ` +
        `${(phaseFlushes.length / PHASE_S).toFixed(1)} inserts/s, ${phaseFlushes.length ? Math.round(rows / phaseFlushes.length) : 0} rows/insert, ` +
        `${Math.round(rows / PHASE_S)} rows/s${rate > 0 ? ` (offered ${rate}/s)` : ""}`,
    );
  }
  await probePhase("idle", 0);
  await probePhase("load", LOAD_RATE);

  child.kill("SIGTERM");
  await new Promise((r) => child.once("exit", r));
  await producer.disconnect();
  await ch.command(sql`DROP DATABASE IF EXISTS ${ident(run)}`);
  await ch.close();
}

main().catch((err: unknown) => {
  process.stderr.write(`sink benchmark failed: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
