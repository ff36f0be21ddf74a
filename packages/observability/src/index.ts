export {
  ServiceMetrics,
  createServiceMetrics,
  LATENCY_STAGES,
  LATENCY_BUCKETS_SECONDS,
  BATCH_SIZE_BUCKETS,
} from "./metrics.js";
export type { LatencyStage, ServiceMetricsOptions } from "./metrics.js";
export { ObservabilityServer, startObservabilityServer } from "./server.js";
export type { ObservabilityServerOptions, ReadinessCheck, ReadinessReport } from "./server.js";
export { instrumentConsumer, batchCommittedRecorder } from "./consumer.js";
export type { BatchCommittedInfo, ConsumerHooks, ObservableConsumer } from "./consumer.js";
export { messageLogger } from "./log.js";
