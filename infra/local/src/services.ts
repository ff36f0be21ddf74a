import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { REPO_ROOT, type LocalConfig } from "./config.js";

/**
 * The services `npm start` runs, in start order (stopped in reverse: the
 * gateway stops taking traffic before the workers behind it drain).
 */
export interface ServiceSpec {
  readonly name: string;
  readonly entry: string;
  readonly env: (config: LocalConfig, common: Record<string, string>) => Record<string, string>;
  /** Printed in the "where to look" summary. */
  readonly url?: (config: LocalConfig) => string;
}

export const LOCAL_PORTS = {
  smpp: Number(process.env.SMPP_PORT ?? 2775),
  api: Number(process.env.API_PORT ?? 8080),
  postgres: Number(process.env.PG_PORT ?? 15432),
} as const;

export const DEMO_ACCOUNT = { systemId: "demo", password: "demo-pass" } as const;
/** Local demo only: the console's demo users get this password (never set in production). */
export const DEMO_CONSOLE_PASSWORD = process.env.API_DEMO_PASSWORD ?? "demo-console-2026";

/**
 * A scorer's V8 flags: a capped old space keeps it under 512 MiB RSS under a flood
 * (docs/SCORING.md); 32 MiB semi-spaces let a fetch's short-lived records die young instead
 * of being promoted, which cut a scorer's CPU per message by about 12 % (docs/PERFORMANCE.md).
 */
export const SCORER_NODE_OPTIONS = "--max-old-space-size=320 --max-semi-space-size=32";

export const SERVICES: readonly ServiceSpec[] = [
  { name: "sink", entry: "services/sink/dist/main.js", env: (_c, common) => ({ ...common }) },
  { name: "decider", entry: "services/decider/dist/main.js", env: (_c, common) => ({ ...common }) },
  { name: "scorer", entry: "services/scorer/dist/main.js", env: (_c, common) => ({ ...common, NODE_OPTIONS: SCORER_NODE_OPTIONS }) },
  {
    name: "api",
    entry: "services/api/dist/main.js",
    env: (_c, common) => ({
      ...common,
      API_PORT: String(LOCAL_PORTS.api),
      DATABASE_URL: `postgres://spam:spam@127.0.0.1:${LOCAL_PORTS.postgres}/spam_api`,
      API_DEMO_PASSWORD: DEMO_CONSOLE_PASSWORD,
    }),
    url: () => `http://127.0.0.1:${LOCAL_PORTS.api}/ (demo users reviewer, analyst, admin; password ${DEMO_CONSOLE_PASSWORD})`,
  },
  {
    name: "gateway",
    entry: "services/gateway/dist/main.js",
    env: (_c, common) => ({
      ...common,
      SMPP_PORT: String(LOCAL_PORTS.smpp),
      SMPP_ACCOUNTS: process.env.SMPP_ACCOUNTS ?? `${DEMO_ACCOUNT.systemId}:${DEMO_ACCOUNT.password}`,
    }),
    url: () => `smpp://127.0.0.1:${LOCAL_PORTS.smpp} (system_id ${DEMO_ACCOUNT.systemId})`,
  },
];

export function availableServices(): ServiceSpec[] {
  return SERVICES.filter((s) => existsSync(resolve(REPO_ROOT, s.entry)));
}

export function commonServiceEnv(config: LocalConfig): Record<string, string> {
  return {
    KAFKA_BROKERS: config.kafkaBrokers.join(","),
    CLICKHOUSE_URL: config.clickhouseUrl,
    CLICKHOUSE_DATABASE: config.CLICKHOUSE_DATABASE,
    TOPIC_PREFIX: "",
    LOG_LEVEL: process.env.LOG_LEVEL ?? "info",
  };
}
