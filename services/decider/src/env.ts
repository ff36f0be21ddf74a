import { z } from "zod";
import { enforceProduction, envSchemas, parseEnv } from "@spam/service-runtime";

const deciderEnvShape = {
  KAFKA_BROKERS: envSchemas.brokers,
  TOPIC_PREFIX: z.string().default(""),
  CONSUMER_GROUP: z.string().min(1).default("decider"),
  /** Review labels are read by every instance (its own group); each acts on the cases it owns. */
  INSTANCE_ID: z.string().regex(/^[A-Za-z0-9_.-]+$/).default("0"),
  CLICKHOUSE_URL: z.string().url(),
  CLICKHOUSE_DATABASE: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/).default("spam"),
  /**
   * The restricted contact store (reporters' numbers): its own database, and in production its own
   * ClickHouse user (credentials in the URL). Defaults: CLICKHOUSE_URL and `<CLICKHOUSE_DATABASE>_restricted`.
   */
  CLICKHOUSE_RESTRICTED_URL: z.string().url().optional(),
  CLICKHOUSE_RESTRICTED_DATABASE: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/).optional(),
  POLICY_FILE: z.string().optional(),
  REPLY_TEMPLATES: z.string().optional(),
  LOG_LEVEL: envSchemas.logLevel.default("info"),
  /**
   * Campaign feedback to the scorers (campaign-counts.ts): every this many ms, publish the changed exact
   * senders and reports of the recently active campaigns from ClickHouse to the compacted campaign-counts
   * topic; 0 = off. Run it on one decider instance only.
   */
  CAMPAIGN_COUNTS_INTERVAL_MS: z.coerce.number().int().min(0).max(3_600_000).default(5_000),
  /** Every this many seconds, a sweep instead: all counts of every active campaign, tombstones for the others. */
  CAMPAIGN_COUNTS_SWEEP_SECONDS: z.coerce.number().int().positive().max(86_400).default(60),
  /**
   * A campaign is active (published) with at least CAMPAIGN_COUNTS_MIN_SENDERS senders or a report among the
   * verdicts of this many seconds; its counts cover the whole hours the window overlaps (hourly aggregates).
   */
  CAMPAIGN_COUNTS_WINDOW_SECONDS: z.coerce.number().int().positive().max(86_400).default(600),
  /** Fewer distinct senders and no report: not published (most ham texts are one-sender campaigns). */
  CAMPAIGN_COUNTS_MIN_SENDERS: z.coerce.number().int().positive().default(2),
  /** At most this many campaigns are published (most senders first). */
  CAMPAIGN_COUNTS_MAX: z.coerce.number().int().positive().max(1_000_000).default(20_000),
  /**
   * Reports of a batch verified at once: their lookups go to ClickHouse together, one query each kind
   * (src/verify.ts); decisions still go one by one.
   */
  DECIDER_LOOKUP_CONCURRENCY: z.coerce.number().int().min(1).max(256).default(64),
  /**
   * The broker holds a fetch of reports until this many bytes or the wait below: each batch costs two
   * ClickHouse queries whatever its size, so reports arriving one by one should not be fetched one by one.
   * The wait is added to a lone report's acknowledgement at most.
   */
  DECIDER_REPORT_FETCH_MIN_BYTES: z.coerce.number().int().min(1).max(16 * 1024 * 1024).default(64 * 1024),
  DECIDER_REPORT_FETCH_MAX_WAIT_MS: z.coerce.number().int().min(1).max(5_000).default(100),
  /** /healthz, /readyz, /metrics; 0 = off. */
  METRICS_PORT: z.coerce.number().int().min(0).max(65_535).default(0),
  METRICS_HOST: envSchemas.metricsHost,
};

export function loadDeciderEnv(env: NodeJS.ProcessEnv = process.env) {
  return enforceProduction("decider", parseEnv(deciderEnvShape, env), env, { required: ["CLICKHOUSE_RESTRICTED_URL"] });
}
export type DeciderEnv = ReturnType<typeof loadDeciderEnv>;
