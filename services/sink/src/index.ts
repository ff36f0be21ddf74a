export { createSink } from "./main.js";
export type { Sink } from "./main.js";
export { loadSinkEnv } from "./env.js";
export { verdictRow, verdictRows, trafficRows, reportRows, blockListRows, replyRows, reviewLabelRows, enforcementRows, deliveryRows, decisionRows, deadLetterRows, rowsForInsert } from "./rows.js";
export type { TableRow } from "./rows.js";
