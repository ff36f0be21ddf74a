import type { Logger } from "pino";
import { DecisionEventV1, RawMessageV1, ReportV1, VerdictV1, type DecisionEvent, type TopicNames, type Verdict } from "@spam/contracts";
import { consumerGroup, SchemaConsumer, type BatchingProducer, type Kafka } from "@spam/kafka";
import type { CaseStore } from "./review/cases.js";
import { ingestDecisionEvents, ingestVerdicts } from "./review/intake.js";

/** Bounded map of recent message texts: verdicts carry no text, raw traffic does. */
class TextCache {
  private readonly map = new Map<string, string>();
  constructor(private readonly max = 50_000) {}
  set(id: string, text: string): void {
    if (this.map.size >= this.max) {
      const oldest = this.map.keys().next().value;
      if (oldest !== undefined) this.map.delete(oldest);
    }
    this.map.set(id, text);
  }
  textOf(id: string): string | undefined {
    return this.map.get(id);
  }
}

export interface CaseIntakeOptions {
  readonly kafka: Kafka;
  readonly producer: BatchingProducer;
  readonly topics: TopicNames;
  readonly topicPrefix: string;
  /** The service's group name: each topic is read by `consumerGroup(topicPrefix, consumerGroup, <what>)`. */
  readonly consumerGroup: string;
  readonly cases: CaseStore;
  readonly logger: Logger;
}

/**
 * Opens review cases: flagged messages and campaigns from the verdict stream,
 * report and campaign cases from the decider's events (it verifies and
 * aggregates reports; we show its evidence and send it our labels). Raw traffic
 * and reports are read only for their texts. One consumer group per topic so
 * each stream is validated against its own contract; the case store's upserts are
 * idempotent and versioned, so at-least-once delivery is safe.
 */
export function createCaseIntake(o: CaseIntakeOptions): { start(): Promise<void>; stop(): Promise<void> } {
  const texts = new TextCache();
  const reportTexts = new TextCache(20_000);
  const deadLetter = { producer: o.producer, topic: o.topics.deadLetter, service: "api" };
  // The ids these groups had before the one spelling: they start where those left off.
  const groupFor = (what: string) => ({ groupId: consumerGroup(o.topicPrefix, o.consumerGroup, what), formerGroupId: `${o.topicPrefix}${o.consumerGroup}-${what}` });
  const raw = new SchemaConsumer({
    kafka: o.kafka,
    logger: o.logger,
    ...groupFor("texts"),
    topics: [o.topics.trafficRaw],
    schema: RawMessageV1,
    deadLetter,
    handleBatch: async (messages) => {
      for (const m of messages) texts.set(m.value.id, m.value.text);
      // The verdict may have been read first: fill the text of cases opened without it.
      await o.cases.fillTexts(messages.map((m) => [m.value.id, m.value.text] as const));
    },
  });
  const verdicts = new SchemaConsumer<Verdict>({
    kafka: o.kafka,
    logger: o.logger,
    ...groupFor("verdicts"),
    topics: [o.topics.verdicts],
    schema: VerdictV1,
    deadLetter,
    handleBatch: async (messages) => {
      await ingestVerdicts(o.cases, messages.map((m) => m.value), texts);
    },
  });
  const reports = new SchemaConsumer({
    kafka: o.kafka,
    logger: o.logger,
    ...groupFor("reports"),
    topics: [o.topics.reports],
    schema: ReportV1,
    deadLetter,
    handleBatch: async (messages) => {
      for (const m of messages) if (m.value.content) reportTexts.set(m.value.id, m.value.content);
    },
  });
  const decisions = new SchemaConsumer<DecisionEvent>({
    kafka: o.kafka,
    logger: o.logger,
    ...groupFor("decisions"),
    topics: [o.topics.decisions],
    schema: DecisionEventV1,
    deadLetter,
    handleBatch: async (messages) => {
      await ingestDecisionEvents(
        o.cases,
        messages.map((m) => m.value),
        { reportContent: (id) => reportTexts.textOf(id), messageText: (id) => texts.textOf(id) },
      );
    },
  });
  const all = [raw, reports, verdicts, decisions];
  return {
    async start() {
      for (const c of all) await c.start();
    },
    async stop() {
      await Promise.all(all.map((c) => c.stop()));
    },
  };
}
