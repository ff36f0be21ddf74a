import { z } from "zod";
import { EnvError, enforceProduction, parseEnv as parseServiceEnv } from "@spam/service-runtime";

export { EnvError };

const bool = z
  .enum(["true", "false", "1", "0"])
  .transform((v) => v === "true" || v === "1");

/** Every setting of the API service, parsed once at start; a bad value stops the process naming the variable. */
export const ApiEnv = z.object({
  API_HOST: z.string().default("127.0.0.1"),
  API_PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  /** PostgreSQL holds users, sessions, claims, decisions, audit log and the Kafka outbox. */
  DATABASE_URL: z.string().url().default("postgres://spam:spam@127.0.0.1:15432/spam_api"),
  DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(100).default(10),
  /** Comma-separated host:port list. Empty: decisions stay in the outbox until Kafka is configured. */
  KAFKA_BROKERS: z.string().default(""),
  TOPIC_PREFIX: z.string().default(""),
  CLICKHOUSE_URL: z.string().default(""),
  CLICKHOUSE_DATABASE: z.string().default("spam"),
  SESSION_TTL_HOURS: z.coerce.number().positive().max(24 * 30).default(12),
  /** Secure cookies need HTTPS in front; local runs are plain HTTP. */
  COOKIE_SECURE: bool.default("false"),
  LOGIN_RATE_LIMIT_PER_MINUTE: z.coerce.number().int().min(1).default(10),
  CLAIM_TTL_MINUTES: z.coerce.number().int().min(1).max(24 * 60).default(15),
  REVIEW_SLA_HOURS: z.coerce.number().positive().default(48),
  BLOCK_TTL_DAYS: z.coerce.number().int().min(1).default(30),
  /** Short code the outcome replies are sent from (the reporting number). */
  REPORT_SHORT_CODE: z.string().default("10086999"),
  /** Consume verdicts and reports from Kafka to open review cases. */
  CASE_INTAKE: bool.default("true"),
  CONSUMER_GROUP: z.string().default("api-case-intake"),
  /**
   * Local demo only (npm start): when no user exists, create reviewer/analyst/admin
   * accounts with the password given here and log their names. Empty: off.
   */
  API_DEMO_PASSWORD: z.string().default(""),
});
export type ApiEnv = z.infer<typeof ApiEnv>;

/** Parsed once at start; a bad value fails fast naming the variable (service-runtime's EnvError). */
export function parseEnv(source: NodeJS.ProcessEnv = process.env): ApiEnv {
  return enforceProduction("api", parseServiceEnv(ApiEnv.shape, source), source);
}
