import type { Logger } from "pino";
import { createClickHouse, restrictedDatabase } from "@spam/clickhouse";
import { topicNames, type DeadLetter } from "@spam/contracts";
import { BatchingProducer, buildDeadLetter, consumerGroup, createKafkaClient, deadLetterKey, SchemaConsumer, type BatchContext } from "@spam/kafka";
import { createServiceMetrics, instrumentConsumer, ObservabilityServer } from "@spam/observability";
import { createServiceLogger, loadEnvOrExit, runService, type ServiceHandle } from "@spam/service-runtime";
import { TableBatcher, type FlushInfo, type InsertFn, type SinkRow } from "./batcher.js";
import { loadSinkEnv, type SinkEnv } from "./env.js";
import { SINK_ROUTES, type Route } from "./routes.js";
import { rowsForInsert } from "./rows.js";

interface TableStats {
  inserts: number;
  rows: number;
  rejected: number;
  maxRowsPerInsert: number;
  retries: number;
}

export interface Sink extends ServiceHandle {
  /** Per-table insert counters since start (for the benchmark and logs). */
  stats(): Readonly<Record<string, TableStats>>;
  /** Rows buffered or in flight across all tables. */
  pendingRows(): number;
  paused(): boolean;
}

export interface SinkDeps {
  /** Replaces the ClickHouse insert (tests inject failures). */
  readonly insert?: InsertFn;
}

/** Tables of the restricted contact store (rows.ts names them; they live in the restricted database). */
function isRestrictedTable(table: string): boolean {
  return table.startsWith("restricted_");
}

/** Waits for `work`, sending a heartbeat every few seconds so a long ClickHouse outage does not cost the group membership. */
async function withHeartbeats(work: Promise<void>, context: BatchContext, everyMs = 3_000): Promise<void> {
  let done = false;
  const finished = work.finally(() => {
    done = true;
  });
  while (!done) {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([finished.catch(() => undefined), new Promise<void>((r) => (timer = setTimeout(r, everyMs)))]);
    clearTimeout(timer);
    if (!done) await context.heartbeat().catch(() => undefined);
  }
  await finished;
}

/** Composition root of the sink: every record topic → its ClickHouse tables. */
export function createSink(env: SinkEnv, logger: Logger, deps: SinkDeps = {}): Sink {
  const topics = topicNames(env.TOPIC_PREFIX);
  const kafka = createKafkaClient({ brokers: env.KAFKA_BROKERS, clientId: "sink", logger });
  const ch = createClickHouse({ url: env.CLICKHOUSE_URL, database: env.CLICKHOUSE_DATABASE, logger, requestTimeoutMs: 10_000 });
  // Reporters' numbers go to the restricted store, through the only credentials that can reach it.
  const restricted = createClickHouse({
    url: env.CLICKHOUSE_RESTRICTED_URL ?? env.CLICKHOUSE_URL,
    database: env.CLICKHOUSE_RESTRICTED_DATABASE ?? restrictedDatabase(env.CLICKHOUSE_DATABASE),
    logger,
    requestTimeoutMs: 10_000,
  });
  const store: InsertFn = deps.insert ?? ((table, rows) => (isRestrictedTable(table) ? restricted : ch).insert(table, rows));
  const insert: InsertFn = (table, rows) => store(table, rowsForInsert(rows, Date.now()));
  const producer = new BatchingProducer({ kafka, logger, lingerMs: 5 });
  const wanted = env.SINK_TOPICS ? new Set(env.SINK_TOPICS.split(",").map((s) => s.trim())) : null;
  const routes = SINK_ROUTES.filter((r) => !wanted || wanted.has(r.key));

  const metrics = createServiceMetrics({ service: "sink" });
  let consuming = false;
  const stats: Record<string, TableStats> = {};
  const unhealthyTables = new Set<string>();
  let isPaused = false;
  const consumers: SchemaConsumer<unknown>[] = [];

  const setPaused = (pause: boolean) => {
    if (pause === isPaused) return;
    isPaused = pause;
    logger.warn({ pause, tables: [...unhealthyTables] }, pause ? "ClickHouse inserts failing: pausing consumption" : "ClickHouse inserts succeed again: resuming");
    for (const c of consumers) {
      try {
        if (pause) c.pause();
        else c.resume();
      } catch (err) {
        logger.warn({ err }, "pause/resume failed");
      }
    }
  };

  const deadLetter = async (rows: readonly SinkRow[], error: string) => {
    const letters: DeadLetter[] = rows
      .filter((r) => r.origin.topic !== topics.deadLetter) // never loop on our own dead letters
      .map((r) => buildDeadLetter({ ...r.origin, value: Buffer.from(JSON.stringify(r.origin.value)), error, service: "sink" }));
    if (letters.length < rows.length) logger.error({ rows: rows.length - letters.length, error }, "dead_letters row rejected; logged only");
    await producer.sendMany(letters.map((d) => ({ topic: topics.deadLetter, key: deadLetterKey(d), value: d })));
  };

  const batchers = new Map<string, TableBatcher>();
  const batcherFor = (table: string): TableBatcher => {
    let b = batchers.get(table);
    if (b) return b;
    stats[table] = { inserts: 0, rows: 0, rejected: 0, maxRowsPerInsert: 0, retries: 0 };
    b = new TableBatcher({
      table,
      insert,
      logger,
      maxRows: env.SINK_MAX_ROWS,
      lingerMs: env.SINK_LINGER_MS,
      retryInitialMs: env.SINK_RETRY_INITIAL_MS,
      retryMaxMs: env.SINK_RETRY_MAX_MS,
      onRejected: deadLetter,
      onUnhealthy: (unhealthy) => {
        if (unhealthy) {
          unhealthyTables.add(table);
          metrics.recordError("clickhouse_insert");
        }
        else unhealthyTables.delete(table);
        setPaused(unhealthyTables.size > 0);
      },
      onFlush: (info: FlushInfo) => {
        const s = stats[table]!;
        s.inserts++;
        s.rows += info.rows;
        s.rejected += info.rejected;
        s.retries += info.attempts - 1;
        s.maxRowsPerInsert = Math.max(s.maxRowsPerInsert, info.rows);
        metrics.recordOut(`clickhouse.${table}`, info.rows - info.rejected);
        logger.debug(info, "inserted");
      },
    });
    batchers.set(table, b);
    return b;
  };

  for (const r of routes) {
    const rt = r as unknown as Route<unknown>;
    consumers.push(
      new SchemaConsumer<unknown>({
        kafka,
        logger,
        // The prefix keeps a test run's (or tenant's) group apart from every other on the broker.
        groupId: consumerGroup(env.TOPIC_PREFIX, env.CONSUMER_GROUP, rt.key),
        topics: [topics[rt.key]],
        schema: rt.schema,
        deadLetter: { producer, topic: topics.deadLetter, service: "sink" },
        fetchMinBytes: Math.min(env.SINK_FETCH_MIN_BYTES, env.SINK_FETCH_MAX_BYTES_PER_PARTITION * 4),
        fetchMaxWaitMs: env.SINK_FETCH_MAX_WAIT_MS,
        fetchMaxBytesPerPartition: env.SINK_FETCH_MAX_BYTES_PER_PARTITION,
        fetchMaxBytes: env.SINK_FETCH_MAX_BYTES_PER_PARTITION * 4,
        partitionsConsumedConcurrently: env.SINK_PARTITIONS_CONCURRENCY,
        maxBufferedRecords: env.SINK_MAX_BUFFERED_RECORDS,
        // The consumer commits this batch's offsets only after every row is in ClickHouse.
        handleBatch: async (messages, context) => {
          const byTable = new Map<string, SinkRow[]>();
          for (const m of messages) {
            for (const { table, row } of rt.rows(m)) {
              let list = byTable.get(table);
              if (!list) byTable.set(table, (list = []));
              list.push({ row, origin: { topic: m.topic, partition: m.partition, offset: m.offset, key: m.key, value: m.value } });
            }
          }
          await withHeartbeats(Promise.all([...byTable].map(([table, rows]) => batcherFor(table).add(rows))).then(() => undefined), context);
          if (rt.key === "verdicts") {
            // The broker timestamp is when the verdict was published; the insert returning is when it is visible.
            const now = Date.now();
            for (const m of messages) metrics.observeStageSince("verdict_to_visible_clickhouse", m.timestamp, now);
          }
        },
      }),
    );
  }
  for (const c of consumers) instrumentConsumer(c, metrics);
  const http = env.METRICS_PORT > 0 ? new ObservabilityServer({ metrics, logger, host: env.METRICS_HOST, port: env.METRICS_PORT }) : null;
  http?.addReadinessCheck("kafka_consumer", () => consuming);

  return {
    async start() {
      await http?.listen();
      await producer.connect();
      // Consumers start one by one: joins are cheap; failing fast on the first is clearer.
      for (const c of consumers) await c.start();
      consuming = true;
      logger.info({ topics: routes.map((r) => topics[r.key]) }, "sink consuming");
    },
    async stop() {
      consuming = false;
      await http?.close();
      const grace = setTimeout(() => {
        logger.warn("buffered rows not inserted within the grace period; leaving them to be refetched");
        for (const b of batchers.values()) b.stop();
      }, env.SINK_STOP_GRACE_MS);
      try {
        await Promise.all(consumers.map((c) => c.stop()));
      } finally {
        clearTimeout(grace);
        for (const b of batchers.values()) b.stop();
      }
      await producer.disconnect();
      await ch.close();
      await restricted.close();
    },
    stats: () => stats,
    pendingRows: () => [...batchers.values()].reduce((n, b) => n + b.pendingRows, 0),
    paused: () => isPaused,
  };
}

const isMain = import.meta.url === `file://${process.argv[1]}`;
if (isMain) {
  const env = loadEnvOrExit("sink", () => loadSinkEnv());
  const logger = createServiceLogger("sink", env.LOG_LEVEL);
  runService("sink", logger, () => createSink(env, logger));
}
