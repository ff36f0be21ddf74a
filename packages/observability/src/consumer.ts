import type { Consumer } from "kafkajs";
import type { ServiceMetrics } from "./metrics.js";

/** Anything exposing the kafkajs consumer, e.g. `@spam/kafka`'s SchemaConsumer (`raw`). */
export interface HasRawConsumer {
  readonly raw: Pick<Consumer, "on" | "events">;
}

export interface BatchCommittedInfo {
  readonly topic: string;
  readonly partition: number;
  readonly count: number;
  readonly lag: number;
}

/**
 * Subscribes to the kafkajs instrumentation events of a consumer: every
 * processed batch counts messages in, records its size and the partition's lag;
 * crashes and request timeouts count as errors. Returns the unsubscriber.
 * Use either this or `batchCommittedRecorder` for one consumer, not both
 * (they would count the same messages twice).
 */
export function instrumentConsumer(consumer: HasRawConsumer, metrics: ServiceMetrics): () => void {
  const raw = consumer.raw;
  const removers = [
    raw.on(raw.events.END_BATCH_PROCESS, (event) => {
      const { topic, partition, batchSize, offsetLag } = event.payload;
      metrics.recordIn(topic, batchSize);
      metrics.recordBatch(topic, batchSize);
      const lag = Number(offsetLag);
      if (Number.isFinite(lag)) metrics.setLag(topic, partition, lag);
    }),
    raw.on(raw.events.CRASH, () => metrics.recordError("kafka_consumer_crash")),
    raw.on(raw.events.REQUEST_TIMEOUT, () => metrics.recordError("kafka_request_timeout")),
  ];
  return () => {
    for (const remove of removers) remove();
  };
}

/** For SchemaConsumer's `onBatchCommitted` option: the same series, counted after the commit. */
export function batchCommittedRecorder(metrics: ServiceMetrics): (info: BatchCommittedInfo) => void {
  return ({ topic, partition, count, lag }) => {
    metrics.recordIn(topic, count);
    metrics.recordBatch(topic, count);
    metrics.setLag(topic, partition, lag);
  };
}
