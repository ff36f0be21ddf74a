import type { Logger } from "pino";
import { topicNames } from "@spam/contracts";
import { createClickHouse, type ClickHouse } from "@spam/clickhouse";
import { ModelRegistry, runBacktest, shadowReport } from "@spam/learning";
import { BatchingProducer, createKafkaClient, ensureTopics } from "@spam/kafka";
import { createServiceMetrics } from "@spam/observability";
import { createServiceLogger, loadEnvOrExit, runService, type ServiceHandle } from "@spam/service-runtime";
import { ClickHouseReportAnalytics, ClickHouseTrafficAnalytics, combinedReviewAnalytics, emptyTrafficAnalytics } from "./analytics/clickhouse.js";
import { PgReviewAnalytics } from "./analytics/pg.js";
import { ClickHouseSenderHistory } from "./analytics/sender.js";
import { UserStore } from "./auth/users.js";
import { createDemoUsers } from "./demo-users.js";
import { migratePg, ensurePgDatabase } from "./db/migrate.js";
import { createPool, pg } from "./db/pool.js";
import { parseEnv, type ApiEnv } from "./env.js";
import { buildApp } from "./http/app.js";
import { ClickHouseDeliveryCounts } from "./http/routes/delivery.js";
import { createCaseIntake } from "./intake.js";
import { OutboxRelay, kafkaPublisher, type Publisher } from "./outbox.js";
import { CaseStore } from "./review/cases.js";

/** start() resolves with the URL the API listens on. */
export type ApiService = ServiceHandle<{ url: string }>;

/** Composition root: builds every part by hand; `start` opens connections and listens, `stop` drains. */
export function createApiService(env: ApiEnv, logger: Logger, overrides: { publisher?: Publisher } = {}): ApiService {
  const pool = createPool(env.DATABASE_URL, env.DATABASE_POOL_SIZE, (err) => logger.warn({ err }, "idle PostgreSQL connection failed"));
  const users = new UserStore(pool, env.SESSION_TTL_HOURS * 3_600_000, {
    idleMs: env.SESSION_IDLE_MINUTES * 60_000,
    lockoutThreshold: env.LOGIN_LOCKOUT_THRESHOLD,
    lockoutBaseMs: env.LOGIN_LOCKOUT_BASE_SECONDS * 1000,
    lockoutMaxMs: env.LOGIN_LOCKOUT_MAX_MINUTES * 60_000,
  });
  const cases = new CaseStore(pool, {
    slaHours: env.REVIEW_SLA_HOURS,
    claimTtlMinutes: env.CLAIM_TTL_MINUTES,
    revealsPerHour: env.REVEAL_RATE_LIMIT_PER_HOUR,
    effects: { blockTtlMs: env.BLOCK_TTL_DAYS * 86_400_000, shortCode: env.REPORT_SHORT_CODE },
  });
  const kafka = env.KAFKA_BROKERS.length > 0 ? createKafkaClient({ brokers: env.KAFKA_BROKERS, clientId: "api", logger }) : null;
  const producer = kafka ? new BatchingProducer({ kafka, logger, lingerMs: 5 }) : null;
  const topics = topicNames(env.TOPIC_PREFIX);
  const metrics = createServiceMetrics({ service: "api" });
  const inner: Publisher | null = overrides.publisher ?? (producer ? kafkaPublisher(producer, env.TOPIC_PREFIX) : null);
  // Outbox messages out per topic, and failed sends, for /metrics.
  const publisher: Publisher | null = inner && {
    async publish(messages) {
      try {
        await inner.publish(messages);
      } catch (err) {
        metrics.recordError("kafka_send");
        throw err;
      }
      for (const m of messages) metrics.recordOut(topics[m.topicKey]);
    },
  };
  const relay = publisher ? new OutboxRelay(pool, publisher, logger.child({ component: "outbox" })) : null;
  const intake = kafka && producer && env.CASE_INTAKE ? createCaseIntake({ kafka, producer, topics, topicPrefix: env.TOPIC_PREFIX, consumerGroup: env.CONSUMER_GROUP, cases, logger }) : null;
  const ch: ClickHouse | null = env.CLICKHOUSE_URL ? createClickHouse({ url: env.CLICKHOUSE_URL, database: env.CLICKHOUSE_DATABASE, logger }) : null;
  let app: Awaited<ReturnType<typeof buildApp>> | null = null;
  let sweeper: NodeJS.Timeout | null = null;

  return {
    async start() {
      await ensurePgDatabase(pg, env.DATABASE_URL);
      await migratePg(pool, logger);
      if (env.API_DEMO_PASSWORD) await createDemoUsers(users, env.API_DEMO_PASSWORD, logger);
      if (kafka && producer) {
        await ensureTopics({ kafka, names: topics, partitions: 3, logger });
        await producer.connect();
      }
      relay?.start();
      await intake?.start();
      app = await buildApp({
        logger,
        pool,
        users,
        cases,
        traffic: ch ? new ClickHouseTrafficAnalytics(ch) : emptyTrafficAnalytics,
        review: ch ? combinedReviewAnalytics(new ClickHouseReportAnalytics(ch), new PgReviewAnalytics(pool)) : new PgReviewAnalytics(pool),
        ...(ch ? { senders: new ClickHouseSenderHistory(ch), delivery: new ClickHouseDeliveryCounts(ch) } : {}),
        config: { slaHours: env.REVIEW_SLA_HOURS, cookieSecure: env.COOKIE_SECURE, loginPerMinute: env.LOGIN_RATE_LIMIT_PER_MINUTE, trustProxy: env.TRUST_PROXY },
        ready: async () => ({ ...(ch ? { clickhouse: await ch.ping().catch(() => false) } : {}) }),
        onDecided: () => relay?.kick(),
        metrics,
        models: {
          registry: env.MODEL_REGISTRY_DIR ? new ModelRegistry(env.MODEL_REGISTRY_DIR) : null,
          shadow: ch ? { report: (range, limit) => shadowReport(ch, range, limit) } : null,
          ...(ch ? { backtest: (rules, days, samples) => runBacktest({ ch, rules, days, samples, logger }) } : {}),
          ...(producer ? { announce: (command) => producer.sendMany([{ topic: topics.rulesControl, key: "models", value: command }]) } : {}),
        },
      });
      sweeper = setInterval(() => void users.purgeExpiredSessions().catch(() => undefined), 3_600_000);
      sweeper.unref();
      const url = await app.listen({ host: env.API_HOST, port: env.API_PORT });
      logger.info({ url, docs: `${url}/docs` }, "api listening");
      return { url };
    },
    async stop() {
      if (sweeper) clearInterval(sweeper);
      // Stop taking requests first, let in-flight ones finish, then drain Kafka work.
      await app?.close();
      await intake?.stop().catch((err: unknown) => logger.warn({ err }, "intake stop failed"));
      await relay?.stop();
      await producer?.disconnect().catch((err: unknown) => logger.warn({ err }, "producer disconnect failed"));
      await ch?.close();
      await pool.end();
    },
  };
}

const isMain = import.meta.url === `file://${process.argv[1]}`;
if (isMain) {
  const env = loadEnvOrExit("api", () => parseEnv());
  const logger = createServiceLogger("api", env.LOG_LEVEL);
  runService("api", logger, () => createApiService(env, logger), env.API_STOP_TIMEOUT_MS);
}
