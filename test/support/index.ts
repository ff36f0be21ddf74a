export { startServiceProcess, eventually } from "./services.js";
export { freePort } from "@spam/infra-local";
export type { ServiceProcess } from "./services.js";
export { createTestStack } from "./stack.js";
export { startDeciderStack, startPipeline } from "./decider-stack.js";
export type { DeciderStack, Pipeline } from "./decider-stack.js";
export type { TestStack } from "./stack.js";
export { testPgDatabase, createApiUser } from "./postgres.js";
export type { PgDatabase as TestPgDatabase } from "@spam/api-service/testing";
