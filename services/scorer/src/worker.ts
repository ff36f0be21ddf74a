import { randomUUID } from "node:crypto";
import type { Logger } from "pino";
import {
  RawMessageV1,
  ReportV1,
  RulesControlV1,
  type RawMessage,
  type Report,
  type RulesControl,
  type TopicNames,
  type Verdict,
} from "@spam/contracts";
import { SchemaConsumer, type BatchingProducer, type ConsumedMessage, type Kafka } from "@spam/kafka";
import { batchCommittedRecorder, type ServiceMetrics } from "@spam/observability";

/** What the worker needs from the scoring library: one synchronous verdict per message. */
export interface MessageScorer {
  score(input: { id: string; text: string; source: string; destination: string; receivedAt: number; kind: "traffic" | "report" }): Verdict;
}

export interface ScoringWorkerOptions {
  readonly kafka: Kafka;
  readonly producer: BatchingProducer;
  readonly topics: TopicNames;
  readonly groupId: string;
  readonly logger: Logger;
  /** Returns the live scorer: a rule reload swaps it between batches. */
  readonly scorer: () => MessageScorer;
  /** Called for a reload command from the rules control topic. */
  readonly onReloadRequested: (command: RulesControl) => void;
  readonly onVerdict?: (verdict: Verdict) => void;
  /** Messages in/out, batch sizes, lag, and the kafka_to_scored / scored_to_verdict_published stages. */
  readonly metrics?: ServiceMetrics;
}

export function verdictFor(scorer: MessageScorer, message: RawMessage | Report): Verdict {
  if ("reporterHash" in message) {
    // A report is scored on the content the subscriber quoted, as sent by the reported number.
    return scorer.score({
      id: message.messageId,
      text: message.content ?? message.rawText,
      source: message.reportedNumber ?? "",
      destination: message.shortCode,
      receivedAt: message.receivedAt,
      kind: "report",
    });
  }
  return scorer.score({ ...message, kind: "traffic" });
}

/**
 * Consumes traffic and reports, publishes one verdict per message (keyed by
 * sender), and commits a batch only after its verdicts were acknowledged.
 */
export class ScoringWorker {
  private readonly consumers: SchemaConsumer<unknown>[];

  constructor(private readonly options: ScoringWorkerOptions) {
    const { kafka, producer, topics, logger, groupId } = options;
    const deadLetter = { producer, topic: topics.deadLetter, service: "scorer" };
    const { metrics } = options;
    const publish = async (messages: readonly ConsumedMessage<RawMessage | Report>[]) => {
      const scorer = options.scorer();
      const verdicts = messages.map((m) => verdictFor(scorer, m.value));
      if (metrics) {
        // The record's timestamp is when the gateway's producer sent it (Kafka ack follows within ms).
        messages.forEach((m, i) => metrics.observeStageSince("kafka_to_scored", m.timestamp, verdicts[i]!.scoredAt));
      }
      try {
        await producer.sendMany(verdicts.map((verdict) => ({ topic: topics.verdicts, key: verdict.source, value: verdict })));
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
        groupId,
        topics: [topics.trafficRaw],
        schema: RawMessageV1,
        deadLetter,
        fetchMaxWaitMs: 20,
        partitionsConsumedConcurrently: 3,
        ...(onBatchCommitted ? { onBatchCommitted } : {}),
        handleBatch: (messages) => publish(messages),
      }),
      new SchemaConsumer<Report>({
        kafka,
        logger,
        groupId: `${groupId}-reports`,
        topics: [topics.reports],
        schema: ReportV1,
        deadLetter,
        fetchMaxWaitMs: 20,
        ...(onBatchCommitted ? { onBatchCommitted } : {}),
        handleBatch: (messages) => publish(messages),
      }),
      // Every worker instance must see every reload command: a group of its own, from now on.
      new SchemaConsumer<RulesControl>({
        kafka,
        logger,
        groupId: `${groupId}-control-${randomUUID()}`,
        topics: [topics.rulesControl],
        schema: RulesControlV1,
        deadLetter,
        fromBeginning: false,
        handleBatch: async (messages) => {
          for (const m of messages) options.onReloadRequested(m.value);
        },
      }),
    ] as SchemaConsumer<unknown>[];
  }

  async start(): Promise<void> {
    await Promise.all(this.consumers.map((c) => c.start()));
  }

  async stop(): Promise<void> {
    await Promise.all(this.consumers.map((c) => c.stop()));
  }
}
