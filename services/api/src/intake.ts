import type { Logger } from "pino";
import { RawMessageV1, ReportV1, VerdictV1, type TopicNames, type Verdict } from "@spam/contracts";
import { SchemaConsumer, type BatchingProducer, type Kafka } from "@spam/kafka";
import type { CaseStore } from "./review/cases.js";
import { ingestReports, ingestVerdicts } from "./review/intake.js";

/** Bounded map of recent message texts: verdicts carry no text, raw traffic does. */
export class TextCache {
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
  readonly groupId: string;
  readonly cases: CaseStore;
  readonly logger: Logger;
}

/**
 * Opens review cases from the verdict and report streams. Three consumer
 * groups (one per topic) so each stream is validated against its own contract;
 * the case store's upserts are idempotent, so at-least-once delivery is safe.
 */
export function createCaseIntake(o: CaseIntakeOptions): { start(): Promise<void>; stop(): Promise<void> } {
  const texts = new TextCache();
  const deadLetter = { producer: o.producer, topic: o.topics.deadLetter, service: "api" };
  const raw = new SchemaConsumer({
    kafka: o.kafka,
    logger: o.logger,
    groupId: `${o.groupId}-texts`,
    topics: [o.topics.trafficRaw],
    schema: RawMessageV1,
    deadLetter,
    fromBeginning: false,
    handleBatch: async (messages) => {
      for (const m of messages) texts.set(m.value.id, m.value.text);
    },
  });
  const verdicts = new SchemaConsumer<Verdict>({
    kafka: o.kafka,
    logger: o.logger,
    groupId: `${o.groupId}-verdicts`,
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
    groupId: `${o.groupId}-reports`,
    topics: [o.topics.reports],
    schema: ReportV1,
    deadLetter,
    handleBatch: async (messages) => {
      await ingestReports(o.cases, messages.map((m) => m.value));
    },
  });
  const all = [raw, verdicts, reports];
  return {
    async start() {
      for (const c of all) await c.start();
    },
    async stop() {
      await Promise.all(all.map((c) => c.stop()));
    },
  };
}
