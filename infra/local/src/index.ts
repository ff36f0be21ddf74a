export { loadLocalConfig, REPO_ROOT, ConfigError } from "./config.js";
export type { LocalConfig } from "./config.js";
export { startInfra, stopInfra, migrate, createTopics } from "./infra.js";
export type { InfraHandle } from "./infra.js";
export { startKafka, startClickHouse, stopServer } from "./servers.js";
export type { ServerName, ServerStatus } from "./servers.js";
export { InfraError, waitFor, sleep, portOpen } from "./proc.js";
export { removeRunArtifacts, removeFinishedRuns, runStartedAt } from "./cleanup.js";
export type { RunArtifacts } from "./cleanup.js";
