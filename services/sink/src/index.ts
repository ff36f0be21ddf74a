export { createSink } from "./main.js";
export { loadSinkEnv } from "./env.js";
export type { SinkEnv } from "./env.js";
export { verdictRow } from "./rows.js";
