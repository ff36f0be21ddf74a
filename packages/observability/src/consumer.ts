import type { ServiceMetrics } from "./metrics.js";

export interface BatchCommittedInfo {
  readonly topic: string;
  readonly partition: number;
  readonly count: number;
  readonly lag: number;
}

/** The hooks a consumer offers (`@spam/kafka`'s SchemaConsumer `observe`), as far as metrics use them. */
export interface ConsumerHooks {
  readonly onBatchCommitted?: (info: BatchCommittedInfo) => void;
  readonly onLag?: (topic: string, partition: number, lag: number) => void;
  readonly onError?: (kind: "consumer_crash" | "handler_failed") => void;
}

/** Anything that takes consumer hooks and returns their remover, e.g. SchemaConsumer. */
export interface ObservableConsumer {
  observe(hooks: ConsumerHooks): () => void;
}

/**
 * Feeds a consumer's metrics from its hooks: every committed batch counts messages in and records its
 * size, every lag measurement sets the partition's lag, failures count as errors. Returns the remover.
 * Use either this or `batchCommittedRecorder` for one consumer, not both (they would count the same
 * messages twice).
 */
export function instrumentConsumer(consumer: ObservableConsumer, metrics: ServiceMetrics): () => void {
  const committed = batchCommittedRecorder(metrics);
  return consumer.observe({
    onBatchCommitted: committed,
    onLag: (topic, partition, lag) => metrics.setLag(topic, partition, lag),
    onError: (kind) => metrics.recordError(kind === "consumer_crash" ? "kafka_consumer_crash" : "kafka_handler_failed"),
  });
}

/** For SchemaConsumer's `onBatchCommitted` option: the same series, counted after the commit. */
export function batchCommittedRecorder(metrics: ServiceMetrics): (info: BatchCommittedInfo) => void {
  return ({ topic, partition, count, lag }) => {
    metrics.recordIn(topic, count);
    metrics.recordBatch(topic, count);
    metrics.setLag(topic, partition, lag);
  };
}
