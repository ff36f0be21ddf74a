import { resolve } from "node:path";
import { z } from "zod";
import { REPO_ROOT } from "@spam/repo-paths";
import { DEVELOPMENT_DEFAULTS } from "@spam/service-runtime";

export { REPO_ROOT };

const port = z.coerce.number().int().min(1).max(65_535);

const LocalEnv = z.object({
  LOCAL_DIR: z.string().default(resolve(REPO_ROOT, ".local")),
  /** Hosts of the servers; loopback for the local stack, service names in compose. */
  KAFKA_HOST: z.string().default("127.0.0.1"),
  CLICKHOUSE_HOST: z.string().default("127.0.0.1"),
  KAFKA_PORT: port.default(19092),
  KAFKA_CONTROLLER_PORT: port.default(19093),
  KAFKA_HEAP: z.string().regex(/^\d+[mg]$/).default("768m"),
  KAFKA_PARTITIONS: z.coerce.number().int().min(1).max(256).default(3),
  CLICKHOUSE_HTTP_PORT: port.default(18123),
  CLICKHOUSE_TCP_PORT: port.default(19000),
  CLICKHOUSE_DATABASE: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/).default("spam"),
  /** `migrate` applies the cluster variant of the schema (docs/PRODUCTION.md#a-clickhouse-cluster) on this cluster. */
  CLICKHOUSE_CLUSTER: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/).optional(),
  /** Unset: the local stack writes its own users.xml from infra/clickhouse/users.xml.tmpl. */
  CLICKHOUSE_USERS_CONFIG: z.string().optional(),
  /** `default` administers (migrations, cleanup, tests); the services get their own users below. */
  CLICKHOUSE_ADMIN_PASSWORD: z.string().default(""),
  CLICKHOUSE_APP_USER: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/).default("spam_app"),
  CLICKHOUSE_APP_PASSWORD: z.string().default(DEVELOPMENT_DEFAULTS.clickhouseAppPassword),
  CLICKHOUSE_RESTRICTED_USER: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/).default("spam_restricted"),
  CLICKHOUSE_RESTRICTED_PASSWORD: z.string().default(DEVELOPMENT_DEFAULTS.clickhouseRestrictedPassword),
  INFRA_READY_TIMEOUT_S: z.coerce.number().int().min(5).max(600).default(90),
});

export type LocalConfig = z.infer<typeof LocalEnv> & {
  readonly kafkaBrokers: string[];
  /** Without credentials (health probes); `adminClickhouseUrl` carries the admin's. */
  readonly clickhouseUrl: string;
  readonly adminClickhouseUrl: string;
  /** What the services use: the platform's user, and the restricted store's user (sink, decider). */
  readonly appClickhouseUrl: string;
  readonly restrictedClickhouseUrl: string;
  readonly migrationsDir: string;
};

export class ConfigError extends Error {
  override readonly name = "ConfigError";
}

export function loadLocalConfig(env: NodeJS.ProcessEnv = process.env): LocalConfig {
  const parsed = LocalEnv.safeParse(env);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ");
    throw new ConfigError(`invalid local infrastructure environment: ${issues}`);
  }
  const c = parsed.data;
  return {
    ...c,
    kafkaBrokers: [`${c.KAFKA_HOST}:${c.KAFKA_PORT}`],
    clickhouseUrl: `http://${c.CLICKHOUSE_HOST}:${c.CLICKHOUSE_HTTP_PORT}`,
    adminClickhouseUrl: withCredentials(c, "default", c.CLICKHOUSE_ADMIN_PASSWORD),
    appClickhouseUrl: withCredentials(c, c.CLICKHOUSE_APP_USER, c.CLICKHOUSE_APP_PASSWORD),
    restrictedClickhouseUrl: withCredentials(c, c.CLICKHOUSE_RESTRICTED_USER, c.CLICKHOUSE_RESTRICTED_PASSWORD),
    migrationsDir: resolve(REPO_ROOT, "infra/clickhouse/migrations"),
  };
}

function withCredentials(c: { CLICKHOUSE_HOST: string; CLICKHOUSE_HTTP_PORT: number }, user: string, password: string): string {
  const auth = password === "" && user === "default" ? "" : `${encodeURIComponent(user)}:${encodeURIComponent(password)}@`;
  return `http://${auth}${c.CLICKHOUSE_HOST}:${c.CLICKHOUSE_HTTP_PORT}`;
}
