import { spawn, type ChildProcess } from "node:child_process";
import { createWriteStream, existsSync, mkdirSync, type WriteStream } from "node:fs";
import { join, resolve } from "node:path";
import { createInterface } from "node:readline";
import pino, { type Logger } from "pino";
import { topicNames, type TopicNames } from "@spam/contracts";
import { createTopics, freePort, loadLocalConfig, migrate, removeRunArtifacts, SCORER_NODE_OPTIONS, type LocalConfig } from "@spam/infra-local";
import { REPO_ROOT } from "@spam/repo-paths";

export const BENCH_ACCOUNT = { systemId: "bench", password: "bench-pw" } as const;

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export function serviceBuilt(name: string): boolean {
  return existsSync(resolve(REPO_ROOT, `services/${name}/dist/main.js`));
}

/** One service as a real child process; can be SIGKILLed and started again with the same env. */
export class ServiceChild {
  child: ChildProcess | null = null;
  private log: WriteStream;
  private startedWaiters: Array<() => void> = [];
  private started = false;
  restarts = 0;

  constructor(
    readonly name: string,
    readonly instance: string,
    readonly env: Record<string, string>,
    logDir: string,
    /** Node flags not allowed in NODE_OPTIONS (e.g. --cpu-prof). */
    readonly nodeArgs: readonly string[] = [],
    /** CPU niceness of every thread of the process (through nice(1)); 0 = as this process. */
    readonly nice = 0,
    /** The checkout whose build runs (another one: old-against-new benchmarks). */
    readonly root = REPO_ROOT,
  ) {
    mkdirSync(logDir, { recursive: true });
    this.log = createWriteStream(join(logDir, `${instance}.log`), { flags: "a" });
  }

  get pid(): number | null {
    return this.child?.pid ?? null;
  }

  get running(): boolean {
    return this.child !== null && this.child.exitCode === null && this.child.signalCode === null;
  }

  start(): void {
    this.started = false;
    const args = [...this.nodeArgs, resolve(this.root, `services/${this.name}/dist/main.js`)];
    // nice(1) execs node in place, so the pid is the service's and all its threads inherit the niceness.
    const [command, argv] = this.nice !== 0 ? ["nice", ["-n", String(this.nice), process.execPath, ...args]] : [process.execPath, args];
    const child = spawn(command, argv, {
      cwd: this.root,
      env: { ...process.env, LOG_LEVEL: "info", ...this.env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    this.child = child;
    for (const stream of [child.stdout!, child.stderr!]) {
      createInterface({ input: stream }).on("line", (line) => {
        this.log.write(line + "\n");
        if (!this.started && line.includes('"msg":"started"')) {
          this.started = true;
          for (const w of this.startedWaiters.splice(0)) w();
        }
      });
    }
  }

  waitStarted(timeoutMs = 60_000): Promise<void> {
    if (this.started) return Promise.resolve();
    return new Promise((resolveStart, reject) => {
      const timer = setTimeout(() => reject(new Error(`${this.instance} did not log "started" within ${timeoutMs} ms (see its log)`)), timeoutMs);
      this.startedWaiters.push(() => {
        clearTimeout(timer);
        resolveStart();
      });
      this.child?.once("exit", (code) => {
        clearTimeout(timer);
        if (!this.started) reject(new Error(`${this.instance} exited with ${code} before it started (see its log)`));
      });
    });
  }

  async kill(signal: NodeJS.Signals = "SIGKILL", timeoutMs = 30_000): Promise<number | null> {
    const child = this.child;
    if (!child || !this.running) return child?.exitCode ?? null;
    const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
    child.kill(signal);
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    const code = await exited;
    clearTimeout(timer);
    return code;
  }

  /**
   * Stops the process with `signal` and starts it again. After SIGTERM the service must drain and
   * exit 0 on its own (it gets 30 s before a SIGKILL); anything else is reported once it runs again.
   */
  async restart(signal: "SIGKILL" | "SIGTERM" = "SIGKILL"): Promise<void> {
    const child = this.child;
    const code = await this.kill(signal);
    const forced = signal === "SIGTERM" && child?.signalCode === "SIGKILL";
    this.restarts++;
    this.start();
    await this.waitStarted();
    if (signal === "SIGTERM" && (forced || code !== 0)) {
      throw new Error(`${this.instance} did not stop cleanly on SIGTERM (${forced ? "killed after 30 s" : `exit code ${code}`})`);
    }
  }
}

export interface StackOptions {
  readonly name: string;
  readonly gateways: number;
  readonly scorers: number;
  readonly sinks: number;
  /** Extra services started once each if built (e.g. decider). */
  readonly extra?: readonly string[];
  readonly config?: LocalConfig;
  readonly gatewayEnv?: Record<string, string>;
  readonly logDir?: string;
  /** Leave topics and database in place on stop (a private broker and server that are discarded anyway). */
  readonly keepArtifacts?: boolean;
  /** Node flags for every service (e.g. --cpu-prof --cpu-prof-dir=DIR). */
  readonly nodeArgs?: readonly string[];
  /**
   * CPU niceness per service name (e.g. sink, decider, scorer). On a machine where every tier
   * shares two cores, the tiers off the verdict path (sink, decider) can yield to it, or the
   * consumers to the SMPP front end in a burst, so the overload lands in Kafka as lag; in
   * production each tier has machines of its own.
   */
  readonly nice?: Readonly<Record<string, number>>;
  /** Settings per service name, over the stack's own (e.g. { sink: { SINK_FETCH_MAX_WAIT_MS: "250" } }). */
  readonly serviceEnv?: Readonly<Record<string, Readonly<Record<string, string>>>>;
}

/**
 * A private pipeline on a broker and ClickHouse server: topics under a unique
 * prefix and a database of its own, migrated, and every service as a child
 * process. Never touches another run's topics or tables.
 */
export class PrivateStack {
  readonly services: ServiceChild[] = [];
  /** Optional services that could not start, with the reason. */
  readonly skipped: string[] = [];
  readonly smppPorts: number[] = [];
  readonly metricsPorts = new Map<string, number>();
  readonly topics: TopicNames;
  readonly prefix: string;
  readonly database: string;
  readonly config: LocalConfig;
  readonly logDir: string;
  readonly logger: Logger = pino({ level: "warn" });

  constructor(readonly o: StackOptions) {
    const runId = `${o.name}-${Date.now().toString(36)}`;
    this.prefix = `${runId}.`;
    this.database = runId.replace(/[^A-Za-z0-9_]/g, "_");
    this.topics = topicNames(this.prefix);
    this.config = o.config ?? loadLocalConfig();
    this.logDir = o.logDir ?? resolve(REPO_ROOT, ".local/logs/bench", runId);
  }

  get brokers(): string {
    return this.config.kafkaBrokers.join(",");
  }

  baseEnv(): Record<string, string> {
    return {
      KAFKA_BROKERS: this.brokers,
      CLICKHOUSE_URL: this.config.clickhouseUrl,
      CLICKHOUSE_DATABASE: this.database,
      TOPIC_PREFIX: this.prefix,
      LOG_LEVEL: "info",
    };
  }

  async start(): Promise<void> {
    await migrate(this.config, this.logger, this.database);
    await createTopics(this.config, this.logger, this.prefix);
    const base = this.baseEnv();
    for (let i = 0; i < this.o.gateways; i++) {
      const port = await freePort();
      const metrics = await freePort();
      this.smppPorts.push(port);
      this.add("gateway", `gateway-${i + 1}`, {
        ...base,
        GATEWAY_ID: `gw-bench-${i + 1}`,
        SMPP_PORT: String(port),
        SMPP_ACCOUNTS: `${BENCH_ACCOUNT.systemId}:${BENCH_ACCOUNT.password}:report+traffic+reply:*:256`,
        SMPP_DEFAULT_TPS: "1000000",
        SMPP_DEFAULT_WINDOW: "1000",
        METRICS_PORT: String(metrics),
        ...this.o.gatewayEnv,
      }, metrics);
    }
    const groups = (svc: string) => ({ CONSUMER_GROUP: `${this.prefix}${svc}` });
    for (let i = 0; i < this.o.scorers && serviceBuilt("scorer"); i++) {
      const metrics = await freePort();
      // The V8 flags npm start uses; BENCH_SCORER_NODE_OPTIONS tries others.
      const nodeOptions = process.env["BENCH_SCORER_NODE_OPTIONS"] ?? SCORER_NODE_OPTIONS;
      this.add("scorer", `scorer-${i + 1}`, { ...base, ...groups("scorer"), METRICS_PORT: String(metrics), NODE_OPTIONS: nodeOptions }, metrics);
    }
    for (let i = 0; i < this.o.sinks && serviceBuilt("sink"); i++) {
      const metrics = await freePort();
      this.add("sink", `sink-${i + 1}`, { ...base, ...groups("sink"), METRICS_PORT: String(metrics) }, metrics);
    }
    for (const s of this.services) s.start();
    try {
      await Promise.all(this.services.map((s) => s.waitStarted()));
    } catch (error) {
      // Leave nothing behind when one service cannot start.
      await Promise.all(this.services.map((s) => s.kill("SIGKILL")));
      throw error;
    }
    // Optional services (still being written by others): best effort, reported when they cannot start.
    for (const svc of this.o.extra ?? []) {
      if (!serviceBuilt(svc)) continue;
      const metrics = await freePort();
      const child = new ServiceChild(svc, svc, { ...base, ...groups(svc), METRICS_PORT: String(metrics), ...this.o.serviceEnv?.[svc] }, this.logDir, this.o.nodeArgs, this.o.nice?.[svc] ?? 0);
      child.start();
      try {
        await child.waitStarted(30_000);
        this.services.push(child);
        this.metricsPorts.set(svc, metrics);
      } catch (error) {
        await child.kill("SIGKILL");
        this.skipped.push(`${svc}: ${(error as Error).message}`);
      }
    }
  }

  private add(name: string, instance: string, env: Record<string, string>, metricsPort: number): void {
    this.services.push(new ServiceChild(name, instance, { ...env, ...this.o.serviceEnv?.[name] }, this.logDir, this.o.nodeArgs, this.o.nice?.[name] ?? 0));
    this.metricsPorts.set(instance, metricsPort);
  }

  byName(name: string): ServiceChild[] {
    return this.services.filter((s) => s.name === name);
  }

  /**
   * Stops the services, then deletes this stack's topics and database (thousands of leftover
   * topics slow the shared broker down); BENCH_KEEP_ARTIFACTS=1 keeps them for inspection.
   */
  async stop(): Promise<Record<string, number | null>> {
    const codes: Record<string, number | null> = {};
    await Promise.all(this.services.map(async (s) => (codes[s.instance] = await s.kill("SIGTERM"))));
    if (process.env.BENCH_KEEP_ARTIFACTS !== "1" && this.o.keepArtifacts !== true) {
      await removeRunArtifacts(this.config, this.logger, { topicPrefix: this.prefix, databaseMarker: this.database }).catch((err: unknown) =>
        this.logger.warn({ err }, "could not remove the stack's topics and database"),
      );
    }
    return codes;
  }
}
