import type { Logger } from "pino";
import { Counter, Histogram } from "prom-client";
import { BlockListEntryV1, topicNames } from "@spam/contracts";
import { BatchingProducer, CompactedTopicFollower, consumerGroup, createKafkaClient, ensureTopics } from "@spam/kafka";
import { PendingReports, type PendingReportData } from "@spam/report-parser";
import { loadReplyTemplates } from "@spam/replies";
import { createServiceMetrics, ObservabilityServer } from "@spam/observability";
import { createServiceLogger, loadEnvOrExit, runService, type ServiceHandle } from "@spam/service-runtime";
import { loadAccounts } from "./accounts.js";
import { SenderAllowList } from "./allowlist.js";
import { BlockList } from "./blocklist.js";
import { loadGatewayEnv, type GatewayEnv } from "./env.js";
import { EsmeClient } from "./esme-client.js";
import { MessageIntake } from "./intake.js";
import { ReplyDispatcher } from "./replies.js";
import { RelayJournal, type HeldPart } from "./relay/journal.js";
import { createLocalDecider, type LocalDecider } from "./relay/local-decider.js";
import { Relay } from "./relay/relay.js";
import { loadRoutes } from "./relay/routes.js";
import { VerdictWaiter } from "./relay/verdicts.js";
import { MessageRouter } from "./router.js";
import { GatewaySmppServer } from "./smpp-server.js";

export interface Gateway extends ServiceHandle {
  readonly smpp: GatewaySmppServer;
  readonly blockList: BlockList;
  readonly replies: ReplyDispatcher | null;
  readonly esme: EsmeClient | null;
  readonly relay: Relay | null;
}

/** Composition root: builds the gateway's parts by hand; `start`/`stop` own their lifecycle. */
export function createGateway(env: GatewayEnv, logger: Logger, local: LocalDecider | null = null): Gateway {
  const topics = topicNames(env.TOPIC_PREFIX);
  const kafka = createKafkaClient({ brokers: env.KAFKA_BROKERS, clientId: `gateway-${env.GATEWAY_ID}`, logger });
  const producer = new BatchingProducer({ kafka, logger, lingerMs: env.KAFKA_LINGER_MS });
  const metrics = createServiceMetrics({ service: "gateway" });
  const http = env.METRICS_PORT > 0 ? new ObservabilityServer({ metrics, logger, host: env.METRICS_HOST, port: env.METRICS_PORT }) : null;
  let serving = false;
  http?.addReadinessCheck("smpp_listening", () => serving);
  const accounts = loadAccounts(env.SMPP_ACCOUNTS, env.SMPP_ACCOUNTS_FILE, {
    throughputPerSec: env.SMPP_DEFAULT_TPS,
    window: env.SMPP_DEFAULT_WINDOW,
    maxSessions: env.SMPP_DEFAULT_MAX_SESSIONS,
  });
  // Labels are bounded: reasons are a closed set, accounts the configured ones or "-".
  const refusals = new Counter({
    name: "spam_smpp_refused_total",
    help: "SMPP binds, sockets and submits the gateway refused, by reason and account (- when not a configured account).",
    labelNames: ["reason", "account"],
    registers: [metrics.registry],
  });
  if (env.REPORTER_HASH_KEY === "dev-only-reporter-hash-key") logger.warn("REPORTER_HASH_KEY is the development default");
  const blockList = new BlockList();
  const router = new MessageRouter({
    gatewayId: env.GATEWAY_ID,
    topics,
    shortCodes: env.REPORT_SHORT_CODES,
    reporterHashKey: env.REPORTER_HASH_KEY,
    pending: new PendingReports<PendingReportData>({ windowMs: env.PENDING_REPORT_WINDOW_MS, maxEntries: env.PENDING_REPORT_MAX }),
    pendingWindowMs: env.PENDING_REPORT_WINDOW_MS,
    replies: loadReplyTemplates(env.REPLIES_FILE),
    allowList: SenderAllowList.fromFile(env.ALLOWLIST_FILE),
    blockList,
    blockPolicy: env.BLOCK_POLICY,
    publish: (messages) =>
      producer.sendMany(messages).then(
        () => {
          const now = Date.now();
          for (const m of messages) {
            metrics.recordOut(m.topic);
            const receivedAt = (m.value as { receivedAt?: unknown } | null)?.receivedAt;
            if (typeof receivedAt === "number") metrics.observeStageSince("smpp_receive_to_kafka_ack", receivedAt, now);
          }
        },
        (err: unknown) => {
          metrics.recordError("kafka_send");
          throw err;
        },
      ),
    logger,
  });
  // Relay mode: verdicts through Kafka (README "Where the decision comes from").
  const verdicts = env.RELAY_ENABLED
    ? new VerdictWaiter({ kafka, logger, topic: topics.verdicts, groupId: consumerGroup(env.TOPIC_PREFIX, "gateway", `verdicts.${env.GATEWAY_ID}`), alarmMs: env.RELAY_ALARM_MS })
    : null;
  const outcomes = new Counter({
    name: "spam_relay_outcomes_total",
    help: "Relay mode: what happened to each message (forwarded, stopped, deferred, no_route, late_verdict), and why.",
    labelNames: ["outcome", "reason"],
    registers: [metrics.registry],
  });
  const decisionMs = new Histogram({
    name: "spam_relay_decision_ms",
    help: "Relay mode: receipt to decision (forwarded or stopped), milliseconds.",
    buckets: [1, 2, 5, 10, 20, 30, 40, 50, 75, 100, 250, 1000],
    registers: [metrics.registry],
  });
  let smppRef: GatewaySmppServer | null = null;
  const relay = verdicts
    ? new Relay({
        gatewayId: env.GATEWAY_ID,
        topics,
        routes: loadRoutes(env.RELAY_ROUTES, env.RELAY_ROUTES_FILE),
        verdicts,
        blockList,
        deadlineMs: env.RELAY_DEADLINE_MS,
        stopPolicy: env.RELAY_STOP_POLICY,
        failPolicy: env.RELAY_FAIL_POLICY,
        local,
        maxHeld: env.RELAY_MAX_HELD,
        maxReceipts: env.RELAY_MAX_RECEIPTS,
        maxDeferred: env.RELAY_MAX_DEFERRED,
        deferredTtlMs: env.RELAY_DEFERRED_TTL_MS,
        publish: (messages) => producer.sendMany(messages),
        sendReceipt: (target, upstreamId, pdu, downstreamId) => smppRef?.sendReceipt(target, upstreamId, pdu, downstreamId) ?? false,
        onOutcome: (outcome, reason, ms) => {
          outcomes.inc({ outcome, reason });
          if (outcome !== "late_verdict") decisionMs.observe(ms);
        },
        logger,
      })
    : null;
  if (relay) http?.addReadinessCheck("relay_downstream_bound", () => relay.boundLinks > 0);
  const journal = relay ? new RelayJournal({ gatewayId: env.GATEWAY_ID, topic: topics.relayHeld, publish: (messages) => producer.sendMany(messages), logger }) : null;
  const intake = new MessageIntake({
    router,
    relay,
    journal,
    logger,
    reassembly: {
      timeoutMs: env.REASSEMBLY_TIMEOUT_MS,
      maxPendingSets: env.REASSEMBLY_MAX_SETS,
      maxPendingBytes: env.REASSEMBLY_MAX_BYTES,
    },
  });
  const smpp = new GatewaySmppServer({
    host: env.SMPP_HOST,
    port: env.SMPP_PORT,
    gatewayId: env.GATEWAY_ID,
    accounts,
    intake,
    logger,
    idleTimeoutMs: env.SMPP_IDLE_TIMEOUT_MS,
    gsmPacking: env.SMPP_GSM_PACKING,
    isReportDestination: (destination) => router.isReport(destination),
    bindTimeoutMs: env.SMPP_BIND_TIMEOUT_MS,
    maxSessions: env.SMPP_MAX_SESSIONS,
    maxUnbound: env.SMPP_MAX_UNBOUND,
    maxBindsInFlight: env.SMPP_MAX_BINDS_IN_FLIGHT,
    bindBackoff: {
      failuresBeforeBackoff: env.SMPP_BIND_FAILURES_BEFORE_BACKOFF,
      baseMs: env.SMPP_BIND_BACKOFF_MS,
      maxMs: env.SMPP_BIND_BACKOFF_MAX_MS,
      maxAddresses: 10_000,
    },
    onRefused: (reason, account) => refusals.inc({ reason, account }),
    relay: relay !== null,
  });
  smppRef = smpp;
  // Every instance reads the whole compacted block list: a group of its own.
  const follower = new CompactedTopicFollower({
    kafka,
    logger,
    topic: topics.blocklist,
    schema: BlockListEntryV1,
    groupId: consumerGroup(env.TOPIC_PREFIX, "gateway", `blocklist.${env.GATEWAY_ID}`), // plus a random suffix: the follower commits nothing
    onRecord: (key, value) => blockList.apply(key, value),
  });
  const esme = env.ESME_HOST
    ? new EsmeClient({
        host: env.ESME_HOST,
        port: env.ESME_PORT,
        systemId: env.ESME_SYSTEM_ID,
        password: env.ESME_PASSWORD,
        bindMode: env.ESME_BIND_MODE,
        intake,
        logger,
        gsmPacking: env.SMPP_GSM_PACKING,
        reconnectMaxMs: env.ESME_RECONNECT_MAX_MS,
      })
    : null;
  const replies = env.REPLIES_ENABLED
    ? new ReplyDispatcher({
        kafka,
        logger,
        topic: topics.repliesOutbound,
        groupId: consumerGroup(env.TOPIC_PREFIX, "gateway", "replies"),
        formerGroupId: `${env.TOPIC_PREFIX}gateway-replies`,
        deadLetter: { producer, topic: topics.deadLetter, service: "gateway" },
        // Reply links only; in client mode the upstream SMSC link too.
        receivers: (to) => {
          const upstream = esme?.receiver();
          return upstream ? [...smpp.receivers(to), upstream] : smpp.receivers(to);
        },
      })
    : null;
  if (replies) {
    smpp.onReceiverBound = () => replies.receiverBound();
    if (esme) esme.onBound = () => replies.receiverBound();
  }
  return {
    smpp,
    blockList,
    replies,
    esme,
    relay,
    async start() {
      await http?.listen();
      await ensureTopics({ kafka, names: topics, partitions: 4, logger });
      await producer.connect();
      await startWithRetry(() => follower.start(), logger);
      logger.info({ entries: blockList.size }, "block list loaded");
      await replies?.start();
      if (verdicts) await startWithRetry(() => verdicts.start(), logger);
      relay?.start();
      if (journal) {
        // What a killed predecessor held and answered OK is held again before anyone can resend the rest.
        let held: HeldPart[] = [];
        await startWithRetry(async () => {
          held = await journal.recover(kafka, consumerGroup(env.TOPIC_PREFIX, "gateway", `relay-held.${env.GATEWAY_ID}`));
        }, logger);
        intake.restore(held);
        logger.info({ parts: held.length }, "relay: held parts recovered from the journal");
      }
      await smpp.listen();
      logger.info(
        {
          port: smpp.address.port,
          relay: relay ? { deadlineMs: env.RELAY_DEADLINE_MS, stopPolicy: env.RELAY_STOP_POLICY, failPolicy: env.RELAY_FAIL_POLICY, fallback: local ? "local" : "none" } : false,
          accounts: [...accounts.values()].map((a) => ({ systemId: a.systemId, capabilities: [...a.capabilities], sourceRanges: a.sourceRanges.toString(), maxSessions: a.maxSessions })),
        },
        "SMPP listening",
      );
      serving = true;
      esme?.start();
    },
    async stop() {
      // Stop taking messages first, then wait for every accepted one to reach Kafka.
      serving = false;
      await esme?.stop();
      await smpp.close();
      // Every held message was decided while the SMPP side drained: now the links and the verdicts.
      await relay?.stop();
      await verdicts?.stop();
      await replies?.stop();
      await follower.stop();
      await producer.disconnect();
      await http?.close();
    },
  };
}

/**
 * Right after topics are created the broker may not have a leader yet
 * (NOT_LEADER_FOR_PARTITION while reading offsets): retry what the Kafka client marks retriable.
 */
async function startWithRetry(start: () => Promise<void>, logger: Logger, attempts = 10): Promise<void> {
  for (let i = 1; ; i++) {
    try {
      return await start();
    } catch (err) {
      if (i >= attempts || (err as { retriable?: boolean }).retriable !== true) throw err;
      logger.warn({ err: (err as Error).message, attempt: i }, "block list follower not ready, retrying");
      await new Promise((r) => setTimeout(r, 250 * i));
    }
  }
}

const isMain = import.meta.url === `file://${process.argv[1]}`;
if (isMain) {
  const env = loadEnvOrExit("gateway", () => loadGatewayEnv());
  const logger = createServiceLogger("gateway", env.LOG_LEVEL);
  runService("gateway", logger, async () => {
    // The local fallback loads the model and rules before anything listens (seconds, and ~200 MiB).
    const local =
      env.RELAY_ENABLED && env.RELAY_FALLBACK === "local" ? await createLocalDecider({ modelPath: env.RELAY_MODEL_PATH, rulesDir: env.RELAY_RULES_DIR, logger }) : null;
    return createGateway(env, logger, local);
  });
}
