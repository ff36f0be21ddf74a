export { startServiceProcess, freePort, eventually } from "./services.js";
export type { ServiceProcess } from "./services.js";
export { createTestStack } from "./stack.js";
export type { TestStack } from "./stack.js";
export { testPgDatabase, createApiUser } from "./postgres.js";
export type { TestPgDatabase } from "./postgres.js";
