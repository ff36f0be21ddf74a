export { createGateway } from "./main.js";
export type { Gateway } from "./main.js";
export { loadGatewayEnv } from "./env.js";
export type { GatewayEnv } from "./env.js";
