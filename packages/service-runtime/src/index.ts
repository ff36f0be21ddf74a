export { parseEnv, envSchemas, EnvError, loadEnvOrExit } from "./env.js";
export { runService } from "./service.js";
export { createServiceLogger } from "./logger.js";
export type { ServiceHandle } from "./service.js";
export { enforceProduction, checkProductionEnv, keyBytes, DEVELOPMENT_DEFAULTS, MIN_KEY_BYTES } from "./production.js";
export type { ProductionCheck, ProductionOptions } from "./production.js";
