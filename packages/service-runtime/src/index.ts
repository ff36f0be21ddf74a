export { parseEnv, envSchemas, EnvError } from "./env.js";
export { createServiceLogger, runService } from "./service.js";
export type { ServiceHandle } from "./service.js";
