#!/usr/bin/env node
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { createWriteStream, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { REPO_ROOT } from "@spam/repo-paths";
import { loadLocalConfig } from "./config.js";
import { runDemoFeed } from "./demo-feed.js";
import { createTopics, migrate, serviceClickHouse, startInfra } from "./infra.js";
import { createScriptLogger } from "./logger.js";
import { isAlive, readPid, sleep, waitFor, portOpen } from "./proc.js";
import { availableServices, commonServiceEnv, TOPIC_PREFIX, DEMO_SMPP_ACCOUNTS, LOCAL_PORTS, RELAY_MODE, SERVICES } from "./services.js";

/**
 * `npm start`: infrastructure, migrations, topics, every service as a child
 * process, a demo feed, then where to look. Ctrl-C (or SIGTERM) stops the
 * services in reverse order (each drains), then the servers this run started.
 */
const config = loadLocalConfig();
const logger = createScriptLogger("start");
const runDir = join(config.LOCAL_DIR, "run");
const logDir = join(config.LOCAL_DIR, "logs");
mkdirSync(runDir, { recursive: true });
mkdirSync(logDir, { recursive: true });

interface Running {
  readonly name: string;
  readonly child: ChildProcess;
  readonly exited: Promise<number | null>;
}
const running: Running[] = [];
let stopInfraOnExit: (() => Promise<void>) | null = null;
let shuttingDown = false;
let stopPostgresOnExit = false;

/** The review store of the API (users, sessions, claims); started by the script in infra/postgres. */
async function startPostgres(): Promise<void> {
  const wasRunning = await portOpen(LOCAL_PORTS.postgres);
  const result = spawnSync("bash", [resolve(REPO_ROOT, "infra/postgres/start.sh")], { stdio: ["ignore", "pipe", "inherit"], env: { ...process.env, PG_PORT: String(LOCAL_PORTS.postgres) } });
  if (result.status !== 0) throw new Error("PostgreSQL did not start (see the message above)");
  stopPostgresOnExit = !wasRunning;
}

const LEVEL_NAMES: Record<number, string> = { 10: "TRACE", 20: "DEBUG", 30: "INFO", 40: "WARN", 50: "ERROR", 60: "FATAL" };

/** Service logs stay JSON in .local/logs/<name>.log; the terminal gets one short line each. */
function pipeLogs(name: string, child: ChildProcess): void {
  const file = createWriteStream(join(logDir, `${name}.log`), { flags: "a" });
  for (const stream of [child.stdout, child.stderr]) {
    if (!stream) continue;
    createInterface({ input: stream }).on("line", (line) => {
      file.write(`${line}\n`);
      try {
        const entry = JSON.parse(line) as { level?: number; msg?: string };
        if ((entry.level ?? 30) >= 30) process.stderr.write(`  [${name}] ${LEVEL_NAMES[entry.level ?? 30] ?? ""} ${entry.msg ?? ""}\n`);
      } catch {
        process.stderr.write(`  [${name}] ${line}\n`);
      }
    });
  }
}

async function killStaleServices(): Promise<void> {
  for (const spec of SERVICES) {
    const pidFile = join(runDir, `svc-${spec.name}.pid`);
    const pid = readPid(pidFile);
    if (pid !== null && isAlive(pid)) {
      logger.warn({ service: spec.name, pid }, "stopping a service left over from an earlier run");
      process.kill(pid, "SIGTERM");
      const deadline = Date.now() + 15_000;
      while (isAlive(pid) && Date.now() < deadline) await sleep(100);
      if (isAlive(pid)) process.kill(pid, "SIGKILL");
    }
    rmSync(pidFile, { force: true });
  }
}

function startService(name: string, entry: string, env: Record<string, string>): Running {
  const child = spawn(process.execPath, [resolve(REPO_ROOT, entry)], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...env },
    // Own process group: Ctrl-C reaches this script only, which stops children in order.
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });
  if (child.pid !== undefined) writeFileSync(join(runDir, `svc-${name}.pid`), String(child.pid));
  pipeLogs(name, child);
  const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
  void exited.then((code) => {
    rmSync(join(runDir, `svc-${name}.pid`), { force: true });
    if (!shuttingDown) logger.error({ service: name, code }, "service exited unexpectedly; see .local/logs");
  });
  return { name, child, exited };
}

async function shutdown(signal: string, exitCode = 0): Promise<void> {
  if (shuttingDown) return;
  shuttingDown = true;
  logger.info({ signal }, "stopping services (each drains its in-flight work)");
  for (const r of [...running].reverse()) {
    if (r.child.exitCode !== null) continue;
    r.child.kill("SIGTERM");
    const code = await Promise.race([r.exited, sleep(30_000).then(() => "timeout" as const)]);
    if (code === "timeout") {
      logger.warn({ service: r.name }, "did not stop within 30 s: killing");
      r.child.kill("SIGKILL");
    } else logger.info({ service: r.name, code }, "stopped");
  }
  if (stopPostgresOnExit) {
    logger.info("stopping PostgreSQL");
    spawnSync("bash", [resolve(REPO_ROOT, "infra/postgres/stop.sh")], { stdio: ["ignore", "ignore", "inherit"] });
  }
  if (stopInfraOnExit) {
    logger.info("stopping Kafka and ClickHouse");
    await stopInfraOnExit();
  }
  logger.info("all stopped");
  process.exit(exitCode);
}

async function main(): Promise<void> {
  process.on("SIGINT", () => void shutdown("SIGINT"));
  process.on("SIGTERM", () => void shutdown("SIGTERM"));
  process.on("SIGHUP", () => void shutdown("SIGHUP"));
  // npm does not pass every signal on (SIGHUP, SIGKILL of npm itself): when the process that started us
  // goes away, we are reparented, and nobody is left to stop the services but us.
  const parent = process.ppid;
  setInterval(() => {
    if (process.ppid !== parent) void shutdown("parent exited");
  }, 500).unref();
  const t0 = Date.now();
  await killStaleServices();
  const infra = await startInfra(config, logger);
  stopInfraOnExit = () => infra.stopStarted();
  await migrate(config, logger);
  await createTopics(config, logger, TOPIC_PREFIX);
  const services = availableServices();
  if (services.some((s) => s.name === "api")) await startPostgres();

  const clickhouse = await serviceClickHouse(config, logger);
  const common = commonServiceEnv(config, clickhouse);
  for (const spec of services) {
    running.push(startService(spec.name, spec.entry, spec.env(config, common, clickhouse)));
  }
  await waitFor("the SMPP gateway", () => portOpen(LOCAL_PORTS.smpp), 60_000, "See .local/logs/gateway.log.");
  logger.info({ ms: Date.now() - t0, services: services.map((s) => s.name) }, "system is up");

  // The demo feed needs the demo accounts; with accounts of your own, feed it yourself.
  if (process.env.DEMO_FEED !== "0" && !process.env.SMPP_ACCOUNTS) {
    const result = await runDemoFeed({ host: "127.0.0.1", port: LOCAL_PORTS.smpp, accounts: DEMO_SMPP_ACCOUNTS, reportNumber: "10086999", logger });
    logger.info(result, "demo feed sent");
  }
  const db = config.CLICKHOUSE_DATABASE;
  const lines = [
    "",
    "The spam platform is running. Where to look:",
    ...services.filter((s) => s.url).map((s) => `  ${s.name.padEnd(8)} ${s.url!(config)}`),
    `  kafka    ${config.kafkaBrokers.join(",")}`,
    `  clickhouse ${config.clickhouseUrl} (database ${db})`,
    "",
    "Verdicts of the demo feed:",
    `  clickhouse-client --port ${config.CLICKHOUSE_TCP_PORT} --query "SELECT label, category, count() FROM ${db}.verdicts FINAL GROUP BY label, category ORDER BY count() DESC"`,
    `  curl -s '${config.clickhouseUrl}/?query=SELECT+label,count()+FROM+${db}.verdicts+FINAL+GROUP+BY+label'`,
    ...(RELAY_MODE
      ? [
          "",
          "Relay mode (gateway in front of the local SMSC stub): what was forwarded and what was stopped:",
          `  clickhouse-client --port ${config.CLICKHOUSE_TCP_PORT} --query "SELECT outcome, reason, count() FROM ${db}.delivery_records FINAL GROUP BY outcome, reason ORDER BY count() DESC"`,
        ]
      : []),
    "",
    `Logs: ${logDir}/<service>.log    Stop: Ctrl-C`,
    "",
  ];
  process.stdout.write(lines.join("\n"));
}

main().catch(async (error: Error) => {
  logger.error(`${error.name}: ${error.message}`);
  await shutdown("error", 1);
});
