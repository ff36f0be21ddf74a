import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";

/** The pipeline's latency stages, in the order a message passes them. */
const LATENCY_STAGES = [
  "smpp_receive_to_kafka_ack",
  "kafka_to_scored",
  "scored_to_verdict_published",
  "verdict_to_visible_clickhouse",
] as const;
export type LatencyStage = (typeof LATENCY_STAGES)[number];

/**
 * Seconds, 0.1 ms … 5 s: the fine end resolves in-process stages (SMPP→Kafka
 * ack is a few ms), the coarse end a ClickHouse flush or a broker stall.
 */
const LATENCY_BUCKETS_SECONDS: readonly number[] = [
  0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.0075, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 1, 2.5, 5,
];

const BATCH_SIZE_BUCKETS: readonly number[] = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1_000, 2_000, 5_000, 10_000];

export interface ServiceMetricsOptions {
  /** Service name, attached to every series as the `service` label. */
  readonly service: string;
  /** Process CPU, RSS, event-loop lag, GC (prom-client defaults). Default true. */
  readonly collectDefault?: boolean;
  /** Metric name prefix. Default `spam_`. */
  readonly prefix?: string;
}

/** One registry per service, holding the standard series every service exposes. */
export class ServiceMetrics {
  readonly registry: Registry;
  readonly messagesIn: Counter<"topic">;
  readonly messagesOut: Counter<"topic">;
  readonly errors: Counter<"kind">;
  readonly consumerLag: Gauge<"topic" | "partition">;
  readonly batchSize: Histogram<"topic">;
  readonly stageLatency: Histogram<"stage">;

  constructor(options: ServiceMetricsOptions) {
    const prefix = options.prefix ?? "spam_";
    this.registry = new Registry();
    this.registry.setDefaultLabels({ service: options.service });
    const registers = [this.registry];
    this.messagesIn = new Counter({
      name: `${prefix}messages_in_total`,
      help: "Messages consumed or received, by topic (or `smpp` for the gateway's input).",
      labelNames: ["topic"],
      registers,
    });
    this.messagesOut = new Counter({
      name: `${prefix}messages_out_total`,
      help: "Messages published and acknowledged, by topic.",
      labelNames: ["topic"],
      registers,
    });
    this.errors = new Counter({
      name: `${prefix}errors_total`,
      help: "Errors by kind (closed set per service, e.g. kafka_send, decode, clickhouse_insert).",
      labelNames: ["kind"],
      registers,
    });
    this.consumerLag = new Gauge({
      name: `${prefix}consumer_lag_messages`,
      help: "Messages behind the high watermark after the last processed batch, per partition.",
      labelNames: ["topic", "partition"],
      registers,
    });
    this.batchSize = new Histogram({
      name: `${prefix}batch_size_messages`,
      help: "Messages per processed batch (consumer fetch, producer send or ClickHouse insert).",
      labelNames: ["topic"],
      buckets: [...BATCH_SIZE_BUCKETS],
      registers,
    });
    this.stageLatency = new Histogram({
      name: `${prefix}stage_latency_seconds`,
      help: "Latency per pipeline stage in seconds.",
      labelNames: ["stage"],
      buckets: [...LATENCY_BUCKETS_SECONDS],
      registers,
    });
    // Pre-create stage series so dashboards show 0 rather than "no data".
    for (const stage of LATENCY_STAGES) this.stageLatency.zero({ stage });
    if (options.collectDefault ?? true) collectDefaultMetrics({ register: this.registry, prefix });
  }

  recordIn(topic: string, count = 1): void {
    if (count > 0) this.messagesIn.inc({ topic }, count);
  }

  recordOut(topic: string, count = 1): void {
    if (count > 0) this.messagesOut.inc({ topic }, count);
  }

  recordError(kind: string, count = 1): void {
    this.errors.inc({ kind }, count);
  }

  recordBatch(topic: string, size: number): void {
    this.batchSize.observe({ topic }, size);
  }

  setLag(topic: string, partition: number, lag: number): void {
    this.consumerLag.set({ topic, partition: String(partition) }, Math.max(0, lag));
  }

  observeStage(stage: LatencyStage, seconds: number): void {
    // Clock skew between processes can make cross-process stages negative; clamp rather than drop.
    this.stageLatency.observe({ stage }, Math.max(0, seconds));
  }

  /** Cross-process stages: `startEpochMs` is a wall-clock timestamp carried in the message. */
  observeStageSince(stage: LatencyStage, startEpochMs: number, nowEpochMs = Date.now()): void {
    this.observeStage(stage, (nowEpochMs - startEpochMs) / 1_000);
  }

  /** In-process stages: returns a function that records the elapsed time when called. */
  startStageTimer(stage: LatencyStage): () => number {
    const start = process.hrtime.bigint();
    return () => {
      const seconds = Number(process.hrtime.bigint() - start) / 1e9;
      this.observeStage(stage, seconds);
      return seconds;
    };
  }

  metricsText(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}

export function createServiceMetrics(options: ServiceMetricsOptions): ServiceMetrics {
  return new ServiceMetrics(options);
}
