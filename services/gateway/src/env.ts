import { z } from "zod";
import { enforceProduction, envSchemas, EnvError, parseEnv } from "@spam/service-runtime";
import { MAX_PASSWORD, MAX_SYSTEM_ID, parseInlineAccounts, validateAccountSpec, type AccountSpec } from "./accounts.js";
import { parseRoutes } from "./relay/routes.js";
import { repoPath } from "@spam/repo-paths";

const defaultAllowList = repoPath("rules/allowlist/report-senders.json");
const defaultModel = repoPath("packages/classifier/models/default.model.json");
const defaultRules = repoPath("rules");
const defaultReplies = repoPath("rules/replies/zh-CN.json");
const ms = (def: number) => z.coerce.number().int().positive().default(def);

const gatewayEnvShape = {
  GATEWAY_ID: z.string().min(1).max(64).default("gw-1"),
  SMPP_HOST: z.string().default("127.0.0.1"),
  SMPP_PORT: z.coerce.number().int().min(0).max(65_535).default(2775),
  /**
   * Accounts, comma-separated: `system_id:password:capabilities:source-ranges[:max-sessions]`,
   * capabilities joined by `+` (report, traffic, reply), ranges by `|` (gateway README);
   * the password may be a `scrypt$…` hash. And/or SMPP_ACCOUNTS_FILE.
   */
  SMPP_ACCOUNTS: z
    .string()
    .min(1)
    .transform((s, ctx): AccountSpec[] => {
      try {
        const specs = parseInlineAccounts(s);
        for (const spec of specs) validateAccountSpec(spec);
        return specs;
      } catch (err) {
        // The messages name the account and the rule only: never the value (it holds passwords).
        ctx.addIssue({ code: z.ZodIssueCode.custom, message: (err as Error).message });
        return z.NEVER;
      }
    })
    .optional(),
  /** JSON: [{ systemId, password | passwordHash, capabilities, sourceRanges, maxSessions?, throughputPerSec?, window? }]. */
  SMPP_ACCOUNTS_FILE: z.string().min(1).optional(),
  SMPP_DEFAULT_TPS: z.coerce.number().int().positive().default(20_000),
  SMPP_DEFAULT_WINDOW: z.coerce.number().int().positive().default(100),
  /** Concurrent bound sessions per account unless the account says otherwise. */
  SMPP_DEFAULT_MAX_SESSIONS: z.coerce.number().int().positive().default(8),
  /** Sockets across the gateway, bound or not. */
  SMPP_MAX_SESSIONS: z.coerce.number().int().positive().default(1_000),
  /** Sockets that have not bound yet. */
  SMPP_MAX_UNBOUND: z.coerce.number().int().positive().default(64),
  /** Password checks (scrypt) at once across the gateway; more binds are refused until one ends. */
  SMPP_MAX_BINDS_IN_FLIGHT: z.coerce.number().int().positive().default(16),
  /** An unbound socket is closed this long after it connected. */
  SMPP_BIND_TIMEOUT_MS: ms(10_000),
  /** Failed binds per remote address or system_id before binds from it are refused for a while. */
  SMPP_BIND_FAILURES_BEFORE_BACKOFF: z.coerce.number().int().positive().default(3),
  /** First refusal period; doubles with every further failure, up to the max. */
  SMPP_BIND_BACKOFF_MS: ms(1_000),
  SMPP_BIND_BACKOFF_MAX_MS: ms(300_000),
  SMPP_IDLE_TIMEOUT_MS: ms(120_000),
  /** data_coding 0 layout from upstream: one septet per octet (SMPP) unless an octet ≥ 0x80 shows packing. */
  SMPP_GSM_PACKING: z.enum(["auto", "packed", "unpacked"]).default("auto"),
  REASSEMBLY_TIMEOUT_MS: ms(10_000),
  REASSEMBLY_MAX_SETS: z.coerce.number().int().positive().default(20_000),
  REASSEMBLY_MAX_BYTES: z.coerce.number().int().positive().default(32 * 1024 * 1024),
  /** Report short codes, comma-separated. */
  REPORT_SHORT_CODES: z
    .string()
    .default("10086999")
    .transform((s) => s.split(",").map((c) => c.trim()).filter((c) => c.length > 0)),
  /** Key for the reporter hash (HMAC-SHA256); at least 16 bytes. */
  REPORTER_HASH_KEY: z.string().min(16).default("dev-only-reporter-hash-key"),
  PENDING_REPORT_WINDOW_MS: ms(10 * 60_000),
  PENDING_REPORT_MAX: z.coerce.number().int().positive().default(200_000),
  BLOCK_POLICY: z.enum(["reject", "drop"]).default("reject"),
  ALLOWLIST_FILE: z.string().default(defaultAllowList),
  REPLIES_FILE: z.string().default(defaultReplies),
  /** Deliver replies from the outbound topic through bound receivers (off for load tests). */
  REPLIES_ENABLED: envSchemas.bool.default("true"),
  /** ESME (client) role: set ESME_HOST to bind to an upstream SMSC and take MO messages from deliver_sm. */
  ESME_HOST: z.string().min(1).optional(),
  ESME_PORT: z.coerce.number().int().min(1).max(65_535).default(2775),
  ESME_SYSTEM_ID: z.string().max(MAX_SYSTEM_ID).default(""),
  ESME_PASSWORD: z.string().max(MAX_PASSWORD).default(""),
  ESME_BIND_MODE: z.enum(["receiver", "transceiver"]).default("transceiver"),
  ESME_RECONNECT_MAX_MS: ms(30_000),
  /** Relay mode (README "Relay mode"): traffic is held for its verdict and forwarded downstream, or stopped. */
  RELAY_ENABLED: envSchemas.bool.default("false"),
  /** JSON routes: [{ name, accounts?, destinations?, smscs: [{ name, host, port, systemId, password, bindMode?, window?, throughputPerSec?, reconnectMaxMs? }] }]. */
  RELAY_ROUTES: z
    .string()
    .min(1)
    .superRefine((s, ctx) => {
      try {
        parseRoutes(s, "RELAY_ROUTES");
      } catch (err) {
        ctx.addIssue({ code: z.ZodIssueCode.custom, message: (err as Error).message });
      }
    })
    .optional(),
  RELAY_ROUTES_FILE: z.string().min(1).optional(),
  /** From receipt: a message without a verdict by then is forwarded (fail open) or, per policy, stopped. */
  RELAY_DEADLINE_MS: ms(50),
  /** block: the scorer's block verdicts stop a message (they already need a second signal); never: watch only. */
  RELAY_STOP_POLICY: z.enum(["block", "never"]).default("block"),
  /** At the deadline: open, or closed_under_alarm (stop a sender with a block verdict within RELAY_ALARM_MS). */
  RELAY_FAIL_POLICY: z.enum(["open", "closed_under_alarm"]).default("open"),
  RELAY_ALARM_MS: ms(10 * 60_000),
  /** At the deadline: none (fail open), or local: the gateway scores the text itself and stops what that blocks. */
  RELAY_FALLBACK: z.enum(["none", "local"]).default("none"),
  /** The local fallback's model and rules (the scorer's defaults). */
  RELAY_MODEL_PATH: z.string().default(defaultModel),
  RELAY_RULES_DIR: z.string().default(defaultRules),
  /** Messages held for a decision at once; over it ESME_RTHROTTLED. */
  RELAY_MAX_HELD: z.coerce.number().int().positive().default(10_000),
  /** Downstream id → upstream id mappings kept for receipts (oldest dropped). */
  RELAY_MAX_RECEIPTS: z.coerce.number().int().positive().default(500_000),
  /** Deferred messages remembered (by digest) so an upstream's resend reuses the first id instead of a new publish; and for how long. */
  RELAY_MAX_DEFERRED: z.coerce.number().int().positive().default(100_000),
  RELAY_DEFERRED_TTL_MS: ms(10 * 60_000),
  KAFKA_BROKERS: envSchemas.brokers,
  TOPIC_PREFIX: z.string().default(""),
  /** How long an accepted message waits for company before the batch goes to the broker (docs/PERFORMANCE.md). */
  KAFKA_LINGER_MS: z.coerce.number().int().min(0).default(2),
  LOG_LEVEL: envSchemas.logLevel.default("info"),
  /** /healthz, /readyz, /metrics; 0 = off (9464 in `npm start` and the benchmarks). */
  METRICS_PORT: z.coerce.number().int().min(0).max(65_535).default(0),
  METRICS_HOST: envSchemas.metricsHost,
};

export type GatewayEnv = ReturnType<typeof loadGatewayEnv>;

export function loadGatewayEnv(env: NodeJS.ProcessEnv = process.env) {
  const parsed = enforceProduction("gateway", parseEnv(gatewayEnvShape, env), env);
  if (parsed.RELAY_ENABLED && !parsed.RELAY_ROUTES && !parsed.RELAY_ROUTES_FILE) {
    throw new EnvError(["RELAY_ROUTES"], "RELAY_ENABLED: relay mode needs RELAY_ROUTES or RELAY_ROUTES_FILE");
  }
  return parsed;
}
