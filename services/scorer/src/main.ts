import type { Logger } from "pino";
import { loadModel } from "@spam/classifier";
import { ModelRegistry } from "@spam/learning";
import { createSentenceEmbedder, embeddingModelId, type SentenceEmbedder } from "@spam/embedding";
import { CampaignCountsV1, topicNames, type CampaignCounts } from "@spam/contracts";
import { BatchingProducer, CompactedTopicFollower, consumerGroup, createKafkaClient, PartitionReader } from "@spam/kafka";
import { createServiceMetrics, ObservabilityServer } from "@spam/observability";
import { createRuleWatcher, type RuleSet } from "@spam/rules";
import { createScorer } from "@spam/scoring";
import { createServiceLogger, loadEnvOrExit, runService, type ServiceHandle } from "@spam/service-runtime";
import { defaultModelPath, loadScorerEnv, type ScorerEnv } from "./env.js";
import { CachingEmbedder } from "./embedding-cache.js";
import { KafkaSnapshotStore, ModalRuleEngine, VelocityReplay } from "./velocity-replay.js";
import { ModelSwitch } from "./models.js";
import { ScoringWorker, type MessageEmbedder } from "./worker.js";

export interface ScorerService extends ServiceHandle {
  /** Re-reads the rules now (what a reload message on Kafka triggers). */
  reloadRules(): Promise<void>;
  /** The live model and the shadow (what a model message on Kafka changes). */
  readonly models: ModelSwitch;
}

/** Composition root of a scoring worker. */
export async function createScorerService(env: ScorerEnv, logger: Logger): Promise<ScorerService> {
  const topics = topicNames(env.TOPIC_PREFIX);
  const registry = env.MODEL_REGISTRY_DIR ? new ModelRegistry(env.MODEL_REGISTRY_DIR) : null;
  const promoted = registry ? (await registry.state()).live : null;
  const modelPath = promoted ? registry!.modelPath(promoted) : (env.MODEL_PATH ?? defaultModelPath());
  const model = promoted ? await registry!.load(promoted) : await loadModel(modelPath);
  const embedder = embedderFor(model.latinStack?.embeddingModel ?? null, env, logger);
  // The scorer is built below; a reload (file change or Kafka command) hands it the new set once.
  let onRulesReloaded: (ruleSet: RuleSet) => void = () => undefined;
  const rules = await createRuleWatcher(env.RULES_DIR, { logger, watch: env.RULES_WATCH, onReload: (next) => onRulesReloaded(next) });
  // The worker picks the velocity mode per message (count / read only / skip) through this wrapper.
  const engine = new ModalRuleEngine(rules.current);
  // Cluster-wide campaign counts (the decider publishes them from ClickHouse): the campaign boosts use
  // max(this worker's count, the cluster's), since a worker sees only its partitions' share of a campaign.
  const clusterCampaigns = new Map<string, CampaignCounts>();
  const thresholds = { suspect: env.SUSPECT_THRESHOLD, spam: env.SPAM_THRESHOLD, commercialAction: env.COMMERCIAL_ACTION };
  const scorer = createScorer({ ruleSet: engine, model, thresholds, logger, clusterCampaigns });
  const models = new ModelSwitch({
    live: scorer,
    engine,
    shadowOptions: { thresholds, logger: logger.child({ shadow: true }), clusterCampaigns },
    source: registry,
    embeddingModel: model.latinStack?.embeddingModel ?? null,
    liveModel: model,
    logger,
  });
  // A candidate rule set scored in shadow beside the live rules (its own velocity windows), reloaded with them.
  const shadowRules = env.SHADOW_RULES_DIR
    ? await createRuleWatcher(env.SHADOW_RULES_DIR, { logger: logger.child({ shadow: true }), watch: env.RULES_WATCH, onReload: (next) => models.setShadowRules(next) })
    : null;
  if (shadowRules) models.setShadowRules(shadowRules.current);
  const applyModels = (why: string) => (command?: { live: string; shadow: string | null }) =>
    (command ? models.apply(command) : models.refresh()).catch((err: unknown) => logger.error({ err, why }, "model change refused: the worker keeps its models"));
  onRulesReloaded = (next) => {
    engine.inner = next; // the reloaded set shares the velocity state, so windows carry over
    scorer.setRuleSet(engine);
  };
  logger.info({ rulesetVersion: rules.current.version, modelPath, modelVersion: model.modelVersion }, "scorer ready");
  const kafka = createKafkaClient({ brokers: env.KAFKA_BROKERS, clientId: "scorer", logger });
  const producer = new BatchingProducer({ kafka, logger, lingerMs: env.SCORER_LINGER_MS });
  const metrics = createServiceMetrics({ service: "scorer" });
  const http = env.METRICS_PORT > 0 ? new ObservabilityServer({ metrics, logger, host: env.METRICS_HOST, port: env.METRICS_PORT }) : null;
  let consuming = false;
  http?.addReadinessCheck("kafka_consumer", () => consuming);
  const reloadRules = async () => {
    await rules.reload();
    await shadowRules?.reload();
  };
  const snapshots = env.VELOCITY_SNAPSHOTS
    ? new KafkaSnapshotStore({
        producer,
        logger,
        topic: topics.velocitySnapshots,
        reader: new PartitionReader({ kafka, logger, topic: topics.velocitySnapshots, groupId: consumerGroup(env.TOPIC_PREFIX, env.CONSUMER_GROUP, "snapshots") }),
      })
    : null;
  const velocity = env.VELOCITY_REPLAY
    ? new VelocityReplay({
        logger,
        engine,
        reader: new PartitionReader({ kafka, logger, topic: topics.trafficRaw, groupId: consumerGroup(env.TOPIC_PREFIX, env.CONSUMER_GROUP, "replay") }),
        ...(snapshots ? { snapshots } : {}),
      })
    : null;
  const campaignCounts = env.CAMPAIGN_COUNTS
    ? new CompactedTopicFollower<CampaignCounts>({
        kafka,
        logger,
        topic: topics.campaignCounts,
        schema: CampaignCountsV1,
        groupId: consumerGroup(env.TOPIC_PREFIX, env.CONSUMER_GROUP, "campaign-counts"), // every worker reads every campaign
        onRecord: (id, counts) => (counts ? clusterCampaigns.set(id, counts) : clusterCampaigns.delete(id)),
      })
    : null;
  const worker = new ScoringWorker({
    kafka,
    producer,
    topics,
    topicPrefix: env.TOPIC_PREFIX,
    consumerGroup: env.CONSUMER_GROUP,
    logger,
    fetchMinBytes: env.SCORER_FETCH_MIN_BYTES,
    fetchMaxWaitMs: env.SCORER_FETCH_MAX_WAIT_MS,
    batchesInFlight: env.SCORER_BATCHES_IN_FLIGHT,
    scorer: () => models,
    ...(velocity ? { velocity } : {}),
    ...(embedder ? { embedder } : {}),
    metrics,
    onReloadRequested: (command) => {
      logger.info({ requestedBy: command.requestedBy }, "rule reload requested over Kafka");
      void reloadRules();
    },
    onModelsRequested: (command) => {
      logger.info({ requestedBy: command.requestedBy, live: command.live, shadow: command.shadow }, "model change requested over Kafka");
      void applyModels("control topic")(command);
    },
  });
  return {
    reloadRules,
    models,
    async start() {
      await http?.listen();
      await applyModels("start")(); // the shadow the registry names
      await producer.connect();
      await velocity?.start();
      await campaignCounts?.start();
      await worker.start();
      // A promotion between reading the registry and joining the control topic is not missed.
      await applyModels("after joining the control topic")();
      consuming = true;
    },
    async stop() {
      consuming = false;
      // While this worker still holds its partitions, so their next owner finds the snapshot.
      await velocity?.writeSnapshots().catch((err: unknown) => logger.warn({ err }, "velocity snapshot not written: the next owner replays the window"));
      // Finish and commit the batches in hand (their verdicts are flushed first), then leave.
      await worker.stop();
      await embedder?.close();
      await velocity?.stop();
      await campaignCounts?.stop();
      await producer.disconnect();
      rules.close();
      shadowRules?.close();
      await http?.close();
    },
  };
}

/**
 * The sentence embedder the model's second look needs. Its model directory is checked at start against
 * the one the model was trained with (fail fast: another model's embeddings would be meaningless to
 * its weights), but loaded only when the first message wants an embedding: it holds ≈ 150 MB, and
 * traffic without English messages never needs it. Null when the model has no second look, or EMBEDDING=0.
 */
function embedderFor(expected: string | null, env: ScorerEnv, logger: Logger): (MessageEmbedder & { close(): Promise<void> }) | null {
  if (expected === null) return null;
  if (!env.EMBEDDING) {
    logger.warn("EMBEDDING=0: undecided English messages keep their n-gram probability (no second look)");
    return null;
  }
  embeddingModelId(env.EMBEDDING_MODEL_DIR, expected);
  let loading: Promise<SentenceEmbedder> | null = null;
  const load = (): Promise<SentenceEmbedder> =>
    (loading ??= createSentenceEmbedder({
      ...(env.EMBEDDING_MODEL_DIR ? { modelDir: env.EMBEDDING_MODEL_DIR } : {}),
      threads: env.EMBEDDING_THREADS,
      logger,
    }).catch((err: unknown) => {
      loading = null; // the batch fails and is retried; so is the load
      throw err;
    }));
  const cached = new CachingEmbedder({ embed: async (texts) => (await load()).embed(texts) }, env.EMBEDDING_CACHE);
  return {
    embed: (texts) => cached.embed(texts),
    close: async () => {
      const loaded = loading ? await loading.catch(() => null) : null;
      await loaded?.close();
    },
  };
}

const isMain = import.meta.url === `file://${process.argv[1]}`;
if (isMain) {
  const env = loadEnvOrExit("scorer", () => loadScorerEnv());
  const logger = createServiceLogger("scorer", env.LOG_LEVEL);
  runService("scorer", logger, () => createScorerService(env, logger));
}
