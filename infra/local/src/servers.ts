import { createHash, randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import type { Logger } from "pino";
import { restrictedDatabase } from "@spam/clickhouse";
import { createKafkaClient } from "@spam/kafka";
import { REPO_ROOT } from "@spam/repo-paths";
import type { LocalConfig } from "./config.js";
import { InfraError, isAlive, portOpen, readPid, renderTemplate, spawnDetached, stopPid, waitFor } from "./proc.js";
import { execFileSync } from "node:child_process";

export type ServerName = "kafka" | "clickhouse";

export interface ServerStatus {
  readonly name: ServerName;
  /** started: by this call; running: our earlier process; external: something else answers on the port. */
  readonly state: "started" | "running" | "external";
  readonly pid: number | null;
}

function dirs(config: LocalConfig) {
  const base = config.LOCAL_DIR;
  const d = {
    run: join(base, "run"),
    logs: join(base, "logs"),
    kafka: join(base, "kafka"),
    kafkaData: join(base, "kafka", "data"),
    clickhouse: join(base, "clickhouse"),
    clickhouseData: join(base, "clickhouse", "data"),
  };
  for (const dir of Object.values(d)) mkdirSync(dir, { recursive: true });
  return d;
}

export function pidFile(config: LocalConfig, name: ServerName): string {
  return join(dirs(config).run, `${name}.pid`);
}

function requireCommand(command: string, hint: string): void {
  try {
    execFileSync("sh", ["-c", `command -v ${command}`], { stdio: "ignore" });
  } catch {
    throw new InfraError(`${command} is missing: ${hint}`);
  }
}

async function kafkaAnswers(config: LocalConfig, logger: Logger): Promise<boolean> {
  if (!(await portOpen(config.KAFKA_PORT))) return false;
  const kafka = createKafkaClient({ brokers: config.kafkaBrokers, clientId: "infra-probe", logger: logger.child({ level: "fatal" }), retries: 0 });
  const admin = kafka.admin();
  try {
    await admin.connect();
    const cluster = await admin.describeCluster();
    return cluster.brokers.length > 0 && cluster.controller !== null;
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

export async function startKafka(config: LocalConfig, logger: Logger): Promise<ServerStatus> {
  const d = dirs(config);
  const pidPath = pidFile(config, "kafka");
  const pid = readPid(pidPath);
  if (pid !== null && isAlive(pid)) {
    await waitFor("Kafka", () => kafkaAnswers(config, logger), config.INFRA_READY_TIMEOUT_S * 1000, `See ${join(d.logs, "kafka.log")}.`);
    return { name: "kafka", state: "running", pid };
  }
  if (await portOpen(config.KAFKA_PORT)) {
    logger.warn({ port: config.KAFKA_PORT }, "something already listens on the Kafka port; using it");
    return { name: "kafka", state: "external", pid: null };
  }
  requireCommand("java", "install Java 17 (apt-get install openjdk-17-jre-headless)");
  const libs = resolve(REPO_ROOT, "infra/kafka/libs");
  if (!existsSync(join(libs, ".complete"))) {
    throw new InfraError("the Kafka jars are missing: run `bash infra/bin/bootstrap.sh` (it fetches them with Maven)");
  }
  const properties = join(d.kafka, "server.properties");
  writeFileSync(
    properties,
    renderTemplate(readFileSync(resolve(REPO_ROOT, "infra/kafka/server.properties.tmpl"), "utf8"), {
      KAFKA_PORT: config.KAFKA_PORT,
      KAFKA_CONTROLLER_PORT: config.KAFKA_CONTROLLER_PORT,
      KAFKA_DATA_DIR: d.kafkaData,
    }),
  );
  const java = ["-cp", `${libs}/*`];
  if (!existsSync(join(d.kafkaData, "meta.properties"))) {
    // KRaft storage is formatted once; the cluster id is a random 16-byte base64url id. It is
    // passed as --cluster-id=… because one id in 64 starts with "-", which the parser takes for a flag.
    const clusterId = randomBytes(16).toString("base64url");
    logger.info({ clusterId }, "formatting Kafka KRaft storage");
    execFileSync("java", [...java, `-Dlog4j2.configurationFile=${resolve(REPO_ROOT, "infra/kafka/log4j2.properties")}`, "kafka.tools.StorageTool", "format", `--cluster-id=${clusterId}`, "-c", properties], {
      stdio: ["ignore", "ignore", "pipe"],
    });
  }
  const started = spawnDetached(
    "java",
    [
      `-Xmx${config.KAFKA_HEAP}`,
      "-Xms256m",
      "-XX:+UseG1GC",
      "-XX:MaxGCPauseMillis=20",
      // Pauses of the broker stall every producer and consumer at once: keep a record of them.
      `-Xlog:gc,safepoint:file=${join(d.logs, "kafka-gc.log")}:uptime,time:filecount=3,filesize=10m`,
      "-Djava.awt.headless=true",
      `-Dlog4j2.configurationFile=${resolve(REPO_ROOT, "infra/kafka/log4j2.properties")}`,
      ...java,
      "kafka.Kafka",
      properties,
    ],
    join(d.logs, "kafka.log"),
    pidPath,
    d.kafka,
  );
  logger.info({ pid: started, port: config.KAFKA_PORT }, "starting Kafka");
  await waitFor("Kafka", () => kafkaAnswers(config, logger), config.INFRA_READY_TIMEOUT_S * 1000, `See ${join(d.logs, "kafka.log")}.`);
  return { name: "kafka", state: "started", pid: started };
}

async function clickhouseAnswers(config: LocalConfig): Promise<boolean> {
  const res = await fetch(`${config.clickhouseUrl}/ping`, { signal: AbortSignal.timeout(1_000) });
  return res.ok && (await res.text()).startsWith("Ok");
}

export async function startClickHouse(config: LocalConfig, logger: Logger): Promise<ServerStatus> {
  const d = dirs(config);
  const pidPath = pidFile(config, "clickhouse");
  const pid = readPid(pidPath);
  const hint = `See ${join(d.logs, "clickhouse-server.err.log")}.`;
  if (pid !== null && isAlive(pid)) {
    // ClickHouse rereads its users file on change: a running server of ours gets the current users.
    const users = join(d.clickhouse, "users.xml");
    if (config.CLICKHOUSE_USERS_CONFIG === undefined && existsSync(users)) writeUsersConfig(config, users);
    await waitFor("ClickHouse", () => clickhouseAnswers(config), config.INFRA_READY_TIMEOUT_S * 1000, hint);
    return { name: "clickhouse", state: "running", pid };
  }
  if (await portOpen(config.CLICKHOUSE_HTTP_PORT)) {
    logger.warn({ port: config.CLICKHOUSE_HTTP_PORT }, "something already listens on the ClickHouse port; using it");
    return { name: "clickhouse", state: "external", pid: null };
  }
  requireCommand("clickhouse-server", "install Debian's package: apt-get install clickhouse-server (infra/bin/bootstrap.sh does this)");
  const configPath = join(d.clickhouse, "config.xml");
  const usersPath = config.CLICKHOUSE_USERS_CONFIG ?? writeUsersConfig(config, join(d.clickhouse, "users.xml"));
  writeFileSync(
    configPath,
    renderTemplate(readFileSync(resolve(REPO_ROOT, "infra/clickhouse/config.xml.tmpl"), "utf8"), {
      CLICKHOUSE_HTTP_PORT: config.CLICKHOUSE_HTTP_PORT,
      CLICKHOUSE_TCP_PORT: config.CLICKHOUSE_TCP_PORT,
      CLICKHOUSE_DATA_DIR: d.clickhouseData,
      CLICKHOUSE_LOG_DIR: d.logs,
      CLICKHOUSE_USERS_CONFIG: usersPath,
    }),
  );
  const started = spawnDetached("clickhouse-server", [`--config-file=${configPath}`], join(d.logs, "clickhouse.out.log"), pidPath, d.clickhouse);
  logger.info({ pid: started, port: config.CLICKHOUSE_HTTP_PORT }, "starting ClickHouse");
  await waitFor("ClickHouse", () => clickhouseAnswers(config), config.INFRA_READY_TIMEOUT_S * 1000, hint);
  return { name: "clickhouse", state: "started", pid: started };
}

const sha256 = (s: string) => createHash("sha256").update(s, "utf8").digest("hex");

/**
 * The platform's ClickHouse users (infra/clickhouse/users.xml.tmpl): passwords go in as SHA-256,
 * so the file holds no password and needs no XML escaping. ClickHouse rereads it on change.
 */
function writeUsersConfig(config: LocalConfig, path: string): string {
  writeFileSync(
    path,
    renderTemplate(readFileSync(resolve(REPO_ROOT, "infra/clickhouse/users.xml.tmpl"), "utf8"), {
      CLICKHOUSE_ADMIN_PASSWORD_HASH: sha256(config.CLICKHOUSE_ADMIN_PASSWORD),
      CLICKHOUSE_APP_USER: config.CLICKHOUSE_APP_USER,
      CLICKHOUSE_APP_PASSWORD_HASH: sha256(config.CLICKHOUSE_APP_PASSWORD),
      CLICKHOUSE_RESTRICTED_USER: config.CLICKHOUSE_RESTRICTED_USER,
      CLICKHOUSE_RESTRICTED_PASSWORD_HASH: sha256(config.CLICKHOUSE_RESTRICTED_PASSWORD),
      CLICKHOUSE_DATABASE: config.CLICKHOUSE_DATABASE,
      CLICKHOUSE_RESTRICTED_DATABASE: restrictedDatabase(config.CLICKHOUSE_DATABASE),
    }),
    { mode: 0o600 },
  );
  return path;
}

export async function stopServer(config: LocalConfig, name: ServerName): Promise<boolean> {
  return stopPid(pidFile(config, name), name, name === "kafka" ? 30_000 : 15_000);
}
