import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { REPO_ROOT } from "@spam/repo-paths";
import type { LocalConfig } from "./config.js";
import { DEVELOPMENT_DEFAULTS } from "@spam/service-runtime";

/**
 * The services `npm start` runs, in start order (stopped in reverse: the
 * gateway stops taking traffic before the workers behind it drain).
 */
export interface ServiceSpec {
  readonly name: string;
  readonly entry: string;
  readonly env: (config: LocalConfig, common: Record<string, string>, clickhouse: ServiceClickHouse) => Record<string, string>;
  /** Printed in the "where to look" summary. */
  readonly url?: (config: LocalConfig) => string;
}

export const LOCAL_PORTS = {
  smpp: Number(process.env.SMPP_PORT ?? 2775),
  /** The local SMSC stub the gateway relays to (relay mode). */
  smsc: Number(process.env.SMSC_STUB_PORT ?? 2776),
  api: Number(process.env.API_PORT ?? 8080),
  postgres: Number(process.env.PG_PORT ?? 15432),
} as const;

/** The product's topics have no prefix; a test of the whole stack runs it under a prefix of its own. */
export const TOPIC_PREFIX = process.env.TOPIC_PREFIX ?? "";

/** /healthz, /readyz and /metrics of each worker service (the api serves them on its own port). */
const METRICS_PORTS = {
  sink: Number(process.env.SINK_METRICS_PORT ?? 9461),
  decider: Number(process.env.DECIDER_METRICS_PORT ?? 9462),
  scorer: Number(process.env.SCORER_METRICS_PORT ?? 9463),
  gateway: Number(process.env.GATEWAY_METRICS_PORT ?? 9464),
} as const;

const metricsUrl = (port: number) => `http://127.0.0.1:${port}/metrics`;

export interface DemoSmppAccount {
  readonly systemId: string;
  readonly password: string;
  readonly capabilities: string;
  readonly sourceRanges: string;
}

/**
 * Local demo only: one SMPP account per role (services/gateway/README.md), with
 * passwords that fit SMPP 3.4's 8 characters so any standard client can bind:
 * the subscriber MO link (reports and person-to-person traffic from mobile
 * ranges), an A2P link (its access codes), and the reply link that receives
 * the answers to reporters.
 */
export const DEMO_SMPP_ACCOUNTS = {
  mo: { systemId: "mo-link", password: DEVELOPMENT_DEFAULTS.smppDemoPasswords.mo, capabilities: "report+traffic", sourceRanges: "13*|14*|15*|16*|17*|18*|19*" },
  a2p: { systemId: "a2p-demo", password: DEVELOPMENT_DEFAULTS.smppDemoPasswords.a2p, capabilities: "traffic", sourceRanges: "1069*|95588|10086" },
  replies: { systemId: "replies", password: DEVELOPMENT_DEFAULTS.smppDemoPasswords.replies, capabilities: "reply", sourceRanges: "*" },
} as const satisfies Record<string, DemoSmppAccount>;

export const demoSmppAccountsEnv = (): string =>
  Object.values(DEMO_SMPP_ACCOUNTS)
    .map((a) => `${a.systemId}:${a.password}:${a.capabilities}:${a.sourceRanges}`)
    .join(",");
/**
 * `npm start` runs the gateway in relay mode (services/gateway/README.md) in front of the local
 * SMSC stub: traffic is held for its verdict and forwarded or stopped. RELAY=0 runs it as a
 * terminating gateway (no stub).
 */
export const RELAY_MODE = process.env.RELAY !== "0";

/** Local demo only: the stub accepts any bind; the gateway binds to it with these. */
const LOCAL_RELAY_ROUTES = (): string =>
  JSON.stringify([
    { name: "local", smscs: [{ name: "smsc-stub", host: "127.0.0.1", port: LOCAL_PORTS.smsc, systemId: "relay", password: "relay-pw", bindMode: "transceiver" }] },
  ]);

/** Local demo only: the console's demo users get this password (never set in production). */
const DEMO_CONSOLE_PASSWORD = process.env.API_DEMO_PASSWORD ?? "demo-console-2026";

/**
 * A scorer's V8 flags: a capped old space keeps it under 512 MiB RSS under a flood
 * (docs/SCORING.md); 32 MiB semi-spaces let a fetch's short-lived records die young instead
 * of being promoted, which cut a scorer's CPU per message by about 12 % (docs/PERFORMANCE.md).
 */
/** The model registry the scorer and the console share under `npm start` (`spam models …` take it as MODEL_REGISTRY_DIR). */
const modelRegistryDir = (c: LocalConfig): string => resolve(c.LOCAL_DIR, "models");

export const SCORER_NODE_OPTIONS = "--max-old-space-size=320 --max-semi-space-size=32";

export const SERVICES: readonly ServiceSpec[] = [
  {
    name: "sink",
    entry: "services/sink/dist/main.js",
    env: (_c, common, ch) => ({ ...common, ...restricted(ch), METRICS_PORT: String(METRICS_PORTS.sink) }),
    url: () => `metrics ${metricsUrl(METRICS_PORTS.sink)}`,
  },
  {
    name: "decider",
    entry: "services/decider/dist/main.js",
    env: (_c, common, ch) => ({ ...common, ...restricted(ch), METRICS_PORT: String(METRICS_PORTS.decider) }),
    url: () => `metrics ${metricsUrl(METRICS_PORTS.decider)}`,
  },
  {
    name: "scorer",
    entry: "services/scorer/dist/main.js",
    env: (c, common) => ({ ...common, NODE_OPTIONS: SCORER_NODE_OPTIONS, METRICS_PORT: String(METRICS_PORTS.scorer), MODEL_REGISTRY_DIR: modelRegistryDir(c) }),
    url: () => `metrics ${metricsUrl(METRICS_PORTS.scorer)}`,
  },
  {
    name: "api",
    entry: "services/api/dist/main.js",
    env: (c, common) => ({
      ...common,
      API_PORT: String(LOCAL_PORTS.api),
      MODEL_REGISTRY_DIR: modelRegistryDir(c),
      DATABASE_URL: process.env.DATABASE_URL ?? `postgres://spam:spam@127.0.0.1:${LOCAL_PORTS.postgres}/spam_api`,
      API_DEMO_PASSWORD: DEMO_CONSOLE_PASSWORD,
    }),
    url: () =>
      `http://127.0.0.1:${LOCAL_PORTS.api}/ (demo users reviewer, analyst, admin; password ${DEMO_CONSOLE_PASSWORD}); metrics ${LOCAL_PORTS.api === 0 ? "" : `http://127.0.0.1:${LOCAL_PORTS.api}/metrics`}`,
  },
  ...(RELAY_MODE
    ? [
        {
          name: "smsc-stub",
          entry: "packages/smsc-stub/dist/main.js",
          env: (_c: LocalConfig, common: Record<string, string>) => ({ LOG_LEVEL: common.LOG_LEVEL ?? "info", SMSC_STUB_PORT: String(LOCAL_PORTS.smsc) }),
          url: () => `smpp://127.0.0.1:${LOCAL_PORTS.smsc} (local downstream SMSC: accepts what the relay forwards, returns receipts)`,
        },
      ]
    : []),
  {
    name: "gateway",
    entry: "services/gateway/dist/main.js",
    env: (_c, common) => ({
      ...common,
      SMPP_PORT: String(LOCAL_PORTS.smpp),
      SMPP_ACCOUNTS: process.env.SMPP_ACCOUNTS ?? demoSmppAccountsEnv(),
      METRICS_PORT: String(METRICS_PORTS.gateway),
      ...(RELAY_MODE ? { RELAY_ENABLED: "true", RELAY_ROUTES: process.env.RELAY_ROUTES ?? LOCAL_RELAY_ROUTES() } : {}),
    }),
    url: () =>
      process.env.SMPP_ACCOUNTS
        ? `smpp://127.0.0.1:${LOCAL_PORTS.smpp} (accounts from SMPP_ACCOUNTS)`
        : [
            `smpp://127.0.0.1:${LOCAL_PORTS.smpp} (demo accounts, system_id / password: capabilities, source ranges)`,
            ...Object.values(DEMO_SMPP_ACCOUNTS).map((a) => `             ${a.systemId} / ${a.password}: ${a.capabilities}, ${a.sourceRanges}`),
          ].join("\n") + `\n           metrics ${metricsUrl(METRICS_PORTS.gateway)}`,
  },
];

export function availableServices(): ServiceSpec[] {
  return SERVICES.filter((s) => existsSync(resolve(REPO_ROOT, s.entry)));
}

/**
 * The ClickHouse users the services connect as: the platform's user and the restricted store's own
 * (infra/clickhouse/users.xml.tmpl), or the server's default user where the server running is not
 * ours (started elsewhere, without those users).
 */
export interface ServiceClickHouse {
  readonly url: string;
  readonly restrictedUrl: string | null;
}

const restricted = (ch: ServiceClickHouse): Record<string, string> => (ch.restrictedUrl ? { CLICKHOUSE_RESTRICTED_URL: ch.restrictedUrl } : {});

export function commonServiceEnv(config: LocalConfig, ch: ServiceClickHouse): Record<string, string> {
  return {
    KAFKA_BROKERS: config.kafkaBrokers.join(","),
    CLICKHOUSE_URL: ch.url,
    CLICKHOUSE_DATABASE: config.CLICKHOUSE_DATABASE,
    TOPIC_PREFIX,
    LOG_LEVEL: process.env.LOG_LEVEL ?? "info",
  };
}
