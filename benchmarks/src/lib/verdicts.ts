import pino from "pino";
import { z } from "zod";
import { createKafkaClient, type KafkaWatcher } from "@spam/kafka";

const VerdictFields = z.object({ messageId: z.string(), receivedAt: z.number(), scoredAt: z.number() });

export interface SeenVerdict {
  readonly messageId: string;
  readonly receivedAt: number;
  readonly scoredAt: number;
  /** Broker timestamp of the verdict record: when it was published. */
  readonly publishedAt: number;
  /** When this watcher read it. */
  readonly seenAt: number;
}

/**
 * Reads the verdicts topic with a group of its own (latest offsets, joined
 * before the load starts) and reports each verdict once per delivery: the
 * benchmark matches them to submit_sm_resp message ids.
 */
export class VerdictWatcher {
  private consumer: KafkaWatcher | null = null;
  seen = 0;
  invalid = 0;

  constructor(
    private readonly brokers: string[],
    private readonly topic: string,
    private readonly onVerdict: (v: SeenVerdict) => void,
  ) {}

  async start(timeoutMs = 30_000): Promise<void> {
    const kafka = createKafkaClient({ brokers: this.brokers, clientId: "bench-verdicts", logger: pino({ level: "fatal" }) });
    // Fetches of 1 MiB or 100 ms, as the sink's: the watcher shares the machine with the system it measures,
    // and every fetch costs a round trip on both sides (16 KiB fetches were ~300 a second at 5,000 msg/s).
    // Latencies are taken from the records' broker timestamps, so the wait shows only in published_to_seen.
    const consumer = kafka.consumer({ groupId: `bench-verdicts-${process.pid}-${Date.now()}`, maxWaitTimeInMs: 100, minBytes: 1_048_576 });
    this.consumer = consumer;
    const joined = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("verdict watcher did not join its group in time")), timeoutMs);
      consumer.on(consumer.events.GROUP_JOIN, () => {
        clearTimeout(timer);
        resolve();
      });
    });
    await consumer.connect();
    await consumer.subscribe({ topic: this.topic, fromBeginning: false });
    await consumer.run({
      eachBatch: async ({ batch }) => {
        const now = Date.now();
        for (const m of batch.messages) {
          if (!m.value) continue;
          let parsed;
          try {
            parsed = VerdictFields.safeParse(JSON.parse(m.value.toString("utf8")));
          } catch {
            parsed = null;
          }
          if (!parsed?.success) {
            this.invalid++;
            continue;
          }
          this.seen++;
          this.onVerdict({ ...parsed.data, publishedAt: Number(m.timestamp), seenAt: now });
        }
      },
    });
    await joined;
  }

  async stop(): Promise<void> {
    await this.consumer?.disconnect();
  }
}
