export { parseEnv, envSchemas, EnvError, loadEnvOrExit } from "./env.js";
export { createServiceLogger, runService } from "./service.js";
export type { ServiceHandle } from "./service.js";
