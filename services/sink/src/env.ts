import { z } from "zod";
import { envSchemas, parseEnv } from "@spam/service-runtime";

export const sinkEnvShape = {
  KAFKA_BROKERS: envSchemas.brokers,
  TOPIC_PREFIX: z.string().default(""),
  CONSUMER_GROUP: z.string().min(1).default("verdict-sink"),
  CLICKHOUSE_URL: z.string().url(),
  CLICKHOUSE_DATABASE: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/).default("spam"),
  /** The broker holds a fetch until this many bytes or the wait below: fewer, larger inserts. */
  SINK_FETCH_MIN_BYTES: z.coerce.number().int().min(1).default(256 * 1024),
  SINK_FETCH_MAX_WAIT_MS: z.coerce.number().int().min(1).max(5_000).default(500),
  LOG_LEVEL: envSchemas.logLevel.default("info"),
  /** /healthz, /readyz, /metrics; 0 = off (9466 in `npm start` and the benchmarks). */
  METRICS_PORT: z.coerce.number().int().min(0).max(65_535).default(0),
};

export function loadSinkEnv(env: NodeJS.ProcessEnv = process.env) {
  return parseEnv(sinkEnvShape, env);
}
export type SinkEnv = ReturnType<typeof loadSinkEnv>;
