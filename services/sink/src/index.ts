export { createSink } from "./main.js";
export { SINK_ROUTES } from "./routes.js";
export type { Sink, SinkDeps, TableStats } from "./main.js";
export { loadSinkEnv, sinkEnvShape } from "./env.js";
export type { SinkEnv } from "./env.js";
export { TableBatcher, classifyInsertError, BatcherStoppedError } from "./batcher.js";
export type { SinkRow, RowOrigin, InsertFn, FlushInfo, TableBatcherOptions, InsertFailure } from "./batcher.js";
export { verdictRow, verdictRows, trafficRows, reportRows, blockListRows, replyRows, reviewLabelRows, enforcementRows, deliveryRows, decisionRows, deadLetterRows, maskNumber, rowsForInsert } from "./rows.js";
export type { TableRow } from "./rows.js";
