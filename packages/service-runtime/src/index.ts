export { parseEnv, envSchemas, EnvError, loadEnvOrExit } from "./env.js";
export { runService } from "./service.js";
export { createServiceLogger } from "./logger.js";
export type { ServiceHandle } from "./service.js";
export { enforceProduction, DEVELOPMENT_DEFAULTS } from "./production.js";
