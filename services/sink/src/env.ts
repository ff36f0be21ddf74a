import { z } from "zod";
import { enforceProduction, envSchemas, parseEnv } from "@spam/service-runtime";

const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

const sinkEnvShape = {
  KAFKA_BROKERS: envSchemas.brokers,
  TOPIC_PREFIX: z.string().default(""),
  /** Each topic is consumed by its own group `<TOPIC_PREFIX><CONSUMER_GROUP>.<topic key>`. */
  CONSUMER_GROUP: z.string().min(1).default("sink"),
  CLICKHOUSE_URL: z.string().url(),
  CLICKHOUSE_DATABASE: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/).default("spam"),
  /**
   * The restricted contact store (reporters' numbers): its own database, and in production its own
   * ClickHouse user (credentials in the URL). Defaults: CLICKHOUSE_URL and `<CLICKHOUSE_DATABASE>_restricted`.
   */
  CLICKHOUSE_RESTRICTED_URL: z.string().url().optional(),
  CLICKHOUSE_RESTRICTED_DATABASE: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/).optional(),
  /**
   * The broker holds a fetch until this many bytes or the wait below, and one
   * fetch makes about one insert per table. Every insert is a new part per table
   * (and per materialized view) that ClickHouse writes and later merges: on
   * 18.16, 1,250-row inserts cost it two to three times the CPU a row of
   * 5,000-row ones do. So at up to ~10,000 msg/s the wait sets the insert size,
   * and it bounds the time to visibility (wait + linger + insert, within 2 s).
   */
  SINK_FETCH_MIN_BYTES: int(1, 64 * 1024 * 1024).default(8 * 1024 * 1024),
  SINK_FETCH_MAX_WAIT_MS: int(1, 5_000).default(1_000),
  /** Per partition and per fetch: what one consumer may hold while an insert is retried. */
  SINK_FETCH_MAX_BYTES_PER_PARTITION: int(1024, 256 * 1024 * 1024).default(8 * 1024 * 1024),
  /**
   * Records a consumer reads ahead and hands over at once. It must hold one whole fetch
   * (a second of verdicts at 5,000/s is 5,000 records): with less, one fetch becomes several
   * inserts in turn, each a part per table to merge.
   */
  SINK_MAX_BUFFERED_RECORDS: int(1, 1_000_000).default(20_000),
  /** An insert goes out at once at this many rows. */
  SINK_MAX_ROWS: int(1, 1_000_000).default(100_000),
  /** Gather window for the batches of one fetch across partitions and topics. */
  SINK_LINGER_MS: int(1, 60_000).default(100),
  SINK_RETRY_INITIAL_MS: int(1, 60_000).default(200),
  SINK_RETRY_MAX_MS: int(1, 300_000).default(5_000),
  /** Partition batches handled at once per consumer; they share one insert per table. */
  SINK_PARTITIONS_CONCURRENCY: int(1, 256).default(16),
  /** On SIGTERM, buffered rows get this long to be inserted before the sink gives up (they are refetched). */
  SINK_STOP_GRACE_MS: int(0, 120_000).default(10_000),
  /** Comma-separated topic keys to consume; default all record topics. */
  SINK_TOPICS: z.string().optional(),
  LOG_LEVEL: envSchemas.logLevel.default("info"),
  /** /healthz, /readyz, /metrics; 0 = off (9466 in `npm start` and the benchmarks). */
  METRICS_PORT: z.coerce.number().int().min(0).max(65_535).default(0),
  METRICS_HOST: envSchemas.metricsHost,
};

export function loadSinkEnv(env: NodeJS.ProcessEnv = process.env) {
  return enforceProduction("sink", parseEnv(sinkEnvShape, env), env, { required: ["CLICKHOUSE_RESTRICTED_URL"] });
}
export type SinkEnv = ReturnType<typeof loadSinkEnv>;
