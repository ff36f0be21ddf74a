import { resolve } from "node:path";
import { z } from "zod";
import { DEFAULT_THRESHOLDS } from "@spam/scoring";
import { enforceProduction, envSchemas, parseEnv } from "@spam/service-runtime";
import { REPO_ROOT } from "@spam/repo-paths";


const scorerEnvShape = {
  KAFKA_BROKERS: envSchemas.brokers,
  TOPIC_PREFIX: z.string().default(""),
  CONSUMER_GROUP: z.string().min(1).default("scorer"),
  RULES_DIR: z.string().default(resolve(REPO_ROOT, "rules")),
  MODEL_PATH: z.string().optional(),
  /**
   * The model registry (`spam models`): when set, the scorer starts on its live version (MODEL_PATH
   * when none is live yet) and follows promotions, rollbacks and shadows from the control topic.
   */
  MODEL_REGISTRY_DIR: z.string().optional(),
  /**
   * A candidate rule set scored in shadow beside the live rules (verdicts record its score and label,
   * never act on it); reloaded with the live rules. Unset: no rule-set shadow.
   */
  SHADOW_RULES_DIR: z.string().optional(),
  /** Score at or above which a message is "suspect" (flagged for review). */
  SUSPECT_THRESHOLD: z.coerce.number().min(0).max(1).default(DEFAULT_THRESHOLDS.suspect),
  /** Score at or above which a message is "spam". */
  SPAM_THRESHOLD: z.coerce.number().min(0).max(1).default(DEFAULT_THRESHOLDS.spam),
  /** The operator's policy for commercial messages (brand promotions with a signature and an unsubscribe line). */
  COMMERCIAL_ACTION: z.enum(["allow", "flag", "block"]).default(DEFAULT_THRESHOLDS.commercialAction),
  /** Watch RULES_DIR and reload on change (a reload message on Kafka works either way). */
  RULES_WATCH: envSchemas.bool.default("1"),
  LOG_LEVEL: envSchemas.logLevel.default("info"),
  /**
   * On taking a traffic partition, rebuild its senders' velocity windows by replaying its traffic of
   * the longest window before scoring it (0: windows start empty after a rebalance or restart).
   */
  VELOCITY_REPLAY: envSchemas.bool.default("1"),
  /** On stop, leave the windows as a snapshot so the next owner replays only what came after it. */
  VELOCITY_SNAPSHOTS: envSchemas.bool.default("1"),
  /** Follow the cluster-wide campaign counts (compacted topic from the decider) for the campaign boosts. */
  CAMPAIGN_COUNTS: envSchemas.bool.default("1"),
  /**
   * The broker answers a traffic fetch once this many bytes wait or after the wait below.
   * Tiny fetches cost a worker far more CPU per message than the scoring itself; the wait
   * bounds what a message can lose to batching.
   */
  SCORER_FETCH_MIN_BYTES: z.coerce.number().int().min(1).max(64 * 1024 * 1024).default(64 * 1024),
  SCORER_FETCH_MAX_WAIT_MS: z.coerce.number().int().min(1).max(5_000).default(5),
  /**
   * Traffic batches of one partition in the worker at once: the next is fetched and scored
   * while the verdicts of the last wait for the broker's ack (1 = one at a time).
   */
  SCORER_BATCHES_IN_FLIGHT: z.coerce.number().int().min(1).max(64).default(4),
  /** How long verdicts wait for company before they go to the broker. */
  SCORER_LINGER_MS: z.coerce.number().int().min(0).max(1_000).default(2),
  /**
   * The model's second look at undecided Latin-script (English) messages needs sentence embeddings
   * (about 8 ms of CPU each, ~6 % of English messages). 0: those messages keep their n-gram probability.
   */
  EMBEDDING: envSchemas.bool.default("1"),
  /** Directory of the embedding model (default: the one infra/bin/bootstrap.sh builds under .tools/). */
  EMBEDDING_MODEL_DIR: z.string().optional(),
  /** Threads of one embedding run. */
  EMBEDDING_THREADS: z.coerce.number().int().min(1).max(16).default(1),
  /** Embeddings of the last N distinct texts kept (1.5 KB each): a spam run repeats its text. 0 = none. */
  EMBEDDING_CACHE: z.coerce.number().int().min(0).max(1_000_000).default(10_000),
  /** /healthz, /readyz, /metrics; 0 = off. */
  METRICS_PORT: z.coerce.number().int().min(0).max(65_535).default(0),
  METRICS_HOST: envSchemas.metricsHost,
};

export function loadScorerEnv(env: NodeJS.ProcessEnv = process.env) {
  const parsed = enforceProduction("scorer", parseEnv(scorerEnvShape, env), env);
  if (parsed.SUSPECT_THRESHOLD > parsed.SPAM_THRESHOLD) {
    throw new Error("invalid environment: SUSPECT_THRESHOLD must not exceed SPAM_THRESHOLD");
  }
  return parsed;
}
export type ScorerEnv = ReturnType<typeof loadScorerEnv>;

/** The model artifact shipped in the repository (see packages/classifier/models/MODEL_CARD.md). */
export function defaultModelPath(): string {
  return resolve(REPO_ROOT, "packages/classifier/models/default.model.json");
}
