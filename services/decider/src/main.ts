import type { Logger } from "pino";
import { createClickHouse, restrictedDatabase } from "@spam/clickhouse";
import {
  BlockListEntryV1,
  blockListKey,
  CampaignCountsV1,
  ReportV1,
  ReviewLabelV1,
  topicNames,
  VerdictV1,
  type BlockListEntry,
  type CampaignCounts,
  type DecisionEvent,
  type Report,
  type ReviewLabel,
} from "@spam/contracts";
import type { z } from "zod";
import { BatchingProducer, CompactedTopicFollower, consumerGroup, createKafkaClient, SchemaConsumer, type OutgoingMessage } from "@spam/kafka";
import { batchCommittedRecorder, createServiceMetrics, ObservabilityServer } from "@spam/observability";
import { defaultReplyTemplatesPath, loadReplyTemplates } from "@spam/replies";
import { createServiceLogger, loadEnvOrExit, runService, type ServiceHandle } from "@spam/service-runtime";
import { CampaignCountsPublisher, clickHouseCampaignCounts } from "./campaign-counts.js";
import { DeciderCore, mayBeVelocityEvidence, type DeciderOutput, type SenderVerdict } from "./core.js";
import { loadDeciderEnv, type DeciderEnv } from "./env.js";
import { defaultPolicyPath, loadPolicy } from "./policy.js";
import { rebuildFromClickHouse } from "./rebuild.js";
import { createReportHandler } from "./reports.js";
import { clickHouseTrafficLookup, type TrafficLookup } from "./verify.js";

export interface DeciderDeps {
  readonly now?: () => number;
  readonly lookup?: TrafficLookup;
}

function decisionKey(e: DecisionEvent): string {
  switch (e.type) {
    case "report_assessed":
      return e.reportedNumber ?? e.reportId;
    case "case":
      return e.subject;
    case "report_outcome":
      return e.caseId;
    case "audit":
      return e.subject;
  }
}

/** Composition root of the decider: reports + review labels + block list → decisions, block-list changes, outcome replies. */
export function createDecider(env: DeciderEnv, logger: Logger, deps: DeciderDeps = {}): ServiceHandle & { core: DeciderCore } {
  const now = deps.now ?? Date.now;
  const topics = topicNames(env.TOPIC_PREFIX);
  const policy = loadPolicy(env.POLICY_FILE ?? defaultPolicyPath());
  const templates = loadReplyTemplates(env.REPLY_TEMPLATES ?? defaultReplyTemplatesPath());
  const core = new DeciderCore(policy, (kind, vars) => templates.render(kind, vars));
  const kafka = createKafkaClient({ brokers: env.KAFKA_BROKERS, clientId: "decider", logger });
  const ch = createClickHouse({ url: env.CLICKHOUSE_URL, database: env.CLICKHOUSE_DATABASE, logger });
  // Reporters' numbers (to answer them after a restart) are read from the restricted store only.
  const contacts = createClickHouse({
    url: env.CLICKHOUSE_RESTRICTED_URL ?? env.CLICKHOUSE_URL,
    database: env.CLICKHOUSE_RESTRICTED_DATABASE ?? restrictedDatabase(env.CLICKHOUSE_DATABASE),
    logger,
  });
  const lookup = deps.lookup ?? clickHouseTrafficLookup(ch);
  const producer = new BatchingProducer({ kafka, logger, lingerMs: 2 });
  const group = (purpose: string) => consumerGroup(env.TOPIC_PREFIX, env.CONSUMER_GROUP, purpose);
  const metrics = createServiceMetrics({ service: "decider" });
  const http = env.METRICS_PORT > 0 ? new ObservabilityServer({ metrics, logger, host: env.METRICS_HOST, port: env.METRICS_PORT }) : null;
  let consuming = false;
  http?.addReadinessCheck("kafka_consumer", () => consuming);
  const onBatchCommitted = batchCommittedRecorder(metrics);

  /** Sends the outputs of a batch in their order, in one go. */
  const publish = async (outs: readonly DeciderOutput[]): Promise<void> => {
    const messages: OutgoingMessage[] = outs.flatMap((out) => [
      ...out.decisions.map((e) => ({ topic: topics.decisions, key: decisionKey(e), value: e })),
      ...out.blocks.map((b: BlockListEntry) => ({ topic: topics.blocklist, key: blockListKey(b.kind, b.value), value: b })),
      ...out.replies.map((r) => ({ topic: topics.repliesOutbound, key: r.to, value: r })),
    ]);
    if (messages.length === 0) return;
    // Resolves on the broker's ack: the input offset is committed only after.
    try {
      await producer.sendMany(messages);
    } catch (err) {
      metrics.recordError("kafka_send");
      throw err;
    }
    for (const m of messages) metrics.recordOut(m.topic);
  };

  const blocklist = new CompactedTopicFollower<BlockListEntry>({
    kafka,
    logger,
    topic: topics.blocklist,
    schema: BlockListEntryV1,
    groupId: group(`blocklist.${env.INSTANCE_ID}`),
    onRecord: (_key, value) => {
      if (value) core.applyBlock(value);
    },
  });

  const reports = new SchemaConsumer<Report>({
    kafka,
    logger,
    groupId: group("reports"),
    topics: [topics.reports],
    schema: ReportV1,
    deadLetter: { producer, topic: topics.deadLetter, service: "decider" },
    onBatchCommitted,
    // ~250 reports a batch (the default 1 MiB is thousands): a backlog batch is decided in seconds, so its
    // replies are not held back for minutes, and a stopping decider finishes its batch within its grace period.
    fetchMaxBytesPerPartition: 128 * 1024,
    fetchMinBytes: env.DECIDER_REPORT_FETCH_MIN_BYTES,
    fetchMaxWaitMs: env.DECIDER_REPORT_FETCH_MAX_WAIT_MS,
    handleBatch: createReportHandler({ core, lookup, policy, lookupConcurrency: env.DECIDER_LOOKUP_CONCURRENCY, logger, now, publish }),
  });

  const labels = new SchemaConsumer<ReviewLabel>({
    kafka,
    logger,
    // Every instance reads every label and acts on the cases it owns.
    groupId: group(`labels.${env.INSTANCE_ID}`),
    topics: [topics.reviewLabels],
    schema: ReviewLabelV1,
    deadLetter: { producer, topic: topics.deadLetter, service: "decider" },
    onBatchCommitted,
    handleBatch: async (messages) => {
      await publish(messages.map((m) => core.onReviewLabel(m.value, now())));
    },
  });

  // Every traffic verdict, for the senders' current velocity evidence (the fields the decider reads, as
  // the contract types them; the rest of a verdict is the sink's).
  const VerdictFields = VerdictV1.pick({ id: true, kind: true, source: true, label: true, score: true, contributions: true, receivedAt: true });
  const senderVerdict = (m: z.infer<typeof VerdictFields>): SenderVerdict => ({
    verdictId: m.id,
    source: m.source,
    label: m.label,
    score: m.score,
    ruleIds: m.contributions.filter((c) => c.source === "rule").map((c) => c.id),
    receivedAt: m.receivedAt,
  });
  const verdicts = new SchemaConsumer<z.infer<typeof VerdictFields>>({
    kafka,
    logger,
    // Every instance sees every sender's verdicts (reports about a sender may reach any instance).
    groupId: group(`verdicts.${env.INSTANCE_ID}`),
    topics: [topics.verdicts],
    // From now on: what came before, within the window, is read back from ClickHouse at start (rebuild.ts).
    fromBeginning: false,
    schema: VerdictFields,
    // Most verdicts cannot be evidence: skipped before they are parsed.
    prefilter: mayBeVelocityEvidence,
    deadLetter: { producer, topic: topics.deadLetter, service: "decider" },
    onBatchCommitted,
    // Every verdict of the traffic, for evidence a report reads seconds later at the earliest: larger
    // fetches and commits that do not hold the next batch keep the broker's requests few.
    fetchMinBytes: 256 * 1024,
    fetchMaxWaitMs: 250,
    commitInBackground: true,
    handleBatch: async (messages) => {
      const t = now();
      await publish(messages.filter((m) => m.value.kind === "traffic").map((m) => core.onVerdict(senderVerdict(m.value), t)));
    },
  });

  // Cluster-wide campaign counts for the scorers' campaign boosts (one query per tick, nothing per message).
  const campaignWindow = {
    windowMs: env.CAMPAIGN_COUNTS_WINDOW_SECONDS * 1000,
    minSenders: env.CAMPAIGN_COUNTS_MIN_SENDERS,
    maxCampaigns: env.CAMPAIGN_COUNTS_MAX,
  };
  const campaignCounts =
    env.CAMPAIGN_COUNTS_INTERVAL_MS > 0
      ? new CampaignCountsPublisher({
          topic: topics.campaignCounts,
          source: clickHouseCampaignCounts(ch, campaignWindow),
          windowMs: campaignWindow.windowMs,
          maxCampaigns: campaignWindow.maxCampaigns,
          // A fast tick looks back one interval plus the sink's delay to ClickHouse (≈ 1 s, more under load).
          recentMs: env.CAMPAIGN_COUNTS_INTERVAL_MS + 15_000,
          send: async (messages) => {
            await producer.sendMany(messages);
            metrics.recordOut(topics.campaignCounts, messages.length);
          },
          logger,
          now,
          onError: () => metrics.recordError("campaign_counts"),
        })
      : null;
  // Read back what the topic holds, so a restart publishes only changes and tombstones what left meanwhile.
  const readBackCampaignCounts = async () => {
    if (!campaignCounts) return;
    const follower = new CompactedTopicFollower<CampaignCounts>({
      kafka,
      logger,
      topic: topics.campaignCounts,
      schema: CampaignCountsV1,
      groupId: group(`campaign-counts.${env.INSTANCE_ID}`),
      onRecord: (key, value) => campaignCounts.load(key, value),
    });
    try {
      await follower.start();
    } finally {
      await follower.stop();
    }
  };

  let sweepTimer: NodeJS.Timeout | null = null;
  let sweeping: Promise<void> = Promise.resolve();
  const sweep = () => {
    sweeping = sweeping.then(() => publish([core.sweep(now())])).catch((err: unknown) => logger.error({ err }, "sweep publish failed"));
  };

  return {
    core,
    async start() {
      await http?.listen();
      await producer.connect();
      await blocklist.start();
      const rebuilt = await rebuildFromClickHouse(ch, core, policy, now(), logger, contacts);
      logger.info(rebuilt, "state rebuilt from ClickHouse");
      await verdicts.start();
      await reports.start();
      await labels.start();
      sweepTimer = setInterval(sweep, policy.sweepIntervalSeconds * 1000);
      sweep();
      await readBackCampaignCounts();
      campaignCounts?.start(env.CAMPAIGN_COUNTS_INTERVAL_MS, env.CAMPAIGN_COUNTS_SWEEP_SECONDS * 1000);
      consuming = true;
    },
    async stop() {
      consuming = false;
      if (sweepTimer) clearInterval(sweepTimer);
      await campaignCounts?.stop();
      await Promise.all([reports.stop(), labels.stop(), verdicts.stop()]);
      await sweeping;
      await blocklist.stop();
      await producer.disconnect();
      await ch.close();
      await contacts.close();
      await http?.close();
    },
  };
}

const isMain = import.meta.url === `file://${process.argv[1]}`;
if (isMain) {
  const env = loadEnvOrExit("decider", () => loadDeciderEnv());
  const logger = createServiceLogger("decider", env.LOG_LEVEL);
  runService("decider", logger, () => createDecider(env, logger));
}
