import { z } from "zod";
import { EnvError, enforceProduction, envSchemas, parseEnv as parseServiceEnv } from "@spam/service-runtime";

export { EnvError };

/** Every setting of the API service, parsed once at start; a bad value stops the process naming the variable. */
export const ApiEnv = z.object({
  API_HOST: z.string().default("127.0.0.1"),
  API_PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  LOG_LEVEL: envSchemas.logLevel.default("info"),
  /** PostgreSQL holds users, sessions, claims, decisions, audit log and the Kafka outbox. */
  DATABASE_URL: z.string().url().default("postgres://spam:spam@127.0.0.1:15432/spam_api"),
  DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(100).default(10),
  /** Comma-separated host:port list. Empty: decisions stay in the outbox until Kafka is configured. */
  KAFKA_BROKERS: envSchemas.optionalBrokers,
  TOPIC_PREFIX: z.string().default(""),
  CLICKHOUSE_URL: z.string().default(""),
  CLICKHOUSE_DATABASE: z.string().default("spam"),
  /** The model registry (`spam models`) admins promote from the console; empty: no registry pages. */
  MODEL_REGISTRY_DIR: z.string().default(""),
  /** Absolute session lifetime. */
  SESSION_TTL_HOURS: z.coerce.number().positive().max(24 * 30).default(12),
  /** A session unused this long ends (OWASP ASVS 3.3.2). */
  SESSION_IDLE_MINUTES: z.coerce.number().positive().max(24 * 60).default(30),
  /**
   * Secure cookies need HTTPS in front; local runs are plain HTTP. When true the session cookie is
   * `__Host-spam_session` with Secure, and HSTS and upgrade-insecure-requests are sent.
   */
  COOKIE_SECURE: envSchemas.bool.default("false"),
  /** Per client address (see TRUST_PROXY). */
  LOGIN_RATE_LIMIT_PER_MINUTE: z.coerce.number().int().min(1).default(10),
  /** Consecutive failed sign-ins before an account locks; each further failure doubles the lock. */
  LOGIN_LOCKOUT_THRESHOLD: z.coerce.number().int().min(1).max(100).default(5),
  LOGIN_LOCKOUT_BASE_SECONDS: z.coerce.number().int().min(1).default(60),
  LOGIN_LOCKOUT_MAX_MINUTES: z.coerce.number().int().min(1).max(24 * 60).default(60),
  /**
   * Which proxies' X-Forwarded-For to believe for the client address (rate limits, audit):
   * "false" (default: the socket address) or a comma list of proxy addresses/CIDRs.
   * "true" believes any sender of the header: only behind a proxy that overwrites it.
   */
  TRUST_PROXY: z
    .string()
    .default("false")
    .transform((v): boolean | string[] => {
      const s = v.trim();
      if (s === "" || s === "false" || s === "0") return false;
      if (s === "true") return true;
      return s.split(",").map((x) => x.trim()).filter(Boolean);
    }),
  CLAIM_TTL_MINUTES: z.coerce.number().int().min(1).max(24 * 60).default(15),
  /** Reveals of full numbers or withheld texts one user may make per hour (each needs a claim and a reason). */
  REVEAL_RATE_LIMIT_PER_HOUR: z.coerce.number().int().min(1).max(1000).default(20),
  REVIEW_SLA_HOURS: z.coerce.number().positive().default(48),
  BLOCK_TTL_DAYS: z.coerce.number().int().min(1).default(30),
  /** Short code the outcome replies are sent from (the reporting number). */
  REPORT_SHORT_CODE: z.string().default("10086999"),
  /** Consume verdicts and reports from Kafka to open review cases. */
  CASE_INTAKE: envSchemas.bool.default("true"),
  CONSUMER_GROUP: z.string().default("api-case-intake"),
  /**
   * Local demo only (npm start): when no user exists, create reviewer/analyst/admin
   * accounts with the password given here and log their names. Empty: off.
   */
  API_DEMO_PASSWORD: z.string().default(""),
  /** On SIGTERM, in-flight requests and outbox sends get this long before the process exits anyway. */
  API_STOP_TIMEOUT_MS: z.coerce.number().int().min(1_000).max(300_000).default(30_000),
});
export type ApiEnv = z.infer<typeof ApiEnv>;

/** Parsed once at start; a bad value fails fast naming the variable (service-runtime's EnvError). */
export function parseEnv(source: NodeJS.ProcessEnv = process.env): ApiEnv {
  return enforceProduction("api", parseServiceEnv(ApiEnv.shape, source), source);
}
