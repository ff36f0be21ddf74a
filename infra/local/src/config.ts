import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { z } from "zod";

/** Repository root, from this file's place in infra/local/dist. */
export const REPO_ROOT = resolve(fileURLToPath(new URL(".", import.meta.url)), "../../..");

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
  CLICKHOUSE_USERS_CONFIG: z.string().default("/etc/clickhouse-server/users.xml"),
  INFRA_READY_TIMEOUT_S: z.coerce.number().int().min(5).max(600).default(90),
});

export type LocalConfig = z.infer<typeof LocalEnv> & {
  readonly kafkaBrokers: string[];
  readonly clickhouseUrl: string;
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
    migrationsDir: resolve(REPO_ROOT, "infra/clickhouse/migrations"),
  };
}
