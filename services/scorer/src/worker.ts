import { randomUUID } from "node:crypto";
import type { Logger } from "pino";
import {
  ControlCommandV1,
  RawMessageV1,
  ReportV1,
  type ControlCommand,
  type ModelControl,
  type RawMessage,
  type Report,
  type RulesControl,
  type TopicNames,
  type Verdict,
} from "@spam/contracts";
import { consumerGroup, SchemaConsumer, type BatchContext, type BatchingProducer, type ConsumedMessage, type Kafka, type OutgoingMessage } from "@spam/kafka";
import { batchCommittedRecorder, type ServiceMetrics } from "@spam/observability";

/** What the worker needs from the scoring library: one synchronous verdict per message. */
export interface MessageScorer {
  score(input: {
    id: string;
    text: string;
    source: string;
    destination: string;
    receivedAt: number;
    kind: "traffic" | "report";
    embedding?: ArrayLike<number>;
  }): Verdict;
  /** Whether score() would use a sentence embedding of this text (absent: never). */
  wantsEmbedding?(text: string): boolean;
}

/** Sentence embeddings for the model's second look at undecided Latin-script messages. */
export interface MessageEmbedder {
  embed(texts: readonly string[]): Promise<Float32Array[]>;
}

export interface ScoringWorkerOptions {
  readonly kafka: Kafka;
  readonly producer: BatchingProducer;
  readonly topics: TopicNames;
  readonly topicPrefix: string;
  /** The service's group name: groups are `consumerGroup(topicPrefix, consumerGroup, <what>)`. */
  readonly consumerGroup: string;
  readonly logger: Logger;
  /** Returns the live scorer: a rule reload swaps it between batches. */
  readonly scorer: () => MessageScorer;
  /** Called for a reload command from the rules control topic. */
  readonly onReloadRequested: (command: RulesControl) => void;
  /** Called for a model command (live and shadow versions from the registry) on the same topic. */
  readonly onModelsRequested?: (command: ModelControl) => void;
  readonly onVerdict?: (verdict: Verdict) => void;
  /** Per-partition velocity windows rebuilt on a handover (see velocity-replay.ts); absent = local only. */
  readonly velocity?: VelocityHooks;
  /** Messages in/out, batch sizes, lag, and the kafka_to_scored / scored_to_verdict_published stages. */
  readonly metrics?: ServiceMetrics;
  /** Traffic fetch shape (see SCORER_FETCH_* in env.ts). */
  readonly fetchMinBytes?: number;
  readonly fetchMaxWaitMs?: number;
  /** Traffic batches per partition whose verdicts may still wait for the broker while the next is scored. */
  readonly batchesInFlight?: number;
  /** Embeds the messages the scorer wants an embedding for (absent: they keep their n-gram probability). */
  readonly embedder?: MessageEmbedder;
}

/** The text a message is scored on: a report's quoted content, else the message itself. */
function scoredText(message: RawMessage | Report): string {
  return "reporterHash" in message ? (message.content ?? message.rawText) : message.text;
}

/**
 * Embeddings of a batch's messages that the scorer wants one for, in one call (undefined for the
 * rest); null when none is wanted, so a batch without such messages never waits.
 */
export function embeddingsFor(
  scorer: MessageScorer,
  messages: readonly ConsumedMessage<RawMessage | Report>[],
  embedder: MessageEmbedder | undefined,
): Promise<(Float32Array | undefined)[]> | null {
  if (!embedder || !scorer.wantsEmbedding) return null;
  const idx: number[] = [];
  const texts: string[] = [];
  messages.forEach((m, i) => {
    const text = scoredText(m.value);
    if (scorer.wantsEmbedding!(text)) {
      idx.push(i);
      texts.push(text);
    }
  });
  if (idx.length === 0) return null;
  return embedder.embed(texts).then((vectors) => {
    const out = new Array<Float32Array | undefined>(messages.length).fill(undefined);
    idx.forEach((i, j) => {
      out[i] = vectors[j];
    });
    return out;
  });
}

export function verdictFor(scorer: MessageScorer, message: RawMessage | Report, embedding?: Float32Array): Verdict {
  const extra = embedding ? { embedding } : {};
  if ("reporterHash" in message) {
    // A report is scored on the content the subscriber quoted, as sent by the reported number.
    return scorer.score({
      id: message.messageId,
      text: scoredText(message),
      source: message.reportedNumber ?? "",
      destination: message.shortCode,
      receivedAt: message.receivedAt,
      kind: "report",
      ...extra,
    });
  }
  return scorer.score({ ...message, kind: "traffic", ...extra });
}

/** What the worker needs to keep per-sender velocity windows with their traffic partition. */
export interface VelocityHooks {
  /** Awaited before a traffic batch: rebuilds the partition's windows when this worker just took it. */
  beforeBatch(partition: number, firstOffset: string): Promise<void>;
  /** Sets the velocity mode of the rule engine the scorer uses, for the next score() call. */
  setMode(mode: "record" | "skip"): void;
  /** A traffic batch was scored: its messages are in the windows. */
  afterBatch(partition: number, lastOffset: string): void;
  onAssignment(partitions: readonly number[]): void;
}

/**
 * Scores one partition batch: traffic counts in its sender's velocity windows; a report never
 * does, since the reported sender's traffic lives on another partition and worker. Returns the
 * verdicts and what to publish before the batch is committed (the verdicts, keyed by sender).
 */
export function scoreBatch(
  scorer: MessageScorer,
  messages: readonly ConsumedMessage<RawMessage | Report>[],
  verdictsTopic: string,
  velocity?: VelocityHooks,
  embeddings?: readonly (Float32Array | undefined)[] | null,
): { verdicts: Verdict[]; outgoing: OutgoingMessage[] } {
  const verdicts: Verdict[] = [];
  try {
    for (let i = 0; i < messages.length; i++) {
      const v = messages[i]!.value;
      if (velocity) velocity.setMode("reporterHash" in v ? "skip" : "record");
      verdicts.push(verdictFor(scorer, v, embeddings?.[i]));
    }
  } finally {
    velocity?.setMode("record");
  }
  const outgoing: OutgoingMessage[] = verdicts.map((verdict) => ({ topic: verdictsTopic, key: verdict.source, value: verdict }));
  return { verdicts, outgoing };
}

/**
 * Consumes traffic and reports, publishes one verdict per message (keyed by
 * sender), and commits a batch only after its verdicts were acknowledged.
 */
export class ScoringWorker {
  private readonly consumers: SchemaConsumer<unknown>[];

  constructor(private readonly options: ScoringWorkerOptions) {
    const { kafka, producer, topics, logger, topicPrefix } = options;
    const group = options.consumerGroup;
    const deadLetter = { producer, topic: topics.deadLetter, service: "scorer" };
    const { metrics } = options;
    const { velocity } = options;
    const publish = async (messages: readonly ConsumedMessage<RawMessage | Report>[], context: BatchContext, isTraffic: boolean) => {
      if (velocity && isTraffic) await velocity.beforeBatch(context.partition, context.firstOffset);
      const scorer = options.scorer();
      const pending = embeddingsFor(scorer, messages, options.embedder);
      const embeddings = pending ? await pending : null;
      const { verdicts, outgoing } = scoreBatch(scorer, messages, topics.verdicts, velocity, embeddings);
      const last = messages[messages.length - 1];
      if (velocity && isTraffic && last) velocity.afterBatch(context.partition, last.offset);
      if (metrics) {
        // The record's timestamp is when the gateway's producer sent it (Kafka ack follows within ms).
        messages.forEach((m, i) => metrics.observeStageSince("kafka_to_scored", m.timestamp, verdicts[i]!.scoredAt));
      }
      try {
        await producer.sendMany(outgoing);
      } catch (err) {
        metrics?.recordError("kafka_send");
        throw err;
      }
      if (metrics) {
        const now = Date.now();
        metrics.recordOut(topics.verdicts, verdicts.length);
        for (const verdict of verdicts) metrics.observeStageSince("scored_to_verdict_published", verdict.scoredAt, now);
      }
      for (const verdict of verdicts) options.onVerdict?.(verdict);
    };
    // After the commit, so a batch fetched again after a crash is counted once it is done.
    const onBatchCommitted = metrics ? batchCommittedRecorder(metrics) : undefined;
    this.consumers = [
      new SchemaConsumer<RawMessage>({
        kafka,
        logger,
        groupId: consumerGroup(topicPrefix, group),
        formerGroupId: group, // the id before the one spelling: no prefix
        topics: [topics.trafficRaw],
        schema: RawMessageV1,
        deadLetter,
        fetchMinBytes: options.fetchMinBytes ?? 1,
        fetchMaxWaitMs: options.fetchMaxWaitMs ?? 20,
        partitionsConsumedConcurrently: 3,
        commitInBackground: true,
        maxBatchesInFlight: options.batchesInFlight ?? 1,
        ...(onBatchCommitted ? { onBatchCommitted } : {}),
        handleBatch: (messages, context) => publish(messages, context, true),
      }),
      new SchemaConsumer<Report>({
        kafka,
        logger,
        groupId: consumerGroup(topicPrefix, group, "reports"),
        formerGroupId: `${group}-reports`,
        topics: [topics.reports],
        schema: ReportV1,
        deadLetter,
        fetchMaxWaitMs: 20,
        commitInBackground: true,
        ...(onBatchCommitted ? { onBatchCommitted } : {}),
        handleBatch: (messages, context) => publish(messages, context, false),
      }),
      // Every worker instance must see every reload command: a group of its own, from now on.
      new SchemaConsumer<ControlCommand>({
        kafka,
        logger,
        groupId: consumerGroup(topicPrefix, group, `control.${randomUUID()}`),
        topics: [topics.rulesControl],
        schema: ControlCommandV1,
        deadLetter,
        fromBeginning: false,
        handleBatch: async (messages) => {
          for (const m of messages) {
            if (m.value.command === "reload") options.onReloadRequested(m.value);
            else options.onModelsRequested?.(m.value);
          }
        },
      }),
    ] as SchemaConsumer<unknown>[];
    if (velocity) {
      this.consumers[0]!.observe({ onAssignment: (assignment) => velocity.onAssignment(assignment[topics.trafficRaw] ?? []) });
    }
  }

  async start(): Promise<void> {
    await Promise.all(this.consumers.map((c) => c.start()));
  }

  async stop(): Promise<void> {
    await Promise.all(this.consumers.map((c) => c.stop()));
  }
}
