import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { afterAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { createClickHouse, migrateDatabase, sql, type ClickHouse } from "@spam/clickhouse";
import { topicNames, type Verdict } from "@spam/contracts";
import { BatchingProducer, createKafkaClient, ensureTopics } from "@spam/kafka";
import { freePort, loadLocalConfig, startClickHouse, stopServer } from "@spam/infra-local";
import { TableBatcher, type SinkRow } from "./batcher.js";
import { loadSinkEnv } from "./env.js";
import { repoPath } from "@spam/repo-paths";
import { createSink } from "./main.js";
import { trafficRows, verdictRow } from "./rows.js";

// Against the real broker and ClickHouse 18.16 started by the global setup.
const brokers = process.env.KAFKA_BROKERS?.split(",");
const clickhouseUrl = process.env.CLICKHOUSE_URL;
const runId = process.env.TEST_RUN_ID ?? "local";
const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? "silent" });
const MIGRATIONS = repoPath("infra/clickhouse/migrations");
const SINK_MAIN = repoPath("services/sink/dist/main.js");
const Count = z.object({ n: z.coerce.number() });

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return;
    await sleep(200);
  }
  throw new Error(`timed out waiting for ${what}`);
}

// Deterministic per (n, tag), as a redelivered verdict is byte-for-byte the same record.
const BASE = Date.now();
function verdict(n: number, tag: string): Verdict {
  const now = BASE + n;
  return {
    v: 1,
    id: `vd-${tag}-${n}`,
    messageId: `${tag}-${n}`,
    kind: "traffic",
    receivedAt: now,
    scoredAt: now,
    source: `+86139${String(n % 1000).padStart(8, "0")}`,
    destination: `+86138${String(n).padStart(8, "0")}`,
    score: (n % 100) / 100,
    label: n % 3 === 0 ? "spam" : "ham",
    category: n % 3 === 0 ? "fraud" : null,
    action: n % 3 === 0 ? "block" : "allow",
    contributions: [{ source: "rule", id: "kw-prize", score: 0.5, category: "fraud", detail: null }],
    campaignId: n % 5 === 0 ? `c${n % 7}` : null,
    rulesetVersion: "r1",
    modelVersion: "m1",
    timingsUs: { rules: 12 },
  };
}

async function count(ch: ClickHouse, query: ReturnType<typeof sql>): Promise<number> {
  const rows = await ch.query(query, Count);
  return rows[0]?.n ?? 0;
}

async function setupDatabase(url: string, database: string): Promise<ClickHouse> {
  await migrateDatabase({ url, logger }, database, MIGRATIONS);
  const ch = createClickHouse({ url, database, logger });
  return ch;
}

describe.skipIf(!brokers || !clickhouseUrl)("sink against the real broker and ClickHouse", () => {
  const kafka = createKafkaClient({ brokers: brokers!, clientId: "sink-it", logger });
  const producer = new BatchingProducer({ kafka, logger, lingerMs: 5, maxBatchMessages: 2_000, maxQueuedMessages: 200_000 });
  const children: ChildProcess[] = [];
  afterAll(async () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
    await producer.disconnect().catch(() => undefined);
  });
  /** This run's own topics for one test (prefix `<run>.sink<name>.`), created, with the producer connected. */
  const freshTopics = async (name: string, partitions: number) => {
    const prefix = `${runId}.sink${name}.`;
    const topics = topicNames(prefix);
    await ensureTopics({ kafka, names: topics, partitions, logger });
    await producer.connect();
    return { prefix, topics };
  };

  it("SIGKILL mid-batch and restart: every verdict exactly once in the deduplicated views", async () => {
    const { prefix, topics } = await freshTopics("kill", 3);
    const database = `sink_kill_${runId}`;
    const ch = await setupDatabase(clickhouseUrl!, database);
    const N = 30_000;
    // Produced in waves while the sink runs, so the kill lands between and inside inserts.
    const producing = (async () => {
      for (let i = 0; i < N; i += 1_000) {
        await producer.sendMany(Array.from({ length: 1_000 }, (_, k) => ({ topic: topics.verdicts, key: `k${i + k}`, value: verdict(i + k, "kill") })));
        await sleep(100);
      }
    })();
    const env = {
      ...process.env,
      KAFKA_BROKERS: brokers!.join(","),
      TOPIC_PREFIX: prefix,
      CLICKHOUSE_URL: clickhouseUrl!,
      CLICKHOUSE_DATABASE: database,
      SINK_TOPICS: "verdicts",
      SINK_MAX_ROWS: "2000",
      LOG_LEVEL: "warn",
    };
    const startSink = () => {
      const child = spawn(process.execPath, [SINK_MAIN], { env, stdio: ["ignore", "ignore", "inherit"] });
      children.push(child);
      return child;
    };
    const first = startSink();
    await until(async () => (await count(ch, sql`SELECT count() AS n FROM verdicts`)) >= 3_000, 60_000, "first inserts");
    first.kill("SIGKILL");
    await new Promise((r) => first.once("exit", r));
    const atKill = await count(ch, sql`SELECT count() AS n FROM verdicts`);
    expect(atKill).toBeLessThan(N);
    await producing;
    const second = startSink();
    await until(async () => (await count(ch, sql`SELECT count() AS n FROM verdicts_dedup WHERE id LIKE 'vd-kill-%'`)) >= N, 90_000, "all verdicts after restart");
    second.kill("SIGTERM");
    await new Promise((r) => second.once("exit", r));
    expect(second.exitCode).toBe(0);
    // The sink sets inserted_at: 18.16 would store 0000-00-00 for the omitted column, not its DEFAULT now().
    expect(await count(ch, sql`SELECT count() AS n FROM verdicts WHERE inserted_at = toDateTime(0)`)).toBe(0);

    // A kill between insert and commit redelivers rows; the window is short, so the same
    // redelivery is also forced here: the views must not count it.
    await ch.insert("verdicts", Array.from({ length: 2_000 }, (_, n) => verdictRow(verdict(n * 7, "kill"))));
    const raw = await count(ch, sql`SELECT count() AS n FROM verdicts`);
    const dedup = await count(ch, sql`SELECT count() AS n FROM verdicts_dedup`);
    const distinct = await count(ch, sql`SELECT uniqExact(id) AS n FROM verdicts`);
    const hourly = await count(ch, sql`SELECT sum(verdicts) AS n FROM verdict_counts_hourly`);
    const daily = await count(ch, sql`SELECT sum(verdicts) AS n FROM verdict_counts_daily`);
    const spamDaily = await count(ch, sql`SELECT sum(verdicts) AS n FROM verdict_counts_daily WHERE label = 'spam'`);
    const campaignMessages = await count(ch, sql`SELECT sum(messages) AS n FROM campaigns`);
    logger.info({ raw, dedup, atKill }, "kill test");
    process.stderr.write(`[sink kill test] rows at kill ${atKill}, raw rows ${raw} (duplicates from redelivery ${raw - N}), dedup ${dedup}\n`);
    expect(raw).toBeGreaterThanOrEqual(N + 2_000);
    expect(dedup).toBe(N);
    expect(distinct).toBe(N);
    expect(hourly).toBe(N);
    expect(daily).toBe(N);
    expect(spamDaily).toBe(Array.from({ length: N }, (_, n) => n).filter((n) => n % 3 === 0).length);
    expect(campaignMessages).toBe(Array.from({ length: N }, (_, n) => n).filter((n) => n % 5 === 0).length);
    await ch.close();
  }, 240_000);

  it("ClickHouse stopped for 30 s under load: nothing lost, consumption paused, memory bounded, backlog drains", async () => {
    const { prefix, topics } = await freshTopics("chdown", 3);
    const database = `sink_down_${runId}`;
    // A private ClickHouse on its own ports and data dir: the shared server other tests use keeps running.
    const dir = mkdtempSync(join(tmpdir(), "sink-ch-"));
    // Ports the OS says are free: a random pick in 30,000–35,000 lies in the ephemeral range, where a
    // client socket can hold it, and ClickHouse then never came up (a clean-clone run, 2026-11-24).
    const httpPort = await freePort();
    let tcpPort = await freePort();
    while (tcpPort === httpPort) tcpPort = await freePort();
    const config = loadLocalConfig({ ...process.env, LOCAL_DIR: dir, CLICKHOUSE_HTTP_PORT: String(httpPort), CLICKHOUSE_TCP_PORT: String(tcpPort) });
    try {
      await startClickHouse(config, logger);
      const ch = await setupDatabase(config.clickhouseUrl, database);
      const env = loadSinkEnv({
        KAFKA_BROKERS: brokers!.join(","),
        TOPIC_PREFIX: prefix,
        CLICKHOUSE_URL: config.clickhouseUrl,
        CLICKHOUSE_DATABASE: database,
        SINK_TOPICS: "verdicts",
        SINK_RETRY_MAX_MS: "2000",
        // Memory bound = the records read ahead, and partitions × this (a verdict is ~600 bytes: ~1,700 rows per partition).
        SINK_FETCH_MAX_BYTES_PER_PARTITION: String(1024 * 1024),
        SINK_MAX_BUFFERED_RECORDS: "6000",
        LOG_LEVEL: "silent",
      });
      const sink = createSink(env, logger);
      await sink.start();

      const RATE = 2_000; // verdicts per second
      const SECONDS = 45;
      let produced = 0;
      let maxPending = 0;
      let sawPaused = false;
      const heapBefore = process.memoryUsage().heapUsed;
      let maxHeap = heapBefore;
      const sampler = setInterval(() => {
        maxPending = Math.max(maxPending, sink.pendingRows());
        sawPaused ||= sink.paused();
        maxHeap = Math.max(maxHeap, process.memoryUsage().heapUsed);
      }, 50);
      const producing = (async () => {
        for (let s = 0; s < SECONDS * 10; s++) {
          const t0 = Date.now();
          const batch = Array.from({ length: RATE / 10 }, (_, k) => produced + k);
          produced += batch.length;
          await producer.sendMany(batch.map((n) => ({ topic: topics.verdicts, key: `k${n}`, value: verdict(n, "down") })));
          await sleep(Math.max(0, 100 - (Date.now() - t0)));
        }
      })();
      await sleep(5_000);
      await stopServer(config, "clickhouse");
      const stoppedAt = Date.now();
      await sleep(30_000);
      await startClickHouse(config, logger);
      const restartedAt = Date.now();
      await producing;
      await until(async () => (await count(ch, sql`SELECT count() AS n FROM verdicts_dedup`)) >= produced, 90_000, "backlog drained");
      const drainedAt = Date.now();
      clearInterval(sampler);
      await sink.stop();
      const dedup = await count(ch, sql`SELECT count() AS n FROM verdicts_dedup`);
      const hourly = await count(ch, sql`SELECT sum(verdicts) AS n FROM verdict_counts_hourly`);
      process.stderr.write(
        `[sink outage test] produced ${produced}, outage ${Math.round((restartedAt - stoppedAt) / 1000)} s, drained ${((drainedAt - restartedAt) / 1000).toFixed(1)} s after restart, ` +
          `max rows buffered ${maxPending}, heap growth ${((maxHeap - heapBefore) / 1e6).toFixed(0)} MB\n`,
      );
      expect(sawPaused).toBe(true);
      expect(dedup).toBe(produced);
      expect(hourly).toBe(produced);
      // 60,000 verdicts arrived during the outage; the sink held only what it had read ahead.
      expect(maxPending).toBeLessThan(12_000);
      await ch.close();
    } finally {
      await stopServer(config, "clickhouse");
      rmSync(dir, { recursive: true, force: true });
    }
  }, 240_000);

  it("a fetch of a backlog larger than the old 2,048-record read-ahead becomes one insert, not one per 2,048", async () => {
    const { prefix, topics } = await freshTopics("fetch", 1);
    const database = `sink_fetch_${runId}`;
    const ch = await setupDatabase(clickhouseUrl!, database);
    // The backlog is on the topic before the sink starts, so its first fetch brings all of it.
    const N = 6_000;
    await producer.sendMany(Array.from({ length: N }, (_, n) => ({ topic: topics.verdicts, key: `k${n}`, value: verdict(n, "fetch") })));
    const sink = createSink(
      loadSinkEnv({ KAFKA_BROKERS: brokers!.join(","), TOPIC_PREFIX: prefix, CLICKHOUSE_URL: clickhouseUrl!, CLICKHOUSE_DATABASE: database, SINK_TOPICS: "verdicts", LOG_LEVEL: "silent" }),
      logger,
    );
    await sink.start();
    try {
      await until(async () => (await count(ch, sql`SELECT count() AS n FROM verdicts`)) >= N, 60_000, "the backlog inserted");
    } finally {
      await sink.stop();
    }
    const stats = sink.stats()["verdicts"]!;
    expect(stats.rows).toBe(N);
    expect(stats.maxRowsPerInsert).toBeGreaterThan(2_048);
    expect(stats.inserts).toBeLessThanOrEqual(2);
    await ch.close();
  }, 120_000);

  it("rows the real server rejects are bisected out and the rest is stored", async () => {
    const database = `sink_reject_${runId}`;
    const ch = await setupDatabase(clickhouseUrl!, database);
    const rejected: SinkRow[] = [];
    const errors: string[] = [];
    const batcher = new TableBatcher({
      table: "traffic_raw",
      insert: (t, r) => ch.insert(t, r),
      logger,
      maxRows: 1_000,
      lingerMs: 10,
      retryInitialMs: 10,
      retryMaxMs: 100,
      onRejected: async (r, e) => {
        rejected.push(...r);
        errors.push(e);
      },
    });
    const good = Array.from({ length: 9 }, (_, i) =>
      trafficRows({ v: 1, id: `m${i}`, receivedAt: Date.now(), gatewayId: "g", account: "a", source: "1", destination: "2", text: "t'\\\n", dataCoding: 8, parts: 1, partial: false })[0]!.row,
    );
    const bad = { ...good[0]!, id: "bad", data_coding: -1 };
    const rows = [...good.slice(0, 4), bad, ...good.slice(4)].map((row, i) => ({ row, origin: { topic: "x", partition: 0, offset: String(i), key: null, value: row } }));
    await batcher.add(rows);
    expect(rejected.map((r) => r.row["id"])).toEqual(["bad"]);
    expect(errors[0]).toMatch(/Code: 72/);
    expect(await count(ch, sql`SELECT count() AS n FROM traffic_raw_dedup`)).toBe(9);
    await ch.close();
  });
});
