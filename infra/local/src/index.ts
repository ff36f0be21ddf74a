export { loadLocalConfig } from "./config.js";
export type { LocalConfig } from "./config.js";
export { migrate, createTopics } from "./infra.js";
export { startKafka, startClickHouse, stopServer } from "./servers.js";
export { freePort } from "./proc.js";
export { removeRunArtifacts } from "./cleanup.js";
export { SCORER_NODE_OPTIONS, DEMO_SMPP_ACCOUNTS, demoSmppAccountsEnv } from "./services.js";
export { runDemoFeed } from "./demo-feed.js";
