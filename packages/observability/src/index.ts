export { ServiceMetrics, createServiceMetrics } from "./metrics.js";
export { ObservabilityServer } from "./server.js";
export { instrumentConsumer, batchCommittedRecorder } from "./consumer.js";
